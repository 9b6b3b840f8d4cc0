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
//! buffer counters; block management is `alloc`'s, the exact live set of the
//! `checked` build is `checked`'s.

use crate::Result;
use crate::alloc::{self, st};
use crate::memory::{load32, store32};
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
    // Set up the checked tables before the first buffer, so they sit at
    // the start of the heap instead of splitting it.
    #[cfg(feature = "checked")]
    crate::checked::ensure()?;
    let b = alloc::alloc(alloc::block_size(len));
    // The quarantine must never cause OUT_OF_MEMORY: empty it and retry.
    #[cfg(feature = "checked")]
    let b = b.or_else(|_| {
        crate::checked::flush_quarantine();
        alloc::alloc(alloc::block_size(len))
    });
    let b = b?;
    // The block may be a little larger than asked (a remainder too small to
    // split off stays with it); the counters report what is held.
    let size = alloc::size_of_block(b);
    let d = b + HEADER_SIZE;
    #[cfg(feature = "checked")]
    if let Err(e) = crate::checked::on_new(d) {
        alloc::free(b);
        return Err(e);
    }
    store32(d - TAG, d ^ LIVE_TAG);
    store32(d - LENGTH, len);
    store32(d - REFCOUNT, 1);
    zero(d, len);
    let s = st!();
    s.live_buffers += 1;
    s.live_bytes = s.live_bytes.wrapping_add(len);
    s.heap_bytes = s.heap_bytes.wrapping_add(size);
    Ok(d)
}

/// Zero-fills the data of a new buffer with one `memory.fill`. Inline
/// stores for small buffers (a loop, and overlapping simd128 stores) were
/// tried in `bench/alloc` and were no faster in wasmtime than the engine's
/// fill, so the simple form stays.
#[inline(always)]
fn zero(d: u32, len: u32) {
    // SAFETY: the block holds `len` data bytes after the header.
    unsafe { core::ptr::write_bytes(crate::memory::ptr(d), 0, len as usize) };
}

/// Checks that `buffer` is a live buffer: `NOT_A_BUFFER` for addresses that
/// are not (foreign, misaligned, outside the heap, wrong tag), `FREED` for
/// freed ones. In the `checked` build the answer comes from the exact live
/// and freed sets.
///
/// Not forced inline: it is the largest shared piece of every export, and
/// its `Result<()>` fits in one register.
#[inline]
pub fn check(buffer: u32) -> Result<()> {
    let top = alloc::top();
    // A buffer's block starts at or above the heap start and has at least
    // MIN_BLOCK bytes below `top` (0 before the first allocation: then no
    // address passes).
    const MIN_DATA: u32 = alloc::MIN_BLOCK - HEADER_SIZE;
    if buffer & 15 != 0
        || buffer < crate::memory::heap_start() + HEADER_SIZE
        || top < MIN_DATA
        || buffer > top - MIN_DATA
    {
        return Err(ErrorCode::NotABuffer);
    }
    #[cfg(feature = "checked")]
    return crate::checked::check(buffer);
    #[cfg(not(feature = "checked"))]
    {
        let tag = load32(buffer - TAG);
        if tag == buffer ^ LIVE_TAG {
            Ok(())
        } else if tag == FREED_TAG {
            Err(ErrorCode::Freed)
        } else {
            Err(ErrorCode::NotABuffer)
        }
    }
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
#[inline(always)]
pub fn release(buffer: u32) -> Result<u32> {
    check(buffer)?;
    let rc = load32(buffer - REFCOUNT);
    if rc == 0 || rc > MAX_REFCOUNT {
        // Only a forged header can get here: a live buffer has 1..=MAX.
        return Err(ErrorCode::NotABuffer);
    }
    let left = add_refcount(buffer, rc, u32::MAX);
    if left == 0 {
        free(buffer);
    }
    Ok(left)
}

/// Applies `delta` (1 or -1) to the refcount read as `rc`; returns the new
/// count. The `atomic-refcounts` build does it with `i32.atomic.rmw.add` on
/// the own memory, as compilers targeting that build do.
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
        store32(buffer - REFCOUNT, new);
        new
    }
}

/// Frees the block of a buffer whose count reached zero.
#[inline(always)]
fn free(buffer: u32) {
    let s = st!();
    let b = buffer - HEADER_SIZE;
    let size = alloc::size_of_block(b);
    s.live_buffers -= 1;
    s.live_bytes = s.live_bytes.wrapping_sub(load32(buffer - LENGTH));
    s.heap_bytes = s.heap_bytes.wrapping_sub(size);
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

/// Reads the counters.
pub fn stats() -> Stats {
    let s = st!();
    Stats {
        live_buffers: s.live_buffers,
        live_bytes: s.live_bytes,
        heap_bytes: s.heap_bytes,
        pages: crate::memory::pages(),
    }
}
