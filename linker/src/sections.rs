//! Phase 7, the sections before the code: type, import, function, table,
//! memory, tag, global, export, start, element and data count, in that
//! order, each from the inputs' live items through their index maps.
//!
//! Two initialisers need more than renumbering:
//! - a table initialiser may read only imported globals (tables come
//!   before globals), so one that reads a global now defined by another
//!   input gets that global's initialiser inlined, when it allocates
//!   nothing (the value is then the same); an allocating one would make a
//!   different object, which is an [`ErrorKind::Unsupported`] error;
//! - the functions only their input's dropped items declared for
//!   `ref.func` ([`crate::layout::Layout::declared`]) get a declarative
//!   segment of their own, after every input's segments, so that no
//!   segment index moves.

use wasm_encoder::reencode::Reencode;
use wasm_encoder::{Encode, Instruction};
use wasmparser::Operator;

use crate::error::{Error, ErrorKind};
use crate::link::Plan;
use crate::parse::{KINDS, Kind};
use crate::resolve::Target;

/// Appends section `id` with contents `s` unless it is empty.
fn section(out: &mut Vec<u8>, id: u8, s: &dyn Encode, empty: bool) {
    if !empty {
        out.push(id);
        s.encode(out);
    }
}

/// Writes every section from the type section to the data count section.
pub(crate) fn emit(plan: &Plan<'_, '_>, out: &mut Vec<u8>) -> Result<(), Error> {
    let (parsed, layout) = (plan.parsed, plan.layout);
    section(out, 1, &plan.types.section, plan.types.count == 0);

    let mut imports = wasm_encoder::ImportSection::new();
    for k in KINDS {
        for x in &plan.resolution.externals[k as usize] {
            imports.import(&x.module, &x.name, x.ty);
        }
    }
    section(out, 2, &imports, imports.is_empty());

    let mut funcs = wasm_encoder::FunctionSection::new();
    for (m, p) in parsed.iter().enumerate() {
        let nimp = p.num_imported(Kind::Func);
        for d in 0..p.num_defined(Kind::Func) {
            if plan.live.items[m][Kind::Func as usize][d as usize] {
                funcs.function(layout.maps[m].types[p.func_types[(nimp + d) as usize] as usize]);
            }
        }
    }
    if let Some(t) = layout.synth_start {
        funcs.function(t);
    }
    section(out, 3, &funcs, funcs.is_empty());

    let mut tables = wasm_encoder::TableSection::new();
    let mut tags = wasm_encoder::TagSection::new();
    for (m, p) in parsed.iter().enumerate() {
        let mut r = plan.remap(m);
        for (d, t) in p.tables.iter().enumerate() {
            if !plan.live.items[m][Kind::Table as usize][d] {
                continue;
            }
            let ty = r.table_type(t.ty)?;
            match &t.init {
                None => tables.table(ty),
                Some(e) => tables.table_with_init(ty, &table_init(plan, m, e)?),
            };
        }
        for (d, t) in p.tags.iter().enumerate() {
            if plan.live.items[m][Kind::Tag as usize][d] {
                tags.tag(r.tag_type(*t)?);
            }
        }
    }
    let mut memories = wasm_encoder::MemorySection::new();
    for &(m, d) in &layout.memories {
        memories.memory(plan.remap(m).memory_type(parsed[m].memories[d as usize])?);
    }
    if layout.private_memory {
        memories.memory(wasm_encoder::MemoryType {
            minimum: 0,
            maximum: Some(0),
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
    }
    let mut globals = wasm_encoder::GlobalSection::new();
    for &(m, d) in &layout.globals {
        let mut r = plan.remap(m);
        let g = &parsed[m].globals[d as usize];
        globals.global(r.global_type(g.ty)?, &r.const_expr(g.init.clone())?);
    }
    section(out, 4, &tables, tables.is_empty());
    section(out, 5, &memories, memories.is_empty());
    section(out, 13, &tags, tags.is_empty());
    section(out, 6, &globals, globals.is_empty());

    let mut exports = wasm_encoder::ExportSection::new();
    for x in plan.exports {
        let idx = layout.maps[x.module].items[x.kind as usize][x.index as usize];
        exports.export(&x.name, wasm_encoder::ExportKind::from(x.export_kind), idx);
    }
    section(out, 7, &exports, exports.is_empty());

    if let Some(f) = layout.start {
        section(out, 8, &wasm_encoder::StartSection { function_index: f }, false);
    }

    let mut elems = wasm_encoder::ElementSection::new();
    for (m, p) in parsed.iter().enumerate() {
        let mut r = plan.remap(m);
        for (e, el) in p.elems.iter().enumerate() {
            if plan.live.elems[m][e] {
                r.parse_element(&mut elems, el.clone())?;
            }
        }
    }
    if !layout.declared.is_empty() {
        elems.declared(wasm_encoder::Elements::Functions(layout.declared.as_slice().into()));
    }
    section(out, 9, &elems, elems.is_empty());

    if parsed.iter().any(|p| p.has_data_count) && layout.num_datas > 0 {
        section(out, 12, &wasm_encoder::DataCountSection { count: layout.num_datas }, false);
    }
    Ok(())
}

/// A table initialiser of input `m`, with the globals it reads that are
/// now defined in the output (rather than imported) inlined (see the
/// module docs).
fn table_init(plan: &Plan<'_, '_>, m: usize, e: &wasmparser::ConstExpr<'_>) -> Result<wasm_encoder::ConstExpr, Error> {
    let mut bytes = Vec::new();
    inline_const(plan, m, e, &mut bytes, (m, None))?;
    Ok(wasm_encoder::ConstExpr::raw(bytes))
}

/// Appends the instructions of `e` (input `m`'s indices) to `out`, without
/// its `end`, reading defined globals by inlining their initialisers.
/// `table` is the table's input and, once inlining, the global (input,
/// index) whose initialiser is being inlined, for messages.
fn inline_const(
    plan: &Plan<'_, '_>,
    m: usize,
    e: &wasmparser::ConstExpr<'_>,
    out: &mut Vec<u8>,
    table: (usize, Option<(usize, u32)>),
) -> Result<(), Error> {
    let p = &plan.parsed[m];
    let bad = |e| Error::invalid_module_from(p.name, e);
    let mut ops = e.get_operators_reader();
    let mut r = plan.remap(m);
    while !ops.eof() {
        let op = ops.read().map_err(bad)?;
        match op {
            Operator::End => {}
            Operator::GlobalGet { global_index } => {
                let t = if global_index < p.num_imported(Kind::Global) {
                    plan.resolution.targets[m][Kind::Global as usize][global_index as usize]
                } else {
                    Target::Defined { module: m, index: global_index }
                };
                match t {
                    Target::Defined { module, index } => {
                        let q = &plan.parsed[module];
                        let init = &q.globals[(index - q.num_imported(Kind::Global)) as usize].init;
                        inline_const(plan, module, init, out, (table.0, Some(table.1.unwrap_or((module, index)))))?;
                    }
                    _ => Instruction::GlobalGet(r.global_index(global_index)?).encode(out),
                }
            }
            op if table.1.is_some() && allocates(&op) => {
                let (gm, gi) = table.1.unwrap_or_default();
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "a table of module `{}` is initialised from global {gi} of module `{}`, whose initialiser allocates an object; tables come before globals in a module, so the linked module could only copy that initialiser, which would make a different object (initialise the table from a function, or import the global from outside the link)",
                        plan.parsed[table.0].name, plan.parsed[gm].name
                    ),
                ));
            }
            op => r.instruction(op)?.encode(out),
        }
    }
    Ok(())
}

/// Whether a constant instruction makes a new GC object.
fn allocates(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::StructNew { .. }
            | Operator::StructNewDefault { .. }
            | Operator::StructNewDesc { .. }
            | Operator::StructNewDefaultDesc { .. }
            | Operator::ArrayNew { .. }
            | Operator::ArrayNewDefault { .. }
            | Operator::ArrayNewFixed { .. }
            | Operator::ArrayNewData { .. }
            | Operator::ArrayNewElem { .. }
    )
}
