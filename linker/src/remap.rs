//! Per-input index maps (input index -> output index for every index
//! space) and the [`Reencode`] implementation built on them. The hooks are
//! table lookups, so remapping costs one array read per index.

use wasm_encoder::reencode::{Error as ReError, Reencode};

use crate::error::{Error, ErrorKind};
use crate::parse::Kind;

/// Output index of an item that is an intrinsic (lowered, never referenced).
pub(crate) const INTRINSIC: u32 = u32::MAX;
/// Output index of an item removed by dead-code removal.
pub(crate) const DEAD: u32 = u32::MAX - 1;

/// Where one input's indices go in the output.
#[derive(Default)]
pub(crate) struct Maps {
    pub types: Vec<u32>,
    /// Indexed by [`Kind`]: funcs, tables, memories, globals, tags.
    pub items: [Vec<u32>; 5],
    pub elems: Vec<u32>,
    pub datas: Vec<u32>,
}

/// A remapping reencoder for one input. Its errors are link [`Error`]s.
pub(crate) struct Remap<'m> {
    pub module: &'m str,
    pub maps: &'m Maps,
    /// Names of the input's imported functions, for intrinsic-misuse errors.
    pub func_import_names: &'m [(&'m str, &'m str)],
    /// Whether the input has a data count section, which code that names a
    /// data segment needs. Checked here because bodies are validated only
    /// in the output, which may have one from another input.
    pub has_data_count: bool,
}

impl Remap<'_> {
    fn item(&self, kind: Kind, i: u32) -> Result<u32, ReError<Error>> {
        match self.maps.items[kind as usize].get(i as usize) {
            Some(&INTRINSIC) => {
                let (m, n) = self.func_import_names.get(i as usize).copied().unwrap_or(("?", "?"));
                Err(ReError::UserError(Error::new(
                    ErrorKind::IntrinsicMisuse,
                    format!(
                        "module `{}` uses intrinsic `{m}.{n}` other than by a direct `call` (as a function reference, in a table or an export); intrinsics can only be called",
                        self.module
                    ),
                )))
            }
            Some(&DEAD) | None => Err(ReError::UserError(Error::internal(format_args!(
                "{} {i} of module `{}` has no output index",
                kind.name(),
                self.module
            )))),
            Some(&o) => Ok(o),
        }
    }
}

fn seg(v: &[u32], i: u32, what: &str, module: &str) -> Result<u32, ReError<Error>> {
    match v.get(i as usize) {
        Some(&o) if o != DEAD => Ok(o),
        _ => Err(ReError::UserError(Error::internal(format_args!(
            "{what} segment {i} of module `{module}` has no output index"
        )))),
    }
}

impl Reencode for Remap<'_> {
    type Error = Error;
    fn type_index(&mut self, ty: u32) -> Result<u32, ReError<Error>> {
        self.maps.types.get(ty as usize).copied().ok_or_else(|| {
            ReError::UserError(Error::invalid_module(self.module, format_args!("type index {ty} out of range")))
        })
    }
    fn function_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        self.item(Kind::Func, i)
    }
    fn table_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        self.item(Kind::Table, i)
    }
    fn memory_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        self.item(Kind::Memory, i)
    }
    fn global_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        self.item(Kind::Global, i)
    }
    fn tag_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        self.item(Kind::Tag, i)
    }
    fn element_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        seg(&self.maps.elems, i, "element", self.module)
    }
    fn data_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        if !self.has_data_count {
            return Err(ReError::UserError(Error::invalid_module(
                self.module,
                format_args!("data segment {i} is named in code, but the module has no data count section"),
            )));
        }
        seg(&self.maps.datas, i, "data", self.module)
    }
}
