//! [`instantiate`]: an app together with its external library instance.
//!
//! Phases, in order:
//! 1. the library instance's exports are offered to the app under
//!    [`Options::library_module`], and its memory
//!    ([`Options::library_memory_export`]) under
//!    [`Options::external_memory_import`] (the `external` role);
//! 2. unlinked mode only: `runtime.wasm` is instantiated with host
//!    [`intrinsics`](crate::intrinsics) over that memory and offered to the
//!    app as module `multimem`;
//! 3. the app is instantiated with the embedder's own [`wasmtime::Linker`]
//!    definitions plus the above;
//! 4. the runtime's exports are resolved ([`Runtime::new`]) from the linked
//!    app, or from the runtime instance in unlinked mode.

use crate::{Error, Options, Result, Runtime};
use wasmtime::{AsContextMut, Instance, Memory, Module, Store, WasmParams, WasmResults};

/// An instantiated app, its library and its runtime.
pub struct Instantiated {
    /// The app instance (in linked mode it also contains the runtime).
    pub app: Instance,
    /// The external library instance, if there is one.
    pub library: Option<Instance>,
    /// The external memory the app imported, if any.
    pub external_memory: Option<Memory>,
    /// The runtime: buffers, stats and errors.
    pub runtime: Runtime,
}

impl Instantiated {
    /// Calls the app's export `name`, applying queued releases first. If it
    /// traps, the error carries the runtime's code exactly when the runtime
    /// recorded it in this call ([`Runtime`], "Which trap is the
    /// runtime's"): an app's own trap never carries a stale code.
    pub fn call<P: WasmParams, R: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &'static str,
        args: P,
    ) -> Result<R> {
        self.runtime.drain(&mut store)?;
        let f = self
            .app
            .get_typed_func::<P, R>(store.as_context_mut(), name)
            .map_err(|e| Error::from(e).context(format!("resolving app export `{name}`")))?;
        let before = self.runtime.last_error_code(&mut store)?;
        f.call(store.as_context_mut(), args).map_err(|e| {
            self.runtime
                .decode_trap(&mut store, name, e, Some(before))
                .context(format!("running app function `{name}`"))
        })
    }
}

fn wire_library<T: 'static>(
    store: &mut Store<T>,
    linker: &mut wasmtime::Linker<T>,
    library: Option<Instance>,
    options: &Options,
) -> Result<Option<Memory>> {
    let Some(lib) = library else { return Ok(None) };
    let memory = lib.get_memory(&mut *store, &options.library_memory_export).ok_or_else(|| {
        Error::msg(format!("the library instance exports no memory `{}`", options.library_memory_export))
    })?;
    linker.instance(&mut *store, &options.library_module, lib).map_err(|e| {
        Error::from(e).context(format!("offering the library's exports as module `{}`", options.library_module))
    })?;
    let (m, f) = &options.external_memory_import;
    linker
        .define(&*store, m, f, memory)
        .map_err(|e| Error::from(e).context(format!("defining the external memory import `{m}.{f}`")))?;
    Ok(Some(memory))
}

/// Instantiates a *linked* app (runtime merged in by `multimem-link`) with
/// its external library instance. `linker` carries the embedder's own
/// imports; shadowing is turned on so it can be reused.
pub fn instantiate<T: 'static>(
    store: &mut Store<T>,
    linker: &mut wasmtime::Linker<T>,
    app: &Module,
    library: Option<Instance>,
    options: &Options,
) -> Result<Instantiated> {
    linker.allow_shadowing(true);
    let external_memory = wire_library(store, linker, library, options)?;
    let instance =
        linker.instantiate(&mut *store, app).map_err(|e| Error::from(e).context("instantiating the linked app"))?;
    let runtime = Runtime::new(&mut *store, &instance, options)
        .map_err(|e| e.context("finding the runtime in the linked app"))?;
    Ok(Instantiated { app: instance, library, external_memory, runtime })
}

/// Instantiates an *unlinked* app: `runtime.wasm` runs as its own instance
/// (its intrinsics implemented by the host over the library's memory) and
/// the app imports it as module `multimem`. Same behaviour as the linked
/// form, slower on the cross-memory path; useful for compilers under
/// development and for tests of the runtime alone.
pub fn instantiate_unlinked<T: 'static>(
    store: &mut Store<T>,
    linker: &mut wasmtime::Linker<T>,
    app: &Module,
    runtime_module: &Module,
    library: Option<Instance>,
    options: &Options,
) -> Result<Instantiated> {
    linker.allow_shadowing(true);
    let external_memory = wire_library(store, linker, library, options)?;
    let mut rt_linker = wasmtime::Linker::new(store.engine());
    crate::intrinsics::define(&mut rt_linker, external_memory)?;
    let rt = rt_linker
        .instantiate(&mut *store, runtime_module)
        .map_err(|e| Error::from(e).context("instantiating runtime.wasm with host intrinsics"))?;
    linker
        .instance(&mut *store, "multimem", rt)
        .map_err(|e| Error::from(e).context("offering the runtime as module `multimem`"))?;
    let instance =
        linker.instantiate(&mut *store, app).map_err(|e| Error::from(e).context("instantiating the unlinked app"))?;
    let runtime = Runtime::new(&mut *store, &rt, options).map_err(|e| e.context("finding the runtime's exports"))?;
    Ok(Instantiated { app: instance, library, external_memory, runtime })
}
