//! Phase 4: link the compiled app with `runtime.wasm`, run it in wasmtime
//! next to its external library, and report what it printed and the
//! runtime's stats. Either build of the link runs ([`Build`]): the
//! multi-memory build in an engine with multi-memory on, the single-memory
//! build (`--single-memory`) in one with multi-memory off, as Safari.

use anyhow::{Context as _, Result};
use multimem_host::{Options as HostOptions, Stats};
use wasmtime::{Caller, Instance, Module, Store};

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

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Lines the program printed.
    pub printed: Vec<String>,
    /// Runtime stats after `main` returned.
    pub stats: Stats,
    /// `Err` when buffers were still live at exit (a leak).
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
    pub store: Store<Vec<String>>,
    /// The app, its library and its runtime.
    pub instance: multimem_host::Instantiated,
    /// Size of the module that runs, in bytes.
    pub module_bytes: usize,
    /// Linker warnings, if linked.
    pub warnings: Vec<String>,
}

fn print_imports(linker: &mut wasmtime::Linker<Vec<String>>) -> Result<()> {
    linker.func_wrap(crate::codegen::HOST_MODULE, "print_i64", |mut c: Caller<'_, Vec<String>>, v: i64| {
        c.data_mut().push(v.to_string())
    })?;
    linker.func_wrap(crate::codegen::HOST_MODULE, "print_f64", |mut c: Caller<'_, Vec<String>>, v: f64| {
        c.data_mut().push(format!("{v:?}"))
    })?;
    Ok(())
}

/// Links (or not) and instantiates `app` next to the external library,
/// in the engine of `build`.
pub fn prepare(app: &[u8], mode: Mode, build: Build) -> Result<Prepared> {
    let engine = build.engine()?;
    let mut store: Store<Vec<String>> = Store::new(&engine, Vec::new());
    let lib_module = w(Module::new(&engine, crate::EXTLIB_WASM)).context("compiling extlib.wasm")?;
    let library = w(Instance::new(&mut store, &lib_module, &[])).context("instantiating extlib.wasm")?;
    let mut linker = wasmtime::Linker::new(&engine);
    print_imports(&mut linker)?;
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
    Ok(Prepared { store, instance, module_bytes, warnings })
}

/// Runs a compiled app's `main` in `build` and checks for leaks.
pub fn run(app: &[u8], mode: Mode, build: Build) -> Result<Outcome> {
    let Prepared { mut store, instance: inst, module_bytes, warnings } = prepare(app, mode, build)?;
    inst.call::<(), ()>(&mut store, "main", ())?;
    let stats = inst.runtime.stats(&mut store)?;
    let leak_check = inst.runtime.check_no_leaks(&mut store).map(|_| ()).map_err(anyhow::Error::from);
    let printed = std::mem::take(store.data_mut());
    Ok(Outcome { printed, stats, leak_check, module_bytes, warnings })
}

/// Runs a module from the gc-array baseline backend (no runtime, no
/// library): only `host.print_*` is imported. Returns what it printed.
pub fn run_baseline(app: &[u8]) -> Result<Vec<String>> {
    let engine = HostOptions::engine()?;
    let mut store: Store<Vec<String>> = Store::new(&engine, Vec::new());
    let mut linker = wasmtime::Linker::new(&engine);
    print_imports(&mut linker)?;
    let module = w(Module::new(&engine, app)).context("compiling the baseline module")?;
    let inst = w(linker.instantiate(&mut store, &module)).context("instantiating the baseline module")?;
    let main = w(inst.get_typed_func::<(), ()>(&mut store, "main"))?;
    w(main.call(&mut store, ())).context("running the baseline module")?;
    Ok(std::mem::take(store.data_mut()))
}
