//! Per-instance state of the shared builds (feature `shared`).
//!
//! In a shared build several instances (one per thread or worker) run over
//! one `own` memory, so everything in that memory (the allocator state,
//! the statics) is common to all of them. A few things must not be: the
//! code of the last trap (`last_error`), whether this instance may block in
//! `memory.atomic.wait32` (never on a browser's main thread), and the
//! release queue of `buffer_release_batch`, which a host fills and then
//! applies from its own thread. Those live in wasm *globals*, which each
//! instance has its own copy of.
//!
//! Stable Rust can neither declare a wasm global nor emit
//! `memory.atomic.wait32`/`notify` (`core::arch::wasm32`'s are unstable), so
//! the runtime imports them from the build-internal module
//! [`INSTANCE_MODULE`], and `runtime/bundle` replaces every call of one by
//! its instruction when it builds `runtime.wasm`: `NAME_get`/`NAME_set`
//! become `global.get`/`global.set` of a new mutable `i32` global per
//! `NAME` (initially 0), `wait32` becomes `memory.atomic.wait32` and
//! `notify` `memory.atomic.notify` on the own memory. No shipped
//! `runtime.wasm` imports from that module.
//!
//! Natively (tests of the Rust API) the globals are thread-locals and the
//! wait is a yield.

/// The build-internal import module that `runtime/bundle` lowers.
pub const INSTANCE_MODULE: &str = "multimem:instance";

#[cfg(target_arch = "wasm32")]
mod imp {
    #[link(wasm_import_module = "multimem:instance")]
    unsafe extern "C" {
        pub fn last_error_get() -> u32;
        pub fn last_error_set(v: u32);
        pub fn may_wait_get() -> u32;
        pub fn may_wait_set(v: u32);
        pub fn queue_get() -> u32;
        pub fn queue_set(v: u32);
        pub fn wait32(addr: u32, expected: u32, timeout_ns: i64) -> u32;
        pub fn notify(addr: u32, count: u32) -> u32;
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    extern crate std;
    use core::cell::Cell;

    std::thread_local! {
        static GLOBALS: [Cell<u32>; 3] = const { [Cell::new(0), Cell::new(0), Cell::new(0)] };
    }

    macro_rules! global {
        ($get:ident, $set:ident, $i:expr) => {
            pub unsafe fn $get() -> u32 {
                GLOBALS.with(|g| g[$i].get())
            }
            pub unsafe fn $set(v: u32) {
                GLOBALS.with(|g| g[$i].set(v))
            }
        };
    }
    global!(last_error_get, last_error_set, 0);
    global!(may_wait_get, may_wait_set, 1);
    global!(queue_get, queue_set, 2);

    /// Natively each thread has its own simulated memory, so nobody else
    /// can hold the lock: yielding is all a wait needs to do.
    pub unsafe fn wait32(_addr: u32, _expected: u32, _timeout_ns: i64) -> u32 {
        std::thread::yield_now();
        1
    }

    pub unsafe fn notify(_addr: u32, _count: u32) -> u32 {
        0
    }
}

/// This instance's `last_error`.
#[inline(always)]
pub fn last_error() -> u32 {
    // SAFETY: a global read.
    unsafe { imp::last_error_get() }
}

/// Records this instance's `last_error`.
#[inline(always)]
pub fn set_last_error(code: u32) {
    // SAFETY: a global write.
    unsafe { imp::last_error_set(code) }
}

/// Whether this instance may block in `memory.atomic.wait32`
/// (`instance_may_wait`; 0 until the loader says so).
#[inline(always)]
pub fn may_wait() -> bool {
    // SAFETY: a global read.
    unsafe { imp::may_wait_get() != 0 }
}

/// Sets whether this instance may block (`instance_may_wait`).
#[inline(always)]
pub fn set_may_wait(may: bool) {
    // SAFETY: a global write.
    unsafe { imp::may_wait_set(may as u32) }
}

/// This instance's release queue (0 before it is allocated).
#[inline(always)]
pub fn queue() -> u32 {
    // SAFETY: a global read.
    unsafe { imp::queue_get() }
}

/// Sets this instance's release queue.
#[inline(always)]
pub fn set_queue(address: u32) {
    // SAFETY: a global write.
    unsafe { imp::queue_set(address) }
}

/// `memory.atomic.wait32` on the own memory: blocks while the word at
/// `addr` is `expected` (0 woken, 1 not equal, 2 timed out). Only when
/// [`may_wait`]: on a browser's main thread it traps.
#[inline(always)]
pub fn wait32(addr: u32, expected: u32) -> u32 {
    // SAFETY: `addr` is an aligned word of the allocator state.
    unsafe { imp::wait32(addr, expected, -1) }
}

/// `memory.atomic.notify` on the own memory: wakes up to `count` waiters.
#[inline(always)]
pub fn notify(addr: u32, count: u32) -> u32 {
    // SAFETY: as for `wait32`.
    unsafe { imp::notify(addr, count) }
}
