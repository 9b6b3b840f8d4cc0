//! Link configuration: which exports to keep, how to settle conflicts, which
//! memories the intrinsics' `own` and `external` roles are, dead-code
//! removal and debug info.
//!
//! Owns only the knobs; the phases in `link.rs` read them.

/// The input name the runtime is linked under by default: the module name
/// apps import the runtime's API from (`(import "multimem" "buffer_new" ...)`)
/// and the name `multimem-link --with-runtime` gives the bundled
/// `runtime.wasm`. Its export [`multimem_abi::MEMORY_EXPORT`] is the `own`
/// memory unless [`Config::own_memory`] says otherwise.
pub const RUNTIME_MODULE: &str = "multimem";

/// One explicitly requested export: `module`'s export `name`, exported from
/// the output as `as_name` (or `name` when `as_name` is `None`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExportSpec {
    /// The input module's name (as given to [`crate::Linker::add_module`]).
    pub module: String,
    /// The export's name in that module.
    pub name: String,
    /// The name in the output, if different.
    pub as_name: Option<String>,
}

/// What to do when two inputs export the same name and all exports are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ExportConflict {
    /// Fail with [`crate::ErrorKind::ExportConflict`].
    #[default]
    Error,
    /// Keep the first module's export, drop later ones (with a warning).
    Skip,
    /// Keep the first module's export, export later ones as `module.name`
    /// (with a warning).
    Rename,
}

/// How the merged name section disambiguates names that several inputs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NamePrefix {
    /// Prefix `module.` only to names that occur in more than one input.
    #[default]
    OnClash,
    /// Prefix every name with `module.`.
    Always,
    /// Never prefix (names may repeat in the output's name section).
    Never,
}

/// Link configuration, built builder-style from [`Config::default`].
///
/// ```
/// let config = multimem_linker::Config::default()
///     .external_memory("env", "memory")
///     .gc(true);
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) exports: Option<Vec<ExportSpec>>,
    pub(crate) export_conflict: ExportConflict,
    /// (input, prefix) pairs of [`Config::export_prefix`].
    pub(crate) export_prefixes: Vec<(String, String)>,
    pub(crate) external_memory: (String, String),
    /// `None`: the default rule of [`Config::own_memory`].
    pub(crate) own_memory: Option<(String, String)>,
    pub(crate) gc: bool,
    pub(crate) name_prefix: NamePrefix,
    pub(crate) keep_names: bool,
    pub(crate) keep_dwarf: bool,
    pub(crate) threads: usize,
    pub(crate) validate_inputs: bool,
    pub(crate) single_memory: bool,
    /// `Some(max pages)`: [`Config::import_shared_memory`].
    pub(crate) import_shared_memory: Option<Option<u64>>,
    /// `None`: the default rule of [`Config::native_memory`].
    pub(crate) native_memory: Option<(String, String)>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            exports: None,
            export_conflict: ExportConflict::Error,
            export_prefixes: Vec::new(),
            external_memory: ("env".to_string(), "memory".to_string()),
            own_memory: None,
            gc: false,
            name_prefix: NamePrefix::OnClash,
            keep_names: true,
            keep_dwarf: false,
            threads: 0,
            validate_inputs: false,
            single_memory: false,
            import_shared_memory: None,
            native_memory: None,
        }
    }
}

impl Config {
    /// Creates the default configuration (same as [`Config::default`]).
    pub fn new() -> Config {
        Config::default()
    }

    /// Exports every export of every input (the default). Undoes
    /// [`Config::export`]. Use it when the output replaces all inputs at
    /// once and the host may call anything.
    pub fn export_all(mut self) -> Config {
        self.exports = None;
        self
    }

    /// Adds `module`'s export `name` to an explicit export list, exported
    /// as `as_name` (or `name` when `None`). The first call switches from
    /// "all exports" (the default) to "only the listed ones". Use it to hide
    /// a runtime's internals, and with [`Config::gc`] to drop what only they
    /// reach. Naming an export that does not exist is a link error.
    pub fn export(mut self, module: &str, name: &str, as_name: Option<&str>) -> Config {
        self.exports.get_or_insert_with(Vec::new).push(ExportSpec {
            module: module.to_string(),
            name: name.to_string(),
            as_name: as_name.map(str::to_string),
        });
        self
    }

    /// Exports every export of input `module` with `prefix` in front of its
    /// name (`multimem.` gives `multimem.buffer_new`, `multimem.memory`),
    /// whether all exports are kept or [`Config::export`] lists them
    /// without an explicit output name. Default: no prefix. Use it to keep
    /// the runtime's exports apart from an app's (and from each other's
    /// `memory`) without an export list; multimem-host and js-glue take the
    /// same prefix to find the runtime's exports. A later call for the same
    /// module replaces the prefix.
    pub fn export_prefix(mut self, module: &str, prefix: &str) -> Config {
        self.export_prefixes.retain(|(m, _)| m != module);
        self.export_prefixes.push((module.to_string(), prefix.to_string()));
        self
    }

    /// What to do when, exporting everything, two inputs export the same
    /// name. Default: [`ExportConflict::Error`]. Use `Skip` or `Rename`
    /// when merging modules that export common names such as `memory`.
    pub fn export_conflict(mut self, policy: ExportConflict) -> Config {
        self.export_conflict = policy;
        self
    }

    /// The import that the `external` memory role of the intrinsics
    /// resolves to: input `module`'s export `field` if an input has that
    /// name, else the output import `module.field`. Default: `("env",
    /// "memory")`. When no input imports or exports it, it depends on who
    /// calls the `external` intrinsics from live code: nobody, and the
    /// output gets no memory for it; only the runtime (its generic
    /// `external_copy_*` exports), and it gets a private empty memory (any
    /// non-empty access fails with `EXTERNAL_RANGE`; no import is added
    /// that the inputs' hosts could not satisfy); an app, and the output
    /// gains the import (0 pages minimum, i32, unshared). Each case warns.
    /// Change it when the external library's memory is imported under
    /// another name.
    pub fn external_memory(mut self, module: &str, field: &str) -> Config {
        self.external_memory = (module.to_string(), field.to_string());
        self
    }

    /// The memory that the `own` role of the intrinsics resolves to (the
    /// runtime's memory, docs/ABI.md "Memories"), whichever input calls the
    /// intrinsic: input `module`'s export `field`, which must be a memory.
    /// Default: the export [`multimem_abi::MEMORY_EXPORT`] (`memory`) of the
    /// input named [`RUNTIME_MODULE`] (`multimem`); when no such input
    /// exports that memory, an input calling an `own` intrinsic uses its
    /// own defined memory 0 (the runtime linked under another name), and an
    /// input without a defined memory 0 (an app whose memory 0 is
    /// imported) is an error. Set it when the runtime is linked under
    /// another name and an app calls intrinsics too, or when the runtime
    /// exports its memory under another name. Naming a module that is not
    /// an input, or an export that is missing or not a memory, is an error.
    pub fn own_memory(mut self, module: &str, field: &str) -> Config {
        self.own_memory = Some((module.to_string(), field.to_string()));
        self
    }

    /// Dead-code removal. Default: off. When on, functions, globals, tags
    /// and passive or declarative element/data segments that cannot be
    /// reached from the exports, the start functions or active segments
    /// are left out. Tables and globals that allocate arrays are kept
    /// (their instantiation can fail, and removing them must not make a
    /// failing module instantiate), as are memories and unresolved
    /// imports. Exports behave exactly as without it. Turn it on for
    /// shipping builds (an app that calls three runtime functions then
    /// carries three, not forty).
    pub fn gc(mut self, on: bool) -> Config {
        self.gc = on;
        self
    }

    /// How clashing names in the merged `name` section are told apart.
    /// Default: [`NamePrefix::OnClash`]. `Always` makes every name say
    /// which input it came from, useful when profiling a merged module.
    pub fn name_prefix(mut self, prefix: NamePrefix) -> Config {
        self.name_prefix = prefix;
        self
    }

    /// Whether the merged `name` section is emitted. Default: on. Turn it
    /// off for the smallest output.
    pub fn keep_names(mut self, on: bool) -> Config {
        self.keep_names = on;
        self
    }

    /// Whether DWARF sections (`.debug_*`) are kept. Default: off (dropped
    /// with a warning, because code offsets change while linking and the
    /// linker does not rewrite DWARF). When on, the sections of an input are
    /// copied verbatim if only that input has DWARF (the offsets are then
    /// stale; useful only for tools that read names and types, not
    /// addresses); DWARF from several inputs is still dropped.
    pub fn keep_dwarf(mut self, on: bool) -> Config {
        self.keep_dwarf = on;
        self
    }

    /// Threads used to validate function bodies and to rewrite code.
    /// Default: 0, meaning the machine's available parallelism. On wasm
    /// targets without threads (the npm build) it is always 1. `1` keeps
    /// everything on the calling thread. The output is byte-for-byte the
    /// same for any value; only the time changes. Parallel code rewriting
    /// costs extra memory: the helper threads' share of the code section.
    pub fn threads(mut self, n: usize) -> Config {
        self.threads = n;
        self
    }

    /// Whether [`crate::Linker::add_module`] validates function bodies too.
    /// Default: off: inputs get module-level validation (every section,
    /// type, import, export, segment and the body count) and the bodies are
    /// validated once, as part of the output, which must validate anyway;
    /// that halves the linker's time on large inputs. If linking fails,
    /// the inputs are then validated in full, so an invalid body is still
    /// reported against its input with the same message. Turn it on to
    /// reject an input whose only fault is in a body that linking makes
    /// valid: a body that calls an import with arguments that only the
    /// (more general) subtype it is bound to accepts, or that takes
    /// `ref.func` of a function only another input declares.
    pub fn validate_inputs(mut self, on: bool) -> Config {
        self.validate_inputs = on;
        self
    }

    /// Whether the output is the single-memory build (docs/ABI.md,
    /// "Single-memory build"). Default: off (a multi-memory module). When
    /// on, the output has exactly one memory, the native one
    /// ([`Config::native_memory`]); every instruction on another memory is
    /// a call to an import from `multimem:memory`, which the loader
    /// implements over the real memory (js-glue and multimem-host do). It
    /// validates with multi-memory disabled and behaves the same. Use it
    /// for engines without multi-memory (Safari 26 and every iOS browser).
    /// What cannot be lowered (a 64-bit or custom-page memory, an
    /// instruction the reserved module lacks) is an
    /// [`crate::ErrorKind::Unsupported`] error naming it.
    pub fn single_memory(mut self, on: bool) -> Config {
        self.single_memory = on;
        self
    }

    /// The memory that stays native in the single-memory build: input
    /// `module`'s memory export `field`. Default: the `own` memory (the
    /// runtime's heap, [`Config::own_memory`]'s rule), else memory 0. Only
    /// the native memory keeps full speed; pick the one the hot code uses
    /// (an app whose own memory is hot, say, when the runtime is rarely
    /// used). Naming a module that is not an input, or an export that is
    /// missing or not a memory, is an error.
    pub fn native_memory(mut self, module: &str, field: &str) -> Config {
        self.native_memory = Some((module.to_string(), field.to_string()));
        self
    }

    /// Makes the `own` memory (the runtime's heap, [`Config::own_memory`])
    /// an import of the output, `multimem.memory`, shared, with
    /// `max_pages` as its maximum (`None`: the maximum the runtime
    /// declares, which is all 4 GiB), so that several workers instantiate
    /// the same module over the same heap. Mirrors dart2wasm's
    /// `--import-shared-memory` and `--shared-memory-max-pages`. Default:
    /// off. The memory must be defined by an input (or already be that
    /// import) and have no active data segments, which every instance
    /// would apply again: link the runtime's shared build, whose segments
    /// are passive and applied once. Anything else is an error.
    pub fn import_shared_memory(mut self, max_pages: Option<u64>) -> Config {
        self.import_shared_memory = Some(max_pages);
        self
    }

    /// The number of threads to use.
    /// Always 1 on targets that cannot spawn threads (wasm32-wasip1, where
    /// the npm build runs: a spawn there aborts).
    pub(crate) fn thread_count(&self) -> usize {
        if cfg!(all(target_family = "wasm", not(target_feature = "atomics"))) {
            return 1;
        }
        if self.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { self.threads }
    }
}
