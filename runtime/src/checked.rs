//! The `checked` build's quarantine of freed blocks.
//!
//! Every build answers `NOT_A_BUFFER` and `FREED` from the map of buffer
//! starts and the header tag ([`crate::starts`]): a freed buffer's start is
//! `FREED` until another block covers it. What the checked build adds is
//! time: a freed block is not handed back to the allocator at once but kept
//! in a FIFO of the last [`QUARANTINE`] freed blocks, so a stale address is
//! not silently taken by a new buffer right away (within the window a use
//! after free is always `FREED`; after it the block may back a new buffer,
//! whose address is then live again).
//!
//! The quarantine never makes the memory grow: before the allocator grows
//! it, quarantined blocks go back to the heap, oldest first, until the
//! request fits ([`release_oldest`], from `alloc`). Blocks leave the
//! quarantine into the coalescing heap, so after everything is freed the
//! free space is one block again. The ring is part of the allocator state
//! (a static), not of the heap.

use crate::alloc::{self, st};
use multimem_abi::HEADER_SIZE;

/// Freed blocks kept out of reuse (FIFO).
pub const QUARANTINE: u32 = 1024;

/// The ring of quarantined buffer addresses, oldest at `head`.
#[repr(C)]
pub struct Quarantine {
    ring: [u32; QUARANTINE as usize],
    head: u32,
    len: u32,
}

/// Quarantines the block of `buffer`, whose tag already says `FREED_TAG`;
/// when the ring is full the oldest block goes back to the heap.
#[inline(never)]
pub fn on_free(buffer: u32) {
    let q = &mut st!().quarantine;
    if q.len == QUARANTINE {
        release_oldest();
    }
    let q = &mut st!().quarantine;
    q.ring[((q.head + q.len) % QUARANTINE) as usize] = buffer;
    q.len += 1;
}

/// Hands the oldest quarantined block to the coalescing heap; `false` if
/// the quarantine is empty.
pub fn release_oldest() -> bool {
    let q = &mut st!().quarantine;
    if q.len == 0 {
        return false;
    }
    let buffer = q.ring[q.head as usize];
    q.head = (q.head + 1) % QUARANTINE;
    q.len -= 1;
    alloc::free_coalescing(buffer - HEADER_SIZE);
    true
}

/// Releases every quarantined block to the heap (tests use it to check that
/// the heap returns to one free block).
pub fn flush_quarantine() {
    while release_oldest() {}
}

/// Blocks in the quarantine now.
pub fn quarantined() -> u32 {
    st!().quarantine.len
}
