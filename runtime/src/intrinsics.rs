//! The `multimem:intrinsics` imports this runtime uses (`docs/ABI.md`,
//! "Intrinsics"), and their native stand-ins.
//!
//! On wasm32 each is an import that the linker replaces with the instruction
//! it stands for; only the ones used are imported (the `atomic-refcounts`
//! build alone imports `i32_atomic_rmw_add_own`). Natively the external
//! memory is a per-thread byte vector, so the same copy code is testable.

#[cfg(target_arch = "wasm32")]
mod imp {
    #[link(wasm_import_module = "multimem:intrinsics")]
    unsafe extern "C" {
        /// `memory.copy own external`: `len` bytes from external `src` to own `dst`.
        pub fn memory_copy_own_external(dst: u32, src: u32, len: u32);
        /// `memory.copy external own`: `len` bytes from own `src` to external `dst`.
        pub fn memory_copy_external_own(dst: u32, src: u32, len: u32);
        /// `memory.size external`.
        pub fn memory_size_external() -> u32;
        /// `i32.atomic.rmw.add` on the own memory; returns the old value.
        #[cfg(feature = "atomic-refcounts")]
        pub fn i32_atomic_rmw_add_own(addr: u32, delta: u32) -> u32;
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    extern crate std;
    use core::cell::RefCell;
    use std::vec::Vec;

    std::thread_local! {
        static EXTERNAL: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// Native stand-in for `memory.copy own external`.
    pub unsafe fn memory_copy_own_external(dst: u32, src: u32, len: u32) {
        EXTERNAL.with(|e| {
            let e = e.borrow();
            let src = &e[src as usize..][..len as usize];
            // SAFETY: the caller checked `dst..dst+len` against the own memory.
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), crate::memory::ptr(dst), len as usize) }
        })
    }

    /// Native stand-in for `memory.copy external own`.
    pub unsafe fn memory_copy_external_own(dst: u32, src: u32, len: u32) {
        EXTERNAL.with(|e| {
            let mut e = e.borrow_mut();
            let dst = &mut e[dst as usize..][..len as usize];
            // SAFETY: the caller checked `src..src+len` against the own memory.
            unsafe { core::ptr::copy_nonoverlapping(crate::memory::ptr(src), dst.as_mut_ptr(), len as usize) }
        })
    }

    /// Native stand-in for `memory.size external`.
    pub unsafe fn memory_size_external() -> u32 {
        EXTERNAL.with(|e| (e.borrow().len() / multimem_abi::PAGE_SIZE as usize) as u32)
    }

    /// Native stand-in for `i32.atomic.rmw.add` on the own memory.
    #[cfg(feature = "atomic-refcounts")]
    pub unsafe fn i32_atomic_rmw_add_own(addr: u32, delta: u32) -> u32 {
        let old = crate::memory::load32(addr);
        crate::memory::store32(addr, old.wrapping_add(delta));
        old
    }

    /// Replaces this thread's simulated external memory.
    pub fn set_external(bytes: Vec<u8>) {
        EXTERNAL.with(|e| *e.borrow_mut() = bytes);
    }

    /// A copy of this thread's simulated external memory.
    pub fn external() -> Vec<u8> {
        EXTERNAL.with(|e| e.borrow().clone())
    }
}

/// Native only: sets the simulated external memory (its length should be a
/// multiple of the page size; `memory_size_external` rounds down).
#[cfg(not(target_arch = "wasm32"))]
pub use imp::{external, set_external};

/// `memory.copy` from the external memory into the own memory.
#[inline(always)]
pub fn copy_in(own_dst: u32, external_src: u32, len: u32) {
    // SAFETY: callers check both ranges first.
    unsafe { imp::memory_copy_own_external(own_dst, external_src, len) }
}

/// `memory.copy` from the own memory into the external memory.
#[inline(always)]
pub fn copy_out(external_dst: u32, own_src: u32, len: u32) {
    // SAFETY: callers check both ranges first.
    unsafe { imp::memory_copy_external_own(external_dst, own_src, len) }
}

/// Size of the external memory in bytes.
#[inline(always)]
pub fn external_size_bytes() -> u64 {
    // SAFETY: no preconditions.
    unsafe { imp::memory_size_external() as u64 * multimem_abi::PAGE_SIZE as u64 }
}

/// Atomically adds `delta` to the own-memory word at `addr`; returns the
/// old value.
#[cfg(feature = "atomic-refcounts")]
#[inline(always)]
pub fn i32_atomic_rmw_add_own(addr: u32, delta: u32) -> u32 {
    // SAFETY: `addr` is the refcount word of a validated buffer.
    unsafe { imp::i32_atomic_rmw_add_own(addr, delta) }
}
