//! Native unit tests of the allocator, buffers, errors and counters (the
//! same code as runtime.wasm, over the simulated own memory).

use multimem_abi::{ErrorCode, FREED_TAG, LIVE_TAG, MAX_LENGTH, MAX_REFCOUNT, PAGE_SIZE};
use multimem_runtime::memory::{self, load32, store32};
use multimem_runtime::{alloc, buffer, external, intrinsics};

/// Each test starts from a fresh own memory.
fn fresh() {
    memory::reset_native();
}

/// Drains the quick lists (and, in checked builds, the quarantine) and
/// checks the heap is one free block again.
fn assert_all_free() {
    #[cfg(feature = "checked")]
    multimem_runtime::checked::flush_quarantine();
    alloc::reclaim();
    let walk = alloc::check_heap().unwrap();
    let stats = buffer::stats();
    assert_eq!((stats.live_buffers, stats.live_bytes, stats.heap_bytes), (0, 0, 0));
    assert_eq!(walk.used_blocks, 0, "{walk:?}");
    assert_eq!(walk.free_blocks, 1, "{walk:?}");
    assert_eq!(walk.free_bytes, alloc::top() - memory::heap_start(), "{walk:?}");
}

#[test]
fn new_buffer_has_header_zeroed_data_and_alignment() {
    fresh();
    for len in [0u32, 1, 15, 16, 17, 100, 1000, 1024, 5000, 70000] {
        let b = buffer::new(len).unwrap();
        assert_eq!(b % 16, 0);
        assert_eq!(load32(b - 12), b ^ LIVE_TAG);
        assert_eq!(load32(b - 8), len);
        assert_eq!(load32(b - 4), 1);
        assert_eq!(buffer::resolve(b), Ok(len));
        let data = unsafe { std::slice::from_raw_parts(memory::ptr(b), len as usize) };
        assert!(data.iter().all(|&x| x == 0));
        // Dirty it, free it, and check the next buffer is zeroed again.
        unsafe { std::ptr::write_bytes(memory::ptr(b), 0xAB, len as usize) };
        assert_eq!(buffer::release(b), Ok(0));
        let c = buffer::new(len).unwrap();
        let data = unsafe { std::slice::from_raw_parts(memory::ptr(c), len as usize) };
        assert!(data.iter().all(|&x| x == 0), "len {len}");
        buffer::release(c).unwrap();
    }
    assert_all_free();
}

#[test]
fn zero_length_buffers_are_distinct() {
    fresh();
    let a = buffer::new(0).unwrap();
    let b = buffer::new(0).unwrap();
    assert_ne!(a, b);
    assert_eq!(buffer::stats().live_buffers, 2);
    buffer::release(a).unwrap();
    buffer::release(b).unwrap();
    assert_all_free();
}

#[test]
fn retain_release_and_refcounts() {
    fresh();
    let b = buffer::new(8).unwrap();
    buffer::retain(b).unwrap();
    buffer::retain(b).unwrap();
    assert_eq!(buffer::refcount(b), Ok(3));
    assert_eq!(buffer::release(b), Ok(2));
    assert_eq!(buffer::release(b), Ok(1));
    assert_eq!(buffer::release(b), Ok(0));
    assert_eq!(load32(b - 12), FREED_TAG);
    assert_eq!(buffer::release(b), Err(ErrorCode::Freed));
    assert_eq!(buffer::retain(b), Err(ErrorCode::Freed));
    assert_eq!(buffer::resolve(b), Err(ErrorCode::Freed));
    assert_all_free();
}

#[test]
fn refcount_overflow_is_detected_before_mutating() {
    fresh();
    let b = buffer::new(4).unwrap();
    store32(b - 4, MAX_REFCOUNT - 1);
    buffer::retain(b).unwrap();
    assert_eq!(buffer::refcount(b), Ok(MAX_REFCOUNT));
    assert_eq!(buffer::retain(b), Err(ErrorCode::RefcountOverflow));
    assert_eq!(buffer::refcount(b), Ok(MAX_REFCOUNT));
    store32(b - 4, 1);
    buffer::release(b).unwrap();
    assert_all_free();
}

#[test]
fn foreign_addresses_are_not_buffers() {
    fresh();
    let b = buffer::new(64).unwrap();
    for bad in [0, 1, 8, 16, b + 1, b + 8, b + 16, b + 32, memory::heap_start(), 0xFFFF_FFF0, 0x7fff_fff0] {
        assert_eq!(buffer::release(bad), Err(ErrorCode::NotABuffer), "{bad:#x}");
        assert_eq!(buffer::check(bad), Err(ErrorCode::NotABuffer), "{bad:#x}");
    }
    // Nothing changed.
    assert_eq!(buffer::refcount(b), Ok(1));
    assert_eq!(buffer::stats().live_buffers, 1);
    buffer::release(b).unwrap();
    assert_all_free();
}

#[test]
fn addresses_are_checked_before_the_first_allocation() {
    fresh();
    for bad in [0, 16, memory::heap_start() + 16, memory::heap_start() + 4096, 0xFFFF_FFF0] {
        assert_eq!(buffer::check(bad), Err(ErrorCode::NotABuffer), "{bad:#x}");
        assert_eq!(buffer::release(bad), Err(ErrorCode::NotABuffer), "{bad:#x}");
    }
}

#[test]
fn bad_lengths() {
    fresh();
    assert_eq!(buffer::new(MAX_LENGTH + 1), Err(ErrorCode::BadLength));
    assert_eq!(buffer::new(u32::MAX), Err(ErrorCode::BadLength));
    assert_eq!(buffer::stats().live_buffers, 0);
}

#[test]
fn out_of_memory_leaves_the_heap_usable() {
    fresh();
    memory::set_native_max_pages(4);
    let a = buffer::new(100_000).unwrap();
    assert_eq!(buffer::new(200_000), Err(ErrorCode::OutOfMemory));
    assert_eq!(buffer::new(MAX_LENGTH), Err(ErrorCode::OutOfMemory));
    assert_eq!(buffer::stats().live_buffers, 1);
    let b = buffer::new(1000).unwrap();
    buffer::release(a).unwrap();
    buffer::release(b).unwrap();
    // After freeing, the big block fits again.
    let c = buffer::new(200_000).unwrap();
    buffer::release(c).unwrap();
    assert_all_free();
    assert_eq!(memory::pages(), 4);
}

#[test]
fn memory_grows_and_counters_are_exact() {
    fresh();
    let start_pages = memory::pages();
    let mut live = Vec::new();
    let mut bytes = 0u32;
    let mut heap = 0u32;
    for i in 0..200u32 {
        let len = i * 997 % 20_000;
        let b = buffer::new(len).unwrap();
        live.push(b);
        bytes += len;
        let size = alloc::size_of_block(b - 16);
        assert!(size >= alloc::block_size(len) && size < alloc::block_size(len) + alloc::MIN_BLOCK);
        heap += size;
        let s = buffer::stats();
        assert_eq!((s.live_buffers, s.live_bytes, s.heap_bytes), (i + 1, bytes, heap));
    }
    assert!(memory::pages() > start_pages);
    assert_eq!(buffer::stats().pages, memory::pages());
    for b in live {
        buffer::release(b).unwrap();
    }
    assert_all_free();
}

#[test]
fn block_sizes() {
    assert_eq!(alloc::block_size(0), 32);
    assert_eq!(alloc::block_size(16), 32);
    assert_eq!(alloc::block_size(17), 48);
    assert_eq!(alloc::block_size(MAX_LENGTH), MAX_LENGTH + 16);
}

#[test]
fn freed_block_is_reused_and_coalesced() {
    fresh();
    let a = buffer::new(5000).unwrap();
    let b = buffer::new(5000).unwrap();
    let c = buffer::new(5000).unwrap();
    buffer::release(a).unwrap();
    buffer::release(c).unwrap();
    buffer::release(b).unwrap();
    // a, b, c and the rest merged into one free block.
    assert_all_free();
    let d = buffer::new(15000).unwrap();
    assert_eq!(d, a);
    buffer::release(d).unwrap();
}

#[test]
fn external_copies_check_both_ranges() {
    fresh();
    let mut ext = vec![0u8; PAGE_SIZE as usize];
    for (i, x) in ext.iter_mut().enumerate() {
        *x = i as u8;
    }
    intrinsics::set_external(ext);
    let b = buffer::new(100).unwrap();
    external::copy_in(b, 10, 1000, 50).unwrap();
    let data = unsafe { std::slice::from_raw_parts(memory::ptr(b), 100) };
    assert_eq!(data[10], (1000 % 256) as u8);
    assert_eq!(data[59], (1049 % 256) as u8);
    assert_eq!(data[60], 0);
    assert_eq!(external::copy_in(b, 60, 0, 41), Err(ErrorCode::Range));
    assert_eq!(external::copy_in(b, u32::MAX, 0, 2), Err(ErrorCode::Range));
    assert_eq!(external::copy_in(b, 0, PAGE_SIZE - 10, 11), Err(ErrorCode::ExternalRange));
    assert_eq!(external::copy_in(b, 0, u32::MAX, 2), Err(ErrorCode::ExternalRange));
    external::copy_out(PAGE_SIZE - 100, b, 0, 100).unwrap();
    let ext = intrinsics::external();
    assert_eq!(ext[PAGE_SIZE as usize - 90], (1000 % 256) as u8);
    assert_eq!(external::copy_out(PAGE_SIZE - 99, b, 0, 100), Err(ErrorCode::ExternalRange));
    assert_eq!(external::copy_out(0, b + 16, 0, 1), Err(ErrorCode::NotABuffer));
    buffer::release(b).unwrap();
    assert_eq!(external::copy_out(0, b, 0, 1), Err(ErrorCode::Freed));
    assert_all_free();
}

#[test]
fn trap_on_error_panics_natively_with_the_code_name() {
    fresh();
    let r = std::panic::catch_unwind(|| multimem_runtime::export::trap_on_error(buffer::release(48)));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("NOT_A_BUFFER"), "{msg}");
    assert_eq!(multimem_runtime::export::last_error(), ErrorCode::NotABuffer.code());
}

#[cfg(feature = "checked")]
#[test]
fn checked_build_keeps_freed_blocks_out_of_reuse() {
    fresh();
    let a = buffer::new(64).unwrap();
    buffer::release(a).unwrap();
    // Many allocations later, the stale address is still FREED.
    let mut live = Vec::new();
    for _ in 0..500 {
        live.push(buffer::new(64).unwrap());
    }
    assert!(!live.contains(&a), "quarantined block was reused");
    assert_eq!(buffer::release(a), Err(ErrorCode::Freed));
    assert_eq!(buffer::retain(a), Err(ErrorCode::Freed));
    for b in live {
        buffer::release(b).unwrap();
    }
    assert_eq!(multimem_runtime::checked::quarantined(), 501);
    assert_all_free();
}

/// The zero-fill skip (`alloc::alloc_zeroable`, `State::clean`) is used only
/// on memory that is really zero: every buffer is dirtied over its whole
/// length, then blocks are freed and taken again along every path (quick
/// lists, TLSF splits, whole blocks, coalescing with the never-used tail,
/// growth that merges the free tail or starts after a used one), and every
/// new buffer must read as zero. `check_heap` also checks the invariant
/// itself (above the mark, only free-block headers and tags are non-zero).
#[test]
fn zero_fill_is_skipped_only_on_untouched_memory() {
    let dirty = |b: u32| {
        let len = buffer::resolve(b).unwrap() as usize;
        unsafe { std::slice::from_raw_parts_mut(memory::ptr(b), len) }.fill(0xA5);
    };
    let new_zeroed = |len: u32| {
        let b = buffer::new(len).unwrap();
        let data = unsafe { std::slice::from_raw_parts(memory::ptr(b), len as usize) };
        assert!(data.iter().all(|&x| x == 0), "buffer_new({len}) at {b:#x} returned dirty memory");
        alloc::check_heap().unwrap();
        dirty(b);
        b
    };
    fresh();
    // Fresh memory: split off the tail, the skip applies.
    let a = new_zeroed(40_000);
    let b = new_zeroed(300);
    let c = new_zeroed(100_000); // grows; the free tail merges with the new pages
    // Freeing the block just below the tail merges the tail's header (at
    // the clean mark) into a free block.
    buffer::release(c).unwrap();
    alloc::check_heap().unwrap();
    let c = new_zeroed(150_000);
    // Reuse: same size (whole block or split), smaller, larger, small ones.
    buffer::release(a).unwrap();
    let a1 = new_zeroed(20_000);
    let a2 = new_zeroed(19_000);
    buffer::release(b).unwrap();
    let b1 = new_zeroed(300);
    for x in [a1, a2, b1, c] {
        buffer::release(x).unwrap();
    }
    // A used block ending exactly at the top, then growth after it.
    let top = alloc::top();
    let rest = top - alloc::check_heap().unwrap().used_bytes - memory::heap_start();
    let whole = new_zeroed(rest - 16);
    let after = new_zeroed(70_000);
    buffer::release(whole).unwrap();
    buffer::release(after).unwrap();
    // Many rounds of mixed sizes over the dirtied heap.
    let mut rng = 12345u64;
    let mut live: Vec<u32> = Vec::new();
    for _ in 0..3000 {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let r = (rng >> 33) as u32;
        if live.len() < 40 && !r.is_multiple_of(3) {
            let len = match r % 4 {
                0 => r % 300,
                1 => r % 2000,
                2 => r % 70_000,
                _ => r % 300_000,
            };
            live.push(new_zeroed(len));
        } else if !live.is_empty() {
            let i = (r as usize / 7) % live.len();
            buffer::release(live.swap_remove(i)).unwrap();
        }
    }
    for x in live {
        buffer::release(x).unwrap();
    }
    assert_all_free();
}
