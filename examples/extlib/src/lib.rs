//! The external library of the compiler example (`examples/compiler`).
//!
//! A small Rust library compiled to `wasm32-unknown-unknown`. It has its own
//! linear memory (exported as `memory`, the `external` role of
//! `docs/ABI.md`) and knows nothing about multimem: callers put bytes into
//! its memory (the app does it with the runtime's `external_copy_out`),
//! call a function on `(pointer, lengthInBytes)`, and read the bytes back
//! (`external_copy_in`). It also builds natively, which is harmless; only the
//! wasm build is used.
//!
//! Exports: `alloc`/`dealloc` for scratch space in its memory, and the
//! byte functions the example language can call as `lib.NAME(list, ...)`.

use std::alloc::{Layout, alloc_zeroed, dealloc as free};

/// Scratch space of `len` bytes in this library's memory (zeroed, 16-byte
/// aligned); 0 if it cannot be had. Give it back with [`dealloc`].
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: u32) -> u32 {
    let Ok(layout) = Layout::from_size_align(len.max(1) as usize, 16) else { return 0 };
    // SAFETY: the layout has a non-zero size.
    unsafe { alloc_zeroed(layout) as usize as u32 }
}

/// Gives back space from [`alloc`] with the same `len`.
///
/// # Safety
/// `ptr` must come from `alloc(len)` and not have been given back already.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: u32, len: u32) {
    if ptr == 0 {
        return;
    }
    let layout = Layout::from_size_align(len.max(1) as usize, 16).unwrap();
    // SAFETY: the caller's contract.
    unsafe { free(ptr as usize as *mut u8, layout) }
}

/// # Safety
/// `(ptr, len)` must be a range of this library's memory.
unsafe fn bytes<'a>(ptr: u32, len: u32) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts_mut(ptr as usize as *mut u8, len as usize) }
}

/// Adler-32 checksum (RFC 1950) of the bytes.
///
/// # Safety
/// `(ptr, len)` must be a range of this library's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn adler32(ptr: u32, len: u32) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    // SAFETY: forwarded.
    for &byte in unsafe { bytes(ptr, len) }.iter() {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Image-style brighten, in place: adds `amount` to every byte, saturating
/// at 255. Returns how many bytes saturated.
///
/// # Safety
/// `(ptr, len)` must be a range of this library's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn brighten(ptr: u32, len: u32, amount: u32) -> u32 {
    let mut saturated = 0;
    // SAFETY: forwarded.
    for byte in unsafe { bytes(ptr, len) }.iter_mut() {
        let v = *byte as u32 + (amount & 0xff);
        if v > 255 {
            saturated += 1;
        }
        *byte = v.min(255) as u8;
    }
    saturated
}

/// Reverses the bytes in place; returns the length.
///
/// # Safety
/// `(ptr, len)` must be a range of this library's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn reverse(ptr: u32, len: u32) -> u32 {
    // SAFETY: forwarded.
    unsafe { bytes(ptr, len) }.reverse();
    len
}
