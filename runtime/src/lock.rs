//! The shared builds' heap lock and the seqlock of the map of buffer starts
//! (feature `shared`).
//!
//! Design: one lock over the whole allocator (quick lists, TLSF heap,
//! growth, the map's bits, the counters, the `checked` quarantine), held for
//! the few dozen instructions of an allocation or a free; everything else
//! stays outside it: validating addresses, refcount changes (atomic
//! read-modify-writes on the header), zero-filling a new buffer's data,
//! element access. Why one lock rather than per-thread caches or
//! lock-free size classes: the runtime has no per-thread memory without
//! giving every instance a heap block of its own (which a worker that ends
//! without telling would leak), and lock-free lists need an atomic
//! read-modify-write per list operation and per counter, more than the one
//! compare-and-swap and one swap of a lock that covers all of them; the
//! counters under the lock are exact by construction. The cost is that
//! allocations do not scale with threads (`BENCHMARKS.md`, "Threads").
//!
//! The lock word (in the allocator state) is 0 free, 1 held, 2 held with
//! possible sleepers. Taking it: a bounded spin of compare-and-swaps; then,
//! if this instance may block ([`instance::may_wait`], set by the loader
//! on workers and host threads), the classic futex loop (swap in 2,
//! `memory.atomic.wait32` while it is 2); if it may not (a browser's main
//! thread, where `memory.atomic.wait32` traps), it keeps spinning.
//! Releasing: swap in 0, and `memory.atomic.notify` one sleeper if the word
//! was 2.
//!
//! The map of buffer starts lies at the end of the memory and moves when a
//! thread grows it (`alloc::relayout`), while other threads validate
//! addresses against it without the lock. A sequence counter guards the
//! move: odd while the map moves; a reader retries when the counter was odd
//! or changed while it read ([`read_map`]).

use crate::alloc;
use crate::instance;
use core::sync::atomic::{AtomicU32, Ordering, fence};

/// Compare-and-swap attempts before blocking. A critical section is a few
/// dozen instructions, so a holder that is running releases well within
/// this; past it the holder was most likely descheduled.
const SPINS: u32 = 128;

fn word() -> &'static AtomicU32 {
    // SAFETY: the lock word is an aligned u32 of the allocator state, which
    // lives as long as the instance, and is only accessed atomically.
    unsafe { AtomicU32::from_ptr(&raw mut (*alloc::state()).lock) }
}

fn seq() -> &'static AtomicU32 {
    // SAFETY: as for `word`.
    unsafe { AtomicU32::from_ptr(&raw mut (*alloc::state()).map_seq) }
}

/// Holds the heap lock until dropped.
pub struct Guard(());

impl Guard {
    /// Takes the heap lock (see the module docs).
    #[inline(always)]
    pub fn take() -> Guard {
        if word().compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            contended();
        }
        Guard(())
    }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        if word().swap(0, Ordering::Release) == 2 {
            instance::notify(word().as_ptr() as u32, 1);
        }
    }
}

#[cold]
#[inline(never)]
fn contended() {
    let w = word();
    for _ in 0..SPINS {
        core::hint::spin_loop();
        if w.load(Ordering::Relaxed) == 0 && w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            return;
        }
    }
    if instance::may_wait() {
        while w.swap(2, Ordering::Acquire) != 0 {
            instance::wait32(w.as_ptr() as u32, 2);
        }
    } else {
        while w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
    }
}

/// Runs `read` on the map of buffer starts (and the heap's top) as no move
/// changes them: retried while a move is under way or happened meanwhile.
#[inline(always)]
pub fn read_map<T>(read: impl Fn() -> T) -> T {
    loop {
        let s = seq().load(Ordering::Acquire);
        if s & 1 == 0 {
            let v = read();
            fence(Ordering::Acquire);
            if seq().load(Ordering::Relaxed) == s {
                return v;
            }
        }
        core::hint::spin_loop();
    }
}

/// Marks the start of a move of the map (the heap lock is held).
#[inline(always)]
pub fn map_move_begin() {
    let s = seq().load(Ordering::Relaxed);
    seq().store(s.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
}

/// Marks the end of a move of the map.
#[inline(always)]
pub fn map_move_end() {
    let s = seq().load(Ordering::Relaxed);
    seq().store(s.wrapping_add(1), Ordering::Release);
}
