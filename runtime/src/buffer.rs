//! Buffers: the refcounted ByteBuffers of `docs/ABI.md` ("Buffers and the
//! header").
//!
//! A buffer is the address of its first data byte; the 16-byte header before
//! it holds the allocator's block word, the tag (`address ^ LIVE_TAG` while
//! live, `FREED_TAG` once freed), `lengthInBytes` and the refcount. Every
//! function here validates its buffer before it changes anything, so a
//! failing call leaves the heap as it was.
//!
//! This module owns the header's tag, length and refcount words and the
//! buffer counters; block management is `alloc`'s, the map of buffer starts
//! that makes [`check`] exact is `starts`'s, the quarantine of the `checked`
//! build is `checked`'s.
//!
//! In the shared builds (feature `shared`) allocating, freeing and reading
//! the counters take the heap lock ([`crate::lock`]), so the counters stay
//! exact whatever the threads do; validating an address reads the map of
//! buffer starts under its sequence counter instead, and refcounts change
//! by compare-and-swap on the header, without the lock.

use crate::Result;
use crate::alloc::{self, st};
use crate::memory::{load32, store32};
use crate::starts;
#[cfg(feature = "shared")]
use core::sync::atomic::Ordering;
use multimem_abi::{ErrorCode, FREED_TAG, HEADER_SIZE, LIVE_TAG, MAX_LENGTH, MAX_REFCOUNT};

/// Distances below the data address of the header words (from the ABI).
const TAG: u32 = -multimem_abi::header::TAG as u32;
const LENGTH: u32 = -multimem_abi::header::LENGTH as u32;
const REFCOUNT: u32 = -multimem_abi::header::REFCOUNT as u32;

// The allocator's layout (block word first, 16-byte blocks) assumes this.
const _: () = {
    assert!(multimem_abi::header::BLOCK == -(HEADER_SIZE as i32));
    assert!(HEADER_SIZE == 16 && multimem_abi::DATA_ALIGN == 16);
};

/// A new zero-filled buffer of `len` bytes with refcount 1; returns its
/// address. `BAD_LENGTH` above `MAX_LENGTH`, `OUT_OF_MEMORY` if the own
/// memory cannot grow enough.
#[inline(always)]
pub fn new(len: u32) -> Result<u32> {
    if len > MAX_LENGTH {
        return Err(ErrorCode::BadLength);
    }
    #[cfg(feature = "shared")]
    let guard = crate::lock::Guard::take();
    let (b, zero_from) = alloc::alloc_zeroable(alloc::block_size(len))?;
    // The block may be a little larger than asked (a remainder too small to
    // split off stays with it); the counters report what is held.
    let size = alloc::size_of_block(b);
    let d = b + HEADER_SIZE;
    starts::set(d);
    write_header(b, d ^ LIVE_TAG, len);
    // Zero-filling needs no lock: the block is this call's alone.
    #[cfg(feature = "shared")]
    {
        count(&mut st!().counters.new, len, size);
        drop(guard);
    }
    zero(d, len, zero_from);
    #[cfg(not(feature = "shared"))]
    count(&mut st!().counters.new, len, size);
    Ok(d)
}

/// Writes the header of a new buffer at block `b`: tag, length and
/// refcount 1 (the block word is the allocator's and is rewritten
/// unchanged). One 16-byte store in simd128 builds: an alloc+release pair
/// is bound by its number of stores (see `alloc::Counters`).
#[inline(always)]
fn write_header(b: u32, tag: u32, len: u32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let h = core::arch::wasm32::u32x4(load32(b), tag, len, 1);
        // SAFETY: the block's first 16 bytes are its header.
        unsafe { (crate::memory::ptr(b) as *mut core::arch::wasm32::v128).write_unaligned(h) };
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let d = b + HEADER_SIZE;
        store32(d - TAG, tag);
        store32(d - LENGTH, len);
        store32(d - REFCOUNT, 1);
    }
}

/// Adds one buffer of `len` bytes in a block of `size` bytes to a side of
/// the counters (one simd128 add and store in simd128 builds).
#[inline(always)]
fn count(side: &mut [u32; 4], len: u32, size: u32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::{i32x4_add, u32x4, v128};
        let p = side.as_mut_ptr() as *mut v128;
        // SAFETY: `Counters` is 16-aligned and each side is 16 bytes.
        unsafe { p.write(i32x4_add(p.read(), u32x4(1, len, size, 0))) };
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        side[0] = side[0].wrapping_add(1);
        side[1] = side[1].wrapping_add(len);
        side[2] = side[2].wrapping_add(size);
    }
}

/// Zero-fills the data of a new buffer: up to 256 bytes (simd128 builds)
/// with sixteen 16-byte stores and no branch on the length, larger ones
/// with one `memory.fill` of the bytes below `zero_from` (from there on the
/// allocator knows the block to be untouched memory, still zero; see
/// `alloc::alloc_zeroable`).
///
/// Why: in wasmtime `memory.fill` is a call into the engine (about as
/// costly as the stores for these sizes), and a store loop or a branch on
/// the size class mispredicts on mixed sizes; a fixed run of stores does
/// not. Store `i` goes to `min(16 * i, last16)` (aligned, so a clamped store
/// never straddles a cache line) and one more store covers the last 16 bytes
/// up to `len`: nothing past `max(len, 16)` is written (the block always
/// has those 16). Measured in `bench/alloc` (BENCHMARKS.md).
#[inline(always)]
fn zero(d: u32, len: u32, zero_from: u32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if len <= 256 {
        use core::arch::wasm32::{i64x2_splat, v128};
        let p = crate::memory::ptr(d);
        let z = i64x2_splat(0);
        let last = (len.max(16) - 16) as usize;
        let last16 = last & !15;
        for i in 0..15 {
            // SAFETY: every store lies inside [0, max(len, 16)), which the
            // block holds.
            unsafe { (p.add((16 * i).min(last16)) as *mut v128).write_unaligned(z) };
        }
        // SAFETY: as above.
        unsafe { (p.add(last) as *mut v128).write_unaligned(z) };
        return;
    }
    let dirty = len.min(zero_from.saturating_sub(d));
    // SAFETY: the block holds `len` data bytes after the header.
    unsafe { core::ptr::write_bytes(crate::memory::ptr(d), 0, dirty as usize) };
}

/// Checks that `buffer` is a live buffer. Exact in every build:
/// `NOT_A_BUFFER` unless `buffer` is the start of a block the heap handed
/// out as a buffer (the map of buffer starts, [`crate::starts`]), whatever
/// bytes lie before it; then its header is the runtime's own, and the tag
/// says live or `FREED`. A live tag with a refcount outside
/// `1..=MAX_REFCOUNT` is `NOT_A_BUFFER` too (only a stray write to the
/// header makes one; see the `refcount` row in docs/ABI.md), so every
/// export applies the same rule.
///
/// Not forced inline: it is the largest shared piece of every export, and
/// its `Result<()>` fits in one register.
#[inline]
pub fn check(buffer: u32) -> Result<()> {
    // The map covers the heap, below `top` (0 before the first
    // allocation: then no address passes).
    let started = || buffer & 15 == 0 && buffer < alloc::top() && starts::is_set(buffer);
    #[cfg(feature = "shared")]
    let started = || crate::lock::read_map(started);
    if !started() {
        return Err(ErrorCode::NotABuffer);
    }
    let tag = load32(buffer - TAG);
    if tag == buffer ^ LIVE_TAG {
        if load32(buffer - REFCOUNT).wrapping_sub(1) < MAX_REFCOUNT {
            return Ok(());
        }
    } else if tag == FREED_TAG {
        return Err(ErrorCode::Freed);
    }
    Err(ErrorCode::NotABuffer)
}

/// Validates `buffer` (as [`check`]) and returns its `lengthInBytes`.
#[inline(always)]
pub fn resolve(buffer: u32) -> Result<u32> {
    check(buffer)?;
    Ok(load32(buffer - LENGTH))
}

/// Current refcount of a live buffer.
#[inline(always)]
pub fn refcount(buffer: u32) -> Result<u32> {
    check(buffer)?;
    Ok(load32(buffer - REFCOUNT))
}

/// Adds one reference; `REFCOUNT_OVERFLOW` at `MAX_REFCOUNT`.
#[cfg(feature = "shared")]
#[inline(always)]
pub fn retain(buffer: u32) -> Result<()> {
    check(buffer)?;
    // A compare-and-swap rather than an add, so that concurrent retains
    // cannot push the count past `MAX_REFCOUNT`.
    let rc = refcount_word(buffer);
    let mut old = rc.load(Ordering::Relaxed);
    loop {
        if old == 0 {
            return Err(ErrorCode::Freed);
        }
        if old >= MAX_REFCOUNT {
            return Err(ErrorCode::RefcountOverflow);
        }
        match rc.compare_exchange_weak(old, old + 1, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Ok(()),
            Err(now) => old = now,
        }
    }
}

/// Removes one reference and returns the remaining count; at zero the block
/// is freed and its tag becomes `FREED_TAG`. The thread whose
/// compare-and-swap takes the count to zero frees it; one that finds it
/// already zero (another thread released the last reference meanwhile) gets
/// `FREED`.
#[cfg(feature = "shared")]
#[inline(always)]
pub fn release(buffer: u32) -> Result<u32> {
    check(buffer)?;
    let rc = refcount_word(buffer);
    let mut old = rc.load(Ordering::Relaxed);
    loop {
        if old == 0 || old > MAX_REFCOUNT {
            return Err(ErrorCode::Freed);
        }
        // Release: this thread's writes to the data happen before the free
        // (and so before the block's next owner reads it).
        match rc.compare_exchange_weak(old, old - 1, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => break,
            Err(now) => old = now,
        }
    }
    if old == 1 {
        free(buffer);
    }
    Ok(old - 1)
}

/// The refcount word of a validated buffer, as an atomic.
#[cfg(feature = "shared")]
#[inline(always)]
fn refcount_word(buffer: u32) -> &'static core::sync::atomic::AtomicU32 {
    // SAFETY: `check` found a live header, 16-aligned, inside the memory;
    // refcount words are only changed atomically in the shared builds.
    unsafe { core::sync::atomic::AtomicU32::from_ptr(crate::memory::ptr(buffer - REFCOUNT) as *mut u32) }
}

/// Adds one reference; `REFCOUNT_OVERFLOW` at `MAX_REFCOUNT`.
#[cfg(not(feature = "shared"))]
#[inline(always)]
pub fn retain(buffer: u32) -> Result<()> {
    check(buffer)?;
    let rc = load32(buffer - REFCOUNT);
    if rc >= MAX_REFCOUNT {
        return Err(ErrorCode::RefcountOverflow);
    }
    add_refcount(buffer, rc, 1);
    Ok(())
}

/// Removes one reference and returns the remaining count; at zero the block
/// is freed and its tag becomes `FREED_TAG`.
#[cfg(not(feature = "shared"))]
#[inline(always)]
pub fn release(buffer: u32) -> Result<u32> {
    // `check` guarantees 1..=MAX_REFCOUNT.
    check(buffer)?;
    let rc = load32(buffer - REFCOUNT);
    let left = add_refcount(buffer, rc, u32::MAX);
    if left == 0 {
        free(buffer);
    }
    Ok(left)
}

/// Applies `delta` (1 or -1) to the refcount read as `rc`; returns the new
/// count. The `atomic-refcounts` build does it with `i32.atomic.rmw.add` on
/// the own memory, as compilers targeting that build do.
#[cfg(not(feature = "shared"))]
#[inline(always)]
fn add_refcount(buffer: u32, rc: u32, delta: u32) -> u32 {
    #[cfg(feature = "atomic-refcounts")]
    {
        let _ = rc;
        crate::intrinsics::i32_atomic_rmw_add_own(buffer - REFCOUNT, delta).wrapping_add(delta)
    }
    #[cfg(not(feature = "atomic-refcounts"))]
    {
        let new = rc.wrapping_add(delta);
        // A count reaching zero frees the block (its tag becomes FREED_TAG
        // and the word is never read again), so that store is skipped.
        if new != 0 {
            store32(buffer - REFCOUNT, new);
        }
        new
    }
}

/// The own-memory address of the release queue (`RELEASE_BATCH` slots).
#[cfg(not(feature = "shared"))]
#[inline(always)]
pub fn release_queue() -> Result<u32> {
    Ok(alloc::state_address() + core::mem::offset_of!(alloc::State, release_queue) as u32)
}

/// The own-memory address of this instance's release queue
/// (`RELEASE_BATCH` slots): in the shared builds each instance has its own,
/// since each host thread fills one and applies it from that thread. It is
/// a heap block, not a buffer (no address in it passes `check`, and the
/// counters do not count it), taken on the instance's first use and never
/// freed: an instance ends with its thread, so a program that starts and
/// ends workers again and again leaves one such block (1 KiB and a header)
/// per worker. `OUT_OF_MEMORY` if it cannot be taken.
#[cfg(feature = "shared")]
pub fn release_queue() -> Result<u32> {
    let q = crate::instance::queue();
    if q != 0 {
        return Ok(q);
    }
    let bytes = 4 * multimem_abi::RELEASE_BATCH;
    let b = {
        let _guard = crate::lock::Guard::take();
        alloc::alloc(alloc::block_size(bytes))?
    };
    let q = b + HEADER_SIZE;
    // SAFETY: the block holds `bytes` bytes after its header.
    unsafe { core::ptr::write_bytes(crate::memory::ptr(q), 0, bytes as usize) };
    crate::instance::set_queue(q);
    Ok(q)
}

/// `buffer_release_batch(count)`: releases the first `count` addresses of
/// the release queue in order with `release_one` (which records and traps
/// on a bad address: the export passes the `buffer_release` export, so the
/// release code exists once in `runtime.wasm`), zeroing each slot once its
/// address is released; returns the queue's address. More than
/// `RELEASE_BATCH` is `RANGE`, before anything is released.
#[inline(always)]
pub fn release_batch(count: u32, release_one: impl Fn(u32)) -> Result<u32> {
    // Through addresses, not a borrow of the state: `release_one` changes
    // the state too.
    if count > multimem_abi::RELEASE_BATCH {
        return Err(ErrorCode::Range);
    }
    let q = release_queue()?;
    let mut at = q;
    while at != q + 4 * count {
        release_one(load32(at));
        store32(at, 0);
        at += 4;
    }
    Ok(q)
}

/// Frees the block of a buffer whose count reached zero.
#[inline(always)]
fn free(buffer: u32) {
    let b = buffer - HEADER_SIZE;
    #[cfg(feature = "shared")]
    let _guard = crate::lock::Guard::take();
    count(&mut st!().counters.freed, load32(buffer - LENGTH), alloc::size_of_block(b));
    #[cfg(feature = "checked")]
    {
        store32(buffer - TAG, FREED_TAG);
        crate::checked::on_free(buffer);
    }
    #[cfg(not(feature = "checked"))]
    alloc::free(b);
}

/// The runtime's counters, as the `stats_*` exports report them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Live buffers.
    pub live_buffers: u32,
    /// Sum of `lengthInBytes` over live buffers.
    pub live_bytes: u32,
    /// Bytes of own memory held by live buffers' blocks.
    pub heap_bytes: u32,
    /// Size of the own memory in pages.
    pub pages: u32,
}

/// Reads the counters. Always inlined: the `stats_*` exports each use one
/// field, and an outlined call would return the struct through a
/// shadow-stack slot, writing the own memory on a read-only query.
#[inline(always)]
pub fn stats() -> Stats {
    // One snapshot of both sides, so a reader never sees a buffer counted
    // as freed but not as created.
    #[cfg(feature = "shared")]
    let c = {
        let _guard = crate::lock::Guard::take();
        st!().counters
    };
    #[cfg(not(feature = "shared"))]
    let c = st!().counters;
    Stats {
        live_buffers: c.new[0].wrapping_sub(c.freed[0]),
        live_bytes: c.new[1].wrapping_sub(c.freed[1]),
        heap_bytes: c.new[2].wrapping_sub(c.freed[2]),
        pages: crate::memory::pages(),
    }
}
