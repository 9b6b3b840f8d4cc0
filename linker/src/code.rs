//! Phase 7 (code): streams function bodies into the output code section.
//!
//! Three speeds, cheapest first:
//! 1. The most frequent index-free operators (locals, constants, numeric
//!    operators, branches, simple blocks, loads and stores on a memory 0
//!    that keeps index 0) are skipped by hand from their opcode and LEB
//!    bytes, without decoding, and stay in a verbatim byte run. The most
//!    frequent operators with one index (`call`, `return_call`,
//!    `global.get`/`set`, loads and stores on a memory 0 that moved) are
//!    rewritten by hand, to the bytes the slower paths would write.
//! 2. Everything else is decoded once by wasmparser through [`Classify`],
//!    which builds an [`Operator`] only when the operator has an index:
//!    index-free ones (by their opcode bytes, conservatively) still join
//!    the run.
//! 3. Operators with indices are rewritten: `call`s of intrinsics by their
//!    pre-encoded instruction, the rest through [`Remap`]'s [`Reencode`]
//!    hooks.
//!
//! One scratch buffer per thread is reused for all bodies (the body size
//! prefix is known only at the end). Bodies are not validated before this
//! (only the output is, see the crate docs): the hand paths read only
//! inside the body and leave anything unexpected to wasmparser, whose
//! errors are reported; a body that does not end where its size says is
//! reported, never copied short. Whatever an invalid body turns into fails
//! output validation, and the input is then named.

use wasm_encoder::reencode::Reencode;
use wasm_encoder::Encode;
use wasmparser::{BinaryReader, FrameKind, FrameStack, FunctionBody, Operator, VisitOperator, VisitSimdOperator};

use crate::parse::Kind;
use crate::remap::{message, Remap, DEAD, INTRINSIC};

/// Appends an unsigned LEB128.
pub(crate) fn leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Per-input facts the body rewriter needs.
pub(crate) struct BodyContext<'a> {
    /// Whole input bytes (operator offsets are absolute).
    pub bytes: &'a [u8],
    /// Encoded replacement of each function index that is an intrinsic.
    pub lowered: &'a [Option<Vec<u8>>],
    /// Whether the input's memory 0 keeps index 0 in the output, so its
    /// loads and stores are copied verbatim.
    pub memory0_identity: bool,
    /// Output index of the input's memory 0 when it moves (`None`: it keeps
    /// index 0, or there is none); its loads and stores are rewritten by
    /// hand with an explicit memory index.
    pub memory0_moved: Option<u32>,
}

/// Reads an unsigned LEB128 of at most `max_bytes` bytes (5 for u32, 10
/// for u64) ending before `end`; `None` (the slow path decides) if it does
/// not, or if it overflows 32 bits when `max_bytes` is 5.
#[inline]
fn read_leb(bytes: &[u8], mut at: usize, end: usize, max_bytes: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for k in 0..max_bytes {
        if at >= end {
            return None;
        }
        let b = bytes[at];
        at += 1;
        v |= u64::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            if max_bytes == 5 && v > u64::from(u32::MAX) || max_bytes == 10 && k == 9 && b > 1 {
                return None;
            }
            return Some((v, at));
        }
    }
    None
}

/// Rewrites one body, appending `size ‖ locals ‖ code` to `out`; returns
/// the length of `locals ‖ code` (the body just written ends `out`).
pub(crate) fn emit_body(
    remap: &mut Remap<'_>,
    cx: &BodyContext<'_>,
    body: &FunctionBody<'_>,
    classify: &mut Classify,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<usize, String> {
    scratch.clear();
    let locals = body.get_locals_reader().map_err(|e| e.to_string())?;
    leb(scratch, locals.get_count() as u64);
    for l in locals {
        let (n, ty) = l.map_err(|e| e.to_string())?;
        leb(scratch, n as u64);
        remap.val_type(ty).map_err(message)?.encode(scratch);
    }
    let ops = body.get_operators_reader().map_err(|e| e.to_string())?;
    let bytes = cx.bytes;
    let end = body.range().end;
    let mut pos = ops.original_position();
    let mut run = pos;
    classify.frames.clear();
    classify.frames.push(FrameKind::Block);
    while pos < end {
        // Fast path: the most frequent index-free operators are skipped by
        // hand (length from the opcode and LEB bytes) and stay in the
        // verbatim run; control frames are tracked for the slow path.
        if let Some(next) = skip_simple(bytes, pos, end, cx.memory0_identity, &mut classify.frames) {
            pos = next;
            continue;
        }
        let at = pos;
        // Second fast path: the frequent operators with one index, rewritten
        // by hand to exactly the bytes the slow path would write (canonical
        // LEBs): `call`, `return_call`, `global.get`/`set` of ordinary items,
        // and loads and stores on a memory 0 that moved.
        let op = bytes[at];
        match op {
            0x10 | 0x12 | 0x23 | 0x24 => {
                if let Some((index, next)) = read_leb(bytes, at + 1, end, 5) {
                    let kind = if op <= 0x12 { Kind::Func } else { Kind::Global };
                    if let Some(&o) = remap.maps.items[kind as usize].get(index as usize)
                        && o < DEAD
                    {
                        scratch.extend_from_slice(&bytes[run..at]);
                        scratch.push(op);
                        leb(scratch, u64::from(o));
                        pos = next;
                        run = next;
                        continue;
                    }
                }
            }
            0x28..=0x3e => {
                if let (Some(mem), Some(&flags)) = (cx.memory0_moved, bytes.get(at + 1))
                    && flags & 0xc0 == 0
                    && let Some((offset, next)) = read_leb(bytes, at + 2, end, 10)
                {
                    scratch.extend_from_slice(&bytes[run..at]);
                    scratch.push(op);
                    scratch.push(flags | 0x40);
                    leb(scratch, u64::from(mem));
                    leb(scratch, offset);
                    pos = next;
                    run = next;
                    continue;
                }
            }
            _ => {}
        }
        // Slow path: wasmparser decodes the operator; it is copied if its
        // opcode bytes say it has no index, else rewritten.
        classify.copy = copyable(bytes, at, cx.memory0_identity);
        let mut reader = BinaryReader::new_features(&bytes[at..end], at, crate::features());
        let step = reader.visit_operator(classify).map_err(|e| e.to_string())?;
        pos = reader.original_position();
        if let Step::Copy = step {
            continue;
        }
        // Flush the verbatim run before this operator.
        scratch.extend_from_slice(&bytes[run..at]);
        match step {
            Step::Copy => {}
            Step::Call(function_index, tail) => match remap.maps.items[0].get(function_index as usize) {
                Some(&INTRINSIC) => {
                    let code = cx.lowered.get(function_index as usize).and_then(|c| c.as_ref());
                    match code {
                        Some(code) => scratch.extend_from_slice(code),
                        None => return Err(format!("internal: intrinsic {function_index} not lowered")),
                    }
                    if tail {
                        scratch.push(0x0f); // return
                    }
                }
                _ => {
                    let f = remap.function_index(function_index).map_err(message)?;
                    scratch.push(if tail { 0x12 } else { 0x10 });
                    leb(scratch, f as u64);
                }
            },
            // Frequent in compiler output; skip the generic reencoder.
            Step::Global(global_index) => {
                let g = remap.global_index(global_index).map_err(message)?;
                scratch.push(bytes[at]);
                leb(scratch, g as u64);
            }
            Step::Other(op) => {
                remap.instruction(op).map_err(message)?.encode(scratch);
            }
        }
        run = pos;
    }
    if pos != end || !classify.frames.is_empty() {
        return Err(format!("internal: function body at offset {} did not end where expected", body.range().start));
    }
    scratch.extend_from_slice(&bytes[run..end]);
    leb(out, scratch.len() as u64);
    out.extend_from_slice(scratch);
    Ok(scratch.len())
}

/// Whether the operator at `at` carries no index immediate (so its bytes
/// are valid unchanged in the output). Conservative: anything not listed
/// is reencoded.
#[inline]
fn copyable(bytes: &[u8], at: usize, memory0_identity: bool) -> bool {
    let op = bytes[at];
    match op {
        // unreachable, nop, else, end, br, br_if, br_table, return,
        // rethrow, delegate, catch_all, throw_ref, drop, select,
        // local.get/set/tee, constants, numeric and sign-extension ops.
        0x00 | 0x01 | 0x05 | 0x09 | 0x0a | 0x0b..=0x0f | 0x18 | 0x19 | 0x1a | 0x1b | 0x20..=0x22
        | 0x41..=0xc4 => true,
        // block, loop, if, try: copyable unless the block type is a type index
        // or a concrete reference.
        0x02..=0x04 | 0x06 => matches!(bytes.get(at + 1), Some(0x40 | 0x7b..=0x7f | 0x6f | 0x70)),
        // Loads and stores: the memory index is explicit only when bit 6 of the
        // alignment flags is set; otherwise it is memory 0.
        0x28..=0x3e => memory0_identity && bytes.get(at + 1).is_some_and(|f| f & 0x40 == 0 && f & 0x80 == 0),
        0xfc => matches!(bytes.get(at + 1), Some(0x00..=0x07)),
        0xfd => {
            // SIMD: only the loads/stores (0x00..=0x0b, 0x54..=0x5d) carry a
            // memory. The sub-opcode is a LEB (possibly non-canonical).
            let mut v: u32 = 0;
            for (k, b) in bytes.iter().skip(at + 1).take(5).enumerate() {
                v |= u32::from(b & 0x7f) << (7 * k);
                if b & 0x80 == 0 {
                    return !matches!(v, 0x00..=0x0b | 0x54..=0x5d);
                }
            }
            false
        }
        _ => false,
    }
}

/// What the body rewriter does with one operator.
pub(crate) enum Step<'a> {
    /// Copy its bytes unchanged.
    Copy,
    /// `call` (false) or `return_call` (true) of a function index.
    Call(u32, bool),
    /// `global.get` or `global.set` of a global index (opcode from the bytes).
    Global(u32),
    /// Anything else: reencode.
    Other(Operator<'a>),
}

/// A visitor that decodes one operator into a [`Step`], building an
/// [`Operator`] only when it must be reencoded. It also keeps the control
/// frames that wasmparser's reader consults (`else` inside `if`, ...).
#[derive(Default)]
pub(crate) struct Classify {
    copy: bool,
    frames: Vec<FrameKind>,
}

impl FrameStack for Classify {
    fn current_frame(&self) -> Option<FrameKind> {
        self.frames.last().copied()
    }
}

/// Skips `len` LEB128 bytes starting at `at`; returns the position after.
#[inline]
fn skip_leb(bytes: &[u8], mut at: usize, end: usize) -> Option<usize> {
    for _ in 0..10 {
        if at >= end {
            return None;
        }
        let b = bytes[at];
        at += 1;
        if b & 0x80 == 0 {
            return Some(at);
        }
    }
    None
}

/// The position after the operator at `at` if it is one of the frequent
/// index-free operators, tracking block frames; `None` sends it to the
/// slow path (which handles every operator, these included).
#[inline]
fn skip_simple(bytes: &[u8], at: usize, end: usize, memory0_identity: bool, frames: &mut Vec<FrameKind>) -> Option<usize> {
    let next = match bytes[at] {
        // unreachable, nop, return, drop, select, numeric operators.
        0x00 | 0x01 | 0x0f | 0x1a | 0x1b | 0x45..=0xc4 => at + 1,
        // local.get/set/tee, br, br_if, i32.const, i64.const.
        0x20..=0x22 | 0x0c | 0x0d | 0x41 | 0x42 => skip_leb(bytes, at + 1, end)?,
        0x43 => at + 5,
        0x44 => at + 9,
        // block, loop, if with an empty or single numeric result.
        op @ 0x02..=0x04 if matches!(bytes.get(at + 1), Some(0x40 | 0x7b..=0x7f)) => {
            frames.push(match op {
                0x02 => FrameKind::Block,
                0x03 => FrameKind::Loop,
                _ => FrameKind::If,
            });
            at + 2
        }
        0x05 if frames.last() == Some(&FrameKind::If) => {
            frames.pop();
            frames.push(FrameKind::Else);
            at + 1
        }
        0x0b if !frames.is_empty() => {
            frames.pop();
            at + 1
        }
        // Loads and stores on memory 0 when it keeps index 0: flags (no
        // memory index bit, one byte) and the offset.
        0x28..=0x3e if memory0_identity && bytes.get(at + 1).is_some_and(|f| f & 0xc0 == 0) => {
            skip_leb(bytes, at + 2, end)?
        }
        _ => return None,
    };
    (next <= end).then_some(next)
}

macro_rules! define_classify {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            #[inline]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Step<'a> {
                define_classify!(@frame self $visit);
                if self.copy {
                    return Step::Copy;
                }
                define_classify!(@build $op $($($arg)*)?)
            }
        )*
    };
    (@frame $s:ident visit_block) => ($s.frames.push(FrameKind::Block));
    (@frame $s:ident visit_loop) => ($s.frames.push(FrameKind::Loop));
    (@frame $s:ident visit_if) => ($s.frames.push(FrameKind::If));
    (@frame $s:ident visit_try) => ($s.frames.push(FrameKind::LegacyTry));
    (@frame $s:ident visit_try_table) => ($s.frames.push(FrameKind::TryTable));
    (@frame $s:ident visit_else) => {{ $s.frames.pop(); $s.frames.push(FrameKind::Else); }};
    (@frame $s:ident visit_catch) => {{ $s.frames.pop(); $s.frames.push(FrameKind::LegacyCatch); }};
    (@frame $s:ident visit_catch_all) => {{ $s.frames.pop(); $s.frames.push(FrameKind::LegacyCatchAll); }};
    (@frame $s:ident visit_delegate) => ($s.frames.pop());
    (@frame $s:ident visit_end) => ($s.frames.pop());
    (@frame $s:ident $other:ident) => (());
    (@build Call $i:ident) => (Step::Call($i, false));
    (@build ReturnCall $i:ident) => (Step::Call($i, true));
    (@build GlobalGet $i:ident) => (Step::Global($i));
    (@build GlobalSet $i:ident) => (Step::Global($i));
    (@build $op:ident) => (Step::Other(Operator::$op));
    (@build $op:ident $($arg:ident)*) => (Step::Other(Operator::$op { $($arg),* }));
}

impl<'a> VisitOperator<'a> for Classify {
    type Output = Step<'a>;

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(define_classify);
}

impl<'a> VisitSimdOperator<'a> for Classify {
    wasmparser::for_each_visit_simd_operator!(define_classify);
}
