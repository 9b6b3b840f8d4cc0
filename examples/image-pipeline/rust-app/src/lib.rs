//! Variant (c) of the image pipeline: the same work as the WasmGC apps
//! (decode a JPEG, brighten the pixels, encode again), written as a plain
//! Rust program that calls the codec crate directly. Everything lives in one
//! linear memory: no GC objects and no copies between memories. It is the
//! bound the other variants are measured against.
//!
//! Exports (wasm32): `alloc` / `free` for the host to place the input file,
//! `process(ptr, len, delta, quality) -> status` (the codec's status codes),
//! and `output_ptr` / `output_len` for the encoded result, which stays in
//! this module's memory until the next `process`.

/// `min(255, v + delta)` on R, G and B of every RGBA pixel; alpha unchanged.
/// The same arithmetic as `brighten` in the WasmGC apps.
pub fn brighten(rgba: &mut [u8], delta: u8) {
    for px in rgba.chunks_exact_mut(4) {
        for c in &mut px[..3] {
            *c = c.saturating_add(delta);
        }
    }
}

/// Decode, brighten, encode.
pub fn process(jpeg: &[u8], delta: u8, quality: u8) -> Result<Vec<u8>, codec::CodecError> {
    let mut img = codec::decode_jpeg(jpeg)?;
    brighten(&mut img.rgba, delta);
    codec::encode_jpeg(&img.rgba, img.width, img.height, quality)
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use std::alloc::{Layout, alloc_zeroed, dealloc};
    use std::cell::RefCell;

    thread_local! {
        static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    fn memory_bytes() -> u64 {
        core::arch::wasm32::memory_size(0) as u64 * 65_536
    }

    /// `alloc(len) -> address` (16-aligned, zeroed; 0 if `len` is 0 or memory is exhausted).
    #[unsafe(no_mangle)]
    pub extern "C" fn alloc(len: u32) -> u32 {
        match Layout::from_size_align(len as usize, 16) {
            // SAFETY: non-zero size.
            Ok(l) if len > 0 => unsafe { alloc_zeroed(l) as usize as u32 },
            _ => 0,
        }
    }

    /// `free(address, len)`: frees a block from `alloc` (the host passes back what it got).
    #[unsafe(no_mangle)]
    pub extern "C" fn free(ptr: u32, len: u32) {
        if ptr != 0 && len != 0 {
            // SAFETY: the host returns exactly what alloc gave it, once.
            unsafe { dealloc(ptr as usize as *mut u8, Layout::from_size_align_unchecked(len as usize, 16)) }
        }
    }

    /// `process(address, len, delta, quality) -> status`; the JPEG result is at `output_ptr()`.
    #[unsafe(no_mangle)]
    pub extern "C" fn process(ptr: u32, len: u32, delta: u32, quality: u32) -> i32 {
        if ptr == 0 || len == 0 || u64::from(ptr) + u64::from(len) > memory_bytes() {
            return codec::status::BAD_ARGUMENT;
        }
        // SAFETY: the range lies inside linear memory and is only read.
        let input = unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) };
        match super::process(input, delta.min(255) as u8, quality.min(100) as u8) {
            Ok(out) => {
                OUTPUT.with(|o| *o.borrow_mut() = out);
                codec::status::OK
            }
            Err(e) => codec::status_of(&e),
        }
    }

    /// Address of the last result.
    #[unsafe(no_mangle)]
    pub extern "C" fn output_ptr() -> u32 {
        OUTPUT.with(|o| o.borrow().as_ptr() as usize as u32)
    }

    /// Length of the last result.
    #[unsafe(no_mangle)]
    pub extern "C" fn output_len() -> u32 {
        OUTPUT.with(|o| o.borrow().len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brighten_saturates_and_keeps_alpha() {
        let mut px = [10, 200, 250, 7, 0, 255, 100, 255];
        brighten(&mut px, 40);
        assert_eq!(px, [50, 240, 255, 7, 40, 255, 140, 255]);
    }

    #[test]
    fn process_brightens_the_picture() {
        let (w, h) = (32u32, 16u32);
        let rgba: Vec<u8> = (0..w * h).flat_map(|i| [(i % 200) as u8, 60, 90, 255]).collect();
        let jpeg = codec::encode_jpeg(&rgba, w, h, 90).unwrap();
        let out = codec::decode_jpeg(&process(&jpeg, 40, 90).unwrap()).unwrap();
        let before = codec::decode_jpeg(&jpeg).unwrap();
        let mean = |v: &[u8]| v.iter().map(|&x| u64::from(x)).sum::<u64>() as f64 / v.len() as f64;
        assert_eq!((out.width, out.height), (w, h));
        // 3 of 4 channels gain about 40 (none of them saturates here).
        let gain = mean(&out.rgba) - mean(&before.rgba);
        assert!((gain - 30.0).abs() < 3.0, "mean gain {gain}");
    }
}
