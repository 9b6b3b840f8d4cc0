//! The wasm exports of `runtime.wasm` (all but the typed-data ones, which
//! live in `typed/`), compiled with the `exports` feature.
//!
//! Each export is a thin wrapper around a `Result`-returning function of the
//! Rust API. Errors are turned into traps here, in the outermost frame, by
//! [`trap_on_error`]: the inner functions have returned (and restored any
//! shadow-stack frame) by then, and the wrappers are written so they need no
//! frame of their own, so a trap leaves `__stack_pointer` balanced and the
//! instance usable. A test checks the generated wasm for this.

use crate::Result;
#[cfg(not(feature = "shared"))]
use crate::alloc::st;
use multimem_abi::ErrorCode;

/// Records `code` as `last_error` and traps (wasm32). Natively it panics
/// with the code's name, so tests can assert on it.
#[cold]
#[inline(never)]
pub fn trap(code: ErrorCode) -> ! {
    // Per instance in the shared builds: another thread's trap must not
    // overwrite the code this one's host is about to read.
    #[cfg(feature = "shared")]
    crate::instance::set_last_error(code.code());
    #[cfg(not(feature = "shared"))]
    {
        st!().last_error = code.code();
    }
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("multimem trap: {}", code.name());
}

/// Unwraps `r`, or records its error and traps (see [`trap`]). Use it only
/// in the export wrapper itself.
#[inline(always)]
pub fn trap_on_error<T>(r: Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => trap(e),
    }
}

/// Code recorded by the most recent trap (0 if none).
pub fn last_error() -> u32 {
    #[cfg(feature = "shared")]
    return crate::instance::last_error();
    #[cfg(not(feature = "shared"))]
    st!().last_error
}

#[cfg(feature = "exports")]
mod wasm {
    use super::trap_on_error;
    use crate::{buffer, external, memory};

    #[unsafe(no_mangle)]
    extern "C" fn abi_version() -> u32 {
        multimem_abi::ABI_VERSION
    }

    #[unsafe(no_mangle)]
    extern "C" fn last_error() -> u32 {
        super::last_error()
    }

    #[unsafe(no_mangle)]
    extern "C" fn buffer_new(len: u32) -> u32 {
        trap_on_error(buffer::new(len))
    }

    #[unsafe(no_mangle)]
    extern "C" fn buffer_retain(b: u32) {
        trap_on_error(buffer::retain(b))
    }

    // Never inlined: `buffer_release_batch` calls it, and one copy of the
    // release code keeps runtime.wasm within its size budget.
    #[unsafe(no_mangle)]
    #[inline(never)]
    extern "C" fn buffer_release(b: u32) -> u32 {
        trap_on_error(buffer::release(b))
    }

    #[unsafe(no_mangle)]
    extern "C" fn buffer_release_batch(count: u32) -> u32 {
        trap_on_error(buffer::release_batch(count, |b| {
            buffer_release(b);
        }))
    }

    #[unsafe(no_mangle)]
    extern "C" fn buffer_length(b: u32) -> u32 {
        trap_on_error(buffer::resolve(b))
    }

    #[unsafe(no_mangle)]
    extern "C" fn buffer_refcount(b: u32) -> u32 {
        trap_on_error(buffer::refcount(b))
    }

    #[unsafe(no_mangle)]
    extern "C" fn buffer_check(b: u32) -> u32 {
        match buffer::check(b) {
            Ok(()) => 0,
            Err(e) => e.code(),
        }
    }

    #[unsafe(no_mangle)]
    extern "C" fn external_copy_in(b: u32, offset: u32, ext: u32, len: u32) {
        trap_on_error(external::copy_in(b, offset, ext, len))
    }

    #[unsafe(no_mangle)]
    extern "C" fn external_copy_out(ext: u32, b: u32, offset: u32, len: u32) {
        trap_on_error(external::copy_out(ext, b, offset, len))
    }

    #[unsafe(no_mangle)]
    extern "C" fn stats_live_buffers() -> u32 {
        buffer::stats().live_buffers
    }

    #[unsafe(no_mangle)]
    extern "C" fn stats_live_bytes() -> u32 {
        buffer::stats().live_bytes
    }

    #[unsafe(no_mangle)]
    extern "C" fn stats_heap_bytes() -> u32 {
        buffer::stats().heap_bytes
    }

    #[unsafe(no_mangle)]
    extern "C" fn stats_pages() -> u32 {
        memory::pages()
    }

    /// The shared builds' one extra export (docs/ABI.md, "Threads").
    #[cfg(feature = "shared")]
    #[unsafe(no_mangle)]
    extern "C" fn instance_may_wait(may: u32) {
        crate::instance::set_may_wait(may != 0)
    }
}
