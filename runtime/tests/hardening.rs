//! Native tests of the exactness rules (issue 13, items 1-4): only the
//! start of a live buffer is a buffer, whatever the bytes around an address
//! say; one rule for refcounts outside `1..=MAX_REFCOUNT`; freed memory
//! coalesces around the checked build's quarantine; interior pointers of
//! freed buffers are `NOT_A_BUFFER`. The same code as runtime.wasm, over
//! the simulated own memory; `tests/tests/runtime_hardening.rs` runs the
//! exports of every build in wasmtime.

use multimem_abi::{ErrorCode, FREED_TAG, LIVE_TAG, MAX_REFCOUNT, PAGE_SIZE};
use multimem_runtime::memory::{self, load32, store32};
use multimem_runtime::typed::view;
use multimem_runtime::{alloc, buffer, external, intrinsics};

use ErrorCode::{Freed, NotABuffer, RefcountOverflow};

fn fresh() {
    memory::reset_native();
    intrinsics::set_external(vec![0; PAGE_SIZE as usize]);
}

/// Writes a well-formed header for `at` (block word, tag, length, refcount).
fn forge(at: u32, tag: u32, length: u32, refcount: u32) {
    for (k, v) in [64, tag, length, refcount].into_iter().enumerate() {
        store32(at - 16 + 4 * k as u32, v);
    }
}

/// Every buffer-taking operation of the Rust API answers `want` for `x`.
fn assert_rejected(x: u32, want: ErrorCode) {
    assert_eq!(buffer::check(x), Err(want), "check {x:#x}");
    assert_eq!(buffer::resolve(x), Err(want), "resolve {x:#x}");
    assert_eq!(buffer::refcount(x), Err(want), "refcount {x:#x}");
    assert_eq!(buffer::retain(x), Err(want), "retain {x:#x}");
    assert_eq!(buffer::release(x), Err(want), "release {x:#x}");
    assert_eq!(view::view_check(2, x, 0, 8), Err(want), "view_check {x:#x}");
    assert_eq!(external::copy_in(x, 0, 0, 8), Err(want), "copy_in {x:#x}");
    assert_eq!(external::copy_out(0, x, 0, 8), Err(want), "copy_out {x:#x}");
}

#[test]
fn a_forged_live_header_inside_a_live_buffer_is_not_a_buffer() {
    fresh();
    let b = buffer::new(256).unwrap();
    let f = b + 64;
    forge(f, f ^ LIVE_TAG, 8, 1);
    assert_rejected(f, NotABuffer);
    // The heap is intact: the next buffer does not overlap b.
    let c = buffer::new(256).unwrap();
    assert!(c + 256 <= b - 16 || c >= b + 256, "{c:#x} overlaps {b:#x}");
    assert_eq!(buffer::stats().live_buffers, 2);
    // Forged headers at every 16-byte step, with either tag.
    for off in (16..256).step_by(16) {
        forge(b + off, (b + off) ^ LIVE_TAG, 16, 1);
        assert_rejected(b + off, NotABuffer);
        forge(b + off, FREED_TAG, 16, 1);
        assert_rejected(b + off, NotABuffer);
    }
    buffer::release(b).unwrap();
    buffer::release(c).unwrap();
    assert_eq!(buffer::stats().live_buffers, 0);
    alloc::check_heap().unwrap();
}

/// What a freed buffer held stays data: headers forged inside it while it
/// was live do not become buffers when it is freed, nor after its block is
/// merged with its neighbours.
#[test]
fn forged_headers_inside_a_freed_buffer_stay_not_a_buffer() {
    fresh();
    let b = buffer::new(4000).unwrap();
    let guard = buffer::new(16).unwrap();
    for off in (16..4000).step_by(16) {
        forge(b + off, (b + off) ^ LIVE_TAG, 16, 1);
    }
    buffer::release(b).unwrap();
    #[cfg(feature = "checked")]
    multimem_runtime::checked::flush_quarantine();
    assert_eq!(buffer::check(b), Err(Freed));
    for off in (16..4000).step_by(16) {
        assert_eq!(buffer::check(b + off), Err(NotABuffer), "+{off}");
    }
    buffer::release(guard).unwrap();
}

#[test]
fn a_refcount_outside_one_to_max_is_not_a_buffer() {
    fresh();
    let b = buffer::new(64).unwrap();
    for rc in [0, MAX_REFCOUNT + 1, u32::MAX] {
        store32(b - 4, rc);
        assert_rejected(b, NotABuffer);
        assert_eq!(load32(b - 4), rc, "nothing changed");
    }
    store32(b - 4, MAX_REFCOUNT);
    assert_eq!(buffer::check(b), Ok(()));
    assert_eq!(buffer::retain(b), Err(RefcountOverflow));
    assert_eq!(buffer::release(b), Ok(MAX_REFCOUNT - 1));
    store32(b - 4, 1);
    assert_eq!(buffer::release(b), Ok(0));
    assert_eq!(buffer::stats().live_buffers, 0);
}

/// One buffer over three freed ones: their starts are interior pointers,
/// NOT_A_BUFFER while it lives and after it is freed; only its own start
/// is FREED.
#[test]
fn interior_pointers_are_not_a_buffer_even_where_a_buffer_once_started() {
    fresh();
    let [a, b, c, guard] = [0; 4].map(|_| buffer::new(64).unwrap());
    for x in [a, b, c] {
        buffer::release(x).unwrap();
        assert_eq!(buffer::check(x), Err(Freed));
        assert_eq!(buffer::check(x + 16), Err(NotABuffer));
    }
    #[cfg(feature = "checked")]
    multimem_runtime::checked::flush_quarantine();
    alloc::reclaim();
    let d = buffer::new(200).unwrap();
    assert_eq!(d, a, "the merged block of a, b and c is reused");
    for x in [b, c] {
        assert_rejected(x, NotABuffer);
    }
    buffer::release(d).unwrap();
    assert_eq!(buffer::check(d), Err(Freed));
    for x in [b, c, b + 16] {
        assert_rejected(x, NotABuffer);
    }
    buffer::release(guard).unwrap();
    assert_eq!(buffer::stats().live_buffers, 0);
}

/// After everything is freed, 60% of the memory fits in one buffer without
/// growing: the checked build's quarantine and the runtime's own tables do
/// not split the free space.
#[test]
fn freed_memory_fits_a_buffer_of_sixty_percent_without_growing() {
    fresh();
    let mut live: Vec<u32> = (0..4000u32).map(|k| buffer::new(16 + k * 7919 % 3000).unwrap()).collect();
    let mut k = 0usize;
    while !live.is_empty() {
        k = (k + 2654435761) % live.len();
        buffer::release(live.swap_remove(k)).unwrap();
    }
    let pages = memory::pages();
    assert!(pages >= 64, "{pages} pages");
    let len = (pages as u64 * PAGE_SIZE as u64 * 6 / 10) as u32;
    let big = buffer::new(len).unwrap();
    assert_eq!(memory::pages(), pages, "buffer::new({len}) grew the memory");
    buffer::release(big).unwrap();
    alloc::check_heap().unwrap();
}

/// A freed block that is taken again by a buffer of the same size is a live
/// buffer at the same address: FREED cannot be told apart from it there
/// (documented in ABI.md), except in the checked build, whose quarantine
/// keeps the block out of reuse.
#[test]
fn freed_is_freed_until_the_block_is_reused() {
    fresh();
    let a = buffer::new(100).unwrap();
    buffer::release(a).unwrap();
    assert_eq!(buffer::check(a), Err(Freed));
    let b = buffer::new(100).unwrap();
    if cfg!(feature = "checked") {
        assert_ne!(a, b);
        assert_eq!(buffer::check(a), Err(Freed));
    } else {
        assert_eq!(a, b);
        assert_eq!(buffer::check(a), Ok(()));
    }
}
