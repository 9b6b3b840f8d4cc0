//! Phase 4, memory roles: which memories the intrinsics' `own` and
//! `external` roles are (docs/ABI.md, "Memories").
//!
//! - `own` is the runtime's memory whichever input calls the intrinsic:
//!   [`Config::own_memory`], by default the export `memory` of the input
//!   named `multimem`. Without such an input, each calling input falls back
//!   to its own *defined* memory 0 (the runtime linked under another name;
//!   checked when lowering, `lower.rs`).
//! - `external` is [`Config::external_memory`] (`env.memory`): the export of
//!   the input of that name, or the output import of that name. When no
//!   input has it, what the output gets depends on who needs it:
//!   - no live code calls an `external` intrinsic: nothing (merging modules
//!     that never touch an external memory must not add an import they
//!     cannot satisfy);
//!   - only the runtime does (its generic `external_copy_*` exports): a
//!     private empty memory (`(memory 0 0)`, after every input's
//!     memories), so those exports report `EXTERNAL_RANGE` for any
//!     non-empty range, and the output's imports stay the inputs' own;
//!   - another input (an app) does: the import is added (0 pages minimum,
//!     i32, unshared), with a warning, as the app asked for that memory.

use multimem_abi::MemoryRole;
use wasm_encoder::EntityType;

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::gc::Live;
use crate::parse::{Kind, Parsed};
use crate::resolve::{Resolver, Target};

/// What the `external` role resolves to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum External {
    /// An input's memory or an output import.
    Item(Target),
    /// The private empty memory the output gains (see the module docs).
    Private,
}

/// The resolved roles.
pub(crate) struct Roles {
    /// `None`: no live code uses `own`, or the default input is absent
    /// (each caller then uses its own defined memory 0).
    pub own: Option<Target>,
    /// `None`: no live code uses `external`.
    pub external: Option<External>,
}

fn err(kind: ErrorKind, msg: impl Into<String>) -> Error {
    Error::new(kind, msg)
}

/// The roles of the live intrinsic calls (see the module docs).
pub(crate) fn resolve(
    config: &Config,
    parsed: &[Parsed<'_>],
    resolver: &mut Resolver<'_, '_>,
    live: &Live,
    warnings: &mut Vec<String>,
) -> Result<Roles, Error> {
    // Which inputs call intrinsics of each role from live code.
    let mut callers: [Vec<usize>; 2] = Default::default();
    for (m, p) in parsed.iter().enumerate() {
        for i in 0..p.num_imported(Kind::Func) {
            if !live.calls[m][i as usize] {
                continue;
            }
            if let Target::Intrinsic(intr) = resolver.item(m, Kind::Func, i)? {
                for (r, role) in [MemoryRole::Own, MemoryRole::External].into_iter().enumerate() {
                    if intr.memories.contains(&role) && callers[r].last() != Some(&m) {
                        callers[r].push(m);
                    }
                }
            }
        }
    }
    let own = if callers[0].is_empty() { None } else { own_memory(config, parsed, resolver)? };
    let external = if callers[1].is_empty() {
        None
    } else {
        Some(external_memory(config, parsed, resolver, own, &callers[1], warnings)?)
    };
    Ok(Roles { own, external })
}

/// The shared import the `own` memory becomes with
/// [`Config::import_shared_memory`]: the defined memory it replaces, and
/// the output import's number. The import is added here.
pub(crate) fn import_own_memory(
    config: &Config,
    parsed: &[Parsed<'_>],
    resolver: &mut Resolver<'_, '_>,
    max_pages: Option<u64>,
) -> Result<(Target, u32), Error> {
    let own = own_memory(config, parsed, resolver)?.ok_or_else(|| {
        err(
            ErrorKind::UnknownExport,
            format!(
                "--import-shared-memory makes the own memory an import, but no input named `{}` exports `{}` (pass --own-memory MODULE.FIELD)",
                crate::config::RUNTIME_MODULE,
                multimem_abi::MEMORY_EXPORT
            ),
        )
    })?;
    let Target::Defined { module, index } = own else {
        return Err(err(
            ErrorKind::Unsupported,
            "--import-shared-memory: the own memory is already an import of the output; import it shared in its input instead",
        ));
    };
    let p = &parsed[module];
    let ty = p.memory_type(index);
    if ty.memory64 {
        return Err(err(
            ErrorKind::Unsupported,
            format!("--import-shared-memory: memory {index} of module `{}` is 64-bit", p.name),
        ));
    }
    for (k, data) in p.datas().enumerate() {
        if let wasmparser::DataKind::Active { memory_index, .. } = data?.kind
            && memory_index == index
        {
            return Err(err(
                ErrorKind::Unsupported,
                format!(
                    "--import-shared-memory: data segment {k} of module `{}` is active in memory {index}, so every instance would write it again into the shared memory; link a build whose segments are passive and applied once (the runtime's shared build)",
                    p.name
                ),
            ));
        }
    }
    let maximum = max_pages.or(ty.maximum).unwrap_or(u64::from(multimem_abi::MAX_PAGES));
    if maximum < ty.initial {
        return Err(err(
            ErrorKind::Unsupported,
            format!("--shared-memory-max-pages {maximum} is below the memory's minimum of {} pages", ty.initial),
        ));
    }
    let ty = EntityType::Memory(wasm_encoder::MemoryType {
        minimum: ty.initial,
        maximum: Some(maximum),
        memory64: false,
        shared: true,
        page_size_log2: ty.page_size_log2,
    });
    let n = resolver.external(crate::config::RUNTIME_MODULE, multimem_abi::MEMORY_EXPORT, Kind::Memory, ty);
    Ok((own, n))
}

/// The native memory of the single-memory build ([`Config::native_memory`]):
/// the configured input's memory export, else the `own` memory, else
/// `None` (memory 0 then).
pub(crate) fn native_memory(
    config: &Config,
    parsed: &[Parsed<'_>],
    resolver: &mut Resolver<'_, '_>,
) -> Result<Option<Target>, Error> {
    let Some((module, field)) = &config.native_memory else {
        return own_memory(config, parsed, resolver);
    };
    let m = resolver.input_named(module).ok_or_else(|| {
        err(
            ErrorKind::UnknownExport,
            format!("the native memory is `{module}.{field}`, but there is no input named `{module}`"),
        )
    })?;
    match parsed[m].exports.iter().find(|e| e.name == field.as_str()) {
        Some(ex) if Kind::of_export(ex.kind) == Kind::Memory => Ok(Some(resolver.item(m, Kind::Memory, ex.index)?)),
        None => Err(err(
            ErrorKind::UnknownExport,
            format!("the native memory is `{module}.{field}`, but module `{module}` has no export named `{field}`"),
        )),
        Some(ex) => Err(err(
            ErrorKind::KindMismatch,
            format!(
                "the native memory is `{module}.{field}`, but module `{module}` exports `{field}` as a {}",
                Kind::of_export(ex.kind).name()
            ),
        )),
    }
}

/// The `external` memory for the live callers `callers` (see the module docs).
fn external_memory(
    config: &Config,
    parsed: &[Parsed<'_>],
    resolver: &mut Resolver<'_, '_>,
    own: Option<Target>,
    callers: &[usize],
    warnings: &mut Vec<String>,
) -> Result<External, Error> {
    let (ext_mod, ext_field) = (&config.external_memory.0, &config.external_memory.1);
    if let Some(m2) = resolver.input_named(ext_mod) {
        let p2 = &parsed[m2];
        let ex = p2.exports.iter().find(|e| e.name == ext_field.as_str()).ok_or_else(|| {
            err(
                ErrorKind::UnknownExport,
                format!(
                    "the external memory is `{ext_mod}.{ext_field}`, but module `{ext_mod}` has no export named `{ext_field}`"
                ),
            )
        })?;
        if Kind::of_export(ex.kind) != Kind::Memory {
            return Err(err(
                ErrorKind::KindMismatch,
                format!(
                    "the external memory is `{ext_mod}.{ext_field}`, but module `{ext_mod}` exports `{ext_field}` as a {}",
                    Kind::of_export(ex.kind).name()
                ),
            ));
        }
        return Ok(External::Item(resolver.item(m2, Kind::Memory, ex.index)?));
    }
    if let Some(n) = resolver.externals(Kind::Memory).iter().position(|x| x.module == *ext_mod && x.name == *ext_field)
    {
        return Ok(External::Item(Target::External(n as u32)));
    }
    // Nobody has the memory. The runtime is the input whose memory is
    // `own` (or, without one, a caller that defines its memory 0 and
    // imports none, as the fallback of `own` treats it).
    let runtime = |m: usize| match own {
        Some(Target::Defined { module, .. }) => module == m,
        Some(_) => false,
        None => parsed[m].num_imported(Kind::Memory) == 0 && parsed[m].num_defined(Kind::Memory) > 0,
    };
    let names = |ms: &[usize]| ms.iter().map(|&m| format!("`{}`", parsed[m].name)).collect::<Vec<_>>().join(", ");
    let apps: Vec<usize> = callers.iter().copied().filter(|&m| !runtime(m)).collect();
    if apps.is_empty() {
        warnings.push(format!(
            "no input imports the external memory `{ext_mod}.{ext_field}`: the intrinsics of {} on it see a private empty memory (any non-empty access is out of range); import `{ext_mod}.{ext_field}` in an input to give it one",
            names(callers)
        ));
        return Ok(External::Private);
    }
    warnings.push(format!(
        "no input imports the external memory `{ext_mod}.{ext_field}` that the intrinsics of {} use; added it as an import (minimum 0 pages, i32, unshared)",
        names(&apps)
    ));
    let ty = EntityType::Memory(wasm_encoder::MemoryType {
        minimum: 0,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    Ok(External::Item(Target::External(resolver.external(ext_mod, ext_field, Kind::Memory, ty))))
}

/// The `own` memory ([`Config::own_memory`]): the configured input's memory
/// export, or by default [`multimem_abi::MEMORY_EXPORT`] of the input named
/// [`crate::RUNTIME_MODULE`]. `Ok(None)` only under the default rule when
/// that input or memory export is absent (callers then fall back per input).
fn own_memory(
    config: &Config,
    parsed: &[Parsed<'_>],
    resolver: &mut Resolver<'_, '_>,
) -> Result<Option<Target>, Error> {
    let (module, field, explicit) = match &config.own_memory {
        Some((m, f)) => (m.as_str(), f.as_str(), true),
        None => (crate::config::RUNTIME_MODULE, multimem_abi::MEMORY_EXPORT, false),
    };
    let Some(m) = resolver.input_named(module) else {
        if explicit {
            return Err(err(
                ErrorKind::UnknownExport,
                format!("the own memory is `{module}.{field}`, but there is no input named `{module}`"),
            ));
        }
        return Ok(None);
    };
    match parsed[m].exports.iter().find(|e| e.name == field) {
        Some(ex) if Kind::of_export(ex.kind) == Kind::Memory => Ok(Some(resolver.item(m, Kind::Memory, ex.index)?)),
        _ if !explicit => Ok(None),
        None => Err(err(
            ErrorKind::UnknownExport,
            format!("the own memory is `{module}.{field}`, but module `{module}` has no export named `{field}`"),
        )),
        Some(ex) => Err(err(
            ErrorKind::KindMismatch,
            format!(
                "the own memory is `{module}.{field}`, but module `{module}` exports `{field}` as a {}",
                Kind::of_export(ex.kind).name()
            ),
        )),
    }
}
