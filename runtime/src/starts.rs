//! The map of buffer starts: what makes `NOT_A_BUFFER` exact in every build
//! (`docs/ABI.md`, "Buffers and the header").
//!
//! One bit per 16-byte granule of the own memory, indexed by address: bit
//! `a / 16` is set when `a - 16` is the start of a block of the heap that
//! was handed out as a buffer: a live buffer, or a freed one whose block is
//! still a block of its own (free, quick-listed or quarantined; not merged
//! into a neighbour, not reused). Its header is then the runtime's own, so
//! its tag tells live from freed. Any other address is `NOT_A_BUFFER`,
//! whatever bytes lie before it: data inside a buffer can look like a
//! header, but its bit is clear.
//!
//! Invariant: bits are set only at block starts (plus 16). `buffer::new`
//! sets the bit of the buffer it makes ([`set`]); `alloc` clears the bit of
//! a block that it merges into a free neighbour ([`unset`]); splitting a
//! free block creates block starts only inside it, where no bit is set.
//!
//! Where it lives: at the end of the own memory, from `alloc::top()` (the
//! end of the heap) on, 1/128 of the memory. The heap never reaches into it,
//! and when the memory grows `alloc` moves it to the new end (see
//! `alloc::relayout`), so it never splits the free space.
//!
//! Cost: `buffer::new` sets one bit (a load and a store), `buffer::check`
//! tests one (one load), freeing into a quick list touches none, and a
//! merge in the coalescing heap clears one per merged neighbour.

use crate::alloc;
use crate::memory::{load32, store32};

/// Bytes of map for an own memory of `mem_end` bytes: one bit per 16 bytes,
/// rounded up to 16 bytes.
#[inline]
pub fn bytes_for(mem_end: u64) -> u32 {
    (mem_end.div_ceil(128).next_multiple_of(16)) as u32
}

/// Address of the map word holding the bit of `a` (`a` below the end of the
/// memory).
#[inline(always)]
fn word(a: u32) -> u32 {
    alloc::top() + ((a >> 7) & !3)
}

/// Mask of the bit of `a` in its word.
#[inline(always)]
fn bit(a: u32) -> u32 {
    1 << ((a >> 4) & 31)
}

/// Whether `a` (16-aligned, below `alloc::top()`) is the start of a buffer
/// that the heap handed out and no block has covered since.
#[inline(always)]
pub fn is_set(a: u32) -> bool {
    load32(word(a)) & bit(a) != 0
}

/// Marks `a` as the start of a new buffer.
#[inline(always)]
pub fn set(a: u32) {
    let w = word(a);
    store32(w, load32(w) | bit(a));
}

/// Unmarks `a`: its block was merged into a free neighbour. Out of line:
/// two call sites on the coalescing path, where a call costs nothing
/// measurable and saves `runtime.wasm` bytes.
#[inline(never)]
pub fn unset(a: u32) {
    let w = word(a);
    store32(w, load32(w) & !bit(a));
}
