//! Phase 7, the code section, and phase 9 for its bodies: every live body
//! rewritten (`code.rs`) and validated as it is written, on every core.
//!
//! The section is written in place in the output buffer: its id, a padded
//! size, the count, then the bodies. With one thread, or little code, the
//! calling thread writes them all. Otherwise the bodies are cut into
//! chunks (`chunks.rs`): this thread takes them from the front, straight
//! into the output, helpers from the back into their own buffers, which
//! follow it in the output ([`crate::assemble::Assembled`]); the first
//! helper builds and validates the data section first (it does not depend
//! on the code). Several start functions become one synthesised body
//! calling them in input order, written last.
//!
//! The first body that fails, in function order, is the one reported, so
//! the error does not depend on thread timing.

use std::ops::Range;

use crate::code::{BodyContext, BodyError, emit_body, leb};
use crate::error::Error;
use crate::link::{Plan, open_section, patch_size};
use crate::parse::Kind;
use crate::remap::{DEAD, Remap};
use crate::validate::Streaming;

type Funcs = Vec<wasmparser::FuncToValidate<wasmparser::ValidatorResources>>;

/// The code section as the threads left it.
pub(crate) struct CodeSection {
    /// The helpers' buffers.
    pub helper_bufs: Vec<Vec<u8>>,
    /// (helper, range of its buffer), in output order.
    pub helper_code: Vec<(usize, Range<usize>)>,
    /// The synthesised start function's body (size prefix included).
    pub synth: Vec<u8>,
    /// The first body that failed validation, if any.
    pub body_error: Option<String>,
    /// The data section and its validation result, when a helper built it.
    pub data: Option<(Option<String>, Vec<u8>)>,
}

impl CodeSection {
    /// Bytes the helpers wrote.
    pub(crate) fn helpers_len(&self) -> usize {
        self.helper_code.iter().map(|(_, r)| r.len()).sum()
    }
}

/// Writes the code section (if any body) at the end of `out`, validating
/// each body with its entry of `funcs` (see the module docs).
pub(crate) fn emit(
    plan: &Plan<'_, '_>,
    streaming: &mut Streaming,
    mut funcs: Funcs,
    num_bodies: u32,
    out: &mut Vec<u8>,
) -> Result<CodeSection, Error> {
    let mut section = CodeSection {
        helper_bufs: Vec::new(),
        helper_code: Vec::new(),
        synth: Vec::new(),
        body_error: None,
        data: None,
    };
    if num_bodies == 0 {
        return Ok(section);
    }
    let parsed = plan.parsed;
    let total_code: usize = parsed.iter().map(|p| p.code_size).sum();
    out.reserve(total_code + total_code / 4 + 16);
    let size_at = open_section(out, 10);
    leb(out, num_bodies as u64);
    // Live bodies in output order.
    let order: Vec<(usize, usize)> = parsed
        .iter()
        .enumerate()
        .flat_map(|(m, p)| {
            (0..p.bodies.len()).filter(move |&d| plan.live.items[m][Kind::Func as usize][d]).map(move |d| (m, d))
        })
        .collect();
    let cxs: Vec<BodyContext<'_>> = parsed
        .iter()
        .enumerate()
        .map(|(m, p)| {
            let mem0 = plan.layout.maps[m].items[Kind::Memory as usize].first().copied();
            BodyContext {
                bytes: p.bytes,
                lowered: &plan.lowered[m],
                memory0_identity: mem0 == Some(0),
                memory0_moved: mem0.filter(|&o| o != 0 && o < DEAD),
            }
        })
        .collect();
    let writer = Writer { plan, order: &order, cxs: &cxs };
    let synth_func = if plan.layout.synth_start.is_some() { funcs.pop() } else { None };
    let threads = plan.config.thread_count().min(8);
    if threads < 2 || total_code < (1 << 20) {
        section.body_error = writer.write(&order, funcs, out)?;
    } else {
        parallel(&writer, streaming, funcs, threads, total_code, out, &mut section)?;
    }
    let helpers_len = section.helpers_len();
    if let Some(func) = synth_func {
        let mut body = vec![0u8];
        for s in &plan.layout.starts {
            body.push(0x10);
            leb(&mut body, *s as u64);
        }
        body.push(0x0b);
        leb(&mut section.synth, body.len() as u64);
        let at = out.len() + helpers_len + section.synth.len();
        section.synth.extend_from_slice(&body);
        section.body_error = section.body_error.take().or(crate::validate::check_body(func, &body, at).err());
    }
    let size = out.len() + helpers_len + section.synth.len() - size_at - 5;
    patch_size(out, size_at, size, "code")?;
    Ok(section)
}

/// What every thread needs to write bodies.
struct Writer<'w, 'p, 'a> {
    plan: &'w Plan<'p, 'a>,
    /// Live bodies in output order: (input, defined function).
    order: &'w [(usize, usize)],
    cxs: &'w [BodyContext<'w>],
}

impl Writer<'_, '_, '_> {
    /// Writes `jobs` to `out`, validating each body as it is written with
    /// its `funcs` entry; returns the first validation error.
    fn write(&self, jobs: &[(usize, usize)], funcs: Funcs, out: &mut Vec<u8>) -> Result<Option<String>, Error> {
        let parsed = self.plan.parsed;
        let mut scratch = Vec::with_capacity(1 << 16);
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        let mut frames = Vec::new();
        let mut remaps: Vec<Remap<'_>> = (0..parsed.len()).map(|m| self.plan.remap(m)).collect();
        for (&(m, d), func) in jobs.iter().zip(funcs) {
            let p = &parsed[m];
            let mut func = func.into_validator(allocs);
            match emit_body(&mut remaps[m], &self.cxs[m], &p.bodies[d], &mut func, &mut frames, &mut scratch, out) {
                Ok(()) => allocs = func.into_allocations(),
                // The first invalid body ends this run: the output is
                // not returned, and its error is the one reported.
                Err(BodyError::Invalid(e)) => return Ok(Some(e)),
                Err(BodyError::Input(e)) => {
                    return Err(e.context(format_args!(
                        "in function {} of module `{}`",
                        d as u32 + p.num_imported(Kind::Func),
                        p.name
                    )));
                }
            }
        }
        Ok(None)
    }
}

/// The parallel case of [`emit`] (see the module docs).
fn parallel(
    writer: &Writer<'_, '_, '_>,
    streaming: &mut Streaming,
    funcs: Funcs,
    threads: usize,
    total_code: usize,
    out: &mut Vec<u8>,
    section: &mut CodeSection,
) -> Result<(), Error> {
    let plan = writer.plan;
    let order = writer.order;
    // Chunks of about 1/16 of each thread's share (at least 64 KiB): small
    // enough that the ends meet within a few percent of the phase, big
    // enough to cost nothing to hand out. See `chunks.rs`.
    let target = (total_code / (threads * 16)).max(64 << 10);
    let body_len = |&(m, d): &(usize, usize)| plan.parsed[m].bodies[d].range().len();
    let bounds = crate::chunks::bounds(order.iter().map(body_len), target);
    let items: Vec<(Range<usize>, Funcs)> =
        bounds.windows(2).map(|w| w[0]..w[1]).zip(crate::chunks::split_runs(funcs, &bounds)).collect();
    let queue = crate::chunks::Chunks::new(items);
    // A thread's work: chunks from one end until none is left or one
    // fails; the written chunks (index, range in `buf`) and the failure
    // (chunk index, error).
    type Failure = (usize, Result<String, Error>);
    let work = |from_front: bool, buf: &mut Vec<u8>| -> (Vec<(usize, Range<usize>)>, Option<Failure>) {
        let mut written = Vec::new();
        loop {
            let next = if from_front { queue.front() } else { queue.back() };
            let Some((k, (jobs, funcs))) = next else { return (written, None) };
            let start = buf.len();
            match writer.write(&order[jobs], funcs, buf) {
                Ok(None) => written.push((k, start..buf.len())),
                Ok(Some(invalid)) => return (written, Some((k, Ok(invalid)))),
                Err(e) => return (written, Some((k, Err(e)))),
            }
        }
    };
    let timer = crate::Timer::new();
    type Helper =
        (Vec<u8>, Vec<(usize, Range<usize>)>, Option<Failure>, Option<Result<(Option<String>, Vec<u8>), Error>>);
    let (mine, helpers): (_, Vec<std::thread::Result<Helper>>) = std::thread::scope(|sc| {
        let work = &work;
        // The first helper also writes and validates the data section,
        // first (it does not depend on the code).
        let first = sc.spawn(move || {
            // The data section's final offset is not known yet; it only
            // shows in messages.
            let data = crate::data::emit(plan).map(|d| (crate::data::validate(streaming, &d, 0), d));
            let mut buf = Vec::with_capacity(total_code + total_code / 4 + 16);
            let (written, failure) = work(false, &mut buf);
            (buf, written, failure, Some(data))
        });
        let others: Vec<_> = (2..threads)
            .map(|_| {
                sc.spawn(move || {
                    let mut buf = Vec::with_capacity(total_code / 2 + 16);
                    let (written, failure) = work(false, &mut buf);
                    (buf, written, failure, None)
                })
            })
            .collect();
        let mine = work(true, out);
        timer.mark("code: this thread's chunks");
        let helpers: Vec<_> = std::iter::once(first).chain(others).map(|h| h.join()).collect();
        (mine, helpers)
    });
    // The first failure in function order is the error: every chunk
    // before a failed one was written (the threads only stop at their own
    // failure, and the others take what is left).
    let mut failure = mine.1;
    let mut pieces = Vec::new();
    for h in helpers {
        let (buf, written, f, data) = h.map_err(|_| Error::internal("a code emission thread panicked"))?;
        if let Some(data) = data {
            section.data = Some(data?);
        }
        if let Some(f) = f
            && failure.as_ref().is_none_or(|g| f.0 < g.0)
        {
            failure = Some(f);
        }
        pieces.push((buf, written));
    }
    match failure {
        Some((_, Err(e))) => Err(e),
        Some((_, Ok(invalid))) => {
            section.body_error = Some(invalid);
            Ok(())
        }
        None => {
            // This thread's chunks are in `out` already; the helpers'
            // follow, in chunk order (joined or written out by
            // `Assembled`, not copied here).
            let mut order_of: Vec<(usize, usize, Range<usize>)> = pieces
                .iter()
                .enumerate()
                .flat_map(|(h, (_, w))| w.iter().map(move |(k, r)| (*k, h, r.clone())))
                .collect();
            order_of.sort_unstable_by_key(|p| p.0);
            section.helper_code = order_of.into_iter().map(|(_, h, r)| (h, r)).collect();
            section.helper_bufs = pieces.into_iter().map(|(buf, _)| buf).collect();
            Ok(())
        }
    }
}
