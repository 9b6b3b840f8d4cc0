//! [`App`]: an app module as [`instantiate`](crate::instantiate) takes it,
//! either build of a link: the multi-memory build, or the single-memory
//! build (`multimem-link --single-memory`, `docs/ABI.md` "Single-memory
//! build") for engines with multi-memory off.
//!
//! A wasmtime [`Module`] keeps no custom sections, and the single-memory
//! build describes its lowered memories in two of them
//! (`multimem.memories`, `multimem.segments`). So an [`App`] is made from
//! the wasm bytes ([`App::new`]): it compiles the module and keeps those
//! two sections (only them, not the whole module), which
//! [`LoweredMemories::define`](crate::lowered::LoweredMemories::define)
//! reads at instantiation. A multi-memory build can also be given as a
//! plain [`Module`] (`&module` converts into an [`App`]).

use std::sync::Arc;

use multimem_abi::{LOWERED_MODULE, MEMORIES_SECTION, SEGMENTS_SECTION};
use wasmtime::{Engine, Module};

use crate::lowered::LoweredMemories;
use crate::{Error, Result};

/// A compiled app module: a multi-memory build, or a single-memory build
/// with the sections its loader needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    module: Module,
    /// A single-memory build's custom sections, as a wasm module holding
    /// only them; `None` for a multi-memory build.
    sections: Option<Arc<[u8]>>,
}

impl App {
    /// Compiles `wasm` for `engine`, whichever build it is. A
    /// single-memory build needs an engine that can run it: with
    /// multi-memory off ([`Options::single_memory_engine`](crate::Options::single_memory_engine))
    /// or on (it uses one memory either way); a multi-memory build needs
    /// [`Options::engine`](crate::Options::engine).
    pub fn new(engine: &Engine, wasm: &[u8]) -> Result<App> {
        let single = LoweredMemories::is_single_memory(wasm);
        let module = Module::new(engine, wasm).map_err(|e| {
            let what = if single {
                "compiling the app (a single-memory build)"
            } else {
                "compiling the app (a multi-memory build: the engine needs multi-memory on, as \
                 Options::engine() has it; engines without it run the single-memory build, \
                 multimem-link --single-memory)"
            };
            Error::from(e).context(what)
        })?;
        let sections = single.then(|| Arc::from(sections_only(wasm)));
        Ok(App { module, sections })
    }

    /// The compiled module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Whether this is a single-memory build.
    pub fn is_single_memory(&self) -> bool {
        self.sections.is_some()
    }

    /// The single-memory build's sections (a module holding only them), to
    /// hand to [`LoweredMemories::define`]; `None` for a multi-memory
    /// build. A [`Module`] given directly that imports from the lowered
    /// module is refused here, with what to do instead.
    pub(crate) fn lowered_sections(&self) -> Result<Option<&[u8]>> {
        if self.sections.is_none() && self.module.imports().any(|i| i.module() == LOWERED_MODULE) {
            return Err(Error::msg(format!(
                "the app imports from `{LOWERED_MODULE}`: it is a single-memory build, whose \
                 `{MEMORIES_SECTION}` section a wasmtime Module does not keep; make it with \
                 App::new(engine, wasm_bytes) instead of passing a Module"
            )));
        }
        Ok(self.sections.as_deref())
    }
}

impl From<&Module> for App {
    /// A multi-memory build compiled by the embedder (see
    /// [`App::lowered_sections`] for a single-memory one).
    fn from(module: &Module) -> App {
        App { module: module.clone(), sections: None }
    }
}

impl From<Module> for App {
    fn from(module: Module) -> App {
        App { module, sections: None }
    }
}

impl From<&App> for App {
    fn from(app: &App) -> App {
        app.clone()
    }
}

/// A wasm module holding only `wasm`'s single-memory sections (the
/// header, then each such custom section, re-encoded), which is all that
/// [`LoweredMemories::define`] reads.
fn sections_only(wasm: &[u8]) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload
            && (c.name() == MEMORIES_SECTION || c.name() == SEGMENTS_SECTION)
        {
            let mut body = Vec::new();
            leb128(&mut body, c.name().len());
            body.extend_from_slice(c.name().as_bytes());
            body.extend_from_slice(c.data());
            out.push(0);
            leb128(&mut out, body.len());
            out.extend_from_slice(&body);
        }
    }
    out
}

/// Appends `v` as unsigned LEB128.
fn leb128(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
