//! multimem-linker: merges N named wasm modules into one validated
//! multi-memory module and lowers `multimem:intrinsics` calls.
//! (Full pipeline documentation follows with the implementation.)
#![deny(missing_docs)]

mod code;
mod config;
mod custom;
mod error;
mod gc;
mod link;
mod parse;
mod remap;
mod resolve;
mod types;
mod validate;

pub use config::{Config, ExportConflict, ExportSpec, NamePrefix};
pub use error::{Error, ErrorKind};

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
    bytes: Vec<u8>,
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

    /// Adds the module `name` (the name other inputs import it by). Validates
    /// it now, so errors point at the right input.
    pub fn add_module(&mut self, name: &str, wasm: &[u8]) -> Result<(), Error> {
        self.add_module_owned(name, wasm.to_vec())
    }

    /// As [`Linker::add_module`], taking ownership of the bytes (saves a copy
    /// of large inputs).
    pub fn add_module_owned(&mut self, name: &str, wasm: Vec<u8>) -> Result<(), Error> {
        if self.inputs.iter().any(|i| i.name == name) {
            return Err(Error::new(
                ErrorKind::DuplicateModule,
                format!("module name `{name}` given twice"),
            ));
        }
        let timer = Timer::new();
        validate::validate(&wasm).map_err(|e| {
            Error::new(ErrorKind::InvalidModule, format!("module `{name}` is not a valid wasm module: {e}"))
        })?;
        timer.mark("validate input");
        self.inputs.push(Input { name: name.to_string(), bytes: wasm });
        Ok(())
    }

    /// Links the inputs, in the order they were added, into one module.
    pub fn link(&self) -> Result<Output, Error> {
        let inputs: Vec<(&str, &[u8])> = self.inputs.iter().map(|i| (i.name.as_str(), i.bytes.as_slice())).collect();
        link::link(&self.config, &inputs)
    }
}
