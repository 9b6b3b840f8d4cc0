//! `imagelib`: the "external library" of the browser examples.
//!
//! A tiny image library as a C or Rust library would be shipped for the web:
//! compiled to `wasm32-unknown-unknown`, with its own linear memory exported
//! as `memory`. The example app (examples/browser/apps/image.wat) imports that
//! memory as `env.memory`, so after linking it is the app's `external` memory
//! (docs/ABI.md, "Memories"), and the app reaches it only through the
//! runtime's cross-memory copies (`external_copy_out` / `external_copy_in`).
//!
//! It owns: a bump allocator over its own memory (`alloc`, `reset`) and one
//! filter (`blur_rgb_to_rgba`). It knows nothing about multimem.
//!
//! The filter is written over slices (`blur_rgb_to_rgba_slices`) so that it is
//! unit-tested natively; the wasm exports only check the raw addresses against
//! the memory size and then call it. Bad arguments return an error code,
//! never trap and never write outside the memory.
#![cfg_attr(target_arch = "wasm32", no_std)]

/// Result codes of the exported functions.
pub mod status {
    /// Success.
    pub const OK: i32 = 0;
    /// Width or height is zero, the sizes overflow, or a range lies outside
    /// the memory.
    pub const BAD_ARGUMENT: i32 = 1;
}

/// 3x3 box blur of an RGB image (3 bytes per pixel, rows packed) into an
/// RGBA image (alpha 255). Edge pixels repeat the nearest pixel. Each channel
/// is `sum of the 9 neighbours / 9`, truncated: integer arithmetic only, so
/// a test in any language recomputes it bit for bit.
///
/// Returns `status::BAD_ARGUMENT` if the slices are not exactly
/// `width * height * 3` and `width * height * 4` bytes long.
pub fn blur_rgb_to_rgba_slices(src: &[u8], dst: &mut [u8], width: usize, height: usize) -> i32 {
    let Some(pixels) = width.checked_mul(height) else {
        return status::BAD_ARGUMENT;
    };
    if pixels == 0 || pixels.checked_mul(3) != Some(src.len()) || pixels.checked_mul(4) != Some(dst.len()) {
        return status::BAD_ARGUMENT;
    }
    for y in 0..height {
        for x in 0..width {
            let mut sum = [0u32; 3];
            for dy in [-1isize, 0, 1] {
                let yy = (y as isize + dy).clamp(0, height as isize - 1) as usize;
                for dx in [-1isize, 0, 1] {
                    let xx = (x as isize + dx).clamp(0, width as isize - 1) as usize;
                    let p = (yy * width + xx) * 3;
                    for c in 0..3 {
                        sum[c] += u32::from(src[p + c]);
                    }
                }
            }
            let q = (y * width + x) * 4;
            for c in 0..3 {
                dst[q + c] = (sum[c] / 9) as u8;
            }
            dst[q + 3] = 255;
        }
    }
    status::OK
}

#[cfg(target_arch = "wasm32")]
mod exports {
    //! The wasm ABI of the library: addresses in its own memory.
    use super::status;
    use core::arch::wasm32::{memory_grow, memory_size};

    const PAGE: usize = 65536;

    unsafe extern "C" {
        /// First free byte after the data and the stack (set by wasm-ld).
        static __heap_base: u8;
    }

    /// Next free address of the bump allocator (0: not yet initialised).
    static mut NEXT: usize = 0;

    fn heap_base() -> usize {
        // Align to 16 like the multimem runtime, so copies are aligned on both sides.
        (&raw const __heap_base as usize + 15) & !15
    }

    fn memory_bytes() -> usize {
        memory_size(0) * PAGE
    }

    /// `alloc(length) -> address`: `length` bytes in this library's memory,
    /// 16-byte aligned, growing the memory if needed; 0 if it cannot grow.
    #[unsafe(no_mangle)]
    pub extern "C" fn alloc(length: u32) -> u32 {
        // SAFETY: single-threaded wasm; NEXT is only touched by alloc/reset.
        let next = unsafe { if NEXT == 0 { heap_base() } else { NEXT } };
        let Some(end) = next.checked_add(length as usize) else {
            return 0;
        };
        let end = match end.checked_add(15) {
            Some(e) => e & !15,
            None => return 0,
        };
        if end > memory_bytes() {
            let pages = (end - memory_bytes()).div_ceil(PAGE);
            if memory_grow(0, pages) == usize::MAX {
                return 0;
            }
        }
        unsafe { NEXT = end };
        next as u32
    }

    /// `reset()`: frees everything `alloc` handed out.
    #[unsafe(no_mangle)]
    pub extern "C" fn reset() {
        unsafe { NEXT = heap_base() };
    }

    /// `blur_rgb_to_rgba(src, dst, width, height) -> status`: see
    /// [`super::blur_rgb_to_rgba_slices`]. Both ranges must lie inside this
    /// memory, at or above the heap base, and must not overlap.
    #[unsafe(no_mangle)]
    pub extern "C" fn blur_rgb_to_rgba(src: u32, dst: u32, width: u32, height: u32) -> i32 {
        let (src, dst, w, h) = (src as usize, dst as usize, width as usize, height as usize);
        let Some(pixels) = w.checked_mul(h) else {
            return status::BAD_ARGUMENT;
        };
        let (Some(n3), Some(n4)) = (pixels.checked_mul(3), pixels.checked_mul(4)) else {
            return status::BAD_ARGUMENT;
        };
        let inside =
            |at: usize, len: usize| at >= heap_base() && at.checked_add(len).is_some_and(|end| end <= memory_bytes());
        let disjoint = src.saturating_add(n3) <= dst || dst.saturating_add(n4) <= src;
        if !inside(src, n3) || !inside(dst, n4) || !disjoint {
            return status::BAD_ARGUMENT;
        }
        // SAFETY: both ranges were checked to lie inside linear memory above the
        // heap base (not our statics or stack), and not to overlap.
        let (s, d) = unsafe {
            (core::slice::from_raw_parts(src as *const u8, n3), core::slice::from_raw_parts_mut(dst as *mut u8, n4))
        };
        super::blur_rgb_to_rgba_slices(s, d, w, h)
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_image_stays_uniform_and_opaque() {
        let src = vec![90u8; 4 * 3 * 3];
        let mut dst = vec![0u8; 4 * 3 * 4];
        assert_eq!(blur_rgb_to_rgba_slices(&src, &mut dst, 4, 3), status::OK);
        for px in dst.chunks(4) {
            assert_eq!(px, [90, 90, 90, 255]);
        }
    }

    #[test]
    fn single_bright_pixel_spreads_with_clamped_edges() {
        // 3x1 image, middle pixel red 255: every output sees it 3 times
        // (rows clamp to the only row), corners also see their own pixel twice.
        let src = [0, 0, 0, 255, 0, 0, 0, 0, 0];
        let mut dst = [0u8; 12];
        assert_eq!(blur_rgb_to_rgba_slices(&src, &mut dst, 3, 1), status::OK);
        // left: x in {0,0,1} times 3 rows -> 255*3/9 = 85
        assert_eq!(&dst[0..4], &[85, 0, 0, 255]);
        // middle: x in {0,1,2} -> 255*3/9 = 85
        assert_eq!(&dst[4..8], &[85, 0, 0, 255]);
        assert_eq!(&dst[8..12], &[85, 0, 0, 255]);
    }

    #[test]
    fn wrong_sizes_are_rejected_without_writing() {
        let src = [1u8; 9];
        let mut dst = [7u8; 12];
        assert_eq!(blur_rgb_to_rgba_slices(&src, &mut dst, 2, 1), status::BAD_ARGUMENT);
        assert_eq!(blur_rgb_to_rgba_slices(&src, &mut dst, 0, 3), status::BAD_ARGUMENT);
        assert_eq!(blur_rgb_to_rgba_slices(&src, &mut dst, usize::MAX, 2), status::BAD_ARGUMENT);
        assert_eq!(dst, [7u8; 12]);
    }
}
