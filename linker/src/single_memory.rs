//! Phase 10, with [`crate::Config::single_memory`]: the single-memory
//! build (docs/ABI.md, "Single-memory build"). Takes the linked,
//! validated multi-memory module and the index of the memory that stays
//! native, and returns a module with exactly that one memory, which
//! validates with multi-memory disabled and behaves the same, given a host
//! that implements the reserved module `multimem:memory` over the real
//! memory objects.
//!
//! Phases, in the order [`lower`] runs them:
//!
//! 1. *Read* the module's sections ([`Module::read`]) and check that every
//!    memory to lower can be: 32-bit, 64 KiB pages.
//! 2. *Scan* every body for instructions on lowered memories
//!    ([`scan`]): which imports of the reserved module the output needs
//!    (their function indices come before every defined function, so they
//!    must be known before any body is written), and which data segments
//!    the host must hold (active segments of lowered memories, passive
//!    ones that `memory.init` copies into one).
//! 3. *Write* the module ([`write`]): types gain the imports' signatures;
//!    imports lose the lowered memories and gain the reserved functions
//!    (after the original function imports, so defined functions shift by
//!    their number); memories and exports keep only the native memory
//!    (exported again as `multimem:native-memory`); active segments of
//!    lowered memories become empty passive segments (no index moves),
//!    applied by a start function that calls `data.active` for each, in
//!    segment order, before the original start function; bodies are
//!    rewritten operator by operator ([`Body`]); custom sections are kept
//!    (`dylink.0` first, `name` renumbered) and the two sections the
//!    loader reads are added.
//! 4. *Validate* the result with multi-memory off; a failure is a linker
//!    bug ([`ErrorKind::Internal`]).
//!
//! # Limits
//!
//! - A lowered memory must be 32-bit with 64 KiB pages: JavaScript's
//!   `WebAssembly.Memory` has no other kind, and the reserved module's
//!   functions take `i32` addresses. Anything else is an
//!   [`ErrorKind::Unsupported`] error naming the memory. The native memory
//!   may be any memory.
//! - An instruction on a lowered memory that has no row in the ABI table
//!   (`memory.discard`, say) is an [`ErrorKind::Unsupported`] error naming
//!   it; nothing is left unlowered silently.
//! - Active segments of lowered memories are applied when the start
//!   function runs, after every native segment. The result differs from
//!   the multi-memory build only when instantiation traps: a native
//!   segment after a lowered one that does not fit is then written (into
//!   an imported memory, observably) where the multi-memory build would
//!   have stopped first. The trap itself is the same.
//! - `f32` and `f64` loads and stores on a lowered memory are written as
//!   the `i32`/`i64` ones and a reinterpret, so NaN bits never cross the
//!   host boundary (JavaScript may canonicalise them).
//! - `v128.load` and `v128.store` on a lowered memory are two calls each
//!   (JavaScript cannot pass `v128`); the store writes its high half first
//!   so that nothing is written when it traps. An offset within 8 bytes of
//!   4 GiB always traps, and is written as `unreachable`.
//! - Instructions on lowered memories cost a call into the host; only the
//!   native memory keeps full speed. Pick the hot memory as native
//!   ([`crate::Config::native_memory`]).
//!
//! The pass reads and writes the whole module once more (it is not fused
//! with the multi-memory link): its cost is about that of re-encoding
//! every function, far below validation.

use std::collections::{BTreeMap, BTreeSet};

use multimem_abi::{LOWERED_MODULE, Lowered, MEMORIES_SECTION, NATIVE_MEMORY_EXPORT, SEGMENTS_SECTION};
use wasm_encoder::reencode::{Error as ReError, Reencode};
use wasm_encoder::{Encode, Instruction};
use wasmparser::{MemArg, Operator, Parser, Payload, TypeRef};

use crate::error::{Error, ErrorKind};

/// One memory of the multi-memory module.
struct Memory<'a> {
    ty: wasmparser::MemoryType,
    /// `(module, name)` when imported.
    import: Option<(&'a str, &'a str)>,
    /// The names it is exported under.
    exports: Vec<&'a str>,
}

/// The multi-memory module, read once.
struct Module<'a> {
    bytes: &'a [u8],
    /// Every section in order: (id, payload range), custom sections with
    /// id 0.
    sections: Vec<(u8, std::ops::Range<usize>)>,
    /// Function types' parameter counts and types, by type index (0 for
    /// non-function types).
    func_params: Vec<Vec<wasmparser::ValType>>,
    num_types: u32,
    /// Type index of every function (imports first).
    func_types: Vec<u32>,
    imported_funcs: u32,
    memories: Vec<Memory<'a>>,
    start: Option<u32>,
    datas: Vec<wasmparser::Data<'a>>,
    bodies: Vec<wasmparser::FunctionBody<'a>>,
}

impl<'a> Module<'a> {
    fn read(bytes: &'a [u8]) -> Result<Module<'a>, Error> {
        let bad = |e: wasmparser::BinaryReaderError| Error::internal(format_args!("reading the linked module: {e}"));
        let mut m = Module {
            bytes,
            sections: Vec::new(),
            func_params: Vec::new(),
            num_types: 0,
            func_types: Vec::new(),
            imported_funcs: 0,
            memories: Vec::new(),
            start: None,
            datas: Vec::new(),
            bodies: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(bad)?;
            if let Some((id, range)) = payload.as_section() {
                m.sections.push((id, range));
            }
            match payload {
                Payload::TypeSection(r) => {
                    for g in r {
                        for ty in g.map_err(bad)?.types() {
                            m.num_types += 1;
                            m.func_params.push(match &ty.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => f.params().to_vec(),
                                _ => Vec::new(),
                            });
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        let imp = imp.map_err(bad)?;
                        match imp.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                m.func_types.push(t);
                                m.imported_funcs += 1;
                            }
                            TypeRef::Memory(ty) => m.memories.push(Memory {
                                ty,
                                import: Some((imp.module, imp.name)),
                                exports: Vec::new(),
                            }),
                            _ => {}
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        m.func_types.push(t.map_err(bad)?);
                    }
                }
                Payload::MemorySection(r) => {
                    for ty in r {
                        m.memories.push(Memory { ty: ty.map_err(bad)?, import: None, exports: Vec::new() });
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.map_err(bad)?;
                        if e.kind == wasmparser::ExternalKind::Memory {
                            m.memories[e.index as usize].exports.push(e.name);
                        }
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::DataSection(r) => {
                    for d in r {
                        m.datas.push(d.map_err(bad)?);
                    }
                }
                Payload::CodeSectionEntry(body) => m.bodies.push(body),
                _ => {}
            }
        }
        Ok(m)
    }
}

/// What the output needs from the reserved module and from the host.
#[derive(Default)]
struct Needs {
    /// Import fields (`i32.load:1`, `memory.copy:0:1`, `data.drop`) with
    /// their rows, in a deterministic order.
    imports: BTreeMap<(usize, String), &'static Lowered>,
    /// Data segments the host holds.
    segments: BTreeSet<u32>,
    /// Segments `data.drop` names.
    dropped: BTreeSet<u32>,
}

impl Needs {
    fn add(&mut self, instruction: &str, memories: &[u32]) -> Result<(), Error> {
        let row = multimem_abi::lowered(instruction).ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "`{instruction}` on memory {} cannot be lowered: the reserved module `{LOWERED_MODULE}` has no such operation",
                    memories.first().copied().unwrap_or(0)
                ),
            )
        })?;
        let order = multimem_abi::LOWERED.iter().position(|l| l.instruction == instruction).unwrap_or(usize::MAX);
        self.imports.insert((order, field(instruction, memories)), row);
        Ok(())
    }
}

/// An import field: the instruction, then each memory index after a colon.
fn field(instruction: &str, memories: &[u32]) -> String {
    let mut f = instruction.to_string();
    for m in memories {
        f.push(':');
        f.push_str(&m.to_string());
    }
    f
}

/// How an instruction on a lowered memory is written.
enum Plan {
    /// A call of `instruction` on the memory, after pushing the static
    /// offset (loads, stores, atomics).
    WithOffset(&'static str, u32),
    /// A call with nothing pushed (size, grow, fill).
    Call(&'static str),
    /// An `f32`/`f64` load or store as the `i32`/`i64` one and a
    /// reinterpret in wasm, so that NaN bits never cross the host boundary
    /// (JavaScript may canonicalise them): the integer row, the offset,
    /// the reinterpret, and whether it is a store (reinterpret first).
    Float(&'static str, u32, fn() -> Instruction<'static>, bool),
    /// SIMD forms, written from the scalar rows ([`Body::simd`]).
    Simd(SimdForm, MemArg),
}

/// The SIMD memory instructions, by how they are rebuilt from scalars.
#[derive(Clone, Copy)]
enum SimdForm {
    Load,
    Store,
    /// `v128.loadNxM_s/u`: one `i64.load`, splat, then this extend.
    Extend(fn() -> Instruction<'static>),
    /// `v128.loadN_splat`: the scalar load, then this splat.
    Splat(&'static str, fn() -> Instruction<'static>),
    /// `v128.load32_zero` / `v128.load64_zero`: the scalar load into lane 0.
    Zero(&'static str),
    /// `v128.loadN_lane`: the scalar load, then `replace_lane`.
    LoadLane(&'static str, u8),
    /// `v128.storeN_lane`: `extract_lane`, then the scalar store.
    StoreLane(&'static str, u8),
}

impl SimdForm {
    /// The scalar rows this form calls.
    fn scalars(self) -> &'static [&'static str] {
        match self {
            SimdForm::Load | SimdForm::Extend(_) => &["i64.load"],
            SimdForm::Store => &["i64.store"],
            SimdForm::Splat(s, _) | SimdForm::Zero(s) | SimdForm::LoadLane(s, _) | SimdForm::StoreLane(s, _) => match s
            {
                "8" => &["i32.load8_u"],
                "16" => &["i32.load16_u"],
                "32" => &["i32.load"],
                "64" => &["i64.load"],
                "s8" => &["i32.store8"],
                "s16" => &["i32.store16"],
                "s32" => &["i32.store"],
                _ => &["i64.store"],
            },
        }
    }
}

/// The plan for an operator that names a memory, and that memory; `None`
/// for operators that name none. Bulk operators (`memory.copy`,
/// `memory.init`, `data.drop`) are handled by the caller.
fn plan(op: &Operator<'_>) -> Option<(Plan, u32)> {
    use Operator as O;
    use SimdForm as S;
    let m = |name: &'static str, a: &MemArg| Some((Plan::WithOffset(name, offset32(a)), a.memory));
    let simd = |form: SimdForm, a: &MemArg| Some((Plan::Simd(form, *a), a.memory));
    match op {
        O::I32Load { memarg } => m("i32.load", memarg),
        O::I64Load { memarg } => m("i64.load", memarg),
        O::F32Load { memarg } => {
            Some((Plan::Float("i32.load", offset32(memarg), || Instruction::F32ReinterpretI32, false), memarg.memory))
        }
        O::F64Load { memarg } => {
            Some((Plan::Float("i64.load", offset32(memarg), || Instruction::F64ReinterpretI64, false), memarg.memory))
        }
        O::I32Load8S { memarg } => m("i32.load8_s", memarg),
        O::I32Load8U { memarg } => m("i32.load8_u", memarg),
        O::I32Load16S { memarg } => m("i32.load16_s", memarg),
        O::I32Load16U { memarg } => m("i32.load16_u", memarg),
        O::I64Load8S { memarg } => m("i64.load8_s", memarg),
        O::I64Load8U { memarg } => m("i64.load8_u", memarg),
        O::I64Load16S { memarg } => m("i64.load16_s", memarg),
        O::I64Load16U { memarg } => m("i64.load16_u", memarg),
        O::I64Load32S { memarg } => m("i64.load32_s", memarg),
        O::I64Load32U { memarg } => m("i64.load32_u", memarg),
        O::I32Store { memarg } => m("i32.store", memarg),
        O::I64Store { memarg } => m("i64.store", memarg),
        O::F32Store { memarg } => {
            Some((Plan::Float("i32.store", offset32(memarg), || Instruction::I32ReinterpretF32, true), memarg.memory))
        }
        O::F64Store { memarg } => {
            Some((Plan::Float("i64.store", offset32(memarg), || Instruction::I64ReinterpretF64, true), memarg.memory))
        }
        O::I32Store8 { memarg } => m("i32.store8", memarg),
        O::I32Store16 { memarg } => m("i32.store16", memarg),
        O::I64Store8 { memarg } => m("i64.store8", memarg),
        O::I64Store16 { memarg } => m("i64.store16", memarg),
        O::I64Store32 { memarg } => m("i64.store32", memarg),
        O::MemorySize { mem } => Some((Plan::Call("memory.size"), *mem)),
        O::MemoryGrow { mem } => Some((Plan::Call("memory.grow"), *mem)),
        O::MemoryFill { mem } => Some((Plan::Call("memory.fill"), *mem)),
        O::MemoryAtomicNotify { memarg } => m("memory.atomic.notify", memarg),
        O::MemoryAtomicWait32 { memarg } => m("memory.atomic.wait32", memarg),
        O::MemoryAtomicWait64 { memarg } => m("memory.atomic.wait64", memarg),
        O::I32AtomicLoad { memarg } => m("i32.atomic.load", memarg),
        O::I64AtomicLoad { memarg } => m("i64.atomic.load", memarg),
        O::I32AtomicLoad8U { memarg } => m("i32.atomic.load8_u", memarg),
        O::I32AtomicLoad16U { memarg } => m("i32.atomic.load16_u", memarg),
        O::I64AtomicLoad8U { memarg } => m("i64.atomic.load8_u", memarg),
        O::I64AtomicLoad16U { memarg } => m("i64.atomic.load16_u", memarg),
        O::I64AtomicLoad32U { memarg } => m("i64.atomic.load32_u", memarg),
        O::I32AtomicStore { memarg } => m("i32.atomic.store", memarg),
        O::I64AtomicStore { memarg } => m("i64.atomic.store", memarg),
        O::I32AtomicStore8 { memarg } => m("i32.atomic.store8", memarg),
        O::I32AtomicStore16 { memarg } => m("i32.atomic.store16", memarg),
        O::I64AtomicStore8 { memarg } => m("i64.atomic.store8", memarg),
        O::I64AtomicStore16 { memarg } => m("i64.atomic.store16", memarg),
        O::I64AtomicStore32 { memarg } => m("i64.atomic.store32", memarg),
        O::I32AtomicRmwAdd { memarg } => m("i32.atomic.rmw.add", memarg),
        O::I64AtomicRmwAdd { memarg } => m("i64.atomic.rmw.add", memarg),
        O::I32AtomicRmw8AddU { memarg } => m("i32.atomic.rmw8.add_u", memarg),
        O::I32AtomicRmw16AddU { memarg } => m("i32.atomic.rmw16.add_u", memarg),
        O::I64AtomicRmw8AddU { memarg } => m("i64.atomic.rmw8.add_u", memarg),
        O::I64AtomicRmw16AddU { memarg } => m("i64.atomic.rmw16.add_u", memarg),
        O::I64AtomicRmw32AddU { memarg } => m("i64.atomic.rmw32.add_u", memarg),
        O::I32AtomicRmwSub { memarg } => m("i32.atomic.rmw.sub", memarg),
        O::I64AtomicRmwSub { memarg } => m("i64.atomic.rmw.sub", memarg),
        O::I32AtomicRmw8SubU { memarg } => m("i32.atomic.rmw8.sub_u", memarg),
        O::I32AtomicRmw16SubU { memarg } => m("i32.atomic.rmw16.sub_u", memarg),
        O::I64AtomicRmw8SubU { memarg } => m("i64.atomic.rmw8.sub_u", memarg),
        O::I64AtomicRmw16SubU { memarg } => m("i64.atomic.rmw16.sub_u", memarg),
        O::I64AtomicRmw32SubU { memarg } => m("i64.atomic.rmw32.sub_u", memarg),
        O::I32AtomicRmwAnd { memarg } => m("i32.atomic.rmw.and", memarg),
        O::I64AtomicRmwAnd { memarg } => m("i64.atomic.rmw.and", memarg),
        O::I32AtomicRmw8AndU { memarg } => m("i32.atomic.rmw8.and_u", memarg),
        O::I32AtomicRmw16AndU { memarg } => m("i32.atomic.rmw16.and_u", memarg),
        O::I64AtomicRmw8AndU { memarg } => m("i64.atomic.rmw8.and_u", memarg),
        O::I64AtomicRmw16AndU { memarg } => m("i64.atomic.rmw16.and_u", memarg),
        O::I64AtomicRmw32AndU { memarg } => m("i64.atomic.rmw32.and_u", memarg),
        O::I32AtomicRmwOr { memarg } => m("i32.atomic.rmw.or", memarg),
        O::I64AtomicRmwOr { memarg } => m("i64.atomic.rmw.or", memarg),
        O::I32AtomicRmw8OrU { memarg } => m("i32.atomic.rmw8.or_u", memarg),
        O::I32AtomicRmw16OrU { memarg } => m("i32.atomic.rmw16.or_u", memarg),
        O::I64AtomicRmw8OrU { memarg } => m("i64.atomic.rmw8.or_u", memarg),
        O::I64AtomicRmw16OrU { memarg } => m("i64.atomic.rmw16.or_u", memarg),
        O::I64AtomicRmw32OrU { memarg } => m("i64.atomic.rmw32.or_u", memarg),
        O::I32AtomicRmwXor { memarg } => m("i32.atomic.rmw.xor", memarg),
        O::I64AtomicRmwXor { memarg } => m("i64.atomic.rmw.xor", memarg),
        O::I32AtomicRmw8XorU { memarg } => m("i32.atomic.rmw8.xor_u", memarg),
        O::I32AtomicRmw16XorU { memarg } => m("i32.atomic.rmw16.xor_u", memarg),
        O::I64AtomicRmw8XorU { memarg } => m("i64.atomic.rmw8.xor_u", memarg),
        O::I64AtomicRmw16XorU { memarg } => m("i64.atomic.rmw16.xor_u", memarg),
        O::I64AtomicRmw32XorU { memarg } => m("i64.atomic.rmw32.xor_u", memarg),
        O::I32AtomicRmwXchg { memarg } => m("i32.atomic.rmw.xchg", memarg),
        O::I64AtomicRmwXchg { memarg } => m("i64.atomic.rmw.xchg", memarg),
        O::I32AtomicRmw8XchgU { memarg } => m("i32.atomic.rmw8.xchg_u", memarg),
        O::I32AtomicRmw16XchgU { memarg } => m("i32.atomic.rmw16.xchg_u", memarg),
        O::I64AtomicRmw8XchgU { memarg } => m("i64.atomic.rmw8.xchg_u", memarg),
        O::I64AtomicRmw16XchgU { memarg } => m("i64.atomic.rmw16.xchg_u", memarg),
        O::I64AtomicRmw32XchgU { memarg } => m("i64.atomic.rmw32.xchg_u", memarg),
        O::I32AtomicRmwCmpxchg { memarg } => m("i32.atomic.rmw.cmpxchg", memarg),
        O::I64AtomicRmwCmpxchg { memarg } => m("i64.atomic.rmw.cmpxchg", memarg),
        O::I32AtomicRmw8CmpxchgU { memarg } => m("i32.atomic.rmw8.cmpxchg_u", memarg),
        O::I32AtomicRmw16CmpxchgU { memarg } => m("i32.atomic.rmw16.cmpxchg_u", memarg),
        O::I64AtomicRmw8CmpxchgU { memarg } => m("i64.atomic.rmw8.cmpxchg_u", memarg),
        O::I64AtomicRmw16CmpxchgU { memarg } => m("i64.atomic.rmw16.cmpxchg_u", memarg),
        O::I64AtomicRmw32CmpxchgU { memarg } => m("i64.atomic.rmw32.cmpxchg_u", memarg),
        O::V128Load { memarg } => simd(S::Load, memarg),
        O::V128Store { memarg } => simd(S::Store, memarg),
        O::V128Load8x8S { memarg } => simd(S::Extend(|| Instruction::I16x8ExtendLowI8x16S), memarg),
        O::V128Load8x8U { memarg } => simd(S::Extend(|| Instruction::I16x8ExtendLowI8x16U), memarg),
        O::V128Load16x4S { memarg } => simd(S::Extend(|| Instruction::I32x4ExtendLowI16x8S), memarg),
        O::V128Load16x4U { memarg } => simd(S::Extend(|| Instruction::I32x4ExtendLowI16x8U), memarg),
        O::V128Load32x2S { memarg } => simd(S::Extend(|| Instruction::I64x2ExtendLowI32x4S), memarg),
        O::V128Load32x2U { memarg } => simd(S::Extend(|| Instruction::I64x2ExtendLowI32x4U), memarg),
        O::V128Load8Splat { memarg } => simd(S::Splat("8", || Instruction::I8x16Splat), memarg),
        O::V128Load16Splat { memarg } => simd(S::Splat("16", || Instruction::I16x8Splat), memarg),
        O::V128Load32Splat { memarg } => simd(S::Splat("32", || Instruction::I32x4Splat), memarg),
        O::V128Load64Splat { memarg } => simd(S::Splat("64", || Instruction::I64x2Splat), memarg),
        O::V128Load32Zero { memarg } => simd(S::Zero("32"), memarg),
        O::V128Load64Zero { memarg } => simd(S::Zero("64"), memarg),
        O::V128Load8Lane { memarg, lane } => simd(S::LoadLane("8", *lane), memarg),
        O::V128Load16Lane { memarg, lane } => simd(S::LoadLane("16", *lane), memarg),
        O::V128Load32Lane { memarg, lane } => simd(S::LoadLane("32", *lane), memarg),
        O::V128Load64Lane { memarg, lane } => simd(S::LoadLane("64", *lane), memarg),
        O::V128Store8Lane { memarg, lane } => simd(S::StoreLane("s8", *lane), memarg),
        O::V128Store16Lane { memarg, lane } => simd(S::StoreLane("s16", *lane), memarg),
        O::V128Store32Lane { memarg, lane } => simd(S::StoreLane("s32", *lane), memarg),
        O::V128Store64Lane { memarg, lane } => simd(S::StoreLane("s64", *lane), memarg),
        _ => None,
    }
}

/// The offset of a memarg on a 32-bit memory (validation bounds it).
fn offset32(a: &MemArg) -> u32 {
    a.offset as u32
}

/// The memories an operator names that [`plan`] does not cover, with
/// the operator's name, so that none goes unlowered silently.
fn other_memory_use(op: &Operator<'_>) -> Option<(&'static str, u32)> {
    match op {
        Operator::MemoryDiscard { mem } => Some(("memory.discard", *mem)),
        _ => None,
    }
}

/// Phase 2: what the bodies need (see the module docs).
fn scan(module: &Module<'_>, native: u32) -> Result<Needs, Error> {
    let bad = |e: wasmparser::BinaryReaderError| Error::internal(format_args!("reading the linked module: {e}"));
    let mut needs = Needs::default();
    for (d, data) in module.datas.iter().enumerate() {
        if let wasmparser::DataKind::Active { memory_index, .. } = data.kind
            && memory_index != native
        {
            needs.segments.insert(d as u32);
            needs.add("data.active", &[memory_index])?;
        }
    }
    for body in &module.bodies {
        let mut ops = body.get_operators_reader().map_err(bad)?;
        while !ops.eof() {
            let op = ops.read().map_err(bad)?;
            match &op {
                Operator::MemoryCopy { dst_mem, src_mem } if (*dst_mem, *src_mem) != (native, native) => {
                    needs.add("memory.copy", &[*dst_mem, *src_mem])?
                }
                Operator::MemoryInit { data_index, mem } if *mem != native => {
                    needs.segments.insert(*data_index);
                    needs.add("memory.init", &[*mem])?;
                }
                Operator::DataDrop { data_index } => {
                    needs.dropped.insert(*data_index);
                }
                _ => {
                    if let Some((name, mem)) = other_memory_use(&op)
                        && mem != native
                    {
                        return Err(Error::new(
                            ErrorKind::Unsupported,
                            format!(
                                "`{name}` on memory {mem} cannot be lowered: the reserved module `{LOWERED_MODULE}` has no such operation"
                            ),
                        ));
                    }
                    match plan(&op) {
                        Some((_, mem)) if mem == native => {}
                        Some((Plan::WithOffset(name, _) | Plan::Call(name) | Plan::Float(name, ..), mem)) => {
                            needs.add(name, &[mem])?
                        }
                        Some((Plan::Simd(form, _), mem)) => {
                            for s in form.scalars() {
                                needs.add(s, &[mem])?;
                            }
                        }
                        None => {}
                    }
                }
            }
        }
    }
    if needs.dropped.iter().any(|d| needs.segments.contains(d)) {
        needs.add("data.drop", &[])?;
    }
    Ok(needs)
}

/// Renumbers what the output renumbers: defined functions shift by the
/// number of added imports, the native memory becomes memory 0.
struct Shift {
    imported_funcs: u32,
    added: u32,
    native: u32,
}

impl Reencode for Shift {
    type Error = Error;
    fn function_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        Ok(if i < self.imported_funcs { i } else { i + self.added })
    }
    fn memory_index(&mut self, i: u32) -> Result<u32, ReError<Error>> {
        if i == self.native {
            Ok(0)
        } else {
            Err(ReError::UserError(Error::internal(format_args!("memory {i} reached the encoder unlowered"))))
        }
    }
}

/// Scratch locals a body needs to rebuild SIMD accesses: an address, a
/// vector, an i64 and an i32 lane value.
#[derive(Clone, Copy)]
struct Scratch {
    addr: u32,
    vec: u32,
    wide: u32,
    narrow: u32,
}

/// One body being rewritten.
struct Body<'s> {
    shift: &'s mut Shift,
    /// Function index of each import field.
    imports: &'s BTreeMap<String, u32>,
    held: &'s BTreeSet<u32>,
    native: u32,
    code: Vec<u8>,
    scratch: Option<Scratch>,
    next_local: u32,
}

impl Body<'_> {
    fn emit(&mut self, i: Instruction<'_>) {
        i.encode(&mut self.code);
    }

    fn call(&mut self, instruction: &str, memories: &[u32]) -> Result<(), Error> {
        let f = self.imports.get(&field(instruction, memories)).copied().ok_or_else(|| {
            Error::internal(format_args!("import `{}` was not planned", field(instruction, memories)))
        })?;
        self.emit(Instruction::Call(f));
        Ok(())
    }

    fn scratch(&mut self) -> Scratch {
        *self.scratch.get_or_insert_with(|| {
            let s = Scratch {
                addr: self.next_local,
                vec: self.next_local + 1,
                wide: self.next_local + 2,
                narrow: self.next_local + 3,
            };
            self.next_local += 4;
            s
        })
    }

    /// Writes one operator.
    fn operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
        match op {
            Operator::MemoryCopy { dst_mem, src_mem } if (dst_mem, src_mem) != (self.native, self.native) => {
                self.call("memory.copy", &[dst_mem, src_mem])
            }
            Operator::MemoryInit { data_index, mem } if mem != self.native => {
                self.emit(Instruction::I32Const(data_index as i32));
                self.call("memory.init", &[mem])
            }
            Operator::DataDrop { data_index } => {
                self.emit(Instruction::DataDrop(data_index));
                if self.held.contains(&data_index) {
                    self.emit(Instruction::I32Const(data_index as i32));
                    self.call("data.drop", &[])?;
                }
                Ok(())
            }
            op => match plan(&op) {
                Some((p, mem)) if mem != self.native => match p {
                    Plan::WithOffset(name, offset) => {
                        self.emit(Instruction::I32Const(offset as i32));
                        self.call(name, &[mem])
                    }
                    Plan::Call(name) => self.call(name, &[mem]),
                    Plan::Float(name, offset, convert, store) => {
                        if store {
                            self.emit(convert());
                        }
                        self.emit(Instruction::I32Const(offset as i32));
                        self.call(name, &[mem])?;
                        if !store {
                            self.emit(convert());
                        }
                        Ok(())
                    }
                    Plan::Simd(form, memarg) => self.simd(form, memarg),
                },
                _ => {
                    let i = self.shift.instruction(op)?;
                    self.emit(i);
                    Ok(())
                }
            },
        }
    }

    /// A SIMD access on a lowered memory, rebuilt from scalar calls
    /// (docs/ABI.md: JavaScript cannot pass `v128`).
    fn simd(&mut self, form: SimdForm, memarg: MemArg) -> Result<(), Error> {
        use Instruction as I;
        let mem = memarg.memory;
        let off = offset32(&memarg);
        let at = |b: &mut Self, off: u32| b.emit(I::I32Const(off as i32));
        match form {
            SimdForm::Load => {
                let Some(high) = off.checked_add(8) else {
                    self.emit(I::Unreachable);
                    return Ok(());
                };
                let s = self.scratch();
                self.emit(I::LocalTee(s.addr));
                at(self, off);
                self.call("i64.load", &[mem])?;
                self.emit(I::I64x2Splat);
                self.emit(I::LocalGet(s.addr));
                at(self, high);
                self.call("i64.load", &[mem])?;
                self.emit(I::I64x2ReplaceLane(1));
            }
            SimdForm::Store => {
                let Some(high) = off.checked_add(8) else {
                    self.emit(I::Unreachable);
                    return Ok(());
                };
                let s = self.scratch();
                // The high half first: if it fits, so does the low one,
                // so nothing is written when the store traps.
                self.emit(I::LocalSet(s.vec));
                self.emit(I::LocalTee(s.addr));
                self.emit(I::LocalGet(s.vec));
                self.emit(I::I64x2ExtractLane(1));
                at(self, high);
                self.call("i64.store", &[mem])?;
                self.emit(I::LocalGet(s.addr));
                self.emit(I::LocalGet(s.vec));
                self.emit(I::I64x2ExtractLane(0));
                at(self, off);
                self.call("i64.store", &[mem])?;
            }
            SimdForm::Extend(extend) => {
                at(self, off);
                self.call("i64.load", &[mem])?;
                self.emit(I::I64x2Splat);
                self.emit(extend());
            }
            SimdForm::Splat(_, splat) => {
                at(self, off);
                self.call(form.scalars()[0], &[mem])?;
                self.emit(splat());
            }
            SimdForm::Zero(width) => {
                let s = self.scratch();
                at(self, off);
                self.call(form.scalars()[0], &[mem])?;
                if width == "32" {
                    self.emit(I::I64ExtendI32U);
                }
                self.emit(I::LocalSet(s.wide));
                self.emit(I::V128Const(0));
                self.emit(I::LocalGet(s.wide));
                self.emit(I::I64x2ReplaceLane(0));
            }
            SimdForm::LoadLane(width, lane) => {
                let s = self.scratch();
                self.emit(I::LocalSet(s.vec));
                at(self, off);
                self.call(form.scalars()[0], &[mem])?;
                let value = if width == "64" { s.wide } else { s.narrow };
                self.emit(I::LocalSet(value));
                self.emit(I::LocalGet(s.vec));
                self.emit(I::LocalGet(value));
                self.emit(match width {
                    "8" => I::I8x16ReplaceLane(lane),
                    "16" => I::I16x8ReplaceLane(lane),
                    "32" => I::I32x4ReplaceLane(lane),
                    _ => I::I64x2ReplaceLane(lane),
                });
            }
            SimdForm::StoreLane(width, lane) => {
                self.emit(match width {
                    "s8" => I::I8x16ExtractLaneU(lane),
                    "s16" => I::I16x8ExtractLaneU(lane),
                    "s32" => I::I32x4ExtractLane(lane),
                    _ => I::I64x2ExtractLane(lane),
                });
                at(self, off);
                self.call(form.scalars()[0], &[mem])?;
            }
        }
        Ok(())
    }
}

/// Lowers every memory but `native` (an index of the multi-memory module
/// `wasm`) into calls (see the module docs). `names` says what each memory
/// of `wasm` is, for messages (`memory 0 of module `app``).
pub(crate) fn lower(wasm: &[u8], native: u32, names: &[String]) -> Result<Vec<u8>, Error> {
    let module = Module::read(wasm)?;
    for (i, m) in module.memories.iter().enumerate() {
        if i as u32 == native {
            continue;
        }
        let what = || match names.get(i) {
            Some(n) => format!("{n} (memory {i} of the multi-memory link)"),
            None => format!("memory {i}"),
        };
        if m.ty.memory64 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{} is 64-bit and cannot be lowered: the reserved module's functions take i32 addresses (make it the native memory with --native-memory)",
                    what()
                ),
            ));
        }
        if m.ty.page_size_log2.is_some_and(|p| p != 16) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("{} has custom pages and cannot be lowered: JavaScript memories have 64 KiB pages", what()),
            ));
        }
    }
    let native = if module.memories.is_empty() { u32::MAX } else { native };
    let needs = scan(&module, native)?;
    let out = write(&module, native, &needs)?;
    let mut features = crate::features();
    features.remove(wasmparser::WasmFeatures::MULTI_MEMORY);
    wasmparser::Validator::new_with_features(features)
        .validate_all(&out)
        .map_err(|e| Error::internal(format_args!("the single-memory module does not validate ({e})")))?;
    Ok(out)
}

/// Phase 3: the output (see the module docs).
fn write(module: &Module<'_>, native: u32, needs: &Needs) -> Result<Vec<u8>, Error> {
    let bad = |e: wasmparser::BinaryReaderError| Error::internal(format_args!("reading the linked module: {e}"));
    let added = needs.imports.len() as u32;
    let mut shift = Shift { imported_funcs: module.imported_funcs, added, native };
    // The reserved imports' types follow every type of the module.
    let mut types: Vec<(Vec<wasm_encoder::ValType>, Vec<wasm_encoder::ValType>)> = Vec::new();
    let mut type_of = |params: &[multimem_abi::ValType], results: &[multimem_abi::ValType]| -> u32 {
        let sig = (
            params.iter().map(|v| crate::resolve::abi_val(*v)).collect::<Vec<_>>(),
            results.iter().map(|v| crate::resolve::abi_val(*v)).collect::<Vec<_>>(),
        );
        let at = types.iter().position(|t| *t == sig).unwrap_or_else(|| {
            types.push(sig);
            types.len() - 1
        });
        module.num_types + at as u32
    };
    let import_types: Vec<u32> = needs.imports.values().map(|row| type_of(row.params, row.results)).collect();
    let held_active: Vec<u32> = needs
        .segments
        .iter()
        .copied()
        .filter(|&d| matches!(module.datas[d as usize].kind, wasmparser::DataKind::Active { .. }))
        .collect();
    let start_type = (!held_active.is_empty()).then(|| type_of(&[], &[]));
    let mut imports_index = BTreeMap::new();
    for (k, (_, name)) in needs.imports.keys().enumerate() {
        imports_index.insert(name.clone(), module.imported_funcs + k as u32);
    }
    let num_funcs = module.func_types.len() as u32 + added;

    let mut out = Vec::with_capacity(module.bytes.len() + module.bytes.len() / 8 + 1024);
    out.extend_from_slice(&[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    let customs: Vec<wasmparser::CustomSectionReader<'_>> = module
        .sections
        .iter()
        .filter(|(id, _)| *id == 0)
        .map(|(_, r)| {
            wasmparser::CustomSectionReader::new(wasmparser::BinaryReader::new(&module.bytes[r.clone()], r.start))
        })
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    // `dylink.0` stays first.
    for c in customs.iter().filter(|c| c.name() == "dylink.0") {
        wasm_encoder::CustomSection { name: c.name().into(), data: c.data().into() }.append_to(&mut out);
    }
    // The known sections in their order, present or not in the input.
    let reader = |id: u8| {
        module
            .sections
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, r)| wasmparser::BinaryReader::new(&module.bytes[r.clone()], r.start))
    };

    let mut s = wasm_encoder::TypeSection::new();
    if let Some(r) = reader(1) {
        for g in wasmparser::TypeSectionReader::new(r).map_err(bad)? {
            shift.parse_recursive_type_group(s.ty(), g.map_err(bad)?)?;
        }
    }
    for (p, r) in &types {
        s.ty().function(p.iter().copied(), r.iter().copied());
    }
    section(&mut out, &s);

    let mut s = wasm_encoder::ImportSection::new();
    if let Some(r) = reader(2) {
        // Memory imports are memories 0.. in import order; only the
        // native one stays (by position: two imports may share a name).
        let mut memory = 0u32;
        for imp in wasmparser::ImportSectionReader::new(r).map_err(bad)?.into_imports() {
            let imp = imp.map_err(bad)?;
            if matches!(imp.ty, TypeRef::Memory(_)) {
                memory += 1;
                if memory - 1 != native {
                    continue;
                }
            }
            s.import(imp.module, imp.name, shift.entity_type(imp.ty)?);
        }
    }
    for ((_, name), &ty) in needs.imports.keys().zip(&import_types) {
        s.import(LOWERED_MODULE, name, wasm_encoder::EntityType::Function(ty));
    }
    section(&mut out, &s);

    let mut s = wasm_encoder::FunctionSection::new();
    if let Some(r) = reader(3) {
        for t in wasmparser::FunctionSectionReader::new(r).map_err(bad)? {
            s.function(t.map_err(bad)?);
        }
    }
    if let Some(t) = start_type {
        s.function(t);
    }
    section(&mut out, &s);

    let mut s = wasm_encoder::TableSection::new();
    if let Some(r) = reader(4) {
        shift.parse_table_section(&mut s, wasmparser::TableSectionReader::new(r).map_err(bad)?)?;
    }
    section(&mut out, &s);

    let mut s = wasm_encoder::MemorySection::new();
    let defined_from = module.memories.iter().filter(|m| m.import.is_some()).count() as u32;
    if let Some(r) = reader(5) {
        for (i, ty) in wasmparser::MemorySectionReader::new(r).map_err(bad)?.into_iter().enumerate() {
            if defined_from + i as u32 == native {
                s.memory(shift.memory_type(ty.map_err(bad)?)?);
            }
        }
    }
    section(&mut out, &s);

    let mut s = wasm_encoder::TagSection::new();
    if let Some(r) = reader(13) {
        shift.parse_tag_section(&mut s, wasmparser::TagSectionReader::new(r).map_err(bad)?)?;
    }
    section(&mut out, &s);

    let mut s = wasm_encoder::GlobalSection::new();
    if let Some(r) = reader(6) {
        shift.parse_global_section(&mut s, wasmparser::GlobalSectionReader::new(r).map_err(bad)?)?;
    }
    section(&mut out, &s);

    let mut s = wasm_encoder::ExportSection::new();
    if let Some(r) = reader(7) {
        for e in wasmparser::ExportSectionReader::new(r).map_err(bad)? {
            let e = e.map_err(bad)?;
            if e.kind == wasmparser::ExternalKind::Memory && e.index != native {
                continue;
            }
            let kind = shift.export_kind(e.kind)?;
            let index = shift.external_index(e.kind, e.index)?;
            s.export(e.name, kind, index);
        }
    }
    if native != u32::MAX {
        s.export(NATIVE_MEMORY_EXPORT, wasm_encoder::ExportKind::Memory, 0);
    }
    section(&mut out, &s);

    match (start_type, module.start) {
        (Some(_), _) => section(&mut out, &wasm_encoder::StartSection { function_index: num_funcs }),
        (None, Some(f)) => section(&mut out, &wasm_encoder::StartSection { function_index: shift.function_index(f)? }),
        (None, None) => {}
    }

    let mut s = wasm_encoder::ElementSection::new();
    if let Some(r) = reader(9) {
        shift.parse_element_section(&mut s, wasmparser::ElementSectionReader::new(r).map_err(bad)?)?;
    }
    section(&mut out, &s);

    if let Some(r) = reader(12) {
        let count = r.clone().read_var_u32().map_err(bad)?;
        section(&mut out, &wasm_encoder::DataCountSection { count });
    }

    write_code(module, &mut shift, native, needs, &imports_index, &held_active, start_type, &mut out)?;

    let mut s = wasm_encoder::DataSection::new();
    for data in &module.datas {
        match &data.kind {
            wasmparser::DataKind::Active { memory_index, offset_expr } if *memory_index == native => {
                s.active(0, &shift.const_expr(offset_expr.clone())?, data.data.iter().copied());
            }
            // Applied by the host (`data.active`); an empty passive
            // segment keeps every later segment's index.
            wasmparser::DataKind::Active { .. } => {
                s.passive(std::iter::empty());
            }
            wasmparser::DataKind::Passive => {
                s.passive(data.data.iter().copied());
            }
        }
    }
    section(&mut out, &s);

    for c in customs.iter().filter(|c| c.name() != "dylink.0") {
        if c.name() == "name" {
            name_section(c, &mut shift, native, &needs.imports, &mut out)?;
        } else {
            wasm_encoder::CustomSection { name: c.name().into(), data: c.data().into() }.append_to(&mut out);
        }
    }
    let json = memories_json(module, native);
    wasm_encoder::CustomSection { name: MEMORIES_SECTION.into(), data: json.as_bytes().into() }.append_to(&mut out);
    let mut segs = Vec::new();
    segs.extend_from_slice(&(needs.segments.len() as u32).to_le_bytes());
    for &d in &needs.segments {
        let bytes = module.datas[d as usize].data;
        segs.extend_from_slice(&d.to_le_bytes());
        segs.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        segs.extend_from_slice(bytes);
    }
    wasm_encoder::CustomSection { name: SEGMENTS_SECTION.into(), data: segs.into() }.append_to(&mut out);
    Ok(out)
}

/// Appends section `s` unless it is empty.
fn section<S: wasm_encoder::Section>(out: &mut Vec<u8>, s: &S) {
    let mut body = Vec::new();
    s.encode(&mut body);
    // An empty section encodes as its size, 1, and its count, 0; the
    // start and data count sections are written only when present.
    if body.len() > 2 || s.id() == 8 || s.id() == 12 {
        out.push(s.id());
        out.extend_from_slice(&body);
    }
}

trait AppendTo {
    fn append_to(&self, out: &mut Vec<u8>);
}

impl AppendTo for wasm_encoder::CustomSection<'_> {
    fn append_to(&self, out: &mut Vec<u8>) {
        out.push(0);
        self.encode(out);
    }
}

/// The code section: every body rewritten, then the start function that
/// applies the lowered memories' active segments.
#[allow(clippy::too_many_arguments)]
fn write_code(
    module: &Module<'_>,
    shift: &mut Shift,
    native: u32,
    needs: &Needs,
    imports: &BTreeMap<String, u32>,
    held_active: &[u32],
    start_type: Option<u32>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let bad = |e: wasmparser::BinaryReaderError| Error::internal(format_args!("reading the linked module: {e}"));
    let mut s = wasm_encoder::CodeSection::new();
    for (d, body) in module.bodies.iter().enumerate() {
        let ty = module.func_types[module.imported_funcs as usize + d] as usize;
        let mut locals: Vec<(u32, wasm_encoder::ValType)> = Vec::new();
        let mut next_local = module.func_params[ty].len() as u32;
        for l in body.get_locals_reader().map_err(bad)? {
            let (n, t) = l.map_err(bad)?;
            locals.push((n, shift.val_type(t)?));
            next_local += n;
        }
        let mut b = Body { shift, imports, held: &needs.segments, native, code: Vec::new(), scratch: None, next_local };
        let mut ops = body.get_operators_reader().map_err(bad)?;
        while !ops.eof() {
            b.operator(ops.read().map_err(bad)?)?;
        }
        if b.scratch.is_some() {
            use wasm_encoder::ValType as V;
            locals.extend([(1, V::I32), (1, V::V128), (1, V::I64), (1, V::I32)]);
        }
        let code = std::mem::take(&mut b.code);
        let mut f = wasm_encoder::Function::new(locals);
        f.raw(code);
        s.function(&f);
    }
    if start_type.is_some() {
        let mut f = wasm_encoder::Function::new([]);
        for &d in held_active {
            let wasmparser::DataKind::Active { memory_index, offset_expr } = &module.datas[d as usize].kind else {
                continue;
            };
            let mut ops = offset_expr.get_operators_reader();
            while !ops.eof() {
                match ops.read().map_err(bad)? {
                    Operator::End => {}
                    op => {
                        f.instruction(&shift.instruction(op)?);
                    }
                }
            }
            f.instruction(&Instruction::I32Const(d as i32));
            let call = imports
                .get(&field("data.active", &[*memory_index]))
                .ok_or_else(|| Error::internal("data.active was not planned"))?;
            f.instruction(&Instruction::Call(*call));
        }
        if let Some(s0) = module.start {
            f.instruction(&Instruction::Call(shift.function_index(s0)?));
        }
        f.instruction(&Instruction::End);
        s.function(&f);
    }
    section(out, &s);
    Ok(())
}

/// The `name` section with function indices shifted, the reserved imports
/// named after their fields, and only the native memory's name (as
/// memory 0).
fn name_section(
    c: &wasmparser::CustomSectionReader<'_>,
    shift: &mut Shift,
    native: u32,
    imports: &BTreeMap<(usize, String), &'static Lowered>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let wasmparser::KnownCustom::Name(reader) = c.as_known() else {
        wasm_encoder::CustomSection { name: c.name().into(), data: c.data().into() }.append_to(out);
        return Ok(());
    };
    let mut names = wasm_encoder::NameSection::new();
    let map = |m: wasmparser::NameMap<'_>, f: &mut dyn FnMut(u32) -> Option<u32>| -> wasm_encoder::NameMap {
        let mut out = wasm_encoder::NameMap::new();
        for n in m.into_iter().flatten() {
            if let Some(i) = f(n.index) {
                out.append(i, n.name);
            }
        }
        out
    };
    for sub in reader {
        let Ok(sub) = sub else {
            // A malformed name section is dropped, as engines ignore it.
            return Ok(());
        };
        match sub {
            wasmparser::Name::Function(m) => {
                let (imported, added) = (shift.imported_funcs, shift.added);
                let mut all: Vec<(u32, String)> = m
                    .into_iter()
                    .flatten()
                    .map(|n| (if n.index < imported { n.index } else { n.index + added }, n.name.to_string()))
                    .collect();
                for (k, (_, name)) in imports.keys().enumerate() {
                    all.push((imported + k as u32, format!("{LOWERED_MODULE}.{name}")));
                }
                all.sort_by_key(|(i, _)| *i);
                let mut nm = wasm_encoder::NameMap::new();
                for (i, n) in &all {
                    nm.append(*i, n);
                }
                names.functions(&nm);
            }
            wasmparser::Name::Local(ind) => {
                let mut im = wasm_encoder::IndirectNameMap::new();
                for f in ind.into_iter().flatten() {
                    let idx = shift.function_index(f.index)?;
                    im.append(idx, &map(f.names, &mut |i| Some(i)));
                }
                names.locals(&im);
            }
            wasmparser::Name::Memory(m) => {
                names.memories(&map(m, &mut |i| (i == native).then_some(0)));
            }
            wasmparser::Name::Global(m) => names.globals(&map(m, &mut Some)),
            wasmparser::Name::Table(m) => names.tables(&map(m, &mut Some)),
            wasmparser::Name::Tag(m) => names.tags(&map(m, &mut Some)),
            wasmparser::Name::Type(m) => names.types(&map(m, &mut Some)),
            wasmparser::Name::Element(m) => names.elements(&map(m, &mut Some)),
            wasmparser::Name::Data(m) => names.data(&map(m, &mut Some)),
            _ => {}
        }
    }
    names.as_custom().append_to(out);
    Ok(())
}

/// The `multimem.memories` section (docs/ABI.md).
fn memories_json(module: &Module<'_>, native: u32) -> String {
    let s = |x: &str| {
        let mut o = String::from("\"");
        for c in x.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    };
    let mut out = format!(
        "{{\"abi\":{},\"native\":{},\"memories\":[",
        multimem_abi::ABI_VERSION,
        if native == u32::MAX { "null".to_string() } else { native.to_string() }
    );
    let mut first = true;
    for (i, m) in module.memories.iter().enumerate() {
        if i as u32 == native {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&format!(
            "{{\"index\":{i},\"initial\":{},\"maximum\":{},\"shared\":{},\"import\":{},\"exports\":[{}]}}",
            m.ty.initial,
            m.ty.maximum.map_or("null".to_string(), |x| x.to_string()),
            m.ty.shared,
            m.import.map_or("null".to_string(), |(a, b)| format!("{{\"module\":{},\"name\":{}}}", s(a), s(b))),
            m.exports.iter().map(|e| s(e)).collect::<Vec<_>>().join(",")
        ));
    }
    out.push_str("]}");
    out
}
