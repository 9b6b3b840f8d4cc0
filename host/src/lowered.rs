//! The single-memory build's reserved module (`multimem:memory`, docs/ABI.md
//! "Single-memory build") over wasmtime memories, so that such a module
//! runs in an engine with multi-memory turned off.
//!
//! [`LoweredMemories::define`] reads the module's `multimem.memories` and
//! `multimem.segments` sections, creates its defined lowered memories,
//! takes its imported ones from the embedder's [`wasmtime::Linker`] (as the
//! multi-memory build would have imported them), and defines every
//! `multimem:memory` function the module imports. Each function works on
//! the real memory with the instruction's semantics: bounds checked before
//! anything is written (a memory-out-of-bounds trap otherwise), atomics
//! aligned (a misaligned-heap trap), `wait` only on shared memories. The
//! native memory, which copies may read or write, is the calling
//! instance's `multimem:native-memory` export, found when called.
//!
//! The functions are host functions, so each instruction on a lowered
//! memory costs a call out of wasm; instructions on the native memory are
//! untouched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use multimem_abi::{LOWERED_MODULE, LoweredKind, MEMORIES_SECTION, NATIVE_MEMORY_EXPORT, SEGMENTS_SECTION};
use wasmtime::{AsContext, AsContextMut, Caller, Extern, Linker, Module, Store, Trap, Val, ValType};

use crate::{Error, Result};

/// A lowered memory: a plain or a shared wasmtime memory.
#[derive(Clone)]
pub enum LoweredMemory {
    /// An unshared memory.
    Plain(wasmtime::Memory),
    /// A shared memory.
    Shared(wasmtime::SharedMemory),
}

impl LoweredMemory {
    fn of_extern(e: Extern) -> Option<LoweredMemory> {
        match e {
            Extern::Memory(m) => Some(LoweredMemory::Plain(m)),
            Extern::SharedMemory(m) => Some(LoweredMemory::Shared(m)),
            _ => None,
        }
    }

    /// The memory as an [`Extern`], to define or export it.
    pub fn to_extern(&self) -> Extern {
        match self {
            LoweredMemory::Plain(m) => Extern::Memory(*m),
            LoweredMemory::Shared(m) => Extern::SharedMemory(m.clone()),
        }
    }

    /// Its base pointer and length in bytes, as of now (memory can move
    /// when it grows: never kept across a call into wasm or a grow).
    fn raw(&self, cx: impl AsContext) -> (*mut u8, usize) {
        match self {
            LoweredMemory::Plain(m) => (m.data_ptr(&cx), m.data_size(&cx)),
            LoweredMemory::Shared(m) => (m.data().as_ptr() as *mut u8, m.data_size()),
        }
    }

    fn pages(&self, cx: impl AsContext) -> u64 {
        match self {
            LoweredMemory::Plain(m) => m.size(&cx),
            LoweredMemory::Shared(m) => m.size(),
        }
    }

    fn maximum(&self, cx: impl AsContext) -> Option<u64> {
        match self {
            LoweredMemory::Plain(m) => m.ty(&cx).maximum(),
            LoweredMemory::Shared(m) => m.ty().maximum(),
        }
    }

    /// Whether this memory can satisfy an import of `want`'s type (the
    /// spec's import matching: at least the minimum now, a maximum within
    /// the import's, the same sharedness).
    fn matches(&self, cx: impl AsContext, want: &MemoryDesc) -> bool {
        let shared = matches!(self, LoweredMemory::Shared(_));
        let max_ok = match want.maximum {
            None => true,
            Some(w) => self.maximum(&cx).is_some_and(|h| h <= w),
        };
        shared == want.shared && self.pages(&cx) >= want.initial && max_ok
    }

    fn grow(&self, cx: impl AsContextMut, delta: u64) -> Option<u64> {
        match self {
            LoweredMemory::Plain(m) => m.grow(cx, delta).ok(),
            LoweredMemory::Shared(m) => m.grow(delta).ok(),
        }
    }
}

/// The segments the host holds (`multimem.segments`), by data-segment
/// index; `None` once dropped.
type Segments = Arc<Mutex<HashMap<u32, Option<Vec<u8>>>>>;

/// A module's lowered memories, once defined.
pub struct LoweredMemories {
    /// By index in the multi-memory build.
    memories: Vec<(u32, LoweredMemory)>,
    /// The names the module exported lowered memories under.
    exports: Vec<(String, u32)>,
}

impl LoweredMemories {
    /// Whether `wasm` is a single-memory build (it has the
    /// `multimem.memories` section).
    pub fn is_single_memory(wasm: &[u8]) -> bool {
        custom_section(wasm, MEMORIES_SECTION).is_some()
    }

    /// The memories a single-memory build `wasm` still takes from its
    /// importer although they are no longer imports of the module: the
    /// lowered memories that the multi-memory build imported, as
    /// (module, name, type). [`LoweredMemories::define`] expects each to
    /// be defined in the linker.
    pub fn imported(wasm: &[u8]) -> Result<Vec<(String, String, wasmtime::MemoryType)>> {
        let json = custom_section(wasm, MEMORIES_SECTION).ok_or_else(|| {
            Error::msg(format!("the module has no `{MEMORIES_SECTION}` section: not a single-memory build"))
        })?;
        Ok(Description::parse(json)?
            .memories
            .into_iter()
            .filter_map(|m| {
                let (module, name) = m.import?;
                let ty = if m.shared {
                    wasmtime::MemoryType::shared(m.initial as u32, m.maximum.unwrap_or(m.initial) as u32)
                } else {
                    wasmtime::MemoryType::new(m.initial as u32, m.maximum.map(|x| x as u32))
                };
                Some((module, name, ty))
            })
            .collect())
    }

    /// Prepares `module` (whose bytes are `wasm`) to be instantiated with
    /// `linker`: see the module docs. An imported lowered memory must be
    /// defined in `linker` already, under the import's name.
    pub fn define<T: 'static>(
        store: &mut Store<T>,
        linker: &mut Linker<T>,
        wasm: &[u8],
        module: &Module,
    ) -> Result<LoweredMemories> {
        let json = custom_section(wasm, MEMORIES_SECTION).ok_or_else(|| {
            Error::msg(format!("the module has no `{MEMORIES_SECTION}` section: not a single-memory build"))
        })?;
        let desc = Description::parse(json)?;
        let segments: Segments = Arc::new(Mutex::new(parse_segments(custom_section(wasm, SEGMENTS_SECTION))?));
        let mut memories = Vec::new();
        let mut exports = Vec::new();
        for m in &desc.memories {
            let memory = match &m.import {
                Some((module_name, name)) => {
                    let e = linker.get(&mut *store, module_name, name).ok().ok_or_else(|| {
                        Error::msg(format!(
                            "the single-memory build imports memory {} as `{module_name}.{name}`, but the linker does not define it",
                            m.index
                        ))
                    })?;
                    let memory = LoweredMemory::of_extern(e).ok_or_else(|| {
                        Error::msg(format!("`{module_name}.{name}` is defined in the linker, but not as a memory"))
                    })?;
                    // As instantiation would check the import's type.
                    if !memory.matches(&*store, m) {
                        return Err(Error::msg(format!(
                            "incompatible import type for `{module_name}.{name}`: memory {} of the single-memory build wants (memory {}{}{}), the linker defines (memory {}{}{})",
                            m.index,
                            m.initial,
                            m.maximum.map(|x| format!(" {x}")).unwrap_or_default(),
                            if m.shared { " shared" } else { "" },
                            memory.pages(&*store),
                            memory.maximum(&*store).map(|x| format!(" {x}")).unwrap_or_default(),
                            if matches!(memory, LoweredMemory::Shared(_)) { " shared" } else { "" },
                        )));
                    }
                    memory
                }
                None => {
                    let ty = if m.shared {
                        wasmtime::MemoryType::shared(m.initial as u32, m.maximum.unwrap_or(m.initial) as u32)
                    } else {
                        wasmtime::MemoryType::new(m.initial as u32, m.maximum.map(|x| x as u32))
                    };
                    if m.shared {
                        LoweredMemory::Shared(
                            wasmtime::SharedMemory::new(store.engine(), ty)
                                .map_err(|e| Error::from(e).context(format!("creating lowered memory {}", m.index)))?,
                        )
                    } else {
                        LoweredMemory::Plain(
                            wasmtime::Memory::new(&mut *store, ty)
                                .map_err(|e| Error::from(e).context(format!("creating lowered memory {}", m.index)))?,
                        )
                    }
                }
            };
            for e in &m.exports {
                exports.push((e.clone(), m.index));
            }
            memories.push((m.index, memory));
        }
        let lowered = LoweredMemories { memories, exports };
        for import in module.imports() {
            if import.module() != LOWERED_MODULE {
                continue;
            }
            let (instruction, targets) = parse_field(import.name())?;
            let row = multimem_abi::lowered(instruction)
                .ok_or_else(|| Error::msg(format!("`{LOWERED_MODULE}.{}` is not in the ABI table", import.name())))?;
            let mut mems = Vec::new();
            for t in &targets {
                mems.push(if Some(*t) == desc.native {
                    Target::Native
                } else {
                    Target::Lowered(lowered.memory(*t).cloned().ok_or_else(|| {
                        Error::msg(format!(
                            "`{LOWERED_MODULE}.{}` names memory {t}, which is not lowered",
                            import.name()
                        ))
                    })?)
                });
            }
            let ty = wasmtime::FuncType::new(
                store.engine(),
                row.params.iter().map(|v| val_type(*v)),
                row.results.iter().map(|v| val_type(*v)),
            );
            let op = Op::new(instruction, row.kind, row.align, mems, segments.clone());
            linker
                .func_new(LOWERED_MODULE, import.name(), ty, move |mut caller, params, results| {
                    op.call(&mut caller, params, results)
                })
                .map_err(|e| Error::from(e).context(format!("defining `{LOWERED_MODULE}.{}`", import.name())))?;
        }
        Ok(lowered)
    }

    /// The lowered memory that was memory `index` of the multi-memory build.
    pub fn memory(&self, index: u32) -> Option<&LoweredMemory> {
        self.memories.iter().find(|(i, _)| *i == index).map(|(_, m)| m)
    }

    /// The lowered memory the module exported as `name` (the multi-memory
    /// build's export, which the single-memory module no longer has).
    pub fn export(&self, name: &str) -> Option<&LoweredMemory> {
        self.exports.iter().find(|(n, _)| n == name).and_then(|(_, i)| self.memory(*i))
    }

    /// Every (export name, memory) pair of the lowered memories.
    pub fn exports(&self) -> impl Iterator<Item = (&str, &LoweredMemory)> {
        self.exports.iter().filter_map(|(n, i)| self.memory(*i).map(|m| (n.as_str(), m)))
    }
}

/// The bytes of the custom section `name` of `wasm`, if any.
fn custom_section<'a>(wasm: &'a [u8], name: &str) -> Option<&'a [u8]> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload
            && c.name() == name
        {
            return Some(c.data());
        }
    }
    None
}

/// `multimem.segments`: count, then (index, length, bytes) each.
fn parse_segments(bytes: Option<&[u8]>) -> Result<HashMap<u32, Option<Vec<u8>>>> {
    let mut out = HashMap::new();
    let Some(b) = bytes else { return Ok(out) };
    let bad = || Error::msg(format!("the `{SEGMENTS_SECTION}` section is malformed"));
    let u32_at = |at: usize| -> Result<u32> {
        b.get(at..at + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap_or_default())).ok_or_else(bad)
    };
    let count = u32_at(0)?;
    let mut at = 4;
    for _ in 0..count {
        let index = u32_at(at)?;
        let len = u32_at(at + 4)? as usize;
        let data = b.get(at + 8..at + 8 + len).ok_or_else(bad)?;
        out.insert(index, Some(data.to_vec()));
        at += 8 + len;
    }
    Ok(out)
}

/// A lowered memory as `multimem.memories` describes it.
struct MemoryDesc {
    index: u32,
    initial: u64,
    maximum: Option<u64>,
    shared: bool,
    import: Option<(String, String)>,
    exports: Vec<String>,
}

/// The `multimem.memories` section.
struct Description {
    native: Option<u32>,
    memories: Vec<MemoryDesc>,
}

impl Description {
    fn parse(bytes: &[u8]) -> Result<Description> {
        let bad = |what: &str| Error::msg(format!("the `{MEMORIES_SECTION}` section is malformed: {what}"));
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(&e.to_string()))?;
        if v["abi"].as_u64() != Some(multimem_abi::ABI_VERSION as u64) {
            return Err(bad(&format!("ABI version {} (this host has {})", v["abi"], multimem_abi::ABI_VERSION)));
        }
        let native = v["native"].as_u64().map(|n| n as u32);
        let mut memories = Vec::new();
        for m in v["memories"].as_array().ok_or_else(|| bad("no memories"))? {
            let import = match &m["import"] {
                serde_json::Value::Null => None,
                i => Some((
                    i["module"].as_str().ok_or_else(|| bad("import module"))?.to_string(),
                    i["name"].as_str().ok_or_else(|| bad("import name"))?.to_string(),
                )),
            };
            memories.push(MemoryDesc {
                index: m["index"].as_u64().ok_or_else(|| bad("index"))? as u32,
                initial: m["initial"].as_u64().ok_or_else(|| bad("initial"))?,
                maximum: m["maximum"].as_u64(),
                shared: m["shared"].as_bool().unwrap_or(false),
                import,
                exports: m["exports"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            });
        }
        Ok(Description { native, memories })
    }
}

/// `i32.load:1` into (`i32.load`, [1]); `data.drop` into (`data.drop`, []).
fn parse_field(field: &str) -> Result<(&str, Vec<u32>)> {
    let mut parts = field.split(':');
    let instruction = parts.next().unwrap_or_default();
    let mems = parts
        .map(|p| {
            p.parse::<u32>().map_err(|_| Error::msg(format!("`{LOWERED_MODULE}.{field}`: bad memory index `{p}`")))
        })
        .collect::<Result<_>>()?;
    Ok((instruction, mems))
}

fn val_type(v: multimem_abi::ValType) -> ValType {
    match v {
        multimem_abi::ValType::I32 => ValType::I32,
        multimem_abi::ValType::I64 => ValType::I64,
        multimem_abi::ValType::F32 => ValType::F32,
        multimem_abi::ValType::F64 => ValType::F64,
    }
}

/// A memory an operation names.
#[derive(Clone)]
enum Target {
    /// The calling instance's native memory.
    Native,
    Lowered(LoweredMemory),
}

/// The value type a load produces or a store takes: the instruction's
/// prefix.
#[derive(Clone, Copy, PartialEq)]
enum Num {
    I32,
    I64,
    F32,
    F64,
}

/// The read-modify-write operation of an `atomic_rmw` row.
#[derive(Clone, Copy)]
enum Rmw {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Xchg,
}

/// One defined import: what it does, on which memories.
struct Op {
    kind: LoweredKind,
    num: Num,
    /// Access width in bytes.
    width: u64,
    signed: bool,
    align: u32,
    rmw: Rmw,
    mems: Vec<Target>,
    segments: Segments,
}

fn oob() -> wasmtime::Error {
    Trap::MemoryOutOfBounds.into()
}

impl Op {
    /// Reads the instruction's name for what the kind leaves open: the
    /// value type (its prefix), the access width (`8`, `16`, `32` in the
    /// name, else the type's), signedness (`_s`) and the rmw operation.
    fn new(instruction: &str, kind: LoweredKind, align: u32, mems: Vec<Target>, segments: Segments) -> Op {
        let num = match &instruction[..3] {
            "i64" => Num::I64,
            "f32" => Num::F32,
            "f64" => Num::F64,
            _ => Num::I32,
        };
        // The natural alignment is the access width, narrow forms included
        // (`i64.load32_s`, `i32.atomic.rmw8.add_u`, `wait32`).
        let width = 1 << align;
        let rmw = [("add", Rmw::Add), ("sub", Rmw::Sub), ("and", Rmw::And), ("or", Rmw::Or), ("xor", Rmw::Xor)]
            .into_iter()
            .find(|(n, _)| instruction.rsplit('.').next().is_some_and(|last| last.trim_end_matches("_u") == *n))
            .map_or(Rmw::Xchg, |(_, r)| r);
        Op { kind, num, width, signed: instruction.ends_with("_s"), align, rmw, mems, segments }
    }

    /// The memory `k` of the field, resolved for this call.
    fn memory<T>(&self, caller: &mut Caller<'_, T>, k: usize) -> wasmtime::Result<LoweredMemory> {
        match &self.mems[k] {
            Target::Lowered(m) => Ok(m.clone()),
            Target::Native => {
                caller.get_export(NATIVE_MEMORY_EXPORT).and_then(LoweredMemory::of_extern).ok_or_else(|| {
                    wasmtime::Error::msg(format!("the calling instance exports no `{NATIVE_MEMORY_EXPORT}`"))
                })
            }
        }
    }

    /// The effective address of `address + offset` for an access of
    /// `width` bytes in a memory of `len` bytes, or a trap.
    fn ea(address: &Val, offset: &Val, width: u64, len: usize) -> wasmtime::Result<usize> {
        let ea = u64::from(address.unwrap_i32() as u32) + u64::from(offset.unwrap_i32() as u32);
        if ea + width > len as u64 { Err(oob()) } else { Ok(ea as usize) }
    }

    fn call<T>(&self, caller: &mut Caller<'_, T>, p: &[Val], r: &mut [Val]) -> wasmtime::Result<()> {
        match self.kind {
            LoweredKind::Size => {
                let m = self.memory(caller, 0)?;
                r[0] = Val::I32(m.pages(&*caller) as i32);
            }
            LoweredKind::Grow => {
                let m = self.memory(caller, 0)?;
                let delta = u64::from(p[0].unwrap_i32() as u32);
                r[0] = Val::I32(m.grow(&mut *caller, delta).map_or(-1, |old| old as i32));
            }
            LoweredKind::Load => {
                let m = self.memory(caller, 0)?;
                let (ptr, len) = m.raw(&*caller);
                let ea = Op::ea(&p[0], &p[1], self.width, len)?;
                // SAFETY: `ea + width <= len`, checked above; the memory is
                // not resized during this call.
                let bytes = unsafe { std::slice::from_raw_parts(ptr.add(ea), self.width as usize) };
                r[0] = self.value(bytes);
            }
            LoweredKind::Store => {
                let m = self.memory(caller, 0)?;
                let (ptr, len) = m.raw(&*caller);
                let ea = Op::ea(&p[0], &p[2], self.width, len)?;
                let bytes = bits(&p[1]).to_le_bytes();
                // SAFETY: in bounds, as above.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.add(ea), self.width as usize) };
            }
            LoweredKind::Fill => {
                let m = self.memory(caller, 0)?;
                let (ptr, len) = m.raw(&*caller);
                let (d, v, n) =
                    (p[0].unwrap_i32() as u32 as usize, p[1].unwrap_i32() as u8, p[2].unwrap_i32() as u32 as usize);
                if d + n > len {
                    return Err(oob());
                }
                // SAFETY: `d + n <= len`.
                unsafe { std::ptr::write_bytes(ptr.add(d), v, n) };
            }
            LoweredKind::Copy => {
                let dst = self.memory(caller, 0)?;
                let src = self.memory(caller, 1)?;
                let (dp, dl) = dst.raw(&*caller);
                let (sp, sl) = src.raw(&*caller);
                let (d, s, n) = (
                    p[0].unwrap_i32() as u32 as usize,
                    p[1].unwrap_i32() as u32 as usize,
                    p[2].unwrap_i32() as u32 as usize,
                );
                if d + n > dl || s + n > sl {
                    return Err(oob());
                }
                // SAFETY: both ranges in bounds; `copy` allows overlap (the
                // same memory on both sides).
                unsafe { std::ptr::copy(sp.add(s), dp.add(d), n) };
            }
            LoweredKind::Init | LoweredKind::Active => {
                let m = self.memory(caller, 0)?;
                let (ptr, len) = m.raw(&*caller);
                let (d, s, n, seg) = match self.kind {
                    LoweredKind::Init => {
                        (p[0].unwrap_i32() as u32, p[1].unwrap_i32() as u32, Some(p[2].unwrap_i32() as u32), p[3])
                    }
                    _ => (p[0].unwrap_i32() as u32, 0, None, p[1]),
                };
                let seg = seg.unwrap_i32() as u32;
                let mut segments = self.segments.lock().unwrap_or_else(|e| e.into_inner());
                let data: &[u8] = segments.get(&seg).and_then(|s| s.as_deref()).unwrap_or(&[]);
                let n = n.unwrap_or(data.len() as u32) as usize;
                let (d, s) = (d as usize, s as usize);
                if s + n > data.len() || d + n > len {
                    return Err(oob());
                }
                // SAFETY: `d + n <= len`; `data` is host memory.
                unsafe { std::ptr::copy_nonoverlapping(data[s..].as_ptr(), ptr.add(d), n) };
                if self.kind == LoweredKind::Active {
                    segments.insert(seg, None);
                }
            }
            LoweredKind::Drop => {
                let seg = p[0].unwrap_i32() as u32;
                self.segments.lock().unwrap_or_else(|e| e.into_inner()).insert(seg, None);
            }
            LoweredKind::AtomicLoad
            | LoweredKind::AtomicStore
            | LoweredKind::AtomicRmw
            | LoweredKind::AtomicCmpxchg
            | LoweredKind::AtomicNotify
            | LoweredKind::AtomicWait => self.atomic(caller, p, r)?,
        }
        Ok(())
    }

    /// A loaded value of this op's type, sign- or zero-extended.
    fn value(&self, bytes: &[u8]) -> Val {
        let mut b = [0u8; 8];
        b[..bytes.len()].copy_from_slice(bytes);
        let raw = u64::from_le_bytes(b);
        let bits = self.width * 8;
        let v = if self.signed && bits < 64 { ((raw << (64 - bits)) as i64 >> (64 - bits)) as u64 } else { raw };
        match self.num {
            Num::I32 => Val::I32(v as i32),
            Num::I64 => Val::I64(v as i64),
            Num::F32 => Val::F32(v as u32),
            Num::F64 => Val::F64(v),
        }
    }

    fn atomic<T>(&self, caller: &mut Caller<'_, T>, p: &[Val], r: &mut [Val]) -> wasmtime::Result<()> {
        let m = self.memory(caller, 0)?;
        let (ptr, len) = m.raw(&*caller);
        let offset = &p[p.len() - 1];
        let ea = Op::ea(&p[0], offset, self.width, len)?;
        if ea % (1usize << self.align) != 0 {
            return Err(Trap::HeapMisaligned.into());
        }
        // SAFETY: in bounds and aligned to the access width; wasm
        // memory is shared with other threads only through atomics or
        // racy plain accesses, as in native code.
        let at = unsafe { ptr.add(ea) };
        match self.kind {
            LoweredKind::AtomicLoad => r[0] = self.old_value(unsafe { atomic_load(at, self.width) }),
            LoweredKind::AtomicStore => {
                // SAFETY: as above.
                unsafe { atomic_rmw(at, self.width, Rmw::Xchg, bits(&p[1])) };
            }
            LoweredKind::AtomicRmw => {
                r[0] = self.old_value(unsafe { atomic_rmw(at, self.width, self.rmw, bits(&p[1])) });
            }
            LoweredKind::AtomicCmpxchg => {
                r[0] = self.old_value(unsafe { atomic_cmpxchg(at, self.width, bits(&p[1]), bits(&p[2])) });
            }
            LoweredKind::AtomicNotify => {
                let count = p[1].unwrap_i32() as u32;
                r[0] = Val::I32(match &m {
                    LoweredMemory::Shared(s) => s.atomic_notify(ea as u64, count)? as i32,
                    LoweredMemory::Plain(_) => 0,
                });
            }
            LoweredKind::AtomicWait => {
                let LoweredMemory::Shared(s) = &m else { return Err(Trap::AtomicWaitNonSharedMemory.into()) };
                let timeout = p[2].unwrap_i64();
                let timeout = (timeout >= 0).then(|| std::time::Duration::from_nanos(timeout as u64));
                let result = if self.width == 4 {
                    s.atomic_wait32(ea as u64, p[1].unwrap_i32() as u32, timeout)?
                } else {
                    s.atomic_wait64(ea as u64, p[1].unwrap_i64() as u64, timeout)?
                };
                r[0] = Val::I32(match result {
                    wasmtime::WaitResult::Ok => 0,
                    wasmtime::WaitResult::Mismatch => 1,
                    wasmtime::WaitResult::TimedOut => 2,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The old value of an atomic, zero-extended to this op's type.
    fn old_value(&self, v: u64) -> Val {
        match self.num {
            Num::I64 => Val::I64(v as i64),
            _ => Val::I32(v as i32),
        }
    }
}

/// A value's bits, for stores.
fn bits(v: &Val) -> u64 {
    match v {
        Val::I32(x) => *x as u32 as u64,
        Val::I64(x) => *x as u64,
        Val::F32(x) => *x as u64,
        Val::F64(x) => *x,
        _ => 0,
    }
}

/// # Safety
/// `at` points at `width` readable bytes aligned to `width`.
unsafe fn atomic_load(at: *mut u8, width: u64) -> u64 {
    use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering::SeqCst};
    // SAFETY: by the caller's contract.
    unsafe {
        match width {
            1 => AtomicU8::from_ptr(at).load(SeqCst) as u64,
            2 => AtomicU16::from_ptr(at.cast()).load(SeqCst) as u64,
            4 => AtomicU32::from_ptr(at.cast()).load(SeqCst) as u64,
            _ => AtomicU64::from_ptr(at.cast()).load(SeqCst),
        }
    }
}

macro_rules! rmw_width {
    ($a:expr, $op:expr, $v:expr, $t:ty) => {{
        let a = $a;
        let v = $v as $t;
        (match $op {
            Rmw::Add => a.fetch_add(v, SeqCst),
            Rmw::Sub => a.fetch_sub(v, SeqCst),
            Rmw::And => a.fetch_and(v, SeqCst),
            Rmw::Or => a.fetch_or(v, SeqCst),
            Rmw::Xor => a.fetch_xor(v, SeqCst),
            Rmw::Xchg => a.swap(v, SeqCst),
        }) as u64
    }};
}

/// # Safety
/// As [`atomic_load`], writable.
unsafe fn atomic_rmw(at: *mut u8, width: u64, op: Rmw, v: u64) -> u64 {
    use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering::SeqCst};
    // SAFETY: by the caller's contract.
    unsafe {
        match width {
            1 => rmw_width!(AtomicU8::from_ptr(at), op, v, u8),
            2 => rmw_width!(AtomicU16::from_ptr(at.cast()), op, v, u16),
            4 => rmw_width!(AtomicU32::from_ptr(at.cast()), op, v, u32),
            _ => rmw_width!(AtomicU64::from_ptr(at.cast()), op, v, u64),
        }
    }
}

/// # Safety
/// As [`atomic_rmw`].
unsafe fn atomic_cmpxchg(at: *mut u8, width: u64, expected: u64, replacement: u64) -> u64 {
    use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering::SeqCst};
    macro_rules! cx {
        ($a:expr, $t:ty) => {{
            // The expected value is wrapped to the width, as the
            // instruction does.
            match $a.compare_exchange(expected as $t, replacement as $t, SeqCst, SeqCst) {
                Ok(old) | Err(old) => old as u64,
            }
        }};
    }
    // SAFETY: by the caller's contract.
    unsafe {
        match width {
            1 => cx!(AtomicU8::from_ptr(at), u8),
            2 => cx!(AtomicU16::from_ptr(at.cast()), u16),
            4 => cx!(AtomicU32::from_ptr(at.cast()), u32),
            _ => cx!(AtomicU64::from_ptr(at.cast()), u64),
        }
    }
}
