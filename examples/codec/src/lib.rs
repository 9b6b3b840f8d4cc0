//! `codec`: the external image library of the data-path examples (issue 15).
//!
//! A JPEG decoder (`zune-jpeg`) and encoder (`jpeg-encoder`), both real
//! crates from crates.io, compiled to `wasm32-unknown-unknown` with its own
//! linear memory and wrapped with wasm-bindgen, the way most Rust image
//! libraries reach npm. It knows nothing about multimem.
//!
//! Three faces, one implementation:
//!
//! - the Rust API ([`decode_jpeg`], [`encode_jpeg`]): what the plain-Rust
//!   app (variant c of `examples/image-pipeline`) calls directly, in one
//!   memory, without the `bindgen` feature;
//! - the JS API (`decodeJpeg`, `encodeJpeg`, feature `bindgen`): slices in,
//!   `Vec<u8>` out, converted by wasm-bindgen's generated glue (which copies
//!   a JS `Uint8Array` into this library's memory and the result back out);
//! - the address API (`codec_alloc`, `codec_decode`, `codec_encode`,
//!   `codec_output_*`, feature `bindgen`): plain `i32` arguments, callable
//!   from another wasm module that reaches this library's memory (the WasmGC
//!   apps, variants a and b), and from JS.
//!
//! Bad input never traps: addresses are checked against the memory size,
//! sizes against overflow and the JPEG limits, and the address API returns a
//! [`status`] code (the JS API throws an `Error` with the message).
#![deny(missing_docs)]

use std::fmt;

/// Largest width or height: JPEG stores both as 16-bit numbers.
pub const MAX_DIMENSION: u32 = 65_535;

/// A decoded image: RGBA samples, 4 bytes per pixel, rows packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

/// What went wrong, with the detail the underlying crate gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// Width or height is 0 or above [`MAX_DIMENSION`], or the RGBA data
    /// does not have `width * height * 4` bytes.
    BadSize(String),
    /// The bytes are not a JPEG this decoder reads.
    Decode(String),
    /// The encoder refused the image.
    Encode(String),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::BadSize(m) => write!(f, "codec: bad image size: {m}"),
            CodecError::Decode(m) => write!(f, "codec: cannot decode JPEG: {m}"),
            CodecError::Encode(m) => write!(f, "codec: cannot encode JPEG: {m}"),
        }
    }
}

impl std::error::Error for CodecError {}

/// Decodes a baseline or progressive JPEG into RGBA.
pub fn decode_jpeg(bytes: &[u8]) -> Result<Image, CodecError> {
    use zune_jpeg::JpegDecoder;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;

    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGBA)
        .set_max_width(MAX_DIMENSION as usize)
        .set_max_height(MAX_DIMENSION as usize);
    let mut decoder = JpegDecoder::new_with_options(bytes, options);
    let rgba = decoder.decode().map_err(|e| CodecError::Decode(format!("{e:?}")))?;
    let (width, height) =
        decoder.dimensions().ok_or_else(|| CodecError::Decode("no dimensions after decoding".into()))?;
    let (width, height) = (width as u32, height as u32);
    if rgba.len() as u64 != u64::from(width) * u64::from(height) * 4 {
        return Err(CodecError::Decode(format!("{} output bytes for {width}x{height} RGBA", rgba.len())));
    }
    Ok(Image { width, height, rgba })
}

/// `width * height * 4` if both are in `1..=MAX_DIMENSION`.
pub fn rgba_len(width: u32, height: u32) -> Result<usize, CodecError> {
    if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(CodecError::BadSize(format!("{width}x{height} (each must be 1..={MAX_DIMENSION})")));
    }
    Ok(width as usize * height as usize * 4)
}

/// Encodes RGBA samples as a baseline JPEG of the given quality (1..=100;
/// out-of-range values are clamped, as jpeg-encoder does).
pub fn encode_jpeg(rgba: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, CodecError> {
    let len = rgba_len(width, height)?;
    if rgba.len() != len {
        return Err(CodecError::BadSize(format!("{} RGBA bytes for {width}x{height}, expected {len}", rgba.len())));
    }
    let mut out = Vec::with_capacity(len / 8);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    encoder
        .encode(rgba, width as u16, height as u16, jpeg_encoder::ColorType::Rgba)
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    Ok(out)
}

/// Result codes of the address API.
pub mod status {
    /// Success; the result is in the output slot.
    pub const OK: i32 = 0;
    /// A range lies outside the memory, or a size is zero, too large or overflows.
    pub const BAD_ARGUMENT: i32 = 1;
    /// The input is not a JPEG the decoder reads.
    pub const DECODE_ERROR: i32 = 2;
    /// The encoder refused the image.
    pub const ENCODE_ERROR: i32 = 3;
    /// `codec_alloc` could not get the memory.
    pub const OUT_OF_MEMORY: i32 = 4;
}

/// Status code of a [`CodecError`].
pub fn status_of(e: &CodecError) -> i32 {
    match e {
        CodecError::BadSize(_) => status::BAD_ARGUMENT,
        CodecError::Decode(_) => status::DECODE_ERROR,
        CodecError::Encode(_) => status::ENCODE_ERROR,
    }
}

#[cfg(all(feature = "bindgen", target_arch = "wasm32"))]
mod bindgen;

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity((width * height * 4) as usize);
        for y in 0..height {
            for x in 0..width {
                v.extend_from_slice(&[(x * 255 / width) as u8, (y * 255 / height) as u8, 128, 255]);
            }
        }
        v
    }

    #[test]
    fn encode_then_decode_keeps_size_and_is_close() {
        let (w, h) = (64, 48);
        let src = gradient(w, h);
        let jpeg = encode_jpeg(&src, w, h, 90).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "SOI marker");
        let img = decode_jpeg(&jpeg).unwrap();
        assert_eq!((img.width, img.height, img.rgba.len()), (w, h, src.len()));
        let worst = src.iter().zip(&img.rgba).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst <= 12, "a smooth gradient at quality 90 stays within 12 levels, got {worst}");
    }

    #[test]
    fn encoding_is_deterministic() {
        let src = gradient(33, 17);
        assert_eq!(encode_jpeg(&src, 33, 17, 80).unwrap(), encode_jpeg(&src, 33, 17, 80).unwrap());
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(matches!(encode_jpeg(&[0; 16], 0, 4, 80), Err(CodecError::BadSize(_))));
        assert!(matches!(encode_jpeg(&[0; 16], 2, 3, 80), Err(CodecError::BadSize(_))));
        assert!(matches!(encode_jpeg(&[], 70_000, 1, 80), Err(CodecError::BadSize(_))));
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(matches!(decode_jpeg(b"not a jpeg at all"), Err(CodecError::Decode(_))));
        assert!(matches!(decode_jpeg(&[]), Err(CodecError::Decode(_))));
        let jpeg = encode_jpeg(&gradient(16, 16), 16, 16, 80).unwrap();
        assert!(decode_jpeg(&jpeg[..jpeg.len() / 3]).is_err(), "truncated file");
    }
}
