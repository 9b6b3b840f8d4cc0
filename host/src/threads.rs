//! [`SharedHeap`]: one linked module instantiated once per thread over one
//! shared runtime memory (the runtime's shared builds, `docs/ABI.md`
//! "Threads").
//!
//! Phases of [`SharedHeap::new`]: find the app's import of the runtime
//! memory (`multimem.memory`, which `multimem-link --import-shared-memory`
//! makes) and check that it is shared; create that memory once. Phases of
//! [`SharedHeap::instantiate`], run in each thread with its own `Store`:
//! define the memory under its import name in the thread's linker;
//! [`instantiate`](crate::instantiate) (library, ownership imports,
//! runtime exports as for any app); `instance_may_wait(1)`, since host
//! threads may block.
//!
//! Buffers move between threads by address: the sending thread gives up a
//! handle's reference with [`Buffer::into_raw`](crate::Buffer::into_raw) (or
//! keeps it and retains a second one), sends the address, and the receiving
//! thread takes the reference over with
//! [`Runtime::adopt`](crate::Runtime::adopt). No bytes are copied.
//!
//! Limits: the single-memory build of a link is not supported here (its
//! lowered memories would have to be shared too); each thread's `Store`
//! and [`Instantiated`] stay on that thread, as wasmtime requires.

use crate::{App, Error, Instantiated, Options, Result};
use wasmtime::{Engine, ExternType, Instance, Module, SharedMemory, Store};

/// The import the runtime memory becomes with `--import-shared-memory`
/// (`multimem.memory`).
const MEMORY_IMPORT: (&str, &str) = ("multimem", "memory");

/// A linked module whose runtime memory is a shared import, and that
/// memory: cheap to clone, and sent to every thread that instantiates it.
#[derive(Clone)]
pub struct SharedHeap {
    app: App,
    memory: SharedMemory,
}

impl SharedHeap {
    /// Compiles nothing: takes the linked app (a multi-memory build linked
    /// with `--import-shared-memory` and a shared build of the runtime)
    /// and creates its shared memory at the import's minimum and maximum.
    pub fn new(engine: &Engine, app: &Module) -> Result<SharedHeap> {
        let (module, field) = MEMORY_IMPORT;
        let ty =
            app.imports().find(|i| i.module() == module && i.name() == field).map(|i| i.ty()).ok_or_else(|| {
                Error::msg(format!(
                    "the app does not import the runtime memory `{module}.{field}`: link it with \\
                     --import-shared-memory and a shared build of the runtime (--runtime-variant shared)"
                ))
            })?;
        let ExternType::Memory(ty) = ty else {
            return Err(Error::msg(format!("the app's import `{module}.{field}` is not a memory")));
        };
        if !ty.is_shared() {
            return Err(Error::msg(format!(
                "the app imports `{module}.{field}` unshared; link it with --import-shared-memory"
            )));
        }
        let memory = SharedMemory::new(engine, ty)
            .map_err(|e| Error::from(e).context(format!("creating the shared runtime memory `{module}.{field}`")))?;
        Ok(SharedHeap { app: App::from(app.clone()), memory })
    }

    /// The shared runtime memory.
    pub fn memory(&self) -> &SharedMemory {
        &self.memory
    }

    /// Instantiates the app in this thread's `store` over the shared
    /// memory, with `library` and the embedder's `linker` as
    /// [`instantiate`](crate::instantiate) takes them, and lets the
    /// instance block on the heap lock (`instance_may_wait(1)`).
    pub fn instantiate<T: 'static>(
        &self,
        store: &mut Store<T>,
        linker: &mut wasmtime::Linker<T>,
        library: Option<Instance>,
        options: &Options,
    ) -> Result<Instantiated> {
        let (module, field) = MEMORY_IMPORT;
        linker.allow_shadowing(true);
        linker
            .define(&*store, module, field, self.memory.clone())
            .map_err(|e| Error::from(e).context(format!("defining the shared runtime memory `{module}.{field}`")))?;
        let app = crate::instantiate(store, linker, &self.app, library, options)?;
        app.runtime.set_may_wait(&mut *store, &app.app, options)?;
        Ok(app)
    }
}
