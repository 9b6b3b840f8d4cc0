//! `multimem-runtime`: the refcounted ByteBuffer/TypedList heap that lives
//! in its own linear memory (the *own* memory), compiled to `runtime.wasm`.
//!
//! It implements `docs/ABI.md` (header layout, exports, error codes,
//! intrinsics); every ABI fact comes from the generated `multimem-abi` crate.
//! It owns the own memory and nothing else: the external memory is reached
//! only through the `multimem:intrinsics` imports.
//!
//! Modules, bottom up:
//! - [`memory`]: own-memory addresses, size, growth (simulated natively);
//! - [`alloc`]: the block allocator (quick lists + coalescing TLSF);
//! - [`starts`]: the map of buffer starts, which makes `NOT_A_BUFFER` exact;
//! - [`buffer`]: buffers, their header, refcounts and counters;
//! - `checked` (feature `checked`): a quarantine of freed blocks;
//! - `instance`, `lock` (feature `shared`): per-instance state, the heap
//!   lock and the map's sequence counter of the shared builds;
//! - [`intrinsics`], [`external`]: copies to and from the external memory;
//! - [`typed`]: typed lists, ByteData and the bulk kernels;
//! - [`export`]: the wasm exports and the trap protocol.
//!
//! The same code runs natively (tests, benchmarks of the Rust API): there
//! the own memory is a per-thread simulated region, see [`memory`].
//!
//! Features: `exports` (default; the `#[no_mangle]` wasm exports), `simd`
//! (simd128 kernels), `checked`, `atomic-refcounts`, `shared` (see "Builds
//! of the runtime" and "Threads" in `docs/ABI.md`).
#![no_std]

pub mod alloc;
pub mod buffer;
#[cfg(feature = "checked")]
pub mod checked;
pub mod export;
pub mod external;
#[cfg(feature = "shared")]
pub mod instance;
pub mod intrinsics;
#[cfg(feature = "shared")]
pub mod lock;
pub mod memory;
pub mod starts;
pub mod typed;

/// Result of runtime operations: the error is an ABI error code.
pub type Result<T> = core::result::Result<T, multimem_abi::ErrorCode>;

pub use multimem_abi::ErrorCode;

#[cfg(all(target_arch = "wasm32", feature = "exports"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
