//! The link pipeline: runs the phases listed in the crate documentation,
//! in that order, and assembles the output bytes.

use std::collections::HashMap;

use multimem_abi::{MemoryRole, Op};
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{Encode, EntityType, Instruction, MemArg};

use crate::code::{BodyContext, BodyError, emit_body, leb};
use crate::config::{Config, ExportConflict};
use crate::error::{Error, ErrorKind};
use crate::parse::{KINDS, Kind, Parsed, parse};
use crate::remap::{DEAD, INTRINSIC, Maps, Remap, message};
use crate::resolve::{Resolver, Target, describe_memory};
use crate::types::MergedTypes;

/// An export of the output, before indices are assigned.
pub(crate) struct ChosenExport<'a> {
    pub name: String,
    pub module: usize,
    pub kind: Kind,
    /// Module-local index (counting imports).
    pub index: u32,
    pub export_kind: wasmparser::ExternalKind,
    /// The export's name in its input.
    pub source: &'a str,
}

impl<'a> ChosenExport<'a> {
    /// Export `e` of input `m`, as `name` in the output.
    fn new(name: String, module: usize, e: &wasmparser::Export<'a>) -> Self {
        ChosenExport {
            name,
            module,
            kind: Kind::of_export(e.kind),
            index: e.index,
            export_kind: e.kind,
            source: e.name,
        }
    }
}

/// Bytes of a section's id and padded size (see [`open_section`]).
const SECTION_HEADER: usize = 6;

/// Starts section `id` in `out` whose size is known only once it is
/// written: the id, then a 5-byte padded LEB placeholder; returns where
/// the size goes ([`patch_size`]).
fn open_section(out: &mut Vec<u8>, id: u8) -> usize {
    out.push(id);
    out.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x00]);
    out.len() - 5
}

/// Writes `size` into the placeholder at `at` as a 5-byte padded LEB; the
/// `what` section over 4 GiB is a [`ErrorKind::Limit`] error.
fn patch_size(out: &mut [u8], at: usize, size: usize, what: &str) -> Result<(), Error> {
    let s = u32::try_from(size).map_err(|_| err(ErrorKind::Limit, format!("the {what} section exceeds 4 GiB")))?;
    out[at..at + 5].copy_from_slice(&[
        (s & 0x7f) as u8 | 0x80,
        ((s >> 7) & 0x7f) as u8 | 0x80,
        ((s >> 14) & 0x7f) as u8 | 0x80,
        ((s >> 21) & 0x7f) as u8 | 0x80,
        ((s >> 28) & 0x7f) as u8,
    ]);
    Ok(())
}

fn err(kind: ErrorKind, msg: impl Into<String>) -> Error {
    Error::new(kind, msg)
}

/// Runs the whole pipeline over `inputs` (name, bytes) in order.
pub(crate) fn link(config: &Config, inputs: &[(&str, &[u8])]) -> Result<(Assembled, Vec<String>), Error> {
    let mut warnings = Vec::new();
    let timer = crate::Timer::new();

    // Phase 1: parse.
    let parsed: Vec<Parsed<'_>> = inputs.iter().map(|(name, bytes)| parse(name, bytes)).collect::<Result<_, _>>()?;

    timer.mark("parse");
    // Phase 2: merge types.
    let mut types = MergedTypes::new();
    for p in &parsed {
        types.add_module(p).map_err(|e| err(ErrorKind::InvalidModule, format!("module `{}`: {e}", p.name)))?;
    }

    timer.mark("types");
    // Phase 3: resolve imports.
    let mut resolver = Resolver::new(&parsed, &types);
    for (m, p) in parsed.iter().enumerate() {
        for k in KINDS {
            for i in 0..p.num_imported(k) {
                resolver.item(m, k, i)?;
            }
        }
    }

    timer.mark("resolve");
    // Phase 4: roles of intrinsic memories. `external` is the configured
    // import (an input of that name exporting it, an existing import, or a
    // new one).
    let uses_external = parsed.iter().any(|p| {
        p.imports.iter().any(|i| {
            i.module == multimem_abi::INTRINSICS_MODULE
                && multimem_abi::intrinsic(i.name).is_some_and(|x| x.memories.contains(&MemoryRole::External))
        })
    });
    let (ext_mod, ext_field) = (&config.external_memory.0, &config.external_memory.1);
    let external_target: Option<Target> = if !uses_external {
        None
    } else if let Some(m2) = resolver.input_named(ext_mod) {
        let p2 = &parsed[m2];
        let ex = p2.exports.iter().find(|e| e.name == ext_field.as_str()).ok_or_else(|| {
            err(
                ErrorKind::UnknownExport,
                format!("the external memory is `{ext_mod}.{ext_field}`, but module `{ext_mod}` has no export named `{ext_field}`"),
            )
        })?;
        if Kind::of_export(ex.kind) != Kind::Memory {
            return Err(err(
                ErrorKind::KindMismatch,
                format!(
                    "the external memory is `{ext_mod}.{ext_field}`, but module `{ext_mod}` exports `{ext_field}` as a {}",
                    Kind::of_export(ex.kind).name()
                ),
            ));
        }
        Some(resolver.item(m2, Kind::Memory, ex.index)?)
    } else if let Some(n) =
        resolver.externals(Kind::Memory).iter().position(|x| x.module == *ext_mod && x.name == *ext_field)
    {
        Some(Target::External(n as u32))
    } else {
        warnings.push(format!(
            "no input imports the external memory `{ext_mod}.{ext_field}` that intrinsics use; added it as an import (minimum 0 pages, i32, unshared)"
        ));
        let ty = EntityType::Memory(wasm_encoder::MemoryType {
            minimum: 0,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        Some(Target::External(resolver.external(ext_mod, ext_field, Kind::Memory, ty)))
    };

    // `own` is the runtime's memory whichever input calls the intrinsic:
    // the configured export, by default `multimem.memory`. `None` here
    // means the default input is absent, and each calling input falls back
    // to its own defined memory 0 (checked when lowering, below).
    let uses_own = parsed.iter().any(|p| {
        p.imports.iter().any(|i| {
            i.module == multimem_abi::INTRINSICS_MODULE
                && multimem_abi::intrinsic(i.name).is_some_and(|x| x.memories.contains(&MemoryRole::Own))
        })
    });
    let own_target: Option<Target> = if uses_own { own_memory(config, &parsed, &mut resolver)? } else { None };

    // Exports (needed as roots before dead-code removal).
    let exports = choose_exports(config, &parsed, &mut warnings)?;
    for x in &exports {
        if let Target::Intrinsic(i) = resolver.item(x.module, x.kind, x.index)? {
            return Err(err(
                ErrorKind::IntrinsicMisuse,
                format!(
                    "module `{}` exports intrinsic `{}.{}` as `{}`; intrinsics can only be called",
                    parsed[x.module].name,
                    multimem_abi::INTRINSICS_MODULE,
                    i.name,
                    x.name
                ),
            ));
        }
    }

    let validate_inputs = config.validate_inputs;
    // Phase 5: dead-code removal (liveness of every definition and segment).
    let live =
        if config.gc { crate::gc::live(&parsed, &mut resolver, &exports)? } else { crate::gc::Live::all(&parsed) };

    // Bodies are validated in the output; those it drops are checked here.
    for (m, p) in parsed.iter().enumerate() {
        let live_funcs = &live.items[m][Kind::Func as usize];
        if !validate_inputs && live_funcs.iter().any(|&l| !l) {
            crate::validate::validate_dead_bodies(p.bytes, |d| !live_funcs.get(d).copied().unwrap_or(true))
                .map_err(|e| Error::invalid_module(p.name, e))?;
        }
    }

    let resolution = resolver.finish();

    timer.mark("gc");
    // Phase 6: assign output indices.
    let n_ext: [u32; 5] = KINDS.map(|k| resolution.externals[k as usize].len() as u32);
    let mut maps: Vec<Maps> = Vec::with_capacity(parsed.len());
    let mut next = n_ext;
    let (mut next_elem, mut next_data) = (0u32, 0u32);
    for (m, p) in parsed.iter().enumerate() {
        let mut mp = Maps { types: types.maps[m].clone(), ..Default::default() };
        for k in KINDS {
            let nimp = p.num_imported(k);
            let mut v = vec![DEAD; p.num_total(k) as usize];
            for d in 0..p.num_defined(k) {
                if live.items[m][k as usize][d as usize] {
                    v[(nimp + d) as usize] = next[k as usize];
                    next[k as usize] += 1;
                }
            }
            mp.items[k as usize] = v;
        }
        mp.elems = live.elems[m]
            .iter()
            .map(|&l| {
                if l {
                    next_elem += 1;
                    next_elem - 1
                } else {
                    DEAD
                }
            })
            .collect();
        mp.datas = live.datas[m]
            .iter()
            .map(|&l| {
                if l {
                    next_data += 1;
                    next_data - 1
                } else {
                    DEAD
                }
            })
            .collect();
        maps.push(mp);
    }
    let out_index = |maps: &[Maps], kind: Kind, t: Target| -> u32 {
        match t {
            Target::Defined { module, index } => maps[module].items[kind as usize][index as usize],
            Target::External(n) => n,
            Target::Intrinsic(_) => INTRINSIC,
        }
    };
    for m in 0..parsed.len() {
        for k in KINDS {
            for i in 0..parsed[m].num_imported(k) {
                let t = resolution.targets[m][k as usize][i as usize];
                let o = out_index(&maps, k, t);
                maps[m].items[k as usize][i as usize] = o;
            }
        }
    }
    let external_memory = external_target.map(|t| out_index(&maps, Kind::Memory, t));
    let own_memory = own_target.map(|t| out_index(&maps, Kind::Memory, t));

    // Output memory types, to check intrinsic operands.
    let mut out_memories: Vec<(bool, String)> = Vec::new();
    for x in &resolution.externals[Kind::Memory as usize] {
        if let EntityType::Memory(mt) = &x.ty {
            out_memories.push((mt.memory64, format!("import `{}.{}`", x.module, x.name)));
        }
    }
    for p in &parsed {
        for mt in &p.memories {
            out_memories.push((mt.memory64, describe_memory(mt)));
        }
    }

    // Lowered intrinsic code per input.
    let mut lowered: Vec<Vec<Option<Vec<u8>>>> = Vec::with_capacity(parsed.len());
    for (m, p) in parsed.iter().enumerate() {
        let nf = p.num_imported(Kind::Func) as usize;
        let mut low = vec![None; nf];
        for (i, slot) in low.iter_mut().enumerate() {
            let Target::Intrinsic(intr) = resolution.targets[m][0][i] else { continue };
            let own = || -> Result<u32, Error> {
                if let Some(idx) = own_memory {
                    return Ok(idx);
                }
                // No runtime input: only the module defining its memory 0
                // can be the runtime (linked under another name). An app
                // whose memory 0 is imported (`env.memory`) must not get it.
                if p.num_imported(Kind::Memory) == 0 && p.num_defined(Kind::Memory) > 0 {
                    return Ok(maps[m].items[Kind::Memory as usize][0]);
                }
                Err(err(
                    ErrorKind::IntrinsicMisuse,
                    format!(
                        "module `{}` imports intrinsic `{}`, which needs the runtime's own memory, but no input named `{}` exports `{}`{}; pass --own-memory MODULE.FIELD",
                        p.name,
                        intr.name,
                        crate::config::RUNTIME_MODULE,
                        multimem_abi::MEMORY_EXPORT,
                        if p.num_total(Kind::Memory) == 0 {
                            format!(" and module `{}` has no memory", p.name)
                        } else {
                            format!(" and module `{}` imports its memory 0 rather than defining it", p.name)
                        },
                    ),
                ))
            };
            let mut mems = Vec::with_capacity(2);
            for role in intr.memories {
                let idx = match role {
                    MemoryRole::Own => own()?,
                    MemoryRole::External => external_memory
                        .ok_or_else(|| err(ErrorKind::IntrinsicMisuse, "internal: external memory unresolved"))?,
                };
                if let Some((true, what)) = out_memories.get(idx as usize) {
                    return Err(err(
                        ErrorKind::IntrinsicMisuse,
                        format!(
                            "module `{}` calls intrinsic `{}`, whose {:?} memory resolves to the 64-bit {what}; intrinsics take i32 addresses",
                            p.name, intr.name, role
                        ),
                    ));
                }
                mems.push(idx);
            }
            let memarg = |mem: u32| MemArg { offset: 0, align: intr.align, memory_index: mem };
            let insn = match intr.op {
                Op::MemoryCopy => Instruction::MemoryCopy { dst_mem: mems[0], src_mem: mems[1] },
                Op::MemoryFill => Instruction::MemoryFill(mems[0]),
                Op::MemorySize => Instruction::MemorySize(mems[0]),
                Op::I32Load8U => Instruction::I32Load8U(memarg(mems[0])),
                Op::I32Store8 => Instruction::I32Store8(memarg(mems[0])),
                Op::I32Load => Instruction::I32Load(memarg(mems[0])),
                Op::I32Store => Instruction::I32Store(memarg(mems[0])),
                Op::I64Load => Instruction::I64Load(memarg(mems[0])),
                Op::I64Store => Instruction::I64Store(memarg(mems[0])),
                Op::F32Load => Instruction::F32Load(memarg(mems[0])),
                Op::F32Store => Instruction::F32Store(memarg(mems[0])),
                Op::F64Load => Instruction::F64Load(memarg(mems[0])),
                Op::F64Store => Instruction::F64Store(memarg(mems[0])),
                Op::I32AtomicRmwAdd => Instruction::I32AtomicRmwAdd(memarg(mems[0])),
            };
            let mut code = Vec::with_capacity(8);
            insn.encode(&mut code);
            *slot = Some(code);
        }
        lowered.push(low);
    }

    // Start functions, chained in input order.
    let starts: Vec<u32> =
        parsed.iter().enumerate().filter_map(|(m, p)| p.start.map(|s| maps[m].items[0][s as usize])).collect();
    let num_funcs = next[0];
    let synth_start = if starts.len() > 1 { Some(types.func_type(&[], &[])) } else { None };
    let start = match (starts.len(), synth_start) {
        (0, _) => None,
        (1, _) => Some(starts[0]),
        _ => Some(num_funcs),
    };

    timer.mark("indices");
    // Phase 7: emit sections.
    let total_in: usize = inputs.iter().map(|(_, b)| b.len()).sum();
    // Generous: code grows when indices get longer (a moved memory 0 adds
    // a byte to every load and store), and growing the Vec would copy the
    // whole output. Capacity never touched costs address space, not RSS.
    let mut out: Vec<u8> = Vec::with_capacity(total_in + total_in / 4 + 4096);
    out.extend_from_slice(&[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    let section = |out: &mut Vec<u8>, id: u8, s: &dyn Encode, empty: bool| {
        if !empty {
            out.push(id);
            s.encode(out);
        }
    };
    section(&mut out, 1, &types.section, types.count == 0);

    let mut imports = wasm_encoder::ImportSection::new();
    for k in KINDS {
        for x in &resolution.externals[k as usize] {
            imports.import(&x.module, &x.name, x.ty);
        }
    }
    section(&mut out, 2, &imports, imports.is_empty());

    let re = |e| err(ErrorKind::InvalidModule, message(e));
    let func_import_names: Vec<Vec<(&str, &str)>> = parsed
        .iter()
        .map(|p| p.imports_of[0].iter().map(|&i| (p.imports[i as usize].module, p.imports[i as usize].name)).collect())
        .collect();
    let remap = |m: usize| Remap {
        module: parsed[m].name,
        maps: &maps[m],
        func_import_names: &func_import_names[m],
        has_data_count: parsed[m].has_data_count,
    };

    let mut funcs = wasm_encoder::FunctionSection::new();
    for (m, p) in parsed.iter().enumerate() {
        let nimp = p.num_imported(Kind::Func);
        for d in 0..p.num_defined(Kind::Func) {
            if live.items[m][0][d as usize] {
                funcs.function(maps[m].types[p.func_types[(nimp + d) as usize] as usize]);
            }
        }
    }
    if let Some(t) = synth_start {
        funcs.function(t);
    }
    section(&mut out, 3, &funcs, funcs.is_empty());

    let mut tables = wasm_encoder::TableSection::new();
    let mut memories = wasm_encoder::MemorySection::new();
    let mut tags = wasm_encoder::TagSection::new();
    let mut globals = wasm_encoder::GlobalSection::new();
    for (m, p) in parsed.iter().enumerate() {
        let mut r = remap(m);
        for (d, t) in p.tables.iter().enumerate() {
            if !live.items[m][Kind::Table as usize][d] {
                continue;
            }
            let ty = r.table_type(t.ty).map_err(re)?;
            match &t.init {
                None => tables.table(ty),
                Some(e) => tables.table_with_init(ty, &r.const_expr(e.clone()).map_err(re)?),
            };
        }
        for mt in &p.memories {
            memories.memory(r.memory_type(*mt).map_err(re)?);
        }
        for (d, t) in p.tags.iter().enumerate() {
            if live.items[m][Kind::Tag as usize][d] {
                tags.tag(r.tag_type(*t).map_err(re)?);
            }
        }
        for (d, g) in p.globals.iter().enumerate() {
            if live.items[m][Kind::Global as usize][d] {
                globals.global(r.global_type(g.ty).map_err(re)?, &r.const_expr(g.init.clone()).map_err(re)?);
            }
        }
    }
    section(&mut out, 4, &tables, tables.is_empty());
    section(&mut out, 5, &memories, memories.is_empty());
    section(&mut out, 13, &tags, tags.is_empty());
    section(&mut out, 6, &globals, globals.is_empty());

    let mut export_section = wasm_encoder::ExportSection::new();
    for x in &exports {
        let idx = maps[x.module].items[x.kind as usize][x.index as usize];
        let kind = wasm_encoder::ExportKind::from(x.export_kind);
        export_section.export(&x.name, kind, idx);
    }
    section(&mut out, 7, &export_section, export_section.is_empty());

    if let Some(f) = start {
        section(&mut out, 8, &wasm_encoder::StartSection { function_index: f }, false);
    }

    let mut elems = wasm_encoder::ElementSection::new();
    for (m, p) in parsed.iter().enumerate() {
        let mut r = remap(m);
        for (e, el) in p.elems.iter().enumerate() {
            if !live.elems[m][e] {
                continue;
            }
            if config.gc && matches!(el.kind, wasmparser::ElementKind::Declared) {
                // Keep only the declarations of functions that survived.
                let items = crate::gc::live_declared_items(el, &mut r).map_err(re)?;
                if !items.is_empty() {
                    elems.declared(items.into_elements());
                }
                continue;
            }
            r.parse_element(&mut elems, el.clone()).map_err(|e| err(ErrorKind::IntrinsicMisuse, message(e)))?;
        }
    }
    section(&mut out, 9, &elems, elems.is_empty());

    if parsed.iter().any(|p| p.has_data_count) && next_data > 0 {
        section(&mut out, 12, &wasm_encoder::DataCountSection { count: next_data }, false);
    }

    timer.mark("sections");
    // Code section, written in place: id, 5-byte padded size, count, bodies.
    let total_code: usize = parsed.iter().map(|p| p.code_size).sum();
    let num_bodies = num_funcs - n_ext[0] + u32::from(synth_start.is_some());
    // The data section, in a buffer of its own: written on the second
    // thread when there is one (it does not depend on the code). Every
    // segment is parsed, live or not (inputs' data sections are only
    // checked here and in the output).
    let emit_data = || -> Result<Vec<u8>, Error> {
        let any = parsed.iter().any(|p| p.data_section.is_some());
        if !any {
            return Ok(Vec::new());
        }
        let total_data: usize = parsed.iter().map(|p| p.data_size + 16).sum();
        let mut out = Vec::with_capacity(total_data + 16);
        let size_at = open_section(&mut out, 11);
        leb(&mut out, next_data as u64);
        for (m, p) in parsed.iter().enumerate() {
            let mut r = remap(m);
            for (d, data) in p.datas().enumerate() {
                let data = data?;
                if !live.datas[m][d] {
                    continue;
                }
                match &data.kind {
                    wasmparser::DataKind::Passive => out.push(0x01),
                    wasmparser::DataKind::Active { memory_index, offset_expr } => {
                        let mem = r.memory_index(*memory_index).map_err(re)?;
                        if mem == 0 {
                            out.push(0x00);
                        } else {
                            out.push(0x02);
                            leb(&mut out, mem as u64);
                        }
                        // `i32.const N end` / `i64.const N end` (nearly all
                        // offsets; Go output has ~100k segments) carry no
                        // index: copied as they are.
                        let range = offset_expr.get_binary_reader().range();
                        let expr = &p.bytes[range];
                        if matches!(expr.first(), Some(0x41 | 0x42))
                            && expr.last() == Some(&0x0b)
                            && expr[1..expr.len() - 1].iter().position(|b| b & 0x80 == 0) == Some(expr.len() - 3)
                        {
                            out.extend_from_slice(expr);
                        } else {
                            r.const_expr(offset_expr.clone()).map_err(re)?.encode(&mut out);
                        }
                    }
                }
                leb(&mut out, data.data.len() as u64);
                out.extend_from_slice(data.data);
            }
        }
        if next_data == 0 {
            return Ok(Vec::new());
        }
        let size = out.len() - SECTION_HEADER;
        patch_size(&mut out, size_at, size, "data")?;
        Ok(out)
    };
    // Validates a data section built by `emit_data` that will sit at output
    // offset `at` (after the code section).
    let validate_data = |streaming: &mut crate::validate::Streaming, section: &[u8], at: usize| -> Option<String> {
        if section.is_empty() {
            None
        } else {
            streaming.data_section(&section[SECTION_HEADER..], at + SECTION_HEADER).err()
        }
    };
    let mut data_done: Option<(Option<String>, Vec<u8>)> = None;

    // Phase 9 starts here: the sections so far are validated now, each body
    // right after it is written (by the thread writing it), the rest at
    // the end.
    let invalid_output = |e: String| {
        err(
            ErrorKind::InvalidOutput,
            format!("internal error: the linked module does not validate ({e}); please report this with the inputs"),
        )
    };
    let (mut streaming, mut funcs) =
        crate::validate::Streaming::start(&out, num_bodies, out.len()).map_err(invalid_output)?;
    let mut body_error: Option<String> = None;
    // The helpers' code chunks (see `Assembled`) and the synthesised start
    // function's body.
    let mut helper_bufs: Vec<Vec<u8>> = Vec::new();
    let mut helper_code: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let mut synth = Vec::new();
    let mut helpers_len = 0;
    if num_bodies > 0 {
        out.reserve(total_code + total_code / 4 + 16);
        let size_at = open_section(&mut out, 10);
        leb(&mut out, num_bodies as u64);
        // Live bodies in output order.
        let live_funcs = &live.items;
        let order: Vec<(usize, usize)> = parsed
            .iter()
            .enumerate()
            .flat_map(|(m, p)| (0..p.bodies.len()).filter(move |&d| live_funcs[m][0][d]).map(move |d| (m, d)))
            .collect();
        let cxs: Vec<BodyContext<'_>> = parsed
            .iter()
            .enumerate()
            .map(|(m, p)| {
                let mem0 = maps[m].items[Kind::Memory as usize].first().copied();
                BodyContext {
                    bytes: p.bytes,
                    lowered: &lowered[m],
                    memory0_identity: mem0 == Some(0),
                    memory0_moved: mem0.filter(|&o| o != 0 && o < DEAD),
                }
            })
            .collect();
        // Writes `jobs` to `out`, validating each body as it is written
        // with its `funcs` entry; returns the first validation error.
        type Funcs = Vec<wasmparser::FuncToValidate<wasmparser::ValidatorResources>>;
        let emit = |jobs: &[(usize, usize)], funcs: Funcs, out: &mut Vec<u8>| -> Result<Option<String>, Error> {
            let mut scratch = Vec::with_capacity(1 << 16);
            let mut allocs = wasmparser::FuncValidatorAllocations::default();
            let mut frames = Vec::new();
            let mut remaps: Vec<Remap<'_>> = (0..parsed.len()).map(remap).collect();
            for (&(m, d), func) in jobs.iter().zip(funcs) {
                let p = &parsed[m];
                let mut func = func.into_validator(allocs);
                match emit_body(&mut remaps[m], &cxs[m], &p.bodies[d], &mut func, &mut frames, &mut scratch, out) {
                    Ok(()) => allocs = func.into_allocations(),
                    // The first invalid body ends this run: the output is
                    // not returned, and its error is the one reported.
                    Err(BodyError::Invalid(e)) => return Ok(Some(e)),
                    Err(BodyError::Input(e)) => {
                        let kind =
                            if e.contains("intrinsic") { ErrorKind::IntrinsicMisuse } else { ErrorKind::InvalidModule };
                        return Err(err(
                            kind,
                            format!(
                                "{e} (in function {} of module `{}`)",
                                d as u32 + p.num_imported(Kind::Func),
                                p.name
                            ),
                        ));
                    }
                }
            }
            Ok(None)
        };
        let synth_func = if synth_start.is_some() { funcs.pop() } else { None };
        let body_len = |&(m, d): &(usize, usize)| parsed[m].bodies[d].range().len();
        let threads = config.thread_count().min(8);
        if threads < 2 || total_code < (1 << 20) {
            body_error = emit(&order, std::mem::take(&mut funcs), &mut out)?;
        } else {
            // Chunks of about 1/16 of each thread's share (at least 64
            // KiB): small enough that the ends meet within a few percent
            // of the phase, big enough to cost nothing to hand out. See
            // `chunks.rs`.
            let target = (total_code / (threads * 16)).max(64 << 10);
            let bounds = crate::chunks::bounds(order.iter().map(body_len), target);
            let items: Vec<(std::ops::Range<usize>, Funcs)> = bounds
                .windows(2)
                .map(|w| w[0]..w[1])
                .zip(crate::chunks::split_runs(std::mem::take(&mut funcs), &bounds))
                .collect();
            let queue = crate::chunks::Chunks::new(items);
            // A thread's work: chunks from one end until none is left or
            // one fails; the written chunks (index, range in `buf`) and
            // the failure (chunk index, error).
            type Failure = (usize, Result<String, Error>);
            let work =
                |from_front: bool, buf: &mut Vec<u8>| -> (Vec<(usize, std::ops::Range<usize>)>, Option<Failure>) {
                    let mut written = Vec::new();
                    loop {
                        let next = if from_front { queue.front() } else { queue.back() };
                        let Some((k, (jobs, funcs))) = next else { return (written, None) };
                        let start = buf.len();
                        match emit(&order[jobs], funcs, buf) {
                            Ok(None) => written.push((k, start..buf.len())),
                            Ok(Some(invalid)) => return (written, Some((k, Ok(invalid)))),
                            Err(e) => return (written, Some((k, Err(e)))),
                        }
                    }
                };
            let streaming = &mut streaming;
            let (mine, helpers) = std::thread::scope(|sc| {
                let work = &work;
                let emit_data = &emit_data;
                // The first helper also writes and validates the data
                // section, first (it does not depend on the code).
                let first = sc.spawn(move || {
                    // The data section's final offset is not known yet; it
                    // only shows in messages.
                    let data = emit_data().map(|d| (validate_data(streaming, &d, 0), d));
                    let mut buf = Vec::with_capacity(total_code + total_code / 4 + 16);
                    let (written, failure) = work(false, &mut buf);
                    (buf, written, failure, Some(data))
                });
                let others: Vec<_> = (2..threads)
                    .map(|_| {
                        sc.spawn(move || {
                            let mut buf = Vec::with_capacity(total_code / 2 + 16);
                            let (written, failure) = work(false, &mut buf);
                            (buf, written, failure, None)
                        })
                    })
                    .collect();
                let mine = work(true, &mut out);
                timer.mark("code: this thread's chunks");
                let helpers: Vec<_> = std::iter::once(first).chain(others).map(|h| h.join()).collect();
                (mine, helpers)
            });
            // The first failure in function order is the error: every
            // chunk before a failed one was written (the threads only stop
            // at their own failure, and the others take what is left).
            let mut failure = mine.1;
            let mut pieces = Vec::new();
            for h in helpers {
                let (buf, written, f, data) =
                    h.map_err(|_| err(ErrorKind::InvalidOutput, "internal: code emission thread panicked"))?;
                if let Some(data) = data {
                    data_done = Some(data?);
                }
                if let Some(f) = f
                    && failure.as_ref().is_none_or(|g| f.0 < g.0)
                {
                    failure = Some(f);
                }
                pieces.push((buf, written));
            }
            match failure {
                Some((_, Err(e))) => return Err(e),
                Some((_, Ok(invalid))) => body_error = Some(invalid),
                None => {
                    // This thread's chunks are in `out` already; the
                    // helpers' follow, in chunk order (joined or written
                    // out by `Assembled`, not copied here).
                    let mut order_of: Vec<(usize, usize, std::ops::Range<usize>)> = pieces
                        .iter()
                        .enumerate()
                        .flat_map(|(h, (_, w))| w.iter().map(move |(k, r)| (*k, h, r.clone())))
                        .collect();
                    order_of.sort_unstable_by_key(|p| p.0);
                    helper_code = order_of.into_iter().map(|(_, h, r)| (h, r)).collect();
                    helper_bufs = pieces.into_iter().map(|(buf, _)| buf).collect();
                }
            }
        }
        helpers_len = helper_code.iter().map(|(_, r)| r.len()).sum();
        if synth_start.is_some() {
            let mut body = vec![0u8];
            for s in &starts {
                body.push(0x10);
                leb(&mut body, *s as u64);
            }
            body.push(0x0b);
            leb(&mut synth, body.len() as u64);
            let at = out.len() + helpers_len + synth.len();
            synth.extend_from_slice(&body);
            if let Some(func) = synth_func {
                body_error = body_error.or(crate::validate::check_body(func, &body, at).err());
            }
        }
        let size = out.len() + helpers_len + synth.len() - size_at - 5;
        patch_size(&mut out, size_at, size, "code")?;
    }

    timer.mark("code (rewritten and validated)");
    let code_end = out.len() + helpers_len + synth.len();
    // Data section (built earlier, see `emit_data`), then validated.
    let data = match data_done {
        Some(d) => d,
        None => {
            let d = emit_data()?;
            (validate_data(&mut streaming, &d, code_end), d)
        }
    };
    body_error = body_error.or(data.0);
    let data = data.1;

    timer.mark("data");
    // Phase 8: custom sections.
    let mut custom = Vec::new();
    crate::custom::emit(config, &parsed, &maps, &mut warnings, &mut custom)?;

    timer.mark("custom");
    // Phase 9, end: the sections after the code, then the module as a
    // whole. The first body that failed is the error.
    if let Some(e) = body_error {
        return Err(invalid_output(e));
    }
    streaming.custom_sections(&custom, code_end + data.len()).map_err(invalid_output)?;
    let len = code_end + data.len() + custom.len();
    streaming.finish(len).map_err(invalid_output)?;
    timer.mark("validate output (after code)");
    Ok((Assembled { head: out, helper_bufs, helper_code, rest: [synth, data, custom] }, warnings))
}

/// The linked, validated module in the pieces the threads left it in:
/// this thread's buffer (every section before the code, and the code
/// chunks it wrote), the helpers' chunks in order, then the synthesised
/// start body, the data section and the custom sections. Written out part
/// by part, or joined into one buffer, without first copying the helpers'
/// share of the code into place (5 ms of 90 on swc's 18 MB).
pub(crate) struct Assembled {
    head: Vec<u8>,
    helper_bufs: Vec<Vec<u8>>,
    /// (helper, range of its buffer), in output order.
    helper_code: Vec<(usize, std::ops::Range<usize>)>,
    rest: [Vec<u8>; 3],
}

impl Assembled {
    /// The parts, in output order.
    pub(crate) fn parts(&self) -> Vec<&[u8]> {
        let mut parts = vec![&self.head[..]];
        parts.extend(self.helper_code.iter().map(|(h, r)| &self.helper_bufs[*h][r.clone()]));
        parts.extend(self.rest.iter().map(|v| &v[..]));
        parts
    }

    /// The whole module in one buffer. The helpers' pages are released as
    /// they are copied; no `shrink_to_fit`, which would copy it all again
    /// (the slack is pages never touched).
    pub(crate) fn into_vec(self) -> Vec<u8> {
        let mut out = self.head;
        out.reserve(
            self.helper_code.iter().map(|(_, r)| r.len()).sum::<usize>()
                + self.rest.iter().map(Vec::len).sum::<usize>(),
        );
        for (h, r) in self.helper_code {
            crate::buffer::append_slice_releasing(&mut out, &self.helper_bufs[h][r]);
        }
        for part in self.rest {
            crate::buffer::append_releasing(&mut out, part);
        }
        out
    }
}

/// The `own` memory ([`Config::own_memory`]): the configured input's memory
/// export, or by default [`multimem_abi::MEMORY_EXPORT`] of the input named
/// [`crate::RUNTIME_MODULE`]. `Ok(None)` only under the default rule when
/// that input or memory export is absent (callers then fall back per input).
fn own_memory(
    config: &Config,
    parsed: &[Parsed<'_>],
    resolver: &mut Resolver<'_, '_>,
) -> Result<Option<Target>, Error> {
    let (module, field, explicit) = match &config.own_memory {
        Some((m, f)) => (m.as_str(), f.as_str(), true),
        None => (crate::config::RUNTIME_MODULE, multimem_abi::MEMORY_EXPORT, false),
    };
    let Some(m) = resolver.input_named(module) else {
        if explicit {
            return Err(err(
                ErrorKind::UnknownExport,
                format!("the own memory is `{module}.{field}`, but there is no input named `{module}`"),
            ));
        }
        return Ok(None);
    };
    match parsed[m].exports.iter().find(|e| e.name == field) {
        Some(ex) if Kind::of_export(ex.kind) == Kind::Memory => Ok(Some(resolver.item(m, Kind::Memory, ex.index)?)),
        _ if !explicit => Ok(None),
        None => Err(err(
            ErrorKind::UnknownExport,
            format!("the own memory is `{module}.{field}`, but module `{module}` has no export named `{field}`"),
        )),
        Some(ex) => Err(err(
            ErrorKind::KindMismatch,
            format!(
                "the own memory is `{module}.{field}`, but module `{module}` exports `{field}` as a {}",
                Kind::of_export(ex.kind).name()
            ),
        )),
    }
}

/// The exports of the output: all (with the conflict policy) or the listed ones.
fn choose_exports<'a>(
    config: &Config,
    parsed: &[Parsed<'a>],
    warnings: &mut Vec<String>,
) -> Result<Vec<ChosenExport<'a>>, Error> {
    let mut out: Vec<ChosenExport<'a>> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    match &config.exports {
        None => {
            for (m, p) in parsed.iter().enumerate() {
                for e in &p.exports {
                    let mut name = e.name.to_string();
                    if let Some(&first) = seen.get(&name) {
                        match config.export_conflict {
                            ExportConflict::Error => {
                                return Err(err(
                                    ErrorKind::ExportConflict,
                                    format!(
                                        "export name conflict: modules `{}` and `{}` both export `{}` (use --rename-conflicts, --skip-conflicts or an explicit export list)",
                                        parsed[out[first].module].name, p.name, e.name
                                    ),
                                ));
                            }
                            ExportConflict::Skip => {
                                warnings.push(format!(
                                    "export `{}` of module `{}` skipped: module `{}` already exports that name",
                                    e.name, p.name, parsed[out[first].module].name
                                ));
                                continue;
                            }
                            ExportConflict::Rename => {
                                let mut n = format!("{}.{}", p.name, e.name);
                                let mut k = 2;
                                while seen.contains_key(&n) {
                                    n = format!("{}.{}#{k}", p.name, e.name);
                                    k += 1;
                                }
                                warnings.push(format!("export `{}` of module `{}` renamed to `{n}`", e.name, p.name));
                                name = n;
                            }
                        }
                    }
                    seen.insert(name.clone(), out.len());
                    out.push(ChosenExport::new(name, m, e));
                }
            }
        }
        Some(list) => {
            for spec in list {
                let m = parsed.iter().position(|p| p.name == spec.module).ok_or_else(|| {
                    err(
                        ErrorKind::MissingExport,
                        format!(
                            "export `{}.{}` requested, but there is no module `{}`",
                            spec.module, spec.name, spec.module
                        ),
                    )
                })?;
                let e = parsed[m].exports.iter().find(|e| e.name == spec.name).ok_or_else(|| {
                    err(
                        ErrorKind::MissingExport,
                        format!(
                            "export `{}.{}` requested, but module `{}` has no export `{}`",
                            spec.module, spec.name, spec.module, spec.name
                        ),
                    )
                })?;
                let name = spec.as_name.clone().unwrap_or_else(|| spec.name.clone());
                if let Some(&first) = seen.get(&name) {
                    return Err(err(
                        ErrorKind::ExportConflict,
                        format!(
                            "export name conflict: `{name}` requested for both `{}.{}` and `{}.{}`",
                            parsed[out[first].module].name, out[first].source, spec.module, spec.name
                        ),
                    ));
                }
                seen.insert(name.clone(), out.len());
                out.push(ChosenExport::new(name, m, e));
            }
        }
    }
    Ok(out)
}
