//! Host implementations of the `multimem:intrinsics` imports, for running
//! `runtime.wasm` unlinked (`docs/ABI.md`: "Unlinked, a host may implement
//! each intrinsic as a function with the same behaviour"). Each function
//! does what the instruction it stands for does, including trapping with
//! `MemoryOutOfBounds` on an out-of-range access. `own` is the calling
//! instance's exported `memory`, shared or not (the shared builds,
//! docs/ABI.md "Threads"); `external` is the memory given to [`define`].
//! The linked form replaces all of this with single instructions.

use crate::RuntimeMemory;
use anyhow::Context as _;
use multimem_abi::INTRINSICS_MODULE as M;
use std::sync::atomic::{AtomicU32, Ordering};
use wasmtime::{Caller, Extern, Memory, Trap};

type WResult<T> = wasmtime::Result<T>;

/// The calling instance's own memory: its `memory` export, shared or not.
fn own<T>(caller: &mut Caller<'_, T>) -> WResult<RuntimeMemory> {
    match caller.get_export(multimem_abi::MEMORY_EXPORT) {
        Some(Extern::Memory(m)) => Ok(RuntimeMemory::Unshared(m)),
        Some(Extern::SharedMemory(m)) => Ok(RuntimeMemory::Shared(m)),
        _ => Err(wasmtime::Error::msg("intrinsic called from an instance without a `memory` export")),
    }
}

fn external(m: Option<Memory>) -> WResult<Memory> {
    m.ok_or_else(|| wasmtime::Error::msg("intrinsic needs an external memory, but none was given"))
}

fn range(len: usize, at: u32, n: u32) -> WResult<std::ops::Range<usize>> {
    let start = at as usize;
    let end = start.checked_add(n as usize).filter(|e| *e <= len).ok_or(Trap::MemoryOutOfBounds)?;
    Ok(start..end)
}

fn read<const N: usize, T>(caller: &Caller<'_, T>, m: Memory, at: u32) -> WResult<[u8; N]> {
    let data = m.data(caller);
    Ok(data[range(data.len(), at, N as u32)?].try_into().unwrap())
}

fn write<const N: usize, T>(caller: &mut Caller<'_, T>, m: Memory, at: u32, v: [u8; N]) -> WResult<()> {
    let data = m.data_mut(caller);
    let r = range(data.len(), at, N as u32)?;
    data[r].copy_from_slice(&v);
    Ok(())
}

/// Copies `len` bytes of the own memory at `s` to the external memory at
/// `d`, bounds-checked like `memory.copy` (both ranges checked before
/// anything is written).
fn copy_own_to_external<T>(
    c: &mut Caller<'_, T>,
    ext: Memory,
    d: u32,
    own: RuntimeMemory,
    s: u32,
    len: u32,
) -> WResult<()> {
    let dst = range(ext.data_size(&*c), d, len)?;
    let mut bytes = vec![0; len as usize];
    own.read(&*c, s as usize, &mut bytes).ok_or(Trap::MemoryOutOfBounds)?;
    ext.data_mut(c)[dst].copy_from_slice(&bytes);
    Ok(())
}

/// Copies `len` bytes of the external memory at `s` to the own memory at
/// `d`, bounds-checked like `memory.copy` (`RuntimeMemory::write` checks the
/// own range and writes nothing outside it).
fn copy_external_to_own<T>(
    c: &mut Caller<'_, T>,
    own: RuntimeMemory,
    d: u32,
    ext: Memory,
    s: u32,
    len: u32,
) -> WResult<()> {
    let data = ext.data(&*c);
    let bytes = data[range(data.len(), s, len)?].to_vec();
    own.write(c, d as usize, &bytes).ok_or(Trap::MemoryOutOfBounds)?;
    Ok(())
}

/// `i32.atomic.rmw.add` on the own memory: atomic in a shared memory (other
/// threads' instances add to the same refcounts), a plain read-add-write in
/// an unshared one, which only this thread reaches.
fn atomic_add_own<T>(c: &mut Caller<'_, T>, own: RuntimeMemory, a: u32, v: i32) -> WResult<i32> {
    if !a.is_multiple_of(4) {
        return Err(Trap::HeapMisaligned.into());
    }
    match own {
        RuntimeMemory::Unshared(m) => {
            let old = i32::from_le_bytes(read(c, m, a)?);
            write(c, m, a, old.wrapping_add(v).to_le_bytes())?;
            Ok(old)
        }
        RuntimeMemory::Shared(m) => {
            let data = m.data();
            let cell = &data[range(data.len(), a, 4)?.start];
            // SAFETY: an aligned word inside the memory, which `m` keeps
            // alive; every other access to it is atomic or a wasm race.
            Ok(unsafe { AtomicU32::from_ptr(cell.get() as *mut u32) }.fetch_add(v as u32, Ordering::SeqCst) as i32)
        }
    }
}

/// The names [`define`] implements; a test checks it is exactly the
/// intrinsic table of `docs/ABI.md`.
pub const IMPLEMENTED: &[&str] = &[
    "memory_copy_external_own",
    "memory_copy_own_external",
    "memory_fill_external",
    "memory_size_external",
    "i32_load8_u_external",
    "i32_store8_external",
    "i32_load_external",
    "i32_store_external",
    "i64_load_external",
    "i64_store_external",
    "f32_load_external",
    "f32_store_external",
    "f64_load_external",
    "f64_store_external",
    "i32_atomic_rmw_add_own",
];

/// Defines every intrinsic of `docs/ABI.md` in `linker` under
/// `multimem:intrinsics`, with `external` as the external memory (calls that
/// need it trap when it is `None`).
///
/// Unlike the rest of this crate it returns an `anyhow::Error` (callers
/// convert it with `?` or `wasmtime::Error::from_anyhow`); it will return
/// [`crate::Error`] once those callers are updated.
pub fn define<T: 'static>(linker: &mut wasmtime::Linker<T>, external_memory: Option<Memory>) -> anyhow::Result<()> {
    let e = external_memory;
    (|| -> WResult<()> {
        linker.func_wrap(M, "memory_copy_external_own", move |mut c: Caller<'_, T>, d: u32, s: u32, n: u32| {
            let o = own(&mut c)?;
            copy_own_to_external(&mut c, external(e)?, d, o, s, n)
        })?;
        linker.func_wrap(M, "memory_copy_own_external", move |mut c: Caller<'_, T>, d: u32, s: u32, n: u32| {
            let o = own(&mut c)?;
            copy_external_to_own(&mut c, o, d, external(e)?, s, n)
        })?;
        linker.func_wrap(M, "memory_fill_external", move |mut c: Caller<'_, T>, d: u32, v: u32, n: u32| {
            let data = external(e)?.data_mut(&mut c);
            let r = range(data.len(), d, n)?;
            data[r].fill(v as u8);
            Ok(())
        })?;
        linker.func_wrap(M, "memory_size_external", move |c: Caller<'_, T>| -> WResult<u32> {
            Ok((external(e)?.data_size(&c) / multimem_abi::PAGE_SIZE as usize) as u32)
        })?;
        linker.func_wrap(M, "i32_load8_u_external", move |c: Caller<'_, T>, a: u32| -> WResult<u32> {
            Ok(read::<1, T>(&c, external(e)?, a)?[0] as u32)
        })?;
        linker.func_wrap(M, "i32_store8_external", move |mut c: Caller<'_, T>, a: u32, v: u32| {
            write::<1, T>(&mut c, external(e)?, a, [v as u8])
        })?;
        linker.func_wrap(M, "i32_load_external", move |c: Caller<'_, T>, a: u32| -> WResult<i32> {
            Ok(i32::from_le_bytes(read(&c, external(e)?, a)?))
        })?;
        linker.func_wrap(M, "i32_store_external", move |mut c: Caller<'_, T>, a: u32, v: i32| {
            write(&mut c, external(e)?, a, v.to_le_bytes())
        })?;
        linker.func_wrap(M, "i64_load_external", move |c: Caller<'_, T>, a: u32| -> WResult<i64> {
            Ok(i64::from_le_bytes(read(&c, external(e)?, a)?))
        })?;
        linker.func_wrap(M, "i64_store_external", move |mut c: Caller<'_, T>, a: u32, v: i64| {
            write(&mut c, external(e)?, a, v.to_le_bytes())
        })?;
        linker.func_wrap(M, "f32_load_external", move |c: Caller<'_, T>, a: u32| -> WResult<f32> {
            Ok(f32::from_le_bytes(read(&c, external(e)?, a)?))
        })?;
        linker.func_wrap(M, "f32_store_external", move |mut c: Caller<'_, T>, a: u32, v: f32| {
            write(&mut c, external(e)?, a, v.to_le_bytes())
        })?;
        linker.func_wrap(M, "f64_load_external", move |c: Caller<'_, T>, a: u32| -> WResult<f64> {
            Ok(f64::from_le_bytes(read(&c, external(e)?, a)?))
        })?;
        linker.func_wrap(M, "f64_store_external", move |mut c: Caller<'_, T>, a: u32, v: f64| {
            write(&mut c, external(e)?, a, v.to_le_bytes())
        })?;
        linker.func_wrap(M, "i32_atomic_rmw_add_own", move |mut c: Caller<'_, T>, a: u32, v: i32| -> WResult<i32> {
            let o = own(&mut c)?;
            atomic_add_own(&mut c, o, a, v)
        })?;
        Ok(())
    })()
    .map_err(anyhow::Error::from)
    .context("defining the host intrinsics")
}

#[cfg(test)]
mod tests {
    #[test]
    fn implements_exactly_the_abi_table() {
        let mut table: Vec<_> = multimem_abi::INTRINSICS.iter().map(|i| i.name).collect();
        let mut ours = super::IMPLEMENTED.to_vec();
        table.sort();
        ours.sort();
        assert_eq!(table, ours);
    }
}
