//! Cases: wasm-smith modules, alone or in importing pairs, plus an
//! unrelated module, all from one fuzz input.
//!
//! [`generate_valid_module`] configures wasm-smith from the input
//! ([`configure`]: multi-memory, GC, reference types, SIMD, bulk memory and
//! exceptions, each on in most cases and off in some, swarm-style; small
//! limits so that a case compiles and runs in milliseconds) and generates
//! one module. [`generate_case`] makes a case from that:
//!
//! - `a`: imports only from the host (`env.rs`).
//! - `b` (half the cases): may also import anything `a` exports, with the
//!   exact type (wasm-smith's `available_imports` with `a`'s type section
//!   and one import per export), so linking fuses functions, globals,
//!   memories, tables and tags across inputs.
//! - `u`: no imports at all; mode 2 links it first, to shift every index
//!   space of the others.
//!
//! Half the pairs are linked as `b`, `a` (the importer first, so its
//! imports are forward references), unless the order could change what
//! the segments leave behind ([`order_matters`]). Half the exports, drawn
//! per case, are the explicit export list of mode `gc-some-exports`.
//!
//! Export names are prefixed with the module's name (`a.`, `b.`, `u.`),
//! rewriting only the export section, so that linking all inputs with every
//! export kept never meets a name conflict, and an export's name says which
//! input it came from. Every tag is exported too (wasm-smith exports none),
//! so that `b` can import `a`'s tags.
//!
//! Limits: no threads (shared memories), no memory64 tables, no custom
//! page sizes, no custom descriptors, no wide arithmetic. In pairs, `a` has
//! no start function: the linked module applies every input's active
//! segments before any start function runs (a documented linker limit), so
//! a start function of `a` could see `b`'s segments written into an
//! imported memory where the unlinked `a` could not. Start functions of
//! several inputs are still chained in mode 2 (`u` and the case).

use arbitrary::{Result, Unstructured};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

/// One input of a case: the name it is linked under, and its bytes.
#[derive(Clone, Debug)]
pub struct Input {
    /// `a`, `b` or `u`.
    pub name: &'static str,
    /// The module.
    pub wasm: Vec<u8>,
}

/// What one fuzz input generates.
#[derive(Clone, Debug)]
pub struct Case {
    /// `a`, then `b` when the case is a pair: the order they instantiate
    /// in unlinked.
    pub modules: Vec<Input>,
    /// `u`: linked first in mode 2; shares nothing with the others.
    pub unrelated: Input,
    /// Whether the pair is linked as `b`, `a`: `b`'s imports are then
    /// forward references (a global initialiser of `b` reads a global
    /// that `a`, a later input, defines). Only when the order cannot change
    /// what the segments write ([`order_matters`]).
    pub importer_first: bool,
    /// The exports `gc-some-exports` keeps, as `(module, name)`: each
    /// export of the case with probability 1/2.
    pub some_exports: Vec<(&'static str, String)>,
    /// Whether `with-runtime` links the runtime before the case (shifting
    /// every index of the case) rather than after it.
    pub runtime_first: bool,
    /// Whether `with-runtime` runs its linked module (a quarter of the
    /// cases) or only links it: compiling the runtime's code is half the
    /// time of a case, and the case does not call the runtime.
    pub run_with_runtime: bool,
    /// The runtime driver's numbers: see [`crate::execute::Driver`].
    pub driver: crate::execute::Driver,
}

impl Case {
    /// The case's modules in the order they are linked.
    pub fn link_order(&self) -> Vec<&Input> {
        let mut order: Vec<&Input> = self.modules.iter().collect();
        if self.importer_first {
            order.reverse();
        }
        order
    }
}

/// The role a module plays in its case, which decides its imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `a` alone: host imports, may have a start function.
    Alone,
    /// `a` in a pair: host imports, no start function (module docs).
    First,
    /// `b`: host imports and `a`'s exports.
    Importer,
    /// `u`: no imports.
    Unrelated,
}

/// A wasm-smith configuration drawn from `u` for a module in `role`.
///
/// The features the issue asks for (multi-memory, GC, SIMD, bulk memory,
/// exceptions) are on in most cases and each off in a few, so that both
/// the feature's code and the absence of it are covered; reference types
/// are always on.
/// Limits stay small: a case must compile and run in milliseconds.
pub fn configure(u: &mut Unstructured<'_>, role: Role) -> Result<wasm_smith::Config> {
    let mut c = wasm_smith::Config::default();
    // Always on: the host's menu has an externref table, which wasm-smith
    // cannot handle without reference types (it asserts).
    c.reference_types_enabled = true;
    c.gc_enabled = u.ratio(4, 5)?;
    c.simd_enabled = u.ratio(9, 10)?;
    c.relaxed_simd_enabled = c.simd_enabled && u.ratio(1, 2)?;
    c.exceptions_enabled = u.ratio(9, 10)?;
    c.bulk_memory_enabled = u.ratio(9, 10)?;
    c.tail_call_enabled = u.ratio(2, 3)?;
    c.multi_value_enabled = u.ratio(9, 10)?;
    c.extended_const_enabled = u.ratio(2, 3)?;
    c.saturating_float_to_int_enabled = true;
    c.sign_extension_ops_enabled = true;
    c.memory64_enabled = u.ratio(1, 5)?;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.custom_descriptors_enabled = false;
    c.wide_arithmetic_enabled = false;

    // wasm-smith adds items one more at a time with probability 1/2 past
    // the minimum, so minimums set the size; each maximum leaves room for
    // every import the menu offers (a minimum that cannot be met after the
    // imports makes wasm-smith give up).
    c.max_types = u.int_in_range(1..=16)?;
    c.min_funcs = u.int_in_range(1..=6)?;
    c.max_funcs = c.min_funcs + 40;
    c.max_instructions = u.int_in_range(1..=60)?;
    c.min_memories = u.int_in_range(0..=2)?;
    c.max_memories = c.min_memories as usize + 12;
    c.min_tables = u.int_in_range(0..=1)?;
    c.max_tables = c.min_tables as usize + 12;
    c.max_globals = u.int_in_range(0..=8)?;
    c.max_tags = u.int_in_range(0..=4)?;
    c.max_data_segments = u.int_in_range(0..=6)?;
    c.max_element_segments = u.int_in_range(0..=6)?;
    c.max_elements = u.int_in_range(0..=12)?;
    c.max_exports = u.int_in_range(0..=24)?;
    c.export_everything = u.ratio(1, 4)?;
    c.max_imports = if role == Role::Unrelated { 0 } else { u.int_in_range(0..=10)? };
    // Memories of 0-2 pages mostly, sometimes up to 32 MiB (past the
    // store's limit, so the instantiation fails on both sides); tables of
    // up to 100 elements mostly, sometimes up to 100k (past the limit).
    c.max_memory32_bytes = if u.ratio(1, 20)? { 32 << 20 } else { 2 << 16 };
    c.max_memory64_bytes = c.max_memory32_bytes.into();
    c.max_table_elements = if u.ratio(1, 20)? { 100_000 } else { 100 };
    // Swarm over instruction kinds: in a third of the modules some kinds
    // are left out, which makes the rest (memory.copy, table.init, ...)
    // frequent enough to matter.
    if u.ratio(1, 3)? {
        use wasm_smith::InstructionKind as K;
        let mut kinds = vec![K::Control, K::Variable, K::NumericInt, K::MemoryInt];
        for kind in [K::Numeric, K::Vector, K::Reference, K::Parametric, K::Table, K::Memory, K::Aggregate] {
            if u.arbitrary()? {
                kinds.push(kind);
            }
        }
        c.allowed_instructions = wasm_smith::InstructionKinds::new(&kinds);
    }
    c.disallow_traps = u.ratio(1, 3)?;
    c.limit_arrays_in_const_exprs = true;
    c.const_expr_fuel = 20;
    c.generate_custom_sections = u.ratio(1, 10)?;
    // Over-long LEBs now and then: the linker parses and rewrites indices.
    c.min_uleb_size = if u.ratio(1, 10)? { u.int_in_range(2..=5)? } else { 1 };
    c.allow_start_export = role != Role::First;
    // NaNs are canonicalised by the engine on both sides, not by the
    // generator (which would add code around every float operation).
    c.canonicalize_nans = false;
    Ok(c)
}

/// One valid module for `role` from `u`, with its exports renamed to
/// `name.` + the original name. `imports_from` is the module a
/// [`Role::Importer`] may import from (it must be named `a`).
pub fn generate_valid_module(
    u: &mut Unstructured<'_>,
    name: &'static str,
    role: Role,
    imports_from: Option<&[u8]>,
) -> Result<Input> {
    let mut config = configure(u, role)?;
    config.available_imports = match role {
        Role::Unrelated => None,
        Role::Importer => Some(importable(imports_from.expect("an importer needs the module it imports from"))),
        Role::Alone | Role::First => Some(crate::env::available_imports()),
    };
    let module = wasm_smith::Module::new(config, u)?;
    let wasm = prefix_exports(&module.to_bytes(), name);
    Ok(Input { name, wasm })
}

/// A whole case from `u` (see the module docs).
pub fn generate_case(u: &mut Unstructured<'_>) -> Result<Case> {
    let pair = u.ratio(1, 2)?;
    let a = generate_valid_module(u, "a", if pair { Role::First } else { Role::Alone }, None)?;
    let mut modules = vec![a];
    if pair {
        let b = generate_valid_module(u, "b", Role::Importer, Some(&modules[0].wasm))?;
        modules.push(b);
    }
    let unrelated = generate_valid_module(u, "u", Role::Unrelated, None)?;
    let importer_first = pair && u.arbitrary()? && !order_matters(&modules[0].wasm, &modules[1].wasm);
    let mut some_exports = Vec::new();
    for m in &modules {
        for name in export_names(&m.wasm) {
            if u.arbitrary()? {
                some_exports.push((m.name, name));
            }
        }
    }
    let runtime_first = u.arbitrary()?;
    let run_with_runtime = u.ratio(1, 4)?;
    // External addresses mostly inside env.memory's first page, sometimes
    // past it (the runtime's EXTERNAL_RANGE check).
    let driver = crate::execute::Driver {
        external_src: u.int_in_range(0..=66_000)?,
        external_dst: u.int_in_range(0..=66_000)?,
        len: u.int_in_range(0..=200)?,
    };
    Ok(Case { modules, unrelated, importer_first, some_exports, runtime_first, run_with_runtime, driver })
}

/// The names of `wasm`'s exports, in order.
pub fn export_names(wasm: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm).flatten() {
        if let Payload::ExportSection(reader) = payload {
            names.extend(reader.into_iter().flatten().map(|e| e.name.to_string()));
        }
    }
    names
}

/// What a module's active segments write: (to an imported memory, to an
/// imported table, to any memory, to any table).
fn active_writes(wasm: &[u8]) -> (bool, bool, bool, bool) {
    let (mut memories, mut tables) = (0, 0);
    let mut w = (false, false, false, false);
    for payload in Parser::new(0).parse_all(wasm).flatten() {
        match payload {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports().flatten() {
                    match import.ty {
                        TypeRef::Memory(_) => memories += 1,
                        TypeRef::Table(_) => tables += 1,
                        _ => {}
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader.into_iter().flatten() {
                    if let wasmparser::DataKind::Active { memory_index, .. } = data.kind {
                        w.0 |= memory_index < memories;
                        w.2 = true;
                    }
                }
            }
            Payload::ElementSection(reader) => {
                for elem in reader.into_iter().flatten() {
                    if let wasmparser::ElementKind::Active { table_index, .. } = elem.kind {
                        w.1 |= table_index.unwrap_or(0) < tables;
                        w.3 = true;
                    }
                }
            }
            _ => {}
        }
    }
    w
}

/// Whether `wasm` has an active data or element segment that writes to an
/// imported memory or table.
pub fn writes_imports(wasm: &[u8]) -> bool {
    let (memory, table, _, _) = active_writes(wasm);
    memory || table
}

/// Whether linking `b` before `a` could change what their active segments
/// leave behind. Linked, the inputs' segments are applied in link order;
/// unlinked, in instantiation order (`a` first). The order shows only
/// when `b` writes to an imported memory (or table), which may be `a`'s or
/// one `a` imports too, and `a` has active segments of that kind at all.
pub fn order_matters(a: &[u8], b: &[u8]) -> bool {
    let (b_memory, b_table, _, _) = active_writes(b);
    let (_, _, a_data, a_elems) = active_writes(a);
    (b_memory && a_data) || (b_table && a_elems)
}

/// `wasm` with every export renamed to `prefix.name`, and every tag
/// exported as `prefix.tag.N` (wasm-smith never exports tags, and `b`
/// should be able to import them); every other section is copied byte for
/// byte (so over-long LEBs and the like survive).
pub fn prefix_exports(wasm: &[u8], prefix: &str) -> Vec<u8> {
    let mut exports = wasm_encoder::ExportSection::new();
    let mut tags = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("wasm-smith produced an unparsable module") {
            Payload::ImportSection(reader) => {
                tags +=
                    reader.into_imports().filter(|i| matches!(i.as_ref().map(|i| i.ty), Ok(TypeRef::Tag(_)))).count();
            }
            Payload::TagSection(reader) => tags += reader.count() as usize,
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.expect("wasm-smith produced an unparsable export");
                    let kind = RoundtripReencoder.export_kind(e.kind).expect("export kind");
                    exports.export(&format!("{prefix}.{}", e.name), kind, e.index);
                }
            }
            _ => {}
        }
    }
    for tag in 0..tags {
        exports.export(&format!("{prefix}.tag.{tag}"), wasm_encoder::ExportKind::Tag, tag as u32);
    }
    // The export section goes where it was, or else before the first
    // section that must follow it (start, element, data count, code, data).
    let mut out = wasm_encoder::Module::new();
    let mut written = exports.is_empty();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.expect("parsed above");
        let Some((id, range)) = payload.as_section() else { continue };
        let after_exports = [8, 9, 12, 10, 11].contains(&id);
        if id == 7 || (after_exports && !written) {
            if !written {
                out.section(&exports);
                written = true;
            }
            if id == 7 {
                continue;
            }
        }
        out.section(&wasm_encoder::RawSection { id, data: &wasm[range] });
    }
    if !written {
        out.section(&exports);
    }
    out.finish()
}

/// What `b` may import: the host items and one import from `a` per export
/// of `a`, with `a`'s type section copied so every type index (rec groups
/// included) means the same in `b`.
pub fn importable(a: &[u8]) -> Vec<u8> {
    let mut types = wasm_encoder::TypeSection::new();
    let mut n_types = 0;
    let mut func_types = Vec::new();
    let mut tables = Vec::new();
    let mut memories = Vec::new();
    let mut globals = Vec::new();
    let mut tags = Vec::new();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(a) {
        match payload.expect("module `a` parses") {
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group.expect("rec group");
                    n_types += group.types().len() as u32;
                    RoundtripReencoder.parse_recursive_type_group(types.ty(), group).expect("rec group reencodes");
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import.expect("import").ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => func_types.push(t),
                        TypeRef::Table(t) => tables.push(t),
                        TypeRef::Memory(m) => memories.push(m),
                        TypeRef::Global(g) => globals.push(g),
                        TypeRef::Tag(t) => tags.push(t),
                    }
                }
            }
            Payload::FunctionSection(reader) => func_types.extend(reader.into_iter().map(|t| t.expect("func"))),
            Payload::TableSection(reader) => tables.extend(reader.into_iter().map(|t| t.expect("table").ty)),
            Payload::MemorySection(reader) => memories.extend(reader.into_iter().map(|m| m.expect("memory"))),
            Payload::GlobalSection(reader) => globals.extend(reader.into_iter().map(|g| g.expect("global").ty)),
            Payload::TagSection(reader) => tags.extend(reader.into_iter().map(|t| t.expect("tag"))),
            Payload::ExportSection(reader) => exports
                .extend(reader.into_iter().map(|e| e.expect("export")).map(|e| (e.name.to_string(), e.kind, e.index))),
            _ => {}
        }
    }
    // `a`'s exports come first: wasm-smith takes imports in menu order until
    // a limit is reached, and these are the ones that exercise linking.
    let mut imports = wasm_encoder::ImportSection::new();
    let r = &mut RoundtripReencoder;
    for (name, kind, index) in exports {
        let i = index as usize;
        let entity = match kind {
            ExternalKind::Func | ExternalKind::FuncExact => wasm_encoder::EntityType::Function(func_types[i]),
            ExternalKind::Table => wasm_encoder::EntityType::Table(r.table_type(tables[i]).expect("table type")),
            ExternalKind::Memory => wasm_encoder::EntityType::Memory(r.memory_type(memories[i]).expect("memory type")),
            ExternalKind::Global => wasm_encoder::EntityType::Global(r.global_type(globals[i]).expect("global type")),
            ExternalKind::Tag => wasm_encoder::EntityType::Tag(r.tag_type(tags[i]).expect("tag type")),
        };
        imports.import("a", &name, entity);
    }
    crate::env::add_imports(&mut types, &mut n_types, &mut imports);
    let mut module = wasm_encoder::Module::new();
    module.section(&types).section(&imports);
    module.finish()
}
