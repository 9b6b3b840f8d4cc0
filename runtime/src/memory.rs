//! The own memory: where every buffer and all allocator state live.
//!
//! Addresses throughout the runtime are `u32` offsets into the *own* memory
//! (`docs/ABI.md`, "Memories"). On wasm32 that is linear memory 0 and an
//! address is a pointer. Natively (unit and property tests, benchmarks of the
//! Rust API) the own memory is simulated by a per-thread region reserved once
//! at its maximum size, so host pointers never move when it "grows" and
//! parallel tests each get an isolated heap. The allocator, buffer and
//! typed-data code above this module is identical on both.
//!
//! This module owns: address -> pointer translation, the current size in
//! pages, growth, and where the heap starts. It knows nothing about blocks.

use multimem_abi::PAGE_SIZE;

/// Address in own memory -> host pointer (identity on wasm32).
///
/// The caller must have checked that `addr` (and whatever it then touches)
/// lies inside the own memory.
#[inline(always)]
pub fn ptr(addr: u32) -> *mut u8 {
    imp::ptr(addr)
}

/// Current size of the own memory in 64 KiB pages.
#[inline]
pub fn pages() -> u32 {
    imp::pages()
}

/// Current size of the own memory in bytes (saturating at `u32::MAX + 1`
/// as u64, the wasm32 maximum).
#[inline]
pub fn size_bytes() -> u64 {
    pages() as u64 * PAGE_SIZE as u64
}

/// Grows the own memory by `delta` pages; `false` if it cannot (the
/// memory's maximum, or the host refused).
#[inline]
pub fn grow(delta: u32) -> bool {
    imp::grow(delta)
}

/// First address the allocator may use (16-aligned, above the Rust data,
/// stack and, natively, the allocator state).
#[inline]
pub fn heap_start() -> u32 {
    imp::heap_start()
}

/// Loads a little-endian `u32` at `addr`.
#[inline(always)]
pub fn load32(addr: u32) -> u32 {
    // SAFETY: callers only pass addresses inside the own memory; unaligned
    // reads are allowed so forged addresses cannot cause UB.
    unsafe { (ptr(addr) as *const u32).read_unaligned() }
}

/// Stores a little-endian `u32` at `addr`.
#[inline(always)]
pub fn store32(addr: u32, value: u32) {
    // SAFETY: as for `load32`.
    unsafe { (ptr(addr) as *mut u32).write_unaligned(value) }
}

/// Native only: where the heap starts in the simulated own memory; the
/// allocator state lies below it.
#[cfg(not(target_arch = "wasm32"))]
pub const NATIVE_HEAP_START: u32 = 16384;

#[cfg(target_arch = "wasm32")]
mod imp {
    use core::arch::wasm32;

    unsafe extern "C" {
        /// End of the Rust data and stack, provided by wasm-ld.
        static __heap_base: u8;
    }

    #[inline(always)]
    pub fn ptr(addr: u32) -> *mut u8 {
        addr as usize as *mut u8
    }

    #[inline]
    pub fn pages() -> u32 {
        wasm32::memory_size(0) as u32
    }

    #[inline]
    pub fn grow(delta: u32) -> bool {
        wasm32::memory_grow(0, delta as usize) != usize::MAX
    }

    #[inline]
    pub fn heap_start() -> u32 {
        let base = &raw const __heap_base as u32;
        (base + 15) & !15
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    //! Native simulation: one region per thread, reserved at `MAX_PAGES`
    //! with `alloc_zeroed` (the OS maps it lazily, so untouched pages cost
    //! nothing) and "grown" by moving a page count.
    extern crate std;
    use super::PAGE_SIZE;
    use core::cell::Cell;
    use std::alloc::{Layout, alloc_zeroed, dealloc};

    /// Reserved size of every thread's simulated own memory: 1 GiB.
    pub const MAX_PAGES: u32 = 16384;
    /// Pages the simulated memory starts with, like a module's initial size.
    pub const INITIAL_PAGES: u32 = 1;
    /// Where the heap starts natively: above the allocator state, which
    /// natively lives in the simulated memory (see `alloc::state`).
    pub const HEAP_START: u32 = super::NATIVE_HEAP_START;

    pub struct Region {
        base: Cell<*mut u8>,
        pages: Cell<u32>,
        pub limit: Cell<u32>,
    }

    impl Region {
        fn base(&self) -> *mut u8 {
            let b = self.base.get();
            if !b.is_null() {
                return b;
            }
            // SAFETY: non-zero size, valid alignment.
            let b = unsafe { alloc_zeroed(layout()) };
            assert!(!b.is_null(), "reserving the simulated own memory failed");
            self.base.set(b);
            self.pages.set(INITIAL_PAGES);
            b
        }
        pub fn reset(&self) {
            let b = self.base.replace(core::ptr::null_mut());
            if !b.is_null() {
                // SAFETY: allocated by `base` with the same layout.
                unsafe { dealloc(b, layout()) }
            }
            self.limit.set(MAX_PAGES);
        }
    }

    impl Drop for Region {
        fn drop(&mut self) {
            self.reset();
        }
    }

    fn layout() -> Layout {
        Layout::from_size_align(MAX_PAGES as usize * PAGE_SIZE as usize, 16).unwrap()
    }

    std::thread_local! {
        pub static REGION: Region = const {
            Region { base: Cell::new(core::ptr::null_mut()), pages: Cell::new(0), limit: Cell::new(MAX_PAGES) }
        };
    }

    #[inline(always)]
    pub fn ptr(addr: u32) -> *mut u8 {
        REGION.with(|r| r.base().wrapping_add(addr as usize))
    }

    pub fn pages() -> u32 {
        REGION.with(|r| {
            r.base();
            r.pages.get()
        })
    }

    pub fn grow(delta: u32) -> bool {
        REGION.with(|r| {
            r.base();
            let new = r.pages.get() as u64 + delta as u64;
            if new > r.limit.get() as u64 {
                return false;
            }
            r.pages.set(new as u32);
            true
        })
    }

    pub fn heap_start() -> u32 {
        HEAP_START
    }
}

/// Native only: forgets this thread's simulated own memory, so the next use
/// starts from a fresh, zeroed memory of the initial size (as a new wasm
/// instance would). Tests call it first to be independent of each other.
#[cfg(not(target_arch = "wasm32"))]
pub fn reset_native() {
    imp::REGION.with(|r| r.reset());
}

/// Native only: caps this thread's simulated own memory at `pages` (like a
/// wasm memory maximum), to test `OUT_OF_MEMORY`. Reset by [`reset_native`].
#[cfg(not(target_arch = "wasm32"))]
pub fn set_native_max_pages(pages: u32) {
    imp::REGION.with(|r| r.limit.set(pages.min(imp::MAX_PAGES)));
}
