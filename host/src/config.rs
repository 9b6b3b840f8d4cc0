//! [`Options`]: every switch of the host, in the style of wasmtime's
//! `Config` (each method says what it does, its default and when to use it).

/// How [`instantiate`](crate::instantiate) wires an app, its external
/// library and the runtime, and how [`Runtime`](crate::Runtime) finds the
/// runtime's exports.
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) external_memory_import: (String, String),
    pub(crate) library_memory_export: String,
    pub(crate) library_module: String,
    pub(crate) runtime_export_prefix: String,
    pub(crate) check_abi_version: bool,
    pub(crate) owned_bytes_budget: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            external_memory_import: ("env".into(), "memory".into()),
            library_memory_export: "memory".into(),
            library_module: "lib".into(),
            runtime_export_prefix: String::new(),
            check_abi_version: true,
            owned_bytes_budget: Some(Self::DEFAULT_OWNED_BYTES_BUDGET),
        }
    }
}

impl Options {
    /// The default floor of [`Options::owned_bytes_budget`]: 8 MiB.
    pub const DEFAULT_OWNED_BYTES_BUDGET: u64 = 8 << 20;

    /// Default options; see each method for its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The import (`module`, `field`) under which the app expects the
    /// external library's memory: the `external` role of `docs/ABI.md`.
    ///
    /// Default: `("env", "memory")`, which is also the linker's default.
    /// Change it only when the module was linked with another external
    /// memory import.
    pub fn external_memory_import(&mut self, module: &str, field: &str) -> &mut Self {
        self.external_memory_import = (module.into(), field.into());
        self
    }

    /// The export of the external library instance that is its memory.
    ///
    /// Default: `"memory"` (what Rust and C toolchains export). Change it
    /// for a library that exports its memory under another name.
    pub fn library_memory_export(&mut self, name: &str) -> &mut Self {
        self.library_memory_export = name.into();
        self
    }

    /// The module name under which every export of the library instance is
    /// offered to the app's imports (an app calls library function `f` by
    /// importing `<library_module>.f`).
    ///
    /// Default: `"lib"`. Set it to whatever module name your compiler emits
    /// for calls into the library.
    pub fn library_module(&mut self, name: &str) -> &mut Self {
        self.library_module = name.into();
        self
    }

    /// A prefix on the runtime's export names in the instance that
    /// [`Runtime::new`](crate::Runtime::new) reads (`buffer_new` becomes
    /// `<prefix>buffer_new`, the memory `<prefix>memory`).
    ///
    /// Default: empty, which is what the linker produces when it keeps all
    /// exports. Use it when the link renamed the runtime's exports.
    pub fn runtime_export_prefix(&mut self, prefix: &str) -> &mut Self {
        self.runtime_export_prefix = prefix.into();
        self
    }

    /// Whether [`Runtime::new`](crate::Runtime::new) calls `abi_version` and
    /// refuses a runtime whose version differs from
    /// [`multimem_abi::ABI_VERSION`].
    ///
    /// Default: `true`. Turn it off only to inspect a runtime of another
    /// version; the header layout this crate relies on may differ.
    pub fn check_abi_version(&mut self, check: bool) -> &mut Self {
        self.check_abi_version = check;
        self
    }

    /// When `multimem:gc.own` forces a wasmtime collection: once the bytes
    /// of runtime memory behind the tokens made and not yet collected
    /// (each counted as its buffer's `lengthInBytes` plus the header, read
    /// from the header when the token is made) have grown, since the
    /// previous forced collection, by more than the largest of `floor`,
    /// the GC heap's current capacity (`Caller::gc_heap_capacity`) and the
    /// bytes still owned right after that collection. `own` then collects
    /// (`Caller::gc`) and applies the released tokens' batches before
    /// returning. `None` never forces one.
    ///
    /// Why: wasmtime's GC sees a token as a small externref, not the
    /// buffer behind it, so with a large GC heap (`gc_heap_initial_size`)
    /// it rarely runs and the runtime memory fills with buffers nobody can
    /// reach. This is V8's external memory accounting. The limit adapts:
    /// to the live set (the owned bytes may double between collections, so
    /// their cost stays in proportion to the allocation) and to the GC
    /// heap the embedder chose (garbage buffers may take as much runtime
    /// memory as garbage objects may take GC heap, so lists of a few dozen
    /// bytes add no collections to wasmtime's own).
    ///
    /// Default: `Some(8 MiB)` ([`Options::DEFAULT_OWNED_BYTES_BUDGET`]).
    /// With wasmtime's default GC heap sizing, collections come earlier on
    /// their own and this one only triggers for larger buffers. Raise it to
    /// trade runtime memory for fewer collections; `None` only when
    /// something else bounds the memory (the host calls
    /// [`Runtime::collect`](crate::Runtime::collect) itself). A store with
    /// an async resource limiter cannot collect from `own` (wasmtime's
    /// `Caller::gc` refuses, and `own` traps with that error): use `None`
    /// there.
    pub fn owned_bytes_budget(&mut self, floor: Option<u64>) -> &mut Self {
        self.owned_bytes_budget = floor;
        self
    }

    /// A wasmtime [`Config`](wasmtime::Config) with what multimem modules
    /// need: GC (`wasm_gc`) for compiler objects and externrefs, function
    /// references (required by GC) and multi-memory (the runtime memory next
    /// to the external one). SIMD and bulk memory are wasmtime's defaults and
    /// stay on (the default runtime build uses `simd128`).
    ///
    /// Threads and shared memories are on too, for the runtime's shared
    /// builds ([`SharedHeap`](crate::SharedHeap), `docs/ABI.md` "Threads");
    /// they change nothing for the other builds.
    ///
    /// Start from this and add your own settings; turning any of the three
    /// off makes linked modules fail to compile.
    pub fn engine_config() -> wasmtime::Config {
        let mut config = wasmtime::Config::new();
        config.wasm_gc(true);
        config.wasm_function_references(true);
        config.wasm_multi_memory(true);
        config.wasm_threads(true);
        config.shared_memory(true);
        config
    }

    /// An [`Engine`](wasmtime::Engine) built from [`Options::engine_config`].
    pub fn engine() -> crate::Result<wasmtime::Engine> {
        wasmtime::Engine::new(&Self::engine_config())
            .map_err(|e| crate::Error::from(e).context("creating a wasmtime engine with GC and multi-memory"))
    }

    /// The [`Config`](wasmtime::Config) of [`Options::engine_config`] with
    /// multi-memory *off*: an engine like the ones without multi-memory
    /// (Safari 26, every iOS browser), for the single-memory build of a
    /// link (`multimem-link --single-memory`, `docs/ABI.md` "Single-memory
    /// build"), which [`App::new`](crate::App::new) and
    /// [`instantiate`](crate::instantiate) run with nothing else to do.
    ///
    /// Use it to test that build as such engines will run it, or when your
    /// embedding cannot turn multi-memory on. A multi-memory build fails to
    /// compile in it (the error says which build to use); the
    /// single-memory build also runs in [`Options::engine`], but there the
    /// multi-memory build is faster on every cross-memory operation.
    pub fn single_memory_engine_config() -> wasmtime::Config {
        let mut config = Self::engine_config();
        config.wasm_multi_memory(false);
        config
    }

    /// An [`Engine`](wasmtime::Engine) built from
    /// [`Options::single_memory_engine_config`].
    pub fn single_memory_engine() -> crate::Result<wasmtime::Engine> {
        wasmtime::Engine::new(&Self::single_memory_engine_config())
            .map_err(|e| crate::Error::from(e).context("creating a wasmtime engine with GC and multi-memory off"))
    }

    pub(crate) fn runtime_export(&self, name: &str) -> String {
        format!("{}{}", self.runtime_export_prefix, name)
    }
}
