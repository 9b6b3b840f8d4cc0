//! Phase 1: one pass over each (already validated) input, recording every
//! section's items as borrowed wasmparser values. Nothing is decoded twice
//! later; function bodies stay as byte ranges until the code phase streams
//! them.

use crate::error::Error;
use wasmparser::{
    ConstExpr, CustomSectionReader, Data, DataSectionReader, Element, Export, FunctionBody, GlobalType, MemoryType,
    Parser, Payload, RecGroup, TableType, TagType, TypeRef,
};

/// The five importable index spaces, in the order the linker lays them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Func = 0,
    Table = 1,
    Memory = 2,
    Global = 3,
    Tag = 4,
}

pub(crate) const KINDS: [Kind; 5] = [Kind::Func, Kind::Table, Kind::Memory, Kind::Global, Kind::Tag];

impl Kind {
    pub(crate) fn of_type_ref(ty: &TypeRef) -> Kind {
        match ty {
            TypeRef::Func(_) | TypeRef::FuncExact(_) => Kind::Func,
            TypeRef::Table(_) => Kind::Table,
            TypeRef::Memory(_) => Kind::Memory,
            TypeRef::Global(_) => Kind::Global,
            TypeRef::Tag(_) => Kind::Tag,
        }
    }

    pub(crate) fn of_export(kind: wasmparser::ExternalKind) -> Kind {
        use wasmparser::ExternalKind as E;
        match kind {
            E::Func | E::FuncExact => Kind::Func,
            E::Table => Kind::Table,
            E::Memory => Kind::Memory,
            E::Global => Kind::Global,
            E::Tag => Kind::Tag,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Func => "function",
            Kind::Table => "table",
            Kind::Memory => "memory",
            Kind::Global => "global",
            Kind::Tag => "tag",
        }
    }
}

/// One import of an input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Import<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub ty: TypeRef,
}

/// A defined table with its optional initialiser.
#[derive(Clone)]
pub(crate) struct Table<'a> {
    pub ty: TableType,
    pub init: Option<ConstExpr<'a>>,
}

/// A defined global.
#[derive(Clone)]
pub(crate) struct Global<'a> {
    pub ty: GlobalType,
    pub init: ConstExpr<'a>,
}

/// Everything the linker needs from one input.
pub(crate) struct Parsed<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
    /// Rec groups in order, with the module-local index of their first type.
    pub rec_groups: Vec<(u32, RecGroup)>,
    pub num_types: u32,
    pub imports: Vec<Import<'a>>,
    /// For each kind, the positions in `imports` of its imports, in index order.
    pub imports_of: [Vec<u32>; 5],
    /// Type index of every function (imports first).
    pub func_types: Vec<u32>,
    pub tables: Vec<Table<'a>>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<Global<'a>>,
    pub tags: Vec<TagType>,
    pub exports: Vec<Export<'a>>,
    pub start: Option<u32>,
    pub elems: Vec<Element<'a>>,
    /// The data section, iterated when needed: compilers emit up to
    /// hundreds of thousands of segments, too many to keep decoded.
    pub data_section: Option<DataSectionReader<'a>>,
    /// Number of data segments.
    pub num_datas: u32,
    /// Byte size of the data section.
    pub data_size: usize,
    pub has_data_count: bool,
    pub bodies: Vec<FunctionBody<'a>>,
    pub customs: Vec<CustomSectionReader<'a>>,
    /// Byte size of the code section, to pre-size output buffers.
    pub code_size: usize,
}

impl<'a> Parsed<'a> {
    /// The data segments, decoded one by one. The usual form (flags 0,
    /// `i32.const N end`, size, bytes; Go emits ~100k of them) is read by
    /// hand, at a quarter of the cost of wasmparser's generic reader,
    /// which reads anything else. Both give the same [`Data`]; the
    /// segments are validated in the output, byte for byte as read here.
    pub(crate) fn datas(&self) -> impl Iterator<Item = Result<Data<'a>, Error>> + '_ {
        let (name, bytes) = (self.name, self.bytes);
        // The first segment starts after the count; the section ends at
        // the end of its range.
        let (mut at, end, mut left) = match &self.data_section {
            Some(r) => (r.original_position(), r.range().end, r.count()),
            None => (0, 0, 0),
        };
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed {
                return None;
            }
            if left == 0 {
                failed = true;
                return (at != end).then(|| {
                    Err(Error::invalid_module(name, format!("unexpected content in the data section (at offset {at})")))
                });
            }
            left -= 1;
            let item = match plain_segment(bytes, at, end) {
                Some((d, next)) => {
                    at = next;
                    Ok(d)
                }
                None => {
                    let mut r = wasmparser::BinaryReader::new_features(&bytes[at..end], at, crate::features());
                    let d = r.read::<Data<'a>>().map_err(|e| Error::invalid_module(name, e));
                    at = r.original_position();
                    d
                }
            };
            failed = item.is_err();
            Some(item)
        })
    }

    pub(crate) fn num_imported(&self, kind: Kind) -> u32 {
        self.imports_of[kind as usize].len() as u32
    }

    pub(crate) fn num_defined(&self, kind: Kind) -> u32 {
        (match kind {
            Kind::Func => self.bodies.len(),
            Kind::Table => self.tables.len(),
            Kind::Memory => self.memories.len(),
            Kind::Global => self.globals.len(),
            Kind::Tag => self.tags.len(),
        }) as u32
    }

    pub(crate) fn num_total(&self, kind: Kind) -> u32 {
        self.num_imported(kind) + self.num_defined(kind)
    }

    /// The import behind index `index` of `kind`, if it is imported.
    pub(crate) fn import_at(&self, kind: Kind, index: u32) -> Option<&Import<'a>> {
        self.imports_of[kind as usize].get(index as usize).map(|&i| &self.imports[i as usize])
    }

    /// Memory type of memory `index` (imported or defined).
    pub(crate) fn memory_type(&self, index: u32) -> MemoryType {
        match self.import_at(Kind::Memory, index) {
            Some(Import { ty: TypeRef::Memory(m), .. }) => *m,
            _ => self.memories[(index - self.num_imported(Kind::Memory)) as usize],
        }
    }

    pub(crate) fn table_type(&self, index: u32) -> TableType {
        match self.import_at(Kind::Table, index) {
            Some(Import { ty: TypeRef::Table(t), .. }) => *t,
            _ => self.tables[(index - self.num_imported(Kind::Table)) as usize].ty,
        }
    }

    pub(crate) fn global_type(&self, index: u32) -> GlobalType {
        match self.import_at(Kind::Global, index) {
            Some(Import { ty: TypeRef::Global(g), .. }) => *g,
            _ => self.globals[(index - self.num_imported(Kind::Global)) as usize].ty,
        }
    }

    pub(crate) fn tag_type(&self, index: u32) -> TagType {
        match self.import_at(Kind::Tag, index) {
            Some(Import { ty: TypeRef::Tag(t), .. }) => *t,
            _ => self.tags[(index - self.num_imported(Kind::Tag)) as usize],
        }
    }
}

/// Reads the segment at `bytes[at..end]` by hand if it is `00 41
/// <sleb32> 0b <size> <bytes>` (memory 0, `i32.const` offset); returns it
/// and where the next one starts, or `None` for anything else (including
/// LEBs longer than 5 bytes), which wasmparser then reads.
fn plain_segment(bytes: &[u8], at: usize, end: usize) -> Option<(Data<'_>, usize)> {
    let rest = &bytes[at..end];
    if rest.len() < 5 || rest[0] != 0x00 || rest[1] != 0x41 {
        return None;
    }
    // The offset: a signed LEB of at most 5 bytes, then `end`.
    let expr_end = 2 + rest[2..].iter().take(5).position(|b| b & 0x80 == 0)? + 1;
    if rest.get(expr_end) != Some(&0x0b) {
        return None;
    }
    // The size: an unsigned LEB of at most 5 bytes and 32 bits.
    let mut size: u64 = 0;
    let mut k = expr_end + 1;
    for shift in (0..35).step_by(7) {
        let b = *rest.get(k)?;
        k += 1;
        size |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        if shift == 28 {
            return None;
        }
    }
    let size = usize::try_from(size).ok().filter(|&n| n <= u32::MAX as usize && n <= rest.len() - k)?;
    let expr = wasmparser::BinaryReader::new_features(&rest[1..=expr_end], at + 1, crate::features());
    let data = Data {
        kind: wasmparser::DataKind::Active { memory_index: 0, offset_expr: ConstExpr::new(expr) },
        data: &rest[k..k + size],
        range: at..at + k + size,
    };
    Some((data, at + k + size))
}

/// Parses a validated module. Errors only on malformed input (which
/// validation has already excluded) or component binaries.
pub(crate) fn parse<'a>(name: &'a str, bytes: &'a [u8]) -> Result<Parsed<'a>, Error> {
    let mut p = Parsed {
        name,
        bytes,
        rec_groups: Vec::new(),
        num_types: 0,
        imports: Vec::new(),
        imports_of: Default::default(),
        func_types: Vec::new(),
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        tags: Vec::new(),
        exports: Vec::new(),
        start: None,
        elems: Vec::new(),
        data_section: None,
        num_datas: 0,
        data_size: 0,
        has_data_count: false,
        bodies: Vec::new(),
        customs: Vec::new(),
        code_size: 0,
    };
    let e = |err: wasmparser::BinaryReaderError| Error::invalid_module(name, err);
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(e)? {
            Payload::Version { encoding, .. } => {
                if encoding != wasmparser::Encoding::Module {
                    return Err(Error::invalid_module(name, "components are not supported, only core modules"));
                }
            }
            Payload::TypeSection(r) => {
                for g in r {
                    let g = g.map_err(e)?;
                    let n = g.types().len() as u32;
                    p.rec_groups.push((p.num_types, g));
                    p.num_types += n;
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.map_err(e)?;
                    let kind = Kind::of_type_ref(&imp.ty);
                    p.imports_of[kind as usize].push(p.imports.len() as u32);
                    if let TypeRef::Func(t) | TypeRef::FuncExact(t) = imp.ty {
                        p.func_types.push(t);
                    }
                    p.imports.push(Import { module: imp.module, name: imp.name, ty: imp.ty });
                }
            }
            Payload::FunctionSection(r) => {
                p.func_types.reserve(r.count() as usize);
                for t in r {
                    p.func_types.push(t.map_err(e)?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.map_err(e)?;
                    let init = match t.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(x) => Some(x),
                    };
                    p.tables.push(Table { ty: t.ty, init });
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    p.memories.push(m.map_err(e)?);
                }
            }
            Payload::TagSection(r) => {
                for t in r {
                    p.tags.push(t.map_err(e)?);
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.map_err(e)?;
                    p.globals.push(Global { ty: g.ty, init: g.init_expr });
                }
            }
            Payload::ExportSection(r) => {
                for x in r {
                    p.exports.push(x.map_err(e)?);
                }
            }
            Payload::StartSection { func, .. } => p.start = Some(func),
            Payload::ElementSection(r) => {
                for x in r {
                    p.elems.push(x.map_err(e)?);
                }
            }
            Payload::DataCountSection { .. } => p.has_data_count = true,
            Payload::DataSection(r) => {
                p.num_datas = r.count();
                p.data_size = r.range().len();
                p.data_section = Some(r);
            }
            Payload::CodeSectionStart { count, size, .. } => {
                p.bodies.reserve(count as usize);
                p.code_size = size as usize;
            }
            Payload::CodeSectionEntry(body) => p.bodies.push(body),
            Payload::CustomSection(c) => p.customs.push(c),
            Payload::End(_) => {}
            other => {
                return Err(Error::invalid_module(
                    name,
                    format!("unsupported section at offset {:?}", other.as_section().map(|s| s.1)),
                ));
            }
        }
    }
    Ok(p)
}
