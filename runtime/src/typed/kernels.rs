//! Bulk kernels: fill, copy (memmove) and element-wise add and mul.
//!
//! Each kernel has two bodies chosen at compile time: wasm `simd128` (when
//! the build enables the target feature; the default `runtime.wasm`) and a
//! scalar one (the `scalar` build and native code). Both process the data
//! in the same 16-byte chunks followed by a lane-by-lane tail, and compute
//! each lane with the same IEEE or wrapping operation, so the two builds
//! give bit-identical results, even when `out` overlaps an input by part of
//! a chunk (the ABI only promises exact aliasing; this keeps even the
//! undocumented cases reproducible across builds).
//!
//! Addresses need no alignment: wasm's `v128.load`/`v128.store` accept any
//! address, so unaligned heads and tails need no special path beyond the
//! final partial chunk.

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
        if (dst as usize).wrapping_sub(src as usize) >= len {
            // dst before src, or no overlap: forward. Each chunk is loaded
            // before it is stored, and a store never reaches bytes of a
            // later chunk of src.
            let mut i = 0;
            while len - i >= CHUNK {
                // SAFETY: i + 16 <= len.
                unsafe { v128_store(dst.add(i) as *mut v128, v128_load(src.add(i) as *const v128)) };
                i += CHUNK;
            }
            while i < len {
                // SAFETY: i < len.
                unsafe { *dst.add(i) = *src.add(i) };
                i += 1;
            }
        } else {
            // dst inside src's range, after it: backward, mirror image.
            let mut i = len;
            while i >= CHUNK {
                i -= CHUNK;
                // SAFETY: i + 16 <= len.
                unsafe { v128_store(dst.add(i) as *mut v128, v128_load(src.add(i) as *const v128)) };
            }
            while i > 0 {
                i -= 1;
                // SAFETY: i < len.
                unsafe { *dst.add(i) = *src.add(i) };
            }
        }
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

/// One 16-byte chunk of `op` in SIMD.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn chunk_op(op: Op, lane: Kind, x: v128, y: v128) -> v128 {
    match (lane, op) {
        (Kind::Float32List, Op::Add) => f32x4_add(x, y),
        (Kind::Float32List, Op::Mul) => f32x4_mul(x, y),
        (Kind::Float64List, Op::Add) => f64x2_add(x, y),
        (Kind::Float64List, Op::Mul) => f64x2_mul(x, y),
        (_, Op::Add) => i32x4_add(x, y),
        (_, Op::Mul) => i32x4_mul(x, y),
    }
}

/// `x = x op y` on one 16-byte chunk of lanes of kind `lane`.
fn chunk(op: Op, lane: Kind, x: &mut [u8; CHUNK], y: &[u8; CHUNK]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: both arrays are 16 bytes; v128 loads and stores need no alignment.
    unsafe {
        let r = chunk_op(op, lane, v128_load(x.as_ptr() as *const v128), v128_load(y.as_ptr() as *const v128));
        v128_store(x.as_mut_ptr() as *mut v128, r);
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let width = lane_size(lane);
        let mut j = 0;
        while j < CHUNK {
            // SAFETY: j + width <= 16 (width divides 16).
            unsafe {
                let (px, py) = (x.as_mut_ptr().add(j), y.as_ptr().add(j));
                write(px, width, true, lane_op(op, lane, read(px, width, true), read(py, width, true)));
            }
            j += width as usize;
        }
    }
}

/// `out = a op b` over `len` bytes of lanes of kind `lane` (Int32List,
/// Float32List or Float64List; `len` a multiple of the lane size).
///
/// Full chunks are read whole from both inputs before `out` is written; the
/// final partial chunk goes through a 16-byte scratch copy and the same
/// chunk operation, so the tail needs no scalar lane code in the SIMD build.
///
/// # Safety
/// `a..a + len` and `b..b + len` readable, `out..out + len` writable.
pub unsafe fn binary(op: Op, lane: Kind, out: *mut u8, a: *const u8, b: *const u8, len: usize) {
    let mut i = 0;
    while i < len {
        let n = if len - i < CHUNK { len - i } else { CHUNK };
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if n == CHUNK {
            // SAFETY: i + 16 <= len.
            unsafe {
                let r = chunk_op(op, lane, v128_load(a.add(i) as *const v128), v128_load(b.add(i) as *const v128));
                v128_store(out.add(i) as *mut v128, r);
            }
            i += CHUNK;
            continue;
        }
        let mut x = [0u8; CHUNK];
        let mut y = [0u8; CHUNK];
        // SAFETY: i + n <= len; the scratch arrays hold 16 >= n bytes.
        unsafe {
            core::ptr::copy(a.add(i), x.as_mut_ptr(), n);
            core::ptr::copy(b.add(i), y.as_mut_ptr(), n);
            chunk(op, lane, &mut x, &y);
            core::ptr::copy(x.as_ptr(), out.add(i), n);
        }
        i += n;
    }
}
