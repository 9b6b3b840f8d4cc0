//! The runtime memory as the host reaches it: a wasmtime [`Memory`], or a
//! [`SharedMemory`] in the shared builds (`docs/ABI.md`, "Threads"), where
//! other threads use it at the same time.
//!
//! Over a shared memory every header word is read and written with an
//! atomic access, and bytes are copied with plain loads and stores: another
//! thread writing the same bytes at the same time races, as in wasm. No
//! Rust slice is ever made over a shared memory (another thread could
//! change it under the borrow), so the slice methods of
//! [`Runtime`](crate::Runtime) refuse it and
//! [`Runtime::read_bytes`](crate::Runtime::read_bytes) /
//! [`Runtime::write_bytes`](crate::Runtime::write_bytes) copy instead.

use std::sync::atomic::{AtomicU32, Ordering};
use wasmtime::{AsContext, AsContextMut, Extern, Instance, Memory, SharedMemory};

/// The runtime memory of one instance.
#[derive(Clone, Debug)]
pub enum RuntimeMemory {
    /// A memory of this store only (every build but the shared ones).
    Unshared(Memory),
    /// A memory shared by the instances of several threads.
    Shared(SharedMemory),
}

impl RuntimeMemory {
    /// The instance's memory export `name`, shared or not.
    pub(crate) fn find(store: impl AsContextMut, instance: &Instance, name: &str) -> Option<RuntimeMemory> {
        match instance.get_export(store, name)? {
            Extern::Memory(m) => Some(RuntimeMemory::Unshared(m)),
            Extern::SharedMemory(m) => Some(RuntimeMemory::Shared(m)),
            _ => None,
        }
    }

    /// Its size in bytes now.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        match self {
            RuntimeMemory::Unshared(m) => m.data_size(store),
            RuntimeMemory::Shared(m) => m.data_size(),
        }
    }

    /// The little-endian word at `at`, if it lies inside (atomically in a
    /// shared memory; an unaligned address is read byte by byte there).
    pub(crate) fn word(&self, store: impl AsContext, at: u32) -> Option<u32> {
        let at = at as usize;
        match self {
            RuntimeMemory::Unshared(m) => {
                Some(u32::from_le_bytes(m.data(store.as_context()).get(at..at.checked_add(4)?)?.try_into().ok()?))
            }
            RuntimeMemory::Shared(m) => {
                let data = m.data();
                data.get(at..at.checked_add(4)?)?;
                if at.is_multiple_of(4) {
                    // SAFETY: an aligned word inside the memory, which lives
                    // as long as `m`; other threads access it atomically or
                    // racing as wasm allows.
                    Some(unsafe { AtomicU32::from_ptr(data[at].get() as *mut u32) }.load(Ordering::SeqCst))
                } else {
                    let mut b = [0u8; 4];
                    // SAFETY: as above; plain byte reads.
                    (0..4).for_each(|i| b[i] = unsafe { data[at + i].get().read_volatile() });
                    Some(u32::from_le_bytes(b))
                }
            }
        }
    }

    /// Writes the little-endian word `value` at `at`; `None` if it lies
    /// outside (or, in a shared memory, is not 4-aligned).
    pub(crate) fn set_word(&self, mut store: impl AsContextMut, at: u32, value: u32) -> Option<()> {
        let at = at as usize;
        match self {
            RuntimeMemory::Unshared(m) => {
                m.data_mut(store.as_context_mut())
                    .get_mut(at..at.checked_add(4)?)?
                    .copy_from_slice(&value.to_le_bytes());
            }
            RuntimeMemory::Shared(m) => {
                let data = m.data();
                data.get(at..at.checked_add(4)?)?;
                if !at.is_multiple_of(4) {
                    return None;
                }
                // SAFETY: as in `word`.
                unsafe { AtomicU32::from_ptr(data[at].get() as *mut u32) }.store(value, Ordering::SeqCst);
            }
        }
        Some(())
    }

    /// Copies `dst.len()` bytes from `at` into `dst`; `None` if they do not
    /// all lie inside.
    pub(crate) fn read(&self, store: impl AsContext, at: usize, dst: &mut [u8]) -> Option<()> {
        match self {
            RuntimeMemory::Unshared(m) => {
                dst.copy_from_slice(m.data(store.as_context()).get(at..at.checked_add(dst.len())?)?);
            }
            RuntimeMemory::Shared(m) => {
                let src = m.data().get(at..at.checked_add(dst.len())?)?;
                // SAFETY: the range lies inside the memory; a racing writer
                // gives unspecified bytes, as in wasm.
                unsafe { std::ptr::copy_nonoverlapping(src.as_ptr() as *const u8, dst.as_mut_ptr(), dst.len()) };
            }
        }
        Some(())
    }

    /// Copies `src` to `at`; `None` (nothing written) if it does not all
    /// lie inside.
    pub(crate) fn write(&self, mut store: impl AsContextMut, at: usize, src: &[u8]) -> Option<()> {
        match self {
            RuntimeMemory::Unshared(m) => {
                m.data_mut(store.as_context_mut()).get_mut(at..at.checked_add(src.len())?)?.copy_from_slice(src);
            }
            RuntimeMemory::Shared(m) => {
                let dst = m.data().get(at..at.checked_add(src.len())?)?;
                // SAFETY: as in `read`.
                unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_ptr() as *mut u8, src.len()) };
            }
        }
        Some(())
    }
}
