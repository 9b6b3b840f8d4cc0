//! The block allocator over the own memory.
//!
//! Two layers, both O(1) per operation whatever the number of live blocks:
//!
//! 1. **Quick lists** (size-classed free lists): one LIFO list per block size
//!    from 32 to [`QUICK_MAX`] bytes in 16-byte steps. Freeing a small block
//!    pushes it, allocating that size pops it: a handful of loads and stores.
//!    Quick-listed blocks are not coalesced, so the lists are kept short: a
//!    freed block is quick-listed only if its list is empty or the lists
//!    hold less than [`QUICK_BUDGET`] bytes; otherwise it goes straight to
//!    the coalescing heap. One block per class is what alloc/release pairs
//!    need; the budget keeps pinned small blocks from fragmenting the heap
//!    (measured in `bench/alloc`: pages used match dlmalloc's).
//! 2. **A coalescing TLSF heap** (two-level segregated fit) for large blocks
//!    and for refilling the quick lists: free blocks sit in 32 lists per
//!    power of two, found with two bitmap scans (`ctz`) after a capped look
//!    at the request's own list; in either list the smallest fitting block
//!    among the first [`EXACT_SCAN`] is taken (closer to best fit, fewer
//!    pages), split on allocation and merged with both neighbours on free
//!    through boundary tags.
//!
//! The allocator also tracks which memory was never handed out (still zero
//! from `memory.grow`), so `buffer::new` can skip zero-filling it: see
//! `State::clean` and [`alloc_zeroable`].
//!
//! Before the own memory grows, every quick-listed block is handed back to
//! the TLSF heap and coalesced ([`reclaim`]); each freed block is reclaimed
//! at most once, so this costs amortised O(1) per free and keeps the memory
//! footprint close to a fully coalescing allocator. In the `checked` build,
//! quarantined blocks are then released, oldest first, until the request
//! fits: the quarantine never makes the memory grow.
//!
//! The heap ends at [`top`]; above it, at the end of the own memory, lies
//! the map of buffer starts ([`crate::starts`], 1/128 of the memory); a
//! block merged into a free neighbour clears its bit there ([`tlsf_free`]).
//! When the memory grows, the map moves
//! to the new end and the heap extends over where it was ([`relayout`]);
//! growth is by at least 1/64 of the memory, so moving the map costs at
//! most half a byte per byte grown.
//!
//! Not done: returning memory to the host (wasm memories cannot shrink).
//! Threads: the shared builds (feature `shared`) run every function of this
//! module under the heap lock ([`crate::lock`]), taken by `buffer`; the
//! one thing other threads read without it, the map of buffer starts,
//! moves under the lock's sequence counter ([`relayout`]).
//!
//! Block layout (all words little-endian u32, `b` = block address, the data
//! of a buffer starts at `b + 16`; see `docs/ABI.md`, "the header"):
//!
//! ```text
//!   b+0   block word: size (multiple of 16) | FREE | PREV_FREE   (allocator-private)
//!   b+4   tag    \
//!   b+8   length  > owned by `buffer` while the block is in use
//!   b+12  refcount/
//! free block in the TLSF heap:  b+4 = FREED_TAG, b+8 = next, b+12 = prev,
//!                               last word = size (the boundary tag)
//! quick-listed block:           b+4 = FREED_TAG, b+8 = next, b+12 = 0
//! ```
//!
//! Free blocks keep `FREED_TAG` in the tag word so a stale buffer address is
//! reported as `FREED` for as long as the block is not reused. The allocator
//! touches only the block word of a block in use.

use crate::Result;
use crate::memory::{self, load32, store32};
use crate::starts;
use multimem_abi::{ErrorCode, FREED_TAG, PAGE_SIZE};

/// Smallest block: the header plus room for two free-list links and the
/// boundary tag of a free block.
pub const MIN_BLOCK: u32 = 32;
/// Largest block size served by the quick lists.
pub const QUICK_MAX: u32 = 1024;
/// Bytes the quick lists may hold beyond one block per class; past it
/// small blocks are freed into the coalescing heap.
pub const QUICK_BUDGET: u32 = 2 * 1024;
const QUICK_CLASSES: usize = (QUICK_MAX / 16 - 1) as usize;
// Array lengths are powers of two and indices are masked with `len - 1`, so
// no bounds check (and no panic path with its formatting code) is emitted.
const QUICK_SLOTS: usize = QUICK_CLASSES.next_power_of_two();

const FREE: u32 = 1;
const PREV_FREE: u32 = 2;
const FLAGS: u32 = 15;

/// Blocks of a list looked at for the best fit (see `tlsf_take`). Taking
/// the smallest of the first 8, rather than the first that fits, brought
/// the mixed workload of `bench/alloc` from 267 to 265 pages (median over 11
/// random sequences; 266 over 21, where dlmalloc needs 265); 16 gave no
/// fewer.
const EXACT_SCAN: u32 = 8;
/// log2 of the number of second-level lists per power of two.
const SL_BITS: u32 = 5;
const SL_COUNT: usize = 1 << SL_BITS;
/// First-level classes: sizes up to 2^32 in 16-byte units (26 used).
const FL_COUNT: usize = 26;
const FL_SLOTS: usize = 32;

/// Allocator state and the runtime's counters. Zero is the valid initial
/// state (the heap is set up lazily on the first slow-path allocation).
#[repr(C)]
pub struct State {
    /// End of the heap (= end of the own memory once initialised); 0 before.
    top: u32,
    /// Whether the block ending at `top` is free (the PREV_FREE bit of the
    /// non-existent block at `top`).
    tail_prev_free: u32,
    fl_bitmap: u32,
    sl_bitmap: [u32; FL_SLOTS],
    heads: [u32; FL_SLOTS * SL_COUNT],
    quick: [u32; QUICK_SLOTS],
    /// Every byte in `[clean, top)` is zero except the header (first 16
    /// bytes) and boundary tag (last 4 bytes) of the free block holding it:
    /// memory the heap has never handed out, as `memory.grow` gave it.
    /// Blocks carved from there need no zero-fill (see [`alloc_zeroable`]).
    clean: u32,
    /// `clean` before the latest slow-path allocation (`u32::MAX` when
    /// that block is to be treated as wholly dirty).
    zero_from: u32,
    /// Bytes of the blocks on quick lists. (Counting only the blocks
    /// beyond the first of each list would spare alloc+release pairs this
    /// word's updates, but let the lists hold more: 274 pages instead of
    /// 267 on the mixed workload of `bench/alloc`, median of 11 sequences.)
    quick_bytes: u32,
    /// Bytes of the map of buffer starts at `top` (0 before the heap is
    /// set up).
    map_bytes: u32,
    /// Code recorded by the last trapping export.
    pub last_error: u32,
    /// Buffer counters, kept by `buffer`.
    pub counters: Counters,
    /// The `checked` build's quarantine of freed blocks.
    #[cfg(feature = "checked")]
    pub quarantine: crate::checked::Quarantine,
    /// The release queue of `buffer_release_batch` (docs/ABI.md,
    /// "Ownership by GC objects"): hosts write addresses here and release
    /// them with one call. Zero-initialised like the rest, so it costs
    /// `runtime.wasm` no bytes. (The shared builds give each instance a
    /// queue of its own instead: `buffer::release_queue`.)
    #[cfg(not(feature = "shared"))]
    pub release_queue: [u32; multimem_abi::RELEASE_BATCH as usize],
    /// The shared builds' heap lock (`crate::lock`).
    #[cfg(feature = "shared")]
    pub lock: u32,
    /// The shared builds' sequence counter of moves of the map of buffer
    /// starts (`crate::lock::read_map`).
    #[cfg(feature = "shared")]
    pub map_seq: u32,
}

/// The buffer counters as running totals of what was created and what was
/// freed (all wrapping); `buffer::stats` reports the differences. Lane 0
/// counts buffers, lane 1 `lengthInBytes`, lane 2 block bytes (lane 3 is
/// padding), so each side is one 16-byte word that `buffer` updates with
/// one simd128 add and one store.
///
/// Why totals rather than live counts: a counter that `buffer::new`
/// increments and `release` decrements puts two dependent read-modify-writes
/// of one word into every alloc+release pair (each load waits for the
/// previous store to forward); and why one vector: an alloc+release pair
/// issues few instructions but many stores, so three counter stores per
/// side become one. Together with the one-store header (`buffer`) this took
/// the 16-256 B pairs of `bench/alloc` from about 12.0 to 11.4 ns.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default)]
pub struct Counters {
    /// Totals over buffers created: [buffers, bytes, block bytes, 0].
    pub new: [u32; 4],
    /// Totals over buffers freed: [buffers, bytes, block bytes, 0].
    pub freed: [u32; 4],
}

#[cfg(target_arch = "wasm32")]
static mut STATE: State = unsafe { core::mem::zeroed() };

/// The allocator state: a static on wasm32; natively it lives inside the
/// simulated own memory (below `memory::heap_start`) so each thread's heap is
/// isolated together with its state.
#[inline(always)]
pub fn state() -> *mut State {
    #[cfg(target_arch = "wasm32")]
    {
        &raw mut STATE
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        const { assert!(16 + core::mem::size_of::<State>() as u32 <= memory::NATIVE_HEAP_START) };
        memory::ptr(16) as *mut State
    }
}

/// The own-memory address of the state (of [`state`]'s pointee).
#[inline(always)]
pub fn state_address() -> u32 {
    #[cfg(target_arch = "wasm32")]
    {
        state() as u32
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        16
    }
}

macro_rules! st {
    () => {
        // SAFETY: the state is only touched by this single-threaded runtime
        // (natively: by the owning thread), never across a reentrant call;
        // in the shared builds, only under the heap lock (`crate::lock`).
        unsafe { &mut *$crate::alloc::state() }
    };
}
pub(crate) use st;

/// Block size (header included) for a buffer of `len` bytes; `len` must be
/// at most `MAX_LENGTH`, so this cannot overflow.
#[inline(always)]
pub fn block_size(len: u32) -> u32 {
    let s = (len + 31) & !15;
    if s < MIN_BLOCK { MIN_BLOCK } else { s }
}

/// Allocates a block of exactly `size` bytes (a multiple of 16, at least
/// [`MIN_BLOCK`]); returns its address. The caller owns words b+4..b+16
/// and the data; the contents are not zeroed.
#[inline(always)]
pub fn alloc(size: u32) -> Result<u32> {
    // Inlined, so the unused "known zero" address costs nothing.
    alloc_zeroable(size).map(|(b, _)| b)
}

/// Like [`alloc`], and also returns the address from which the block's
/// bytes are known to be zero (`u32::MAX` when none are): a buffer's data
/// needs zero-filling only below it. Quick-listed blocks are always dirty;
/// a block split off memory never handed out before is zero above the old
/// high-water mark (`State::clean`).
#[inline(always)]
pub fn alloc_zeroable(size: u32) -> Result<(u32, u32)> {
    if size <= QUICK_MAX {
        let s = st!();
        let class = (size / 16 - 2) as usize;
        let b = s.quick[class & (QUICK_SLOTS - 1)];
        if b != 0 {
            s.quick[class & (QUICK_SLOTS - 1)] = load32(b + 8);
            s.quick_bytes -= size;
            return Ok((b, u32::MAX));
        }
    }
    match alloc_slow(size) {
        0 => Err(ErrorCode::OutOfMemory),
        b => Ok((b, st!().zero_from)),
    }
}

/// Frees a block returned by [`alloc`].
#[inline(always)]
pub fn free(b: u32) {
    let s = st!();
    let size = size_of_block(b);
    store32(b + 4, FREED_TAG);
    let class = (size / 16).wrapping_sub(2) as usize & (QUICK_SLOTS - 1);
    let head = s.quick[class];
    if size <= QUICK_MAX && (head == 0 || s.quick_bytes + size <= QUICK_BUDGET) {
        // b+12 (the refcount word) needs no clearing: quick-listed blocks
        // never use it, and `reclaim` sets it when it lists them in TLSF.
        store32(b + 8, head);
        s.quick[class] = b;
        s.quick_bytes += size;
    } else {
        tlsf_free(b, size);
    }
}

/// Frees a block returned by [`alloc`] straight into the coalescing heap,
/// bypassing the quick lists (the `checked` build's quarantine uses it, so
/// blocks leaving it merge with their neighbours).
pub fn free_coalescing(b: u32) {
    tlsf_free(b, size_of_block(b));
}

/// Size in bytes of the block at `b` (header included).
#[inline(always)]
pub fn size_of_block(b: u32) -> u32 {
    load32(b) & !FLAGS
}

/// End of the heap: no block lies at or above it (0 before the first
/// allocation). The map of buffer starts begins here.
///
/// Read through a raw pointer, not a borrow of the state: in the shared
/// builds `buffer::check` reads it without the heap lock (inside
/// `lock::read_map`), while the holder may be changing it.
#[inline(always)]
pub fn top() -> u32 {
    // SAFETY: the state lives as long as the instance; an aligned u32 read.
    unsafe { (&raw const (*state()).top).read() }
}

/// The slow path: TLSF, then reclaiming the quick lists, then growing the
/// memory. Returns 0 (never a block address) when the memory cannot grow;
/// a plain `u32` rather than a `Result` so that it comes back in a register
/// and callers in export wrappers need no shadow-stack frame (see `export`).
#[inline(never)]
fn alloc_slow(size: u32) -> u32 {
    let s = st!();
    if s.top == 0 && !init() {
        return 0;
    }
    let mut b = tlsf_take(size);
    if b == 0 && s.quick_bytes != 0 {
        reclaim();
        b = tlsf_take(size);
    }
    #[cfg(feature = "checked")]
    while b == 0 && crate::checked::release_oldest() {
        b = tlsf_take(size);
    }
    if b == 0 && grow_for(size) {
        // The tail block now fits `size` exactly; a TLSF search would
        // round the request up to its bucket and might miss it.
        let tail = s.top - load32(s.top - 4);
        remove(tail, size_of_block(tail));
        b = split(tail, size);
    }
    b
}

/// Sets up the heap from `memory::heap_start` to the map at the end of the
/// memory (growing it if it cannot hold both); `false` if it cannot.
fn init() -> bool {
    let s = st!();
    // Nothing above the heap start has been written yet: the runtime's
    // data and stack lie below it, and fresh wasm memory is zero.
    let start = memory::heap_start();
    s.top = start;
    s.clean = start;
    if grow_for(MIN_BLOCK) {
        return true;
    }
    s.top = 0;
    false
}

/// Puts the map of buffer starts at the end of the own memory, moving it
/// from `top` (where the memory ended before it grew), and extends the heap
/// over the rest. The map's new bits are zero; where it was is zeroed, so
/// `State::clean` stays true. Nothing to do if the memory did not grow.
fn relayout() {
    let s = st!();
    let mem_end = memory::size_bytes();
    let bytes = starts::bytes_for(mem_end);
    let new_top = (mem_end - bytes as u64) as u32;
    let (old, old_bytes) = (s.top, s.map_bytes);
    if new_top == old {
        return;
    }
    // Other threads validate addresses against the map without the heap
    // lock: they retry what they read between these two marks.
    #[cfg(feature = "shared")]
    crate::lock::map_move_begin();
    // SAFETY: both ranges lie inside the own memory (they may overlap).
    unsafe {
        core::ptr::copy(memory::ptr(old), memory::ptr(new_top), old_bytes as usize);
        fill_zero(new_top + old_bytes, bytes - old_bytes);
        fill_zero(old, old_bytes.min(new_top - old));
    }
    s.map_bytes = bytes;
    extend_to(new_top);
    #[cfg(feature = "shared")]
    crate::lock::map_move_end();
}

/// Zero-fills `len` bytes at `at`.
///
/// # Safety
/// The range must lie inside the own memory.
unsafe fn fill_zero(at: u32, len: u32) {
    // SAFETY: the caller's.
    unsafe { core::ptr::write_bytes(memory::ptr(at), 0, len as usize) }
}

/// Makes [top, end) a free block (coalescing with a free tail) and moves
/// `top` to `end`.
fn extend_to(end: u32) {
    let s = st!();
    let b = s.top;
    let merges = s.tail_prev_free != 0;
    s.top = end;
    store32(b, (end - b) | if merges { PREV_FREE } else { 0 });
    s.tail_prev_free = 0;
    tlsf_free(b, end - b);
    if merges {
        // The old tail's boundary tag and the new part's block word are
        // now inside one free block: clear them so `clean` stays true.
        store32(b - 4, 0);
        store32(b, 0);
    }
}

/// Grows the own memory so that a block of `size` fits at the end of the
/// heap, with the map of buffer starts above it; `false` if it cannot grow.
/// Grows by at least 1/64 of the memory when the host allows it, so that
/// moving the map (1/128 of the memory) stays cheap per byte grown.
fn grow_for(size: u32) -> bool {
    let s = st!();
    let avail = if s.tail_prev_free != 0 { load32(s.top - 4) } else { 0 };
    let mem_end = memory::size_bytes();
    let need_end = (s.top - avail) as u64 + size as u64;
    // Room for the map too: a memory of `need_mem` bytes holds `need_end`
    // bytes of heap and its 1/128 of map.
    let need_mem = need_end + need_end / 127 + 32;
    let pages = need_mem.saturating_sub(mem_end).div_ceil(PAGE_SIZE as u64);
    if pages != 0 {
        // Without the extra, if the host refuses it.
        let more = pages.max(mem_end / PAGE_SIZE as u64 / 64);
        let grown = |n: u64| n <= u32::MAX as u64 && memory::grow(n as u32);
        if !(more > pages && grown(more) || grown(pages)) {
            return false;
        }
    }
    relayout();
    true
}

/// Hands every quick-listed block back to the TLSF heap, coalescing it.
/// Called before the memory grows, and by tests to check that the heap
/// returns to one free block.
pub fn reclaim() {
    let s = st!();
    for class in 0..QUICK_CLASSES {
        let mut b = s.quick[class & (QUICK_SLOTS - 1)];
        s.quick[class & (QUICK_SLOTS - 1)] = 0;
        while b != 0 {
            let next = load32(b + 8);
            let size = size_of_block(b);
            tlsf_free(b, size);
            b = next;
        }
    }
    s.quick_bytes = 0;
}

/// Bucket of a free block of `size` bytes (rounding down).
#[inline(always)]
fn mapping(size: u32) -> (usize, usize) {
    let units = size >> 4;
    if units < SL_COUNT as u32 {
        (0, units as usize)
    } else {
        let l = 31 - units.leading_zeros();
        let fl = l - SL_BITS + 1;
        let sl = (units >> (l - SL_BITS)) as usize & (SL_COUNT - 1);
        (fl as usize, sl)
    }
}

/// Bucket from which every block fits `size` (rounding up).
#[inline(always)]
fn mapping_search(size: u32) -> (usize, usize) {
    let units = size >> 4;
    if units < SL_COUNT as u32 {
        return (0, units as usize);
    }
    let l = 31 - units.leading_zeros();
    let rounded = units + (1 << (l - SL_BITS)) - 1;
    mapping(rounded << 4)
}

fn is_next_free(next: u32) -> bool {
    next != st!().top && load32(next) & FREE != 0
}

fn set_prev_free(next: u32, free: bool) {
    let s = st!();
    if next == s.top {
        s.tail_prev_free = free as u32;
    } else {
        let w = load32(next);
        store32(next, if free { w | PREV_FREE } else { w & !PREV_FREE });
    }
}

fn insert(b: u32, size: u32) {
    let s = st!();
    let (fl, sl) = mapping(size);
    let i = fl * SL_COUNT + sl;
    let head = s.heads[i & (FL_SLOTS * SL_COUNT - 1)];
    store32(b + 8, head);
    store32(b + 12, 0);
    if head != 0 {
        store32(head + 12, b);
    }
    s.heads[i & (FL_SLOTS * SL_COUNT - 1)] = b;
    s.fl_bitmap |= 1 << fl;
    s.sl_bitmap[fl & (FL_SLOTS - 1)] |= 1 << sl;
}

fn remove(b: u32, size: u32) {
    let s = st!();
    let next = load32(b + 8);
    let prev = load32(b + 12);
    if next != 0 {
        store32(next + 12, prev);
    }
    if prev != 0 {
        store32(prev + 8, next);
    } else {
        let (fl, sl) = mapping(size);
        s.heads[(fl * SL_COUNT + sl) & (FL_SLOTS * SL_COUNT - 1)] = next;
        if next == 0 {
            s.sl_bitmap[fl & (FL_SLOTS - 1)] &= !(1 << sl);
            if s.sl_bitmap[fl & (FL_SLOTS - 1)] == 0 {
                s.fl_bitmap &= !(1 << fl);
            }
        }
    }
}

/// Frees block `b` of `size` into the TLSF heap, merging with free
/// neighbours (boundary tags).
fn tlsf_free(mut b: u32, mut size: u32) {
    let next = b + size;
    if is_next_free(next) {
        let nsize = size_of_block(next);
        remove(next, nsize);
        size += nsize;
        // `next` is no block start any more (see `starts`).
        starts::unset(next + 16);
        // The next block's header becomes the inside of a free block: keep
        // it below `clean` (it may be the start of never-used memory).
        let s = st!();
        if next + 16 > s.clean {
            s.clean = next + 16;
        }
    }
    if load32(b) & PREV_FREE != 0 {
        starts::unset(b + 16);
        let psize = load32(b - 4);
        b -= psize;
        remove(b, psize);
        size += psize;
    }
    store32(b, size | FREE);
    store32(b + 4, FREED_TAG);
    store32(b + size - 4, size);
    set_prev_free(b + size, true);
    insert(b, size);
}

/// Takes a free block of at least `size` bytes out of the TLSF heap,
/// splitting off the rest; 0 when no free block is large enough.
fn tlsf_take(size: u32) -> u32 {
    let s = st!();
    // First a bounded look at the request's own bucket (rounded down): its
    // blocks may fit, and taking one avoids splitting a larger block. Both
    // scans are capped, so the cost stays O(1); they keep the footprint
    // close to a best-fit allocator's.
    let (fl0, sl0) = mapping(size);
    let b = best_fit(s.heads[(fl0 * SL_COUNT + sl0) & (FL_SLOTS * SL_COUNT - 1)], size);
    if b != 0 {
        return split(b, size);
    }
    let (mut fl, sl) = mapping_search(size);
    if fl >= FL_COUNT {
        return 0;
    }
    let mut sl_map = s.sl_bitmap[fl & (FL_SLOTS - 1)] & (!0u32 << sl);
    if sl_map == 0 {
        let fl_map = s.fl_bitmap & (!0u32).checked_shl(fl as u32 + 1).unwrap_or(0);
        if fl_map == 0 {
            return 0;
        }
        fl = fl_map.trailing_zeros() as usize;
        sl_map = s.sl_bitmap[fl & (FL_SLOTS - 1)];
    }
    let sl = sl_map.trailing_zeros() as usize;
    let b = best_fit(s.heads[(fl * SL_COUNT + sl) & (FL_SLOTS * SL_COUNT - 1)], size);
    split(b, size)
}

/// The smallest block of at least `size` bytes among the first
/// `EXACT_SCAN` of the list starting at `b`, taken off its list; 0 if none.
fn best_fit(mut b: u32, size: u32) -> u32 {
    let mut best = 0;
    let mut best_size = u32::MAX;
    let mut budget = EXACT_SCAN;
    while b != 0 && budget != 0 {
        let bsize = size_of_block(b);
        if bsize >= size && bsize < best_size {
            best = b;
            best_size = bsize;
            if bsize == size {
                break;
            }
        }
        b = load32(b + 8);
        budget -= 1;
    }
    if best != 0 {
        remove(best, best_size);
    }
    best
}

/// Turns free block `b`, already off its list, into a used block of `size`
/// bytes, returning the rest (if large enough) to the heap.
fn split(b: u32, size: u32) -> u32 {
    let s = st!();
    let bsize = size_of_block(b);
    let rest = bsize - size;
    // Zero-fill bookkeeping (see `State::clean`): the data of a split-off
    // block is zero from the old `clean` up (the rest's header lies after
    // it); a block taken whole may end in the boundary tag, so it counts as
    // dirty. Either way nothing below its end is clean any more.
    let end = b + if rest >= MIN_BLOCK { size } else { bsize };
    s.zero_from = if rest >= MIN_BLOCK { s.clean } else { u32::MAX };
    if end > s.clean {
        s.clean = end;
    }
    if rest >= MIN_BLOCK {
        let r = b + size;
        store32(r, rest | FREE);
        store32(r + 4, FREED_TAG);
        store32(r + rest - 4, rest);
        insert(r, rest);
        store32(b, size);
    } else {
        set_prev_free(b + bsize, false);
        store32(b, bsize);
    }
    b
}

/// Counts of the heap's blocks, from a full walk (for tests; O(blocks)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapWalk {
    /// Blocks in use or on quick lists.
    pub used_blocks: u32,
    /// Bytes in those blocks.
    pub used_bytes: u32,
    /// Free blocks in the TLSF heap.
    pub free_blocks: u32,
    /// Bytes in free blocks.
    pub free_bytes: u32,
}

/// Walks every block from the heap start to `top`, checking the invariants
/// (sizes, boundary tags, PREV_FREE bits, no two adjacent free blocks, every
/// free block on the list of its bucket, no buffer start marked inside a
/// block) and the zero-fill invariant of
/// `State::clean` (no block ever handed out reaches above it; above it, free
/// blocks are zero but for their header and boundary tag). Returns a
/// description of the first violation. O(blocks + free blocks + bytes above
/// the high-water mark): for tests only.
pub fn check_heap() -> core::result::Result<HeapWalk, &'static str> {
    let s = st!();
    let mut walk = HeapWalk::default();
    if s.top == 0 {
        return Ok(walk);
    }
    let mut b = memory::heap_start();
    let mut prev_free = false;
    while b < s.top {
        let w = load32(b);
        let size = w & !FLAGS;
        if size < MIN_BLOCK || !size.is_multiple_of(16) || b as u64 + size as u64 > s.top as u64 {
            return Err("block size out of range");
        }
        if (w & PREV_FREE != 0) != prev_free {
            return Err("PREV_FREE bit disagrees with the previous block");
        }
        // Only a block's own start may be marked as a buffer start.
        let mut a = b + 32;
        while a < b + size + 16 {
            if starts::is_set(a) {
                return Err("an address inside a block is marked as a buffer start");
            }
            a += 16;
        }
        let free = w & FREE != 0;
        if free {
            if prev_free {
                return Err("two adjacent free blocks");
            }
            if load32(b + size - 4) != size {
                return Err("boundary tag of a free block is wrong");
            }
            walk.free_blocks += 1;
            walk.free_bytes += size;
            let lo = s.clean.max(b + 16);
            let hi = b + size - 4;
            if lo < hi {
                // SAFETY: [lo, hi) lies inside the heap.
                let bytes = unsafe { core::slice::from_raw_parts(memory::ptr(lo), (hi - lo) as usize) };
                if bytes.iter().any(|&x| x != 0) {
                    return Err("memory above the clean mark is not zero");
                }
            }
        } else {
            if b + size > s.clean {
                return Err("a block in use reaches above the clean mark");
            }
            walk.used_blocks += 1;
            walk.used_bytes += size;
        }
        prev_free = free;
        b += size;
    }
    if b != s.top {
        return Err("blocks do not end at the top");
    }
    if (s.tail_prev_free != 0) != prev_free {
        return Err("tail flag disagrees with the last block");
    }
    let mut listed = 0;
    for fl in 0..FL_COUNT {
        for sl in 0..SL_COUNT {
            let mut f = s.heads[(fl * SL_COUNT + sl) & (FL_SLOTS * SL_COUNT - 1)];
            if (f != 0) != (s.sl_bitmap[fl & (FL_SLOTS - 1)] & (1 << sl) != 0) {
                return Err("second-level bitmap disagrees with a list");
            }
            let mut prev = 0;
            while f != 0 {
                let size = size_of_block(f);
                if load32(f) & FREE == 0 || mapping(size) != (fl, sl) || load32(f + 12) != prev {
                    return Err("free list holds a wrong block");
                }
                listed += 1;
                prev = f;
                f = load32(f + 8);
            }
        }
        if (s.sl_bitmap[fl & (FL_SLOTS - 1)] != 0) != (s.fl_bitmap & (1 << fl) != 0) {
            return Err("first-level bitmap disagrees");
        }
    }
    if listed != walk.free_blocks {
        return Err("a free block is missing from the lists");
    }
    Ok(walk)
}

/// Bytes held by quick-listed blocks.
pub fn quick_bytes() -> u32 {
    st!().quick_bytes
}
