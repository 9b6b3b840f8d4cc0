//! [`instantiate`]: an app together with its external library instance,
//! in either build of its link ([`App`]).
//!
//! Phases, in order:
//! 1. the library instance's exports are offered to the app under
//!    [`Options::library_module`], and its memory
//!    ([`Options::library_memory_export`]) under
//!    [`Options::external_memory_import`] (the `external` role);
//! 2. unlinked mode only: `runtime.wasm` is instantiated with host
//!    [`intrinsics`](crate::intrinsics) over that memory and offered to the
//!    app as module `multimem`;
//! 3. single-memory build only: its lowered memories are made or taken
//!    from the definitions so far (the library's memory among them), and
//!    the reserved `multimem:memory` functions defined over them
//!    ([`LoweredMemories::define`]);
//! 4. the app is instantiated with the embedder's own [`wasmtime::Linker`]
//!    definitions plus the above;
//! 5. the runtime's exports are resolved ([`Runtime::new`]) from the linked
//!    app, or from the runtime instance in unlinked mode. In the
//!    single-memory build the runtime's memory is the one native memory,
//!    exported as `memory` as in the other build, so everything after this
//!    phase is the same for both builds.

use crate::buffer::Shared;
use crate::lowered::LoweredMemories;
use crate::ownership::{self, ReleaserCell};
use crate::{App, Error, Options, Result, Runtime};
use wasmtime::{AsContextMut, Instance, Memory, Module, Store, WasmParams, WasmResults};

/// An instantiated app, its library and its runtime.
pub struct Instantiated {
    /// The app instance (in linked mode it also contains the runtime).
    pub app: Instance,
    /// The external library instance, if there is one.
    pub library: Option<Instance>,
    /// The external memory the app imported, if any: the library's
    /// memory, in either build (the single-memory build reaches it through
    /// [`lowered`](Instantiated::lowered)'s functions, but it is the same
    /// memory).
    pub external_memory: Option<Memory>,
    /// The single-memory build's lowered memories (`None` for the
    /// multi-memory build).
    pub lowered: Option<LoweredMemories>,
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

/// The `multimem:gc` imports, if the app has any: defined over the handle
/// state the runtime will share, with the releaser set once it is resolved;
/// and whether it has any.
fn wire_ownership<T: 'static>(
    linker: &mut wasmtime::Linker<T>,
    app: &App,
    options: &Options,
) -> Result<(Shared, ReleaserCell, bool)> {
    let shared = Shared::default();
    let cell = ReleaserCell::default();
    let imported = ownership::imports_ownership(app.module());
    if imported {
        ownership::define(linker, shared.clone(), cell.clone(), options.owned_bytes_budget)?;
    }
    Ok((shared, cell, imported))
}

/// The last phase: the runtime, on the shared state of the tokens.
fn resolve_runtime(
    store: impl AsContextMut,
    instance: &Instance,
    options: &Options,
    (shared, cell, ownership): (Shared, ReleaserCell, bool),
) -> Result<Runtime> {
    // `buffer_release_batch` is needed only for the ownership imports.
    let runtime = Runtime::with_shared(store, instance, options, shared, ownership)?;
    // Only this instantiation sets it.
    if let Some(r) = runtime.releaser() {
        let _ = cell.set(r.clone());
    }
    Ok(runtime)
}

/// Phase 3: a single-memory build's lowered memories and reserved
/// functions, defined in `linker`.
fn wire_lowered<T: 'static>(
    store: &mut Store<T>,
    linker: &mut wasmtime::Linker<T>,
    app: &App,
) -> Result<Option<LoweredMemories>> {
    let Some(sections) = app.lowered_sections()? else { return Ok(None) };
    LoweredMemories::define(store, linker, sections, app.module())
        .map(Some)
        .map_err(|e| e.context("supplying the single-memory build's lowered memories"))
}

/// Instantiates a *linked* app (runtime merged in by `multimem-link`) with
/// its external library instance. `linker` carries the embedder's own
/// imports; shadowing is turned on so it can be reused.
///
/// `app` is either build of the link: a multi-memory build as a
/// [`Module`] (`&module`) or an [`App`], or a single-memory build as an
/// [`App`] made from its bytes ([`App::new`]), in an engine from
/// [`Options::single_memory_engine`]. The result is used the same way for
/// both; see [`instantiate_wasm`] for the one-call form.
pub fn instantiate<T: 'static>(
    store: &mut Store<T>,
    linker: &mut wasmtime::Linker<T>,
    app: impl Into<App>,
    library: Option<Instance>,
    options: &Options,
) -> Result<Instantiated> {
    let app = app.into();
    linker.allow_shadowing(true);
    let external_memory = wire_library(store, linker, library, options)?;
    let lowered = wire_lowered(store, linker, &app)?;
    let owned = wire_ownership(linker, &app, options)?;
    let instance = linker
        .instantiate(&mut *store, app.module())
        .map_err(|e| Error::from(e).context("instantiating the linked app"))?;
    let runtime = resolve_runtime(&mut *store, &instance, options, owned)
        .map_err(|e| e.context("finding the runtime in the linked app"))?;
    Ok(Instantiated { app: instance, library, external_memory, lowered, runtime })
}

/// [`instantiate`] from the linked module's bytes, whichever build they
/// are: compiles them with the store's engine ([`App::new`]) first.
pub fn instantiate_wasm<T: 'static>(
    store: &mut Store<T>,
    linker: &mut wasmtime::Linker<T>,
    wasm: &[u8],
    library: Option<Instance>,
    options: &Options,
) -> Result<Instantiated> {
    let app = App::new(store.engine(), wasm)?;
    instantiate(store, linker, &app, library, options)
}

/// Instantiates an *unlinked* app: `runtime.wasm` runs as its own instance
/// (its intrinsics implemented by the host over the library's memory) and
/// the app imports it as module `multimem`. Same behaviour as the linked
/// form, slower on the cross-memory path; useful for compilers under
/// development and for tests of the runtime alone.
///
/// `app` may be a single-memory build ([`App::new`]) of the app linked
/// alone, with `multimem.memory` as its native memory (`multimem-link
/// app=app.wasm --single-memory --native-memory multimem.memory`):
/// `runtime.wasm` has one memory, so both run with multi-memory off.
pub fn instantiate_unlinked<T: 'static>(
    store: &mut Store<T>,
    linker: &mut wasmtime::Linker<T>,
    app: impl Into<App>,
    runtime_module: &Module,
    library: Option<Instance>,
    options: &Options,
) -> Result<Instantiated> {
    let app = app.into();
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
    let lowered = wire_lowered(store, linker, &app)?;
    let owned = wire_ownership(linker, &app, options)?;
    let instance = linker
        .instantiate(&mut *store, app.module())
        .map_err(|e| Error::from(e).context("instantiating the unlinked app"))?;
    let runtime =
        resolve_runtime(&mut *store, &rt, options, owned).map_err(|e| e.context("finding the runtime's exports"))?;
    Ok(Instantiated { app: instance, library, external_memory, lowered, runtime })
}
