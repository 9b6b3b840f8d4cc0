//! The runtime's intrinsics implemented by the host, so that runtime.wasm
//! can run *unlinked* next to the case (`docs/ABI.md`, "Intrinsics":
//! "a host may implement each intrinsic as a function with the same
//! behaviour").
//!
//! This is what makes `with-runtime` differential: the original side runs
//! the runtime with these host functions, the linked side with the
//! instructions the linker lowered them to, and the oracle compares the
//! two. Every function is derived from `multimem_abi::INTRINSICS` (the
//! table in `docs/ABI.md`): its signature, its instruction (`op`) and its
//! memory roles. `own` is the calling instance's export `memory` (the
//! runtime's). `external` follows the linker's documented rule
//! (`linker/src/lib.rs`, phase 6): the host's `env.memory` when an input
//! imports it, else a private empty memory ([`choose_external`]).
//!
//! Traps are the instruction's: `MemoryOutOfBounds` when an access leaves
//! its memory, `HeapMisaligned` for a misaligned atomic (checked after the
//! bounds, as wasmtime does for the instruction).

use crate::env::HostState;
use multimem_abi::{INTRINSICS, INTRINSICS_MODULE, Intrinsic, MemoryRole, Op};
use wasmtime::{Caller, Extern, Memory, Trap, Val, ValType};

fn val_type(t: multimem_abi::ValType) -> ValType {
    match t {
        multimem_abi::ValType::I32 => ValType::I32,
        multimem_abi::ValType::I64 => ValType::I64,
        multimem_abi::ValType::F32 => ValType::F32,
        multimem_abi::ValType::F64 => ValType::F64,
    }
}

fn memory(caller: &mut Caller<'_, HostState>, role: MemoryRole) -> wasmtime::Result<Memory> {
    let found = match role {
        MemoryRole::Own => caller.get_export(multimem_abi::MEMORY_EXPORT).and_then(Extern::into_memory),
        MemoryRole::External => caller.data().external,
    };
    found.ok_or_else(|| wasmtime::Error::msg(format!("no {role:?} memory for an intrinsic")))
}

/// The range `addr..addr + len` of `mem`, or the instruction's trap.
fn range(caller: &Caller<'_, HostState>, mem: Memory, addr: u32, len: u64) -> wasmtime::Result<std::ops::Range<usize>> {
    let start = u64::from(addr);
    if start + len > mem.data_size(caller) as u64 {
        return Err(Trap::MemoryOutOfBounds.into());
    }
    Ok(start as usize..(start + len) as usize)
}

fn width(op: Op) -> u64 {
    match op {
        Op::I32Load8U | Op::I32Store8 => 1,
        Op::I32Load | Op::I32Store | Op::F32Load | Op::F32Store | Op::I32AtomicRmwAdd => 4,
        Op::I64Load | Op::I64Store | Op::F64Load | Op::F64Store => 8,
        Op::MemoryCopy | Op::MemoryFill | Op::MemorySize => 0,
    }
}

/// Little-endian bytes of a stored value.
fn store_bytes(v: &Val, n: u64) -> Vec<u8> {
    let bits: u64 = match *v {
        Val::I32(x) => x as u32 as u64,
        Val::I64(x) => x as u64,
        Val::F32(b) => u64::from(b),
        Val::F64(b) => b,
        _ => 0,
    };
    bits.to_le_bytes()[..n as usize].to_vec()
}

fn call(caller: &mut Caller<'_, HostState>, i: &Intrinsic, p: &[Val], r: &mut [Val]) -> wasmtime::Result<()> {
    let u = |k: usize| p[k].unwrap_i32() as u32;
    let mem = memory(caller, i.memories[0])?;
    match i.op {
        Op::MemoryCopy => {
            let src_mem = memory(caller, i.memories[1])?;
            let src = range(caller, src_mem, u(1), u(2).into())?;
            let dst = range(caller, mem, u(0), u(2).into())?;
            let bytes = src_mem.data(&*caller)[src].to_vec();
            mem.data_mut(&mut *caller)[dst].copy_from_slice(&bytes);
        }
        Op::MemoryFill => {
            let dst = range(caller, mem, u(0), u(2).into())?;
            mem.data_mut(&mut *caller)[dst].fill(u(1) as u8);
        }
        Op::MemorySize => r[0] = Val::I32((mem.data_size(&*caller) / 65536) as i32),
        Op::I32AtomicRmwAdd => {
            let at = range(caller, mem, u(0), 4)?;
            if u(0) % 4 != 0 {
                return Err(Trap::HeapMisaligned.into());
            }
            let data = mem.data_mut(&mut *caller);
            let old = u32::from_le_bytes(data[at.clone()].try_into().expect("4 bytes"));
            data[at].copy_from_slice(&old.wrapping_add(u(1)).to_le_bytes());
            r[0] = Val::I32(old as i32);
        }
        Op::I32Store8 | Op::I32Store | Op::I64Store | Op::F32Store | Op::F64Store => {
            let at = range(caller, mem, u(0), width(i.op))?;
            let bytes = store_bytes(&p[1], width(i.op));
            mem.data_mut(&mut *caller)[at].copy_from_slice(&bytes);
        }
        Op::I32Load8U | Op::I32Load | Op::I64Load | Op::F32Load | Op::F64Load => {
            let at = range(caller, mem, u(0), width(i.op))?;
            let mut buf = [0u8; 8];
            buf[..at.len()].copy_from_slice(&mem.data(&*caller)[at]);
            let bits = u64::from_le_bytes(buf);
            r[0] = match i.op {
                Op::I32Load8U | Op::I32Load => Val::I32(bits as u32 as i32),
                Op::I64Load => Val::I64(bits as i64),
                Op::F32Load => Val::F32(bits as u32),
                _ => Val::F64(bits),
            };
        }
    }
    Ok(())
}

/// Defines every intrinsic of `multimem_abi::INTRINSICS` in `linker`, under
/// `multimem:intrinsics`.
pub fn define(
    linker: &mut wasmtime::Linker<HostState>,
    store: &mut wasmtime::Store<HostState>,
) -> wasmtime::Result<()> {
    let engine = store.engine().clone();
    for i in INTRINSICS {
        let ty = wasmtime::FuncType::new(
            &engine,
            i.params.iter().map(|&t| val_type(t)),
            i.results.iter().map(|&t| val_type(t)),
        );
        linker.func_new(INTRINSICS_MODULE, i.name, ty, move |mut caller, p, r| call(&mut caller, i, p, r))?;
    }
    Ok(())
}

/// Sets the intrinsics' `external` memory for a run of `modules`: the
/// host's `env.memory` (already in the store) if one of them imports it,
/// else a fresh private memory of 0 pages, as the linked module has then.
pub fn choose_external(
    store: &mut wasmtime::Store<HostState>,
    modules: &[(&str, &wasmtime::Module)],
) -> wasmtime::Result<()> {
    let imported =
        modules.iter().any(|(_, m)| m.imports().any(|i| i.module() == crate::env::MODULE && i.name() == "memory"));
    if !imported {
        let private = Memory::new(&mut *store, wasmtime::MemoryType::new(0, Some(0)))?;
        store.data_mut().external = Some(private);
    }
    Ok(())
}
