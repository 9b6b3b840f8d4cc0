//! The wasm-bindgen exports: the JS API and the address API (see the crate
//! docs). Only compiled for wasm32 with feature `bindgen`.
//!
//! The address API keeps one *output slot*: `codec_decode` and
//! `codec_encode` put their result there (replacing the previous one), the
//! caller reads it through `codec_output_ptr` / `codec_output_len` (and
//! `codec_output_width` / `codec_output_height` after a decode), copies it
//! out, and frees it with `codec_output_free`. Allocations made with
//! `codec_alloc` are tracked, so `codec_free` of an address it did not hand
//! out is refused instead of corrupting the allocator.
use super::{CodecError, decode_jpeg, encode_jpeg, rgba_len, status, status_of};
use std::alloc::{Layout, alloc, dealloc};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

/// Alignment of `codec_alloc` blocks: 16, like multimem buffers, so copies
/// between the memories are aligned on both sides.
const ALIGN: usize = 16;

struct Output {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
}

thread_local! {
    static OUTPUT: RefCell<Option<Output>> = const { RefCell::new(None) };
    static LIVE: RefCell<HashMap<u32, u32>> = RefCell::new(HashMap::new());
}

fn to_js(e: CodecError) -> JsError {
    JsError::new(&e.to_string())
}

/// Decodes a JPEG into RGBA samples (JS: `decodeJpeg(bytes)`), returned as
/// an image object with `width`, `height` and `takeRgba()`.
#[wasm_bindgen(js_name = decodeJpeg)]
pub fn decode_jpeg_js(bytes: &[u8]) -> Result<DecodedImage, JsError> {
    let img = decode_jpeg(bytes).map_err(to_js)?;
    Ok(DecodedImage { width: img.width, height: img.height, rgba: img.rgba })
}

/// Encodes RGBA samples as a JPEG (JS: `encodeJpeg(rgba, width, height, quality)`).
#[wasm_bindgen(js_name = encodeJpeg)]
pub fn encode_jpeg_js(rgba: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, JsError> {
    encode_jpeg(rgba, width, height, quality).map_err(to_js)
}

/// A decoded image handed to JS.
#[wasm_bindgen]
pub struct DecodedImage {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

#[wasm_bindgen]
impl DecodedImage {
    /// Width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Moves the RGBA samples out to JS (JS: `takeRgba()`): wasm-bindgen
    /// copies them into a new `Uint8Array` once; a second call returns an
    /// empty array.
    #[wasm_bindgen(js_name = takeRgba)]
    pub fn take_rgba(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.rgba)
    }
}

fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65_536
}

/// The bytes at `ptr..ptr + len` if that range is non-empty and inside the memory.
fn input<'a>(ptr: u32, len: u32) -> Option<&'a [u8]> {
    if ptr == 0 || len == 0 || u64::from(ptr) + u64::from(len) > memory_bytes() {
        return None;
    }
    // SAFETY: the range lies inside linear memory, which is always mapped;
    // it is only read, and nothing in this library writes while it is borrowed.
    Some(unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) })
}

fn store(result: Result<Output, CodecError>) -> i32 {
    match result {
        Ok(out) => {
            OUTPUT.with(|o| *o.borrow_mut() = Some(out));
            status::OK
        }
        Err(e) => {
            OUTPUT.with(|o| *o.borrow_mut() = None);
            status_of(&e)
        }
    }
}

/// `codec_alloc(len) -> address`: `len` bytes, 16-byte aligned, in this
/// library's memory; 0 if `len` is 0 or the memory cannot grow. Not zeroed
/// (the caller fills the block before any codec function reads it), like
/// wasm-bindgen's own `__wbindgen_malloc`: zeroing 12 MB only to overwrite
/// it would cost the callers a pass over the pixels that variant c never pays.
#[wasm_bindgen]
pub fn codec_alloc(len: u32) -> u32 {
    let Ok(layout) = Layout::from_size_align(len as usize, ALIGN) else { return 0 };
    if len == 0 {
        return 0;
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc(layout) } as usize as u32;
    if p != 0 {
        LIVE.with(|l| l.borrow_mut().insert(p, len));
    }
    p
}

/// `codec_free(address, len) -> status`: frees a block from `codec_alloc`;
/// `BAD_ARGUMENT` (and nothing freed) for any other address or length.
#[wasm_bindgen]
pub fn codec_free(ptr: u32, len: u32) -> i32 {
    let known = LIVE.with(|l| {
        let mut l = l.borrow_mut();
        if l.get(&ptr) == Some(&len) { l.remove(&ptr).is_some() } else { false }
    });
    if !known {
        return status::BAD_ARGUMENT;
    }
    // SAFETY: (ptr, len) was handed out by codec_alloc with this layout and is
    // now removed from the live set, so it is freed exactly once.
    unsafe { dealloc(ptr as usize as *mut u8, Layout::from_size_align_unchecked(len as usize, ALIGN)) };
    status::OK
}

/// `codec_decode(address, len) -> status`: decodes the JPEG at
/// `address..address + len`; the RGBA result goes to the output slot.
#[wasm_bindgen]
pub fn codec_decode(ptr: u32, len: u32) -> i32 {
    let Some(bytes) = input(ptr, len) else { return status::BAD_ARGUMENT };
    store(decode_jpeg(bytes).map(|img| Output { bytes: img.rgba, width: img.width, height: img.height }))
}

/// `codec_encode(address, width, height, quality) -> status`: encodes the
/// `width * height * 4` RGBA bytes at `address`; the JPEG goes to the output slot.
#[wasm_bindgen]
pub fn codec_encode(ptr: u32, width: u32, height: u32, quality: u32) -> i32 {
    let Ok(len) = rgba_len(width, height) else { return status::BAD_ARGUMENT };
    let Ok(len) = u32::try_from(len) else { return status::BAD_ARGUMENT };
    let Some(rgba) = input(ptr, len) else { return status::BAD_ARGUMENT };
    let quality = quality.min(100) as u8;
    store(encode_jpeg(rgba, width, height, quality).map(|bytes| Output { bytes, width, height }))
}

fn output<T>(f: impl FnOnce(&Output) -> T, none: T) -> T {
    OUTPUT.with(|o| o.borrow().as_ref().map_or(none, f))
}

/// Address of the output slot's bytes (0 if empty).
#[wasm_bindgen]
pub fn codec_output_ptr() -> u32 {
    output(|o| o.bytes.as_ptr() as usize as u32, 0)
}

/// Length of the output slot's bytes (0 if empty).
#[wasm_bindgen]
pub fn codec_output_len() -> u32 {
    output(|o| o.bytes.len() as u32, 0)
}

/// Width of the image in the output slot (0 if empty).
#[wasm_bindgen]
pub fn codec_output_width() -> u32 {
    output(|o| o.width, 0)
}

/// Height of the image in the output slot (0 if empty).
#[wasm_bindgen]
pub fn codec_output_height() -> u32 {
    output(|o| o.height, 0)
}

/// Frees the output slot.
#[wasm_bindgen]
pub fn codec_output_free() {
    OUTPUT.with(|o| *o.borrow_mut() = None);
}

/// Number of live `codec_alloc` blocks (for leak checks).
#[wasm_bindgen]
pub fn codec_live_blocks() -> u32 {
    LIVE.with(|l| l.borrow().len() as u32)
}
