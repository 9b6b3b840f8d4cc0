//! The `checked` build's exact buffer accounting.
//!
//! The entry points are `#[inline(never)]` and return at most a
//! `Result<()>` (one register), so the export wrappers that call them need
//! no shadow-stack frame of their own (see `export`).
//!
//! Three structures, all allocated from the runtime's own heap (blocks of
//! the same allocator, tagged so they are never mistaken for buffers):
//! - `live`: a hashbrown set of every live buffer address, so forged
//!   headers are `NOT_A_BUFFER`;
//! - `freed`: addresses that were buffers and were freed since, so a stale
//!   address is `FREED` exactly, even after its block was coalesced;
//! - a FIFO quarantine of the last [`QUARANTINE`] freed blocks, which stay
//!   out of reuse, so a stale address is not silently handed to a new
//!   buffer right away (within the window a use after free is always
//!   `FREED`; after it the block may back a new buffer again).

use crate::Result;
use crate::alloc::{self, st};
use crate::memory::{self, load32, store32};
use allocator_api2::alloc::{AllocError, Allocator, Layout};
use core::hash::{BuildHasher, Hasher};
use core::ptr::NonNull;
use hashbrown::HashSet;
use multimem_abi::{ErrorCode, HEADER_SIZE};

/// Freed blocks kept out of reuse (FIFO).
pub const QUARANTINE: u32 = 1024;

/// Tag of allocator blocks that hold these tables (not a buffer tag).
const TABLE_TAG: u32 = 0x7461_626C;

/// Allocates hashbrown's tables from the own heap.
#[derive(Clone, Copy, Default)]
pub struct HeapAlloc;

// SAFETY: blocks come from the runtime allocator, 16-aligned, and stay valid
// until deallocated; larger alignments are refused.
unsafe impl Allocator for HeapAlloc {
    fn allocate(&self, layout: Layout) -> core::result::Result<NonNull<[u8]>, AllocError> {
        if layout.align() > 16 || layout.size() > multimem_abi::MAX_LENGTH as usize {
            return Err(AllocError);
        }
        let size = alloc::block_size(layout.size() as u32);
        let b = alloc::alloc(size).map_err(|_| AllocError)?;
        store32(b + 4, TABLE_TAG);
        let p = memory::ptr(b + HEADER_SIZE);
        Ok(NonNull::slice_from_raw_parts(NonNull::new(p).ok_or(AllocError)?, size as usize - 16))
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, _layout: Layout) {
        let d = (ptr.as_ptr() as usize - memory::ptr(0) as usize) as u32;
        alloc::free(d - HEADER_SIZE);
    }
}

/// Hash of a 16-aligned address (multiplicative, high bits folded down).
#[derive(Clone, Copy, Default)]
pub struct AddrHash(u64);

impl Hasher for AddrHash {
    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^ (h >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = (i >> 4) as u64;
    }
}

impl BuildHasher for AddrHash {
    type Hasher = AddrHash;
    fn build_hasher(&self) -> AddrHash {
        AddrHash(0)
    }
}

type Set = HashSet<u32, AddrHash, HeapAlloc>;

/// The tables, stored in a block of the own heap; its address lives in the
/// allocator state so natively each thread has its own.
struct Tables {
    live: Set,
    freed: Set,
    /// Ring of quarantined data addresses (QUARANTINE words, own heap).
    ring: u32,
    ring_head: u32,
    ring_len: u32,
}

fn tables() -> Result<&'static mut Tables> {
    let s = st!();
    if s.checked[0] == 0 {
        let size = alloc::block_size(core::mem::size_of::<Tables>() as u32);
        let b = alloc::alloc(size)?;
        store32(b + 4, TABLE_TAG);
        let ring_size = alloc::block_size(QUARANTINE * 4);
        let r = match alloc::alloc(ring_size) {
            Ok(r) => r,
            Err(e) => {
                alloc::free(b);
                return Err(e);
            }
        };
        store32(r + 4, TABLE_TAG);
        let t = Tables {
            live: Set::with_hasher_in(AddrHash(0), HeapAlloc),
            freed: Set::with_hasher_in(AddrHash(0), HeapAlloc),
            ring: r + HEADER_SIZE,
            ring_head: 0,
            ring_len: 0,
        };
        let mut t = t;
        // Room for the first buffers, so the tables do not land between
        // the first buffers and split the heap.
        if t.live.try_reserve(64).is_err() || t.freed.try_reserve(64).is_err() {
            alloc::free(r);
            alloc::free(b);
            return Err(ErrorCode::OutOfMemory);
        }
        // SAFETY: the block is 16-aligned and large enough.
        unsafe { (memory::ptr(b + HEADER_SIZE) as *mut Tables).write(t) };
        s.checked[0] = b + HEADER_SIZE;
    }
    // SAFETY: initialised above; only this single-threaded runtime uses it.
    Ok(unsafe { &mut *(memory::ptr(s.checked[0]) as *mut Tables) })
}

/// Allocates the tables if they do not exist yet.
#[inline(never)]
pub fn ensure() -> Result<()> {
    tables().map(|_| ())
}

/// Exact liveness of `buffer`.
#[inline(never)]
pub fn check(buffer: u32) -> Result<()> {
    let t = tables()?;
    if t.live.contains(&buffer) {
        Ok(())
    } else if t.freed.contains(&buffer) {
        Err(ErrorCode::Freed)
    } else {
        Err(ErrorCode::NotABuffer)
    }
}

/// Records a new buffer at `buffer` (before its header is written).
#[inline(never)]
pub fn on_new(buffer: u32) -> Result<()> {
    let t = tables()?;
    t.live.try_reserve(1).map_err(|_| ErrorCode::OutOfMemory)?;
    t.freed.remove(&buffer);
    t.live.insert(buffer);
    Ok(())
}

/// Records that `buffer` was freed; quarantines its block and releases the
/// oldest quarantined one to the allocator when the ring is full.
#[inline(never)]
pub fn on_free(buffer: u32) {
    let Ok(t) = tables() else { return };
    t.live.remove(&buffer);
    // Growing `freed` can fail only when the own memory is exhausted; the
    // address then reads NOT_A_BUFFER instead of FREED, never as live.
    if t.freed.try_reserve(1).is_ok() {
        t.freed.insert(buffer);
    }
    if t.ring_len == QUARANTINE {
        let slot = t.ring + t.ring_head * 4;
        let old = load32(slot);
        alloc::free(old - HEADER_SIZE);
        store32(slot, buffer);
        t.ring_head = (t.ring_head + 1) % QUARANTINE;
    } else {
        store32(t.ring + ((t.ring_head + t.ring_len) % QUARANTINE) * 4, buffer);
        t.ring_len += 1;
    }
}

/// Releases every quarantined block to the allocator (tests use it to
/// check that the heap returns to its free state).
#[inline(never)]
pub fn flush_quarantine() {
    let Ok(t) = tables() else { return };
    while t.ring_len > 0 {
        let old = load32(t.ring + t.ring_head * 4);
        alloc::free(old - HEADER_SIZE);
        t.ring_head = (t.ring_head + 1) % QUARANTINE;
        t.ring_len -= 1;
    }
}

/// Linking hashbrown pulls in Rust's `alloc` crate, and a wasm cdylib that
/// links `alloc` must name a global allocator. The runtime itself never
/// uses it (every table above is allocated through [`HeapAlloc`]); it is
/// declared only so `runtime.wasm` links, and it too serves blocks of the
/// own heap.
#[cfg(all(target_arch = "wasm32", feature = "exports"))]
mod global {
    use super::HeapAlloc;
    use allocator_api2::alloc::Allocator;
    use core::alloc::{GlobalAlloc, Layout};
    use core::ptr::NonNull;

    struct OwnHeap;

    // SAFETY: delegates to `HeapAlloc`, which hands out distinct live blocks.
    unsafe impl GlobalAlloc for OwnHeap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            match HeapAlloc.allocate(layout) {
                Ok(p) => p.as_ptr() as *mut u8,
                Err(_) => core::ptr::null_mut(),
            }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if let Some(p) = NonNull::new(ptr) {
                // SAFETY: `ptr` came from `alloc` above.
                unsafe { HeapAlloc.deallocate(p, layout) }
            }
        }
    }

    #[global_allocator]
    static OWN_HEAP: OwnHeap = OwnHeap;
}
