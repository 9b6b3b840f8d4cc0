//! Bulk kernels: fill, copy (memmove) and element-wise add and mul.
//!
//! Each kernel has two bodies chosen at compile time: wasm `simd128` (when
//! the build enables the target feature; the default `runtime.wasm`) and a
//! scalar one (the `scalar` build and native code). Add and mul process
//! the data in the same 16-byte chunks in both (each chunk of both inputs
//! read whole before it is written; the final partial chunk through a
//! scratch copy) and compute each lane with the same IEEE or wrapping
//! operation, so the two builds give bit-identical results, even when `out`
//! overlaps an input by part of a chunk (the ABI only promises exact
//! aliasing; this keeps the other cases reproducible across builds). Fill
//! and copy write exactly the bytes a byte loop would.
//!
//! Addresses need no alignment: wasm's `v128.load`/`v128.store` accept any
//! address, so unaligned heads need no special path and the tail is the
//! only partial chunk.
//!
//! The scalar copy is `core::ptr::copy`, which is wasm's `memory.copy`
//! (bulk memory) in the scalar build.

use multimem_abi::Kind;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use super::convert::{lane_size, read, write};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

/// Bytes per chunk (one `v128`).
const CHUNK: usize = 16;

/// Fills `len` bytes at `dst` with `pattern` repeated (little-endian byte
/// `k % 8` of `pattern` at byte `k`); see [`super::convert::replicate`].
///
/// # Safety
/// `dst..dst + len` must be writable.
pub unsafe fn fill(dst: *mut u8, len: usize, pattern: u64) {
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let v = i64x2_splat(pattern as i64);
        while len - i >= CHUNK {
            // SAFETY: i + 16 <= len.
            unsafe { v128_store(dst.add(i) as *mut v128, v) };
            i += CHUNK;
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    while len - i >= 8 {
        // SAFETY: i + 8 <= len.
        unsafe { (dst.add(i) as *mut u64).write_unaligned(pattern.to_le()) };
        i += 8;
    }
    while i < len {
        // SAFETY: i < len.
        unsafe { *dst.add(i) = (pattern >> (8 * (i & 7))) as u8 };
        i += 1;
    }
}

/// Copies `len` bytes from `src` to `dst` with memmove semantics (the
/// ranges may overlap).
///
/// # Safety
/// `src..src + len` readable, `dst..dst + len` writable.
pub unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        // Forward unless dst lies inside src's range after it (memmove's
        // rule). Whole chunks go first in that direction, each loaded before
        // it is stored; the partial chunk is at the far end forward (at the
        // start backward), where no chunk store can reach its source bytes.
        let forward = (dst as usize).wrapping_sub(src as usize) >= len;
        let rest = len & (CHUNK - 1);
        let whole = len - rest;
        let (first, tail) = if forward { (0, whole) } else { (rest, 0) };
        let mut k = 0;
        while k < whole {
            let at = first + if forward { k } else { whole - CHUNK - k };
            // SAFETY: at + 16 <= len.
            unsafe { v128_store(dst.add(at) as *mut v128, v128_load(src.add(at) as *const v128)) };
            k += CHUNK;
        }
        // SAFETY: tail + rest <= len; memmove semantics.
        unsafe { core::ptr::copy(src.add(tail), dst.add(tail), rest) };
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    // SAFETY: the caller's contract; core's memmove (memory.copy on wasm).
    unsafe {
        core::ptr::copy(src, dst, len)
    };
}

/// An element-wise operation of `list_add` / `list_mul`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `out[i] = a[i] + b[i]`
    Add,
    /// `out[i] = a[i] * b[i]`
    Mul,
}

/// One lane of `op` on raw little-endian bits; `lane` is Int32List
/// (wrapping), Float32List or Float64List. The scalar build's chunk body,
/// and the reference the SIMD body must match.
pub fn lane_op(op: Op, lane: Kind, x: u64, y: u64) -> u64 {
    let add = op == Op::Add;
    match lane {
        Kind::Float32List => {
            let (x, y) = (f32::from_bits(x as u32), f32::from_bits(y as u32));
            (if add { x + y } else { x * y }).to_bits() as u64
        }
        Kind::Float64List => {
            let (x, y) = (f64::from_bits(x), f64::from_bits(y));
            (if add { x + y } else { x * y }).to_bits()
        }
        _ => {
            let (x, y) = (x as u32, y as u32);
            (if add { x.wrapping_add(y) } else { x.wrapping_mul(y) }) as u64
        }
    }
}

/// `out = a op b` over `len` bytes, `len` a multiple of 16, chunk by
/// chunk: each chunk of both inputs is read whole before that chunk of
/// `out` is written. SIMD: one `v128` loop per (lane, op), chosen once.
///
/// # Safety
/// As for [`binary`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(never)]
unsafe fn chunks(op: Op, lane: Kind, out: *mut u8, a: *const u8, b: *const u8, len: usize) {
    macro_rules! run {
        ($f:ident) => {{
            let mut i = 0;
            while i < len {
                // SAFETY: i + 16 <= len; v128 loads and stores need no alignment.
                unsafe {
                    let r = $f(v128_load(a.add(i) as *const v128), v128_load(b.add(i) as *const v128));
                    v128_store(out.add(i) as *mut v128, r);
                }
                i += CHUNK;
            }
        }};
    }
    match (lane, op) {
        (Kind::Float32List, Op::Add) => run!(f32x4_add),
        (Kind::Float32List, Op::Mul) => run!(f32x4_mul),
        (Kind::Float64List, Op::Add) => run!(f64x2_add),
        (Kind::Float64List, Op::Mul) => run!(f64x2_mul),
        (_, Op::Add) => run!(i32x4_add),
        (_, Op::Mul) => run!(i32x4_mul),
    }
}

/// Scalar [`chunks`]: each chunk of both inputs is copied out whole, then
/// computed lane by lane with [`lane_op`], then stored.
///
/// # Safety
/// As for [`binary`].
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(never)]
unsafe fn chunks(op: Op, lane: Kind, out: *mut u8, a: *const u8, b: *const u8, len: usize) {
    let width = lane_size(lane);
    let mut i = 0;
    while i < len {
        let mut x = [0u8; CHUNK];
        let mut y = [0u8; CHUNK];
        // SAFETY: i + 16 <= len; j + width <= 16 (width divides 16).
        unsafe {
            core::ptr::copy(a.add(i), x.as_mut_ptr(), CHUNK);
            core::ptr::copy(b.add(i), y.as_mut_ptr(), CHUNK);
            let mut j = 0;
            while j < CHUNK {
                let (px, py) = (x.as_mut_ptr().add(j), y.as_ptr().add(j));
                write(px, width, true, lane_op(op, lane, read(px, width, true), read(py, width, true)));
                j += width as usize;
            }
            core::ptr::copy(x.as_ptr(), out.add(i), CHUNK);
        }
        i += CHUNK;
    }
}

/// `out = a op b` over `len` bytes of lanes of kind `lane` (Int32List,
/// Float32List or Float64List; `len` a multiple of the lane size).
///
/// Whole chunks run in place; the final partial chunk goes through a
/// 16-byte scratch copy and the same chunk loop, so the tail needs no
/// separate lane code and computes exactly what a whole chunk would.
/// Except in the shared builds: the scratch would live on the shadow stack,
/// which all their instances share (docs/ABI.md, "Threads"), so there the
/// tail runs lane by lane through [`lane_op`], which computes the same.
///
/// # Safety
/// `a..a + len` and `b..b + len` readable, `out..out + len` writable.
pub unsafe fn binary(op: Op, lane: Kind, out: *mut u8, a: *const u8, b: *const u8, len: usize) {
    let full = len & !(CHUNK - 1);
    #[cfg(not(feature = "shared"))]
    let rest = len - full;
    // SAFETY: the caller's contract; the scratch arrays hold 16 >= rest bytes.
    unsafe {
        chunks(op, lane, out, a, b, full);
        #[cfg(feature = "shared")]
        {
            use super::convert::{lane_size, read, write};
            let width = lane_size(lane) as usize;
            let mut j = full;
            while j < len {
                let x = read(a.add(j), width as u32, true);
                let y = read(b.add(j), width as u32, true);
                write(out.add(j), width as u32, true, lane_op(op, lane, x, y));
                j += width;
            }
        }
        #[cfg(not(feature = "shared"))]
        if rest != 0 {
            let mut x = [0u8; CHUNK];
            let mut y = [0u8; CHUNK];
            core::ptr::copy(a.add(full), x.as_mut_ptr(), rest);
            core::ptr::copy(b.add(full), y.as_mut_ptr(), rest);
            chunks(op, lane, x.as_mut_ptr(), x.as_ptr(), y.as_ptr(), CHUNK);
            core::ptr::copy(x.as_ptr(), out.add(full), rest);
        }
    }
}
