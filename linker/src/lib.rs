//! multimem-linker: merges N named WebAssembly modules into one validated
//! multi-memory module, and lowers the runtime's `multimem:intrinsics`
//! calls into instructions on the right memories. The library (it never
//! builds the runtime: the CLI's `with-runtime` feature embeds it); the
//! `multimem-link` command is the `multimem-link` crate (`linker/cli`).
//!
//! This crate owns `linker/` only. It implements the **Intrinsics** and
//! **Memories** sections of `docs/ABI.md`, reading them from the
//! `multimem-abi` crate (`INTRINSICS`, `INTRINSICS_MODULE`, `MemoryRole`);
//! it restates no ABI fact. It never touches the runtime's code: the
//! runtime is just another input (`--with-runtime` adds the bundled one).
//!
//! # Model
//!
//! Like a static linker, and like binaryen's `wasm-merge`, linking is by
//! name and *fuses* imports with exports: an import `m.f` of any input
//! binds to the export `f` of the input named `m`. Functions, tables,
//! memories, globals and tags are all linked this way, through chains of
//! re-exported imports and regardless of input order (forward references
//! are fine). An import whose module is not an input stays an import of
//! the output (identical ones are merged). Each input keeps its own
//! memories; a memory import that another input exports *is* that memory.
//! The result is one module whose index spaces are the inputs' index spaces
//! laid end to end, imports first.
//!
//! ```text
//! ;; input `app`                              ;; input `multimem` (the runtime)
//! (module                                     (module
//!   (import "env" "memory" (memory 1))          (import "multimem:intrinsics" "i32_load_external"
//!   (import "multimem" "peek"                     (func $ld (param i32) (result i32)))
//!     (func $peek (param i32) (result i32)))    (memory (export "memory") 1)
//!   (func (export "run") (result i32)           (func (export "peek") (param i32) (result i32)
//!     (call $peek (i32.const 8))))                (call $ld (local.get 0))))
//!
//! ;; multimem-link app=app.wasm multimem=runtime.wasm -o out.wasm
//! (module
//!   (import "env" "memory" (memory 1))          ;; memory 0: unresolved, kept (`external`)
//!   (memory 1)                                  ;; memory 1: the runtime's own
//!   (func (export "run") (result i32)           ;; app's call now targets the
//!     (call 1 (i32.const 8)))                   ;; runtime's function directly
//!   (func (export "peek") (param i32) (result i32)
//!     (i32.load 0 align=1 (local.get 0)))       ;; intrinsic lowered: load on memory 0
//!   (export "memory" (memory 1)))
//! ```
//!
//! # Phases, in the order [`Linker::link`] runs them (`link.rs`)
//!
//! 0. *Check* each input when it is added ([`Linker::add_module`]):
//!    parse it and run wasmparser's module-level validation (all features:
//!    GC, multi-memory, memory64, threads, exceptions, SIMD, tail calls,
//!    ...), which vouches for every index and type outside function
//!    bodies. Bodies are validated once, in the output (phase 9), unless
//!    [`Config::validate_inputs`] asks for it here too (`validate.rs`).
//! 1. *Parse* each input once into borrowed section items (`parse.rs`).
//!    Function bodies stay byte ranges.
//! 2. *Merge types* (`types.rs`): each rec group is canonicalised (its
//!    structure with outside references rewritten to merged indices and
//!    inside references made relative) and interned, so identical groups,
//!    including MVP function types, are emitted once.
//! 3. *Resolve imports* (`resolve.rs`): follow `m.f` to a definition, an
//!    intrinsic or an output import; detect cycles; type-check every hop
//!    with the spec's import matching in the merged type space (function
//!    subtyping through declared supertypes, reference subtyping for
//!    immutable globals, limits for memories and tables, exact tags).
//! 4. *Choose the exports* (`exports.rs`): all, or [`Config::export`]'s
//!    list, with conflicts settled per [`ExportConflict`].
//! 5. *Dead-code removal*, when [`Config::gc`] is on (`gc.rs`): mark from
//!    the exports, start functions, active segments, and everything whose
//!    instantiation can fail (tables, globals allocating arrays), so that
//!    removing code never makes a failing module instantiate. Declarative
//!    segments are kept whole when code names them. The bodies removed are
//!    validated here, as the output never holds them.
//! 6. *Resolve memory roles* (`roles.rs`) and *assign output indices*
//!    (`layout.rs`). `own` is the runtime's memory whichever input calls
//!    the intrinsic ([`Config::own_memory`]: by default the export `memory`
//!    of the input named `multimem`, [`RUNTIME_MODULE`]; with no such
//!    input, the calling input's own *defined* memory 0, and an error if
//!    its memory 0 is imported or missing). `external` is
//!    [`Config::external_memory`] (`env.memory`): an input's export if an
//!    input has that name, else the output import of that name. When no
//!    input has it, the output gets nothing if no live code calls an
//!    `external` intrinsic, a private empty memory if only the runtime does
//!    (so merging modules that never use an external memory adds no import
//!    their hosts cannot satisfy), and the import (with a warning) if an
//!    app does. Index spaces are imports first, then live definitions in
//!    input order, except that globals are ordered so that every
//!    initialiser reads only earlier globals (forward references across
//!    inputs work), and the defined memory that most code uses as its
//!    memory 0 comes first (its loads and stores keep their short form).
//!    Functions that only a removed item (a dropped export, a removed
//!    global or segment) declared for `ref.func` are declared by a
//!    declarative segment of the output's own, after all others.
//! 7. *Lower the intrinsics* (`lower.rs`): the one place that decides what
//!    a `call` of each becomes (in this build, its instruction on the
//!    resolved memories).
//! 8. *Emit* (`sections.rs`, `code_section.rs`, `code.rs`, `data.rs`,
//!    `custom.rs`): `dylink.0` first when an input has it, then type,
//!    import, function, table, memory, tag, global, export, start,
//!    element, data-count, code and data sections, then the custom
//!    sections. A table initialiser that reads a global another input now
//!    defines gets that global's initialiser inlined (tables precede
//!    globals). Code is streamed body by body (`code.rs`): wasmparser
//!    decodes each operator once; operators whose immediates carry no
//!    index are validated and copied as raw byte runs, others are
//!    reencoded through the [`wasm_encoder::reencode::Reencode`] hooks (and
//!    the bytes written are decoded into the validator), and each `call` of
//!    an intrinsic is replaced by its lowered bytes. With more than one
//!    thread ([`Config::threads`]) the bodies are cut into chunks
//!    (`chunks.rs`): this thread takes them from the front, straight into
//!    the output, helpers from the back into their own buffers, which
//!    follow it (written out part by part, [`Linker::link_split`], or
//!    appended while their pages are released); the first helper builds
//!    the data section first (in its own buffer, as it does not depend on
//!    the code). Several start functions become one synthesised function
//!    calling them in input order. Custom sections: `name` merged (prefix
//!    on clash), one `producers`, `target_features` unioned, DWARF dropped
//!    with a warning, other sections kept if only one input has them.
//! 9. *Validate the output* with wasmparser, while it is written
//!    (`validate.rs`, `Streaming`): the sections before the code section
//!    before any body is written, each body operator by operator as it is
//!    written, from the decode that rewrites it (`code.rs`; so writing and
//!    checking share the cores with no barrier between them), the data
//!    section by the thread that built it, the rest at the end. When this
//!    or any earlier phase fails, the inputs are validated in full
//!    ([`Linker::link`]): the first invalid one is the error
//!    ([`ErrorKind::InvalidModule`], with the validator's message for that
//!    input, as if it had been checked when added). Only if all inputs are
//!    valid is a failing output a linker bug, reported as
//!    [`ErrorKind::Internal`]; invalid bytes are never returned.
//!
//! # Why wasmparser + wasm-encoder's `Reencode`, not walrus
//!
//! The targets are throughput (150 MB/s of input), peak memory (3× the
//! input) and output no larger than `wasm-merge`'s. walrus parses every
//! function into an IR of boxed instructions and re-emits it: several
//! times the input in memory, and a full rebuild of every body. A linker
//! only renumbers indices, so it can stream: `Reencode` gives one hook per
//! index space, which here is one array lookup, and everything that is
//! not an index (most bytes of most bodies) is copied verbatim. Nothing is
//! decoded into an IR; the output buffer is sized from the inputs up
//! front (`buffer.rs`) and the code section is written into it in place.
//! Each operator is decoded once, by wasmparser, and that one decode
//! serves both the rewriting and the output's validation (`code.rs`); an
//! IR would add building and re-emitting it to the decode every design
//! pays.
//!
//! # What it deliberately does not do
//!
//! - No optimisation beyond optional dead-code removal: no inlining, no
//!   deduplication of identical functions, no removal of unused types or
//!   imports.
//! - No renaming of exports unless asked; no merging of memories (each
//!   input keeps its own, which is the point of multi-memory).
//! - No DWARF or source-map rewriting (dropped with a warning).
//! - No components, no relocatable object files (`linking`/`reloc.*`
//!   sections are dropped with a warning).
//!
//! # Semantics and limits (read before relying on it)
//!
//! - Instantiation order differs from instantiating the inputs one by one:
//!   all inputs' active segments are applied before any start function
//!   runs (start functions still run in input order). A start function
//!   that relies on a *later* input's data not yet being written would see
//!   it written. `wasm-merge` has the same limit.
//! - `own` is the memory `multimem` exports as `memory` (or
//!   [`Config::own_memory`]), for every input, so an app calling
//!   `memory_copy_external_own` copies out of the runtime's memory. Only
//!   without such an input does a caller's own defined memory 0 stand in
//!   (the runtime linked under another name); an app whose memory 0 is
//!   imported then gets an error rather than a copy within one memory.
//! - Intrinsics can only be called directly (`call`, `return_call`); a
//!   `ref.func`, table entry or export of one is an error.
//! - A table initialiser that reads a global which another input defines
//!   by allocating a GC object (`struct.new`, `array.new*`) cannot be
//!   linked ([`ErrorKind::Unsupported`]): tables precede globals in a
//!   module, and copying the initialiser would make a second object.
//!   Initialisers that allocate nothing are inlined.
//! - Global initialisers of several inputs that read each other in a
//!   cycle (through imports) are an [`ErrorKind::ImportCycle`].
//! - Several dynamic-linking side modules (`dylink.0`) cannot be merged
//!   into one ([`ErrorKind::Unsupported`]); one side module with other
//!   modules keeps its `dylink.0`, first.
//! - With dead-code removal, unresolved imports are kept, and so are
//!   tables and array-allocating globals (their instantiation can fail).
//! - Input and output are held in memory (the output `Vec` is the API).
//!   The CLI maps input files rather than reading them ([`map_file`]):
//!   an input must not be changed while the linker runs. Devices and
//!   directories are refused; a pipe is read up to [`MAX_PIPE_INPUT`].
//! - Exceeding 4 GiB in one section is an error ([`ErrorKind::Limit`]).
//!
//! # Complexity
//!
//! Time is linear in the total input size (plus hashing of the rec
//! groups); every operator is decoded once, by wasmparser, and that one
//! decode both rewrites it and validates it in the output (validation and
//! rewriting use all cores, see [`Config::threads`]). Validation is most
//! of the work. Validating the input bodies too would add as much
//! again, which is why it is off by default: the output's validation
//! covers them, and an error is traced back to its input (see phase 9).
//! Inputs whose only fault is one that linking cures (a body calling an
//! import with arguments only the subtype it binds to accepts; `ref.func`
//! of a function declared only by another input) are accepted unless
//! [`Config::validate_inputs`] is on. Memory is the inputs, the output,
//! the helper threads' share of the code and the data section until they
//! are appended (their pages are released as they are copied), and
//! per-item tables (a few words per function, global and segment; data
//! segments are not kept decoded): peak RSS about 2.4-2.5x the input on
//! 14-18 MB modules, at 160-215 MB/s of input on 2 cores (BENCHMARKS.md).
//! Set `MULTIMEM_LINK_TIMINGS=1` to print per-phase times to stderr.
#![deny(missing_docs)]

mod assemble;
mod buffer;
mod chunks;
mod code;
mod code_section;
mod config;
mod custom;
mod data;
mod error;
mod exports;
mod gc;
mod layout;
mod link;
mod lower;
mod parse;
mod remap;
mod resolve;
mod roles;
mod sections;
mod single_memory;
mod types;
mod validate;

pub use config::{Config, ExportConflict, ExportSpec, NamePrefix, RUNTIME_MODULE};
pub use error::{Error, ErrorKind};

pub use buffer::{FileBytes, MAX_PIPE_INPUT, map_file, read_file, write_file};

/// The features inputs and output are validated with: everything wasmparser
/// knows (GC, multi-memory, memory64, threads, exceptions, SIMD, ...).
pub fn features() -> wasmparser::WasmFeatures {
    wasmparser::WasmFeatures::all()
}

/// Phase timings on stderr when `MULTIMEM_LINK_TIMINGS` is set (for
/// benchmarking; off by default and free when off).
pub(crate) struct Timer(Option<std::cell::Cell<std::time::Instant>>);

impl Timer {
    pub(crate) fn new() -> Timer {
        Timer(std::env::var_os("MULTIMEM_LINK_TIMINGS").map(|_| std::cell::Cell::new(std::time::Instant::now())))
    }
    pub(crate) fn mark(&self, phase: &str) {
        if let Some(t) = &self.0 {
            let now = std::time::Instant::now();
            eprintln!("multimem-link timing: {phase}: {:.1} ms", (now - t.get()).as_secs_f64() * 1e3);
            t.set(now);
        }
    }
}

/// One input: its name and bytes.
struct Input {
    name: String,
    bytes: FileBytes,
}

/// The linker: collect inputs with [`Linker::add_module`], then [`Linker::link`].
pub struct Linker {
    config: Config,
    inputs: Vec<Input>,
}

/// The linked module and what the linker wants the user to know.
#[derive(Clone, Debug)]
pub struct Output {
    /// The linked, validated module.
    pub wasm: Vec<u8>,
    /// Non-fatal notes (dropped sections, added imports, renamed exports).
    pub warnings: Vec<String>,
}

impl Linker {
    /// A linker with no inputs yet.
    pub fn new(config: Config) -> Linker {
        Linker { config, inputs: Vec::new() }
    }

    /// Adds the module `name` (the name other inputs import it by). Checks
    /// it now, so errors point at the right input: parsing and module-level
    /// validation (every section and item; all function bodies too with
    /// [`Config::validate_inputs`]). By default function bodies are
    /// validated once, in the output; if linking fails, [`Linker::link`]
    /// then validates the inputs in full and reports the first invalid one
    /// (with the message this function would have given).
    pub fn add_module(&mut self, name: &str, wasm: &[u8]) -> Result<(), Error> {
        self.add_module_owned(name, wasm.to_vec())
    }

    /// As [`Linker::add_module`], taking ownership of the bytes (saves a copy
    /// of large inputs).
    pub fn add_module_owned(&mut self, name: &str, wasm: Vec<u8>) -> Result<(), Error> {
        self.add_module_file(name, wasm.into())
    }

    /// As [`Linker::add_module`], for a file's bytes from [`map_file`] (the
    /// CLI's way: large inputs are mapped, not copied).
    pub fn add_module_file(&mut self, name: &str, wasm: FileBytes) -> Result<(), Error> {
        if self.inputs.iter().any(|i| i.name == name) {
            return Err(Error::new(ErrorKind::DuplicateModule, format!("module name `{name}` given twice")));
        }
        let timer = Timer::new();
        let checked = if self.config.validate_inputs {
            validate::validate(&wasm, self.config.thread_count())
        } else {
            validate::validate_module_level(&wasm)
        };
        checked.map_err(|e| Error::invalid_module(name, e))?;
        timer.mark("validate input");
        self.inputs.push(Input { name: name.to_string(), bytes: wasm });
        Ok(())
    }

    /// Links the inputs, in the order they were added, into one module.
    pub fn link(&self) -> Result<Output, Error> {
        self.link_split().map(SplitOutput::into_output)
    }

    /// As [`Linker::link`], leaving the module in the pieces the threads
    /// wrote, to be written out ([`SplitOutput::write_file`]) without
    /// first being joined into one buffer.
    pub fn link_split(&self) -> Result<SplitOutput, Error> {
        let inputs: Vec<(&str, &[u8])> = self.inputs.iter().map(|i| (i.name.as_str(), &*i.bytes)).collect();
        let linked = link::link(&self.config, &inputs).map(|(parts, warnings)| SplitOutput { parts, warnings });
        linked.map_err(|e| {
            // Bodies were not validated on input: an invalid body shows up
            // here as an invalid output or a rewrite error. Name the input,
            // with the message full input validation gives, as if it had
            // been validated when added.
            if self.config.validate_inputs {
                return e;
            }
            let timer = Timer::new();
            let culprit = self.inputs.iter().find_map(|i| {
                validate::validate(&i.bytes, self.config.thread_count())
                    .err()
                    .map(|m| Error::invalid_module(&i.name, m))
            });
            timer.mark("validate inputs (error path)");
            culprit.unwrap_or(e)
        })
    }
}

/// The linked, validated module from [`Linker::link_split`], not yet
/// joined into one buffer.
pub struct SplitOutput {
    parts: assemble::Assembled,
    /// Non-fatal notes, as in [`Output::warnings`].
    pub warnings: Vec<String>,
}

impl SplitOutput {
    /// The module's size in bytes.
    pub fn len(&self) -> usize {
        self.parts.parts().iter().map(|p| p.len()).sum()
    }

    /// Whether the module is empty (never: it has at least a header).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the module to `w`, part by part.
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        self.parts.parts().iter().try_for_each(|p| w.write_all(p))
    }

    /// Writes the module to the file at `path` as [`write_file`] does
    /// (over an existing file, in place).
    pub fn write_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        buffer::write_file_parts(path, &self.parts.parts())
    }

    /// The module in one buffer, as [`Linker::link`] returns it.
    pub fn into_output(self) -> Output {
        Output { wasm: self.parts.into_vec(), warnings: self.warnings }
    }
}
