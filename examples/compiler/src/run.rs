//! Phase 6: link the compiled app with `runtime.wasm`, run it in wasmtime
//! next to its external library, and report what it printed, the
//! runtime's stats and the ownership check: after `main` and a forced GC
//! the live buffers are exactly the ones the globals reach, and none once
//! the globals are dropped. Either build of the link runs ([`Build`]): the
//! multi-memory build in an engine with multi-memory on, the single-memory
//! build (`--single-memory`) in one with multi-memory off, as Safari.

use anyhow::{Context as _, Result};
use multimem_host::{Options as HostOptions, Stats, TokenStats};
use std::collections::HashSet;
use wasmtime::{Caller, Instance, Module, RootScope, Store, Val};

/// wasmtime's error type into anyhow's, so `.context` applies.
fn w<T>(r: wasmtime::Result<T>) -> Result<T> {
    r.map_err(anyhow::Error::from)
}

/// How the app meets the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Merged into one multi-memory module by `multimem-linker` (the real
    /// thing; intrinsics become instructions).
    Linked,
    /// `runtime.wasm` as a separate instance with host-implemented
    /// intrinsics; the app imports it as module `multimem`.
    Unlinked,
}

/// Which build of the link runs (`docs/ABI.md`, "Single-memory build").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// The multi-memory build, in an engine with multi-memory on
    /// ([`HostOptions::engine`]).
    MultiMemory,
    /// The single-memory build, in an engine with multi-memory *off*
    /// ([`HostOptions::single_memory_engine`]): the runtime memory stays
    /// native, the library's memory is reached through `multimem:memory`
    /// calls that multimem-host supplies.
    SingleMemory,
}

impl Build {
    /// The engine that runs this build.
    pub fn engine(self) -> Result<wasmtime::Engine> {
        Ok(match self {
            Build::MultiMemory => HostOptions::engine()?,
            Build::SingleMemory => HostOptions::single_memory_engine()?,
        })
    }

    /// How the driver names it.
    pub fn name(self) -> &'static str {
        match self {
            Build::MultiMemory => "multi-memory",
            Build::SingleMemory => "single-memory",
        }
    }
}

/// What the store of a compiled app holds: the lines it printed, and its
/// runtime once instantiated (for `host.gc`).
#[derive(Default)]
pub struct HostState {
    /// Lines the program printed so far.
    pub printed: Vec<String>,
    runtime: Option<multimem_host::Runtime>,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Lines the program printed.
    pub printed: Vec<String>,
    /// Runtime stats right after `main` returned, before any forced GC.
    pub stats: Stats,
    /// Runtime stats after a forced GC (and the releases it queued).
    pub after_gc: Stats,
    /// Distinct buffers reachable from the program's globals then (the
    /// host walks them through wasmtime's GC API).
    pub reachable: usize,
    /// Runtime stats after the host set every global to null, forced a
    /// GC and applied the releases: nothing is reachable any more.
    pub final_stats: Stats,
    /// Ownership tokens made and released over the whole run.
    pub tokens: TokenStats,
    /// `Err` unless the live buffers after the GC were exactly the
    /// reachable ones, none were live at the end, and every token was
    /// released.
    pub leak_check: Result<()>,
    /// Size of the module that ran (linked or not), in bytes.
    pub module_bytes: usize,
    /// Linker warnings, if linked.
    pub warnings: Vec<String>,
}

/// Links `app` with the default runtime build (module name `multimem`),
/// in the given build.
pub fn link(app: &[u8], build: Build) -> Result<multimem_linker::Output> {
    let config = multimem_linker::Config::default().single_memory(build == Build::SingleMemory);
    let mut linker = multimem_linker::Linker::new(config);
    linker.add_module("app", app).context("adding the app to the link")?;
    linker
        .add_module(crate::codegen::RUNTIME_MODULE, multimem_runtime_wasm::RUNTIME_WASM)
        .context("adding runtime.wasm to the link")?;
    linker.link().with_context(|| format!("linking the app with runtime.wasm ({} build)", build.name()))
}

/// The app linked alone as a single-memory build, for the unlinked mode:
/// its memory 0 (the runtime's, imported) stays native, `env.memory`
/// becomes calls.
fn lower_alone(app: &[u8]) -> Result<Vec<u8>> {
    let mut linker = multimem_linker::Linker::new(multimem_linker::Config::default().single_memory(true));
    linker.add_module("app", app).context("adding the app to the link")?;
    Ok(linker.link().context("linking the app alone as a single-memory build")?.wasm)
}

/// An instantiated app, ready to call (possibly many times, as the
/// benchmark does).
pub struct Prepared {
    /// The store; its data collects printed lines.
    pub store: Store<HostState>,
    /// The app, its library and its runtime.
    pub instance: multimem_host::Instantiated,
    /// Size of the module that runs, in bytes.
    pub module_bytes: usize,
    /// Linker warnings, if linked.
    pub warnings: Vec<String>,
}

/// Defines the `host` imports of compiled apps: `print_i64`, `print_f64`
/// and `gc` (wasmtime's GC, then the releases it queued).
pub fn host_imports(linker: &mut wasmtime::Linker<HostState>) -> Result<()> {
    let host = crate::codegen::HOST_MODULE;
    linker.func_wrap(host, "print_i64", |mut c: Caller<'_, HostState>, v: i64| {
        c.data_mut().printed.push(v.to_string())
    })?;
    linker.func_wrap(host, "print_f64", |mut c: Caller<'_, HostState>, v: f64| {
        c.data_mut().printed.push(format!("{v:?}"))
    })?;
    linker.func_wrap(host, "gc", |mut c: Caller<'_, HostState>| -> wasmtime::Result<()> {
        c.gc(None)?;
        if let Some(rt) = c.data().runtime.clone() {
            rt.drain(&mut c).map_err(wasmtime::Error::from)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Links (or not) and instantiates `app` next to the external library,
/// in the engine of `build`.
pub fn prepare(app: &[u8], mode: Mode, build: Build) -> Result<Prepared> {
    prepare_in(&build.engine()?, app, mode, build)
}

/// [`prepare`] in a given engine (configured like [`Build::engine`]'s,
/// plus the caller's settings).
pub fn prepare_in(engine: &wasmtime::Engine, app: &[u8], mode: Mode, build: Build) -> Result<Prepared> {
    let engine = engine.clone();
    let mut store: Store<HostState> = Store::new(&engine, HostState::default());
    let lib_module = w(Module::new(&engine, crate::EXTLIB_WASM)).context("compiling extlib.wasm")?;
    let library = w(Instance::new(&mut store, &lib_module, &[])).context("instantiating extlib.wasm")?;
    let mut linker = wasmtime::Linker::new(&engine);
    host_imports(&mut linker)?;
    let mut options = HostOptions::new();
    options.library_module(crate::codegen::LIB_MODULE);
    let (instance, module_bytes, warnings) = match mode {
        Mode::Linked => {
            let out = link(app, build)?;
            let inst = multimem_host::instantiate_wasm(&mut store, &mut linker, &out.wasm, Some(library), &options)?;
            (inst, out.wasm.len(), out.warnings)
        }
        Mode::Unlinked => {
            let wasm = match build {
                Build::MultiMemory => app.to_vec(),
                Build::SingleMemory => lower_alone(app)?,
            };
            let app = multimem_host::App::new(&engine, &wasm).context("compiling the app")?;
            let rt = w(Module::new(&engine, multimem_runtime_wasm::RUNTIME_WASM)).context("compiling runtime.wasm")?;
            let inst =
                multimem_host::instantiate_unlinked(&mut store, &mut linker, &app, &rt, Some(library), &options)?;
            (inst, wasm.len(), Vec::new())
        }
    };
    store.data_mut().runtime = Some(instance.runtime.clone());
    Ok(Prepared { store, instance, module_bytes, warnings })
}

/// The names of the program's globals among the app's exports.
fn global_exports(store: &mut Store<HostState>, app: &Instance) -> Vec<String> {
    let prefix = crate::codegen::GLOBAL_EXPORT_PREFIX;
    app.exports(&mut *store).map(|e| e.name().to_string()).filter(|n| n.starts_with(prefix)).collect()
}

/// The distinct buffers of the typed-data objects reachable from the
/// program's globals, walked through wasmtime's GC API (structs and arrays;
/// a typed-data object is the 4-field struct of `codegen::types`). A
/// reachable object without a token is an error: it escaped, so only a
/// token may own it.
pub fn reachable_buffers(store: &mut Store<HostState>, app: &Instance) -> Result<HashSet<u32>> {
    let names = global_exports(store, app);
    let mut scope = RootScope::new(&mut *store);
    let mut out = HashSet::new();
    for name in names {
        let g = app.get_global(&mut scope, &name).with_context(|| format!("global export `{name}`"))?;
        let v = g.get(&mut scope);
        walk(&mut scope, v, &mut out).with_context(|| format!("walking global `{name}`"))?;
    }
    Ok(out)
}

fn walk(store: &mut RootScope<&mut Store<HostState>>, v: Val, out: &mut HashSet<u32>) -> Result<()> {
    let Val::AnyRef(Some(r)) = v else { return Ok(()) };
    if let Some(s) = w(r.as_struct(&*store))? {
        let fields: Vec<Val> = w(s.fields(&mut *store))?.collect();
        if fields.len() == 4 {
            use crate::codegen::types::list_field as F;
            let buffer = fields[F::BUFFER as usize].unwrap_i32() as u32;
            if matches!(fields[F::TOKEN as usize], Val::ExternRef(None)) {
                anyhow::bail!("the object over buffer {buffer:#x} is reachable but has no token");
            }
            out.insert(buffer);
        } else {
            for f in fields {
                walk(store, f, out)?;
            }
        }
    } else if let Some(a) = w(r.as_array(&*store))? {
        let elems: Vec<Val> = w(a.elems(&mut *store))?.collect();
        for e in elems {
            walk(store, e, out)?;
        }
    }
    Ok(())
}

/// Sets every global of the program to its null/zero value (what a
/// program that drops everything leaves).
pub fn drop_globals(store: &mut Store<HostState>, app: &Instance) -> Result<()> {
    for name in global_exports(store, app) {
        let g = app.get_global(&mut *store, &name).with_context(|| format!("global export `{name}`"))?;
        if g.ty(&*store).content().is_ref() {
            w(g.set(&mut *store, Val::AnyRef(None))).with_context(|| format!("clearing global `{name}`"))?;
        }
    }
    Ok(())
}

/// Runs a compiled app's `main` in `build`, then checks ownership: after
/// a forced GC the live buffers are exactly the ones reachable from the
/// globals, and after dropping the globals and another GC, none.
pub fn run(app: &[u8], mode: Mode, build: Build) -> Result<Outcome> {
    let Prepared { mut store, instance: inst, module_bytes, warnings } = prepare(app, mode, build)?;
    inst.call::<(), ()>(&mut store, "main", ())?;
    let stats = inst.runtime.stats(&mut store)?;
    inst.runtime.collect(&mut store)?;
    let after_gc = inst.runtime.stats(&mut store)?;
    let reachable = reachable_buffers(&mut store, &inst.app)?.len();
    drop_globals(&mut store, &inst.app)?;
    inst.runtime.collect(&mut store)?;
    let final_stats = inst.runtime.stats(&mut store)?;
    let tokens = inst.runtime.token_stats();
    let leak_check = check(&after_gc, reachable, &final_stats, &tokens);
    let printed = std::mem::take(&mut store.data_mut().printed);
    Ok(Outcome { printed, stats, after_gc, reachable, final_stats, tokens, leak_check, module_bytes, warnings })
}

fn check(after_gc: &Stats, reachable: usize, final_stats: &Stats, tokens: &TokenStats) -> Result<()> {
    if after_gc.live_buffers as usize != reachable {
        anyhow::bail!(
            "after a GC, {} buffer(s) holding {} bytes are live but the globals reach {reachable}",
            after_gc.live_buffers,
            after_gc.live_bytes
        );
    }
    if final_stats.live_buffers != 0 {
        anyhow::bail!(
            "{} buffer(s) holding {} bytes are still live after the globals were dropped and a GC ran",
            final_stats.live_buffers,
            final_stats.live_bytes
        );
    }
    if tokens.made != tokens.released {
        anyhow::bail!("{} token(s) made but {} released", tokens.made, tokens.released);
    }
    Ok(())
}

/// Runs a module from the gc-array baseline backend (no runtime, no
/// library): only `host.*` is imported. Returns what it printed.
pub fn run_baseline(app: &[u8]) -> Result<Vec<String>> {
    let engine = HostOptions::engine()?;
    let mut store: Store<HostState> = Store::new(&engine, HostState::default());
    let mut linker = wasmtime::Linker::new(&engine);
    host_imports(&mut linker)?;
    let module = w(Module::new(&engine, app)).context("compiling the baseline module")?;
    let inst = w(linker.instantiate(&mut store, &module)).context("instantiating the baseline module")?;
    let main = w(inst.get_typed_func::<(), ()>(&mut store, "main"))?;
    w(main.call(&mut store, ())).context("running the baseline module")?;
    Ok(std::mem::take(&mut store.data_mut().printed))
}
