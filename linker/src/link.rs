//! The link pipeline. [`link`] runs the phases of the crate documentation
//! in this order, one function (and module) each:
//!
//! 1. parse every input (`parse.rs`);
//! 2. merge the types (`types.rs`);
//! 3. resolve every import (`resolve.rs`);
//! 4. choose the exports (`exports.rs`);
//! 5. mark what is live, with [`Config::gc`] (`gc.rs`); the bodies it
//!    drops are validated here, as the output will not contain them;
//! 6. resolve the intrinsics' memory roles (`roles.rs`) and assign every
//!    output index (`layout.rs`);
//! 7. lower the intrinsics (`lower.rs`: the one place that decides what a
//!    call of one becomes);
//! 8. write the module ([`emit`]): the sections before the code
//!    (`sections.rs`), the code section (`code_section.rs`, `code.rs`),
//!    the data section (`data.rs`), the custom sections (`custom.rs`),
//!    validating as it goes (`validate.rs`, phase 9 of the crate docs);
//! 9. with [`Config::single_memory`], lower every memory but the native
//!    one into calls (`single_memory.rs`, phase 10 of the crate docs).
//!
//! Phases 1-7 only read the inputs and build tables; phase 8 is where the
//! output's bytes are written, once (and again by phase 9, when asked).

use crate::assemble::Assembled;
use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::exports::ChosenExport;
use crate::gc::Live;
use crate::layout::Layout;
use crate::lower::Lowered;
use crate::parse::{KINDS, Kind, Parsed, parse};
use crate::remap::Remap;
use crate::resolve::{Resolution, Resolver};
use crate::types::MergedTypes;

/// Everything the output is written from: the result of phases 1-7.
pub(crate) struct Plan<'p, 'a> {
    pub config: &'p Config,
    pub parsed: &'p [Parsed<'a>],
    pub types: &'p MergedTypes,
    pub resolution: &'p Resolution,
    pub live: &'p Live,
    pub layout: &'p Layout,
    pub exports: &'p [ChosenExport<'a>],
    pub lowered: &'p Lowered,
    /// Per input: the module and name of each imported function, for
    /// messages about misused intrinsics.
    pub func_import_names: Vec<Vec<(&'a str, &'a str)>>,
}

impl Plan<'_, '_> {
    /// The index-remapping reencoder of input `m`.
    pub(crate) fn remap(&self, m: usize) -> Remap<'_> {
        Remap {
            module: self.parsed[m].name,
            maps: &self.layout.maps[m],
            func_import_names: &self.func_import_names[m],
            has_data_count: self.parsed[m].has_data_count,
        }
    }
}

/// Bytes of a section's id and padded size (see [`open_section`]).
pub(crate) const SECTION_HEADER: usize = 6;

/// Starts section `id` in `out` whose size is known only once it is
/// written: the id, then a 5-byte padded LEB placeholder; returns where
/// the size goes ([`patch_size`]).
pub(crate) fn open_section(out: &mut Vec<u8>, id: u8) -> usize {
    out.push(id);
    out.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x00]);
    out.len() - 5
}

/// Writes `size` into the placeholder at `at` as a 5-byte padded LEB; the
/// `what` section over 4 GiB is a [`ErrorKind::Limit`] error.
pub(crate) fn patch_size(out: &mut [u8], at: usize, size: usize, what: &str) -> Result<(), Error> {
    let s =
        u32::try_from(size).map_err(|_| Error::new(ErrorKind::Limit, format!("the {what} section exceeds 4 GiB")))?;
    out[at..at + 5].copy_from_slice(&[
        (s & 0x7f) as u8 | 0x80,
        ((s >> 7) & 0x7f) as u8 | 0x80,
        ((s >> 14) & 0x7f) as u8 | 0x80,
        ((s >> 21) & 0x7f) as u8 | 0x80,
        ((s >> 28) & 0x7f) as u8,
    ]);
    Ok(())
}

/// Runs the whole pipeline over `inputs` (name, bytes) in order.
pub(crate) fn link(config: &Config, inputs: &[(&str, &[u8])]) -> Result<(Assembled, Vec<String>), Error> {
    let mut warnings = Vec::new();
    let timer = crate::Timer::new();
    let parsed: Vec<Parsed<'_>> = inputs.iter().map(|(name, bytes)| parse(name, bytes)).collect::<Result<_, _>>()?;
    timer.mark("parse");
    let mut types = merge_types(&parsed)?;
    timer.mark("types");
    let mut resolver = Resolver::new(&parsed, &types);
    resolve_imports(&parsed, &mut resolver)?;
    timer.mark("resolve");
    let exports = crate::exports::choose(config, &parsed, &mut resolver, &mut warnings)?;
    let live = liveness(config, &parsed, &mut resolver, &exports)?;
    timer.mark("gc");
    let roles = crate::roles::resolve(config, &parsed, &mut resolver, &live, &mut warnings)?;
    let native =
        if config.single_memory { Some(crate::roles::native_memory(config, &parsed, &mut resolver)?) } else { None };
    let imported = match config.import_shared_memory {
        Some(max) => Some(crate::roles::import_own_memory(config, &parsed, &mut resolver, max)?),
        None => None,
    };
    let resolution = resolver.finish();
    let layout = crate::layout::assign(&parsed, &mut types, &resolution, &live, &roles, &exports, imported)?;
    timer.mark("indices");
    let lowered = crate::lower::intrinsics(&parsed, &resolution, &layout, &live)?;
    let func_import_names = parsed
        .iter()
        .map(|p| p.imports_of[0].iter().map(|&i| (p.imports[i as usize].module, p.imports[i as usize].name)).collect())
        .collect();
    let plan = Plan {
        config,
        parsed: &parsed,
        types: &types,
        resolution: &resolution,
        live: &live,
        layout: &layout,
        exports: &exports,
        lowered: &lowered,
        func_import_names,
    };
    let assembled = emit(&plan, inputs.iter().map(|(_, b)| b.len()).sum(), &mut warnings)?;
    let Some(native) = native else { return Ok((assembled, warnings)) };
    let native = native.map_or(0, |t| layout.index(Kind::Memory, t));
    let names = memory_names(&parsed, &resolution, &layout);
    let lowered = crate::single_memory::lower(&assembled.into_vec(), native, &names)?;
    timer.mark("single-memory lowering");
    Ok((Assembled::whole(lowered), warnings))
}

/// What each output memory is, by output index, for messages.
fn memory_names(parsed: &[Parsed<'_>], resolution: &Resolution, layout: &Layout) -> Vec<String> {
    let mut names: Vec<String> = resolution.externals[Kind::Memory as usize]
        .iter()
        .map(|x| format!("the import `{}.{}`", x.module, x.name))
        .collect();
    for &(m, d) in &layout.memories {
        names.push(format!("memory {} of module `{}`", d + parsed[m].num_imported(Kind::Memory), parsed[m].name));
    }
    if layout.private_memory {
        names.push("the private empty external memory".to_string());
    }
    names
}

/// Phase 2: one merged type space for all inputs.
fn merge_types(parsed: &[Parsed<'_>]) -> Result<MergedTypes, Error> {
    let mut types = MergedTypes::new();
    for p in parsed {
        types.add_module(p).map_err(|e| Error::invalid_module(p.name, e))?;
    }
    Ok(types)
}

/// Phase 3: every import of every input, resolved (memoised in `resolver`).
fn resolve_imports(parsed: &[Parsed<'_>], resolver: &mut Resolver<'_, '_>) -> Result<(), Error> {
    for (m, p) in parsed.iter().enumerate() {
        for k in KINDS {
            for i in 0..p.num_imported(k) {
                resolver.item(m, k, i)?;
            }
        }
    }
    Ok(())
}

/// Phase 5: what the output keeps. Without dead-code removal, everything;
/// with it, the bodies removed are validated here (the output's
/// validation, which covers the others, never sees them) unless the
/// inputs were validated in full already.
fn liveness<'p, 'a>(
    config: &Config,
    parsed: &'p [Parsed<'a>],
    resolver: &mut Resolver<'p, 'a>,
    exports: &[ChosenExport<'_>],
) -> Result<Live, Error> {
    if !config.gc {
        return Ok(Live::all(parsed));
    }
    let live = crate::gc::live(parsed, resolver, exports)?;
    for (m, p) in parsed.iter().enumerate() {
        let live_funcs = &live.items[m][Kind::Func as usize];
        if !config.validate_inputs && live_funcs.iter().any(|&l| !l) {
            crate::validate::validate_dead_bodies(p.bytes, |d| !live_funcs.get(d).copied().unwrap_or(true))
                .map_err(|e| Error::invalid_module(p.name, e))?;
        }
    }
    Ok(live)
}

/// Phase 8 (and 9): writes and validates the module.
fn emit(plan: &Plan<'_, '_>, total_in: usize, warnings: &mut Vec<String>) -> Result<Assembled, Error> {
    let timer = crate::Timer::new();
    // Generous: code grows when indices get longer (a moved memory 0 adds
    // a byte to every load and store), and growing the Vec would copy the
    // whole output. Capacity never touched costs address space, not RSS.
    let mut out: Vec<u8> = Vec::with_capacity(total_in + total_in / 4 + 4096);
    out.extend_from_slice(&[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    // `dylink.0` must be the first section of a dynamic-linking module.
    crate::custom::emit_dylink(plan.parsed, warnings, &mut out)?;
    crate::sections::emit(plan, &mut out)?;
    timer.mark("sections");

    // Phase 9 starts here: the sections so far are validated now, each
    // body right after it is written (by the thread writing it), the rest
    // at the end.
    let num_bodies = plan.layout.counts[Kind::Func as usize] - plan.layout.n_ext[Kind::Func as usize]
        + u32::from(plan.layout.synth_start.is_some());
    let (mut streaming, funcs) =
        crate::validate::Streaming::start(&out, num_bodies, out.len()).map_err(invalid_output)?;
    let code = crate::code_section::emit(plan, &mut streaming, funcs, num_bodies, &mut out)?;
    timer.mark("code (rewritten and validated)");

    let code_end = out.len() + code.helpers_len() + code.synth.len();
    // The data section: built by a helper thread already, or now.
    let (data_error, data) = match code.data {
        Some(d) => d,
        None => {
            let d = crate::data::emit(plan)?;
            (crate::data::validate(&mut streaming, &d, code_end), d)
        }
    };
    timer.mark("data");
    let mut custom = Vec::new();
    crate::custom::emit(plan.config, plan.parsed, &plan.layout.maps, warnings, &mut custom)?;
    timer.mark("custom");
    // Phase 9, end: the sections after the code, then the module as a
    // whole. The first body that failed is the error.
    if let Some(e) = code.body_error.or(data_error) {
        return Err(invalid_output(e));
    }
    streaming.custom_sections(&custom, code_end + data.len()).map_err(invalid_output)?;
    streaming.finish(code_end + data.len() + custom.len()).map_err(invalid_output)?;
    timer.mark("validate output (after code)");
    Ok(Assembled {
        head: out,
        helper_bufs: code.helper_bufs,
        helper_code: code.helper_code,
        rest: [code.synth, data, custom],
    })
}

/// The output failed validation although the inputs are valid (the caller
/// checks that): a linker bug.
fn invalid_output(e: String) -> Error {
    Error::internal(format_args!("the linked module does not validate ({e})"))
}
