//! The typed-data exports' bodies, with the exports' exact parameters but
//! returning [`Result`] (or [`Packed`] where a value is located first):
//! `exports` only adds the trap and the final load, so native
//! tests exercise the same argument decoding and error order as
//! `runtime.wasm`. Errors come in the order the export table lists them:
//! kind codes first (`BAD_KIND`), then each buffer (`NOT_A_BUFFER`,
//! `FREED`), then each view (`ALIGNMENT`, `RANGE`), then indices
//! (`RANGE`).

use multimem_abi::{ErrorCode, Kind, Number};

use super::bulk;
use super::element;
use super::kernels::Op;
use super::view::{View, kind};
use crate::Result;

/// An own-memory address or an error code in one `u64` (error code in the
/// high half, 0 for success).
///
/// The value-returning exports (`list_get_*`, `bytedata_get_*`) first
/// locate the element, then load it. On wasm32 any `Result` wider than 32
/// bits comes back through a shadow-stack slot, and an export that traps
/// with such a slot open would leave `__stack_pointer` moved; a plain `u64`
/// comes back in a register, so the export needs no frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packed(u64);

impl Packed {
    /// Packs a result.
    pub fn new(r: Result<u32>) -> Packed {
        match r {
            Ok(address) => Packed(address as u64),
            Err(e) => Packed((e.code() as u64) << 32),
        }
    }

    /// The error, if any (a register-sized `Option`).
    #[inline(always)]
    pub fn error(self) -> Option<ErrorCode> {
        match (self.0 >> 32) as u32 {
            0 => None,
            code => Some(ErrorCode::from_code(code).unwrap_or(ErrorCode::BadKind)),
        }
    }

    /// The address (meaningful when [`Packed::error`] is `None`).
    #[inline(always)]
    pub fn address(self) -> u32 {
        self.0 as u32
    }

    /// Unpacks it.
    #[inline(always)]
    pub fn result(self) -> Result<u32> {
        match self.error() {
            None => Ok(self.address()),
            Some(e) => Err(e),
        }
    }
}

/// The kind a `load` of a checked access decodes with: the kind code is
/// known to be valid once the access was located.
pub fn lane_kind(code: u32) -> Kind {
    Kind::from_code(code).unwrap_or(Kind::ByteData)
}

/// Opens a list view of a kind of `number`.
#[inline(always)]
fn list(kind_code: u32, number: Number, buffer: u32, offset_in_bytes: u32, length: u32) -> Result<View> {
    View::open(kind(kind_code, Some(number))?, buffer, offset_in_bytes, length)
}

/// `view_check`: 0 or the first failing code.
#[inline(always)]
pub fn view_check(kind: u32, buffer: u32, offset_in_bytes: u32, length: u32) -> u32 {
    match super::view::view_check(kind, buffer, offset_in_bytes, length) {
        Ok(_) => 0,
        Err(e) => e as u32,
    }
}

/// The address of lane `start` of a list view of class `number`, packed
/// (see [`Packed`]), after checking `start <= end <= lanes`: the checks of
/// `list_get_*` (one lane), `list_set_*` and `list_fill_*`.
#[inline(never)]
pub fn list_lanes(number: Number, kind: u32, buffer: u32, offset: u32, length: u32, start: u32, end: u32) -> Packed {
    Packed::new(list(kind, number, buffer, offset, length).and_then(|v| v.lanes(start, end)))
}

/// `list_get_i64` / `list_get_f64` as value bits (see [`super::element`]).
pub fn list_get(number: Number, kind: u32, buffer: u32, offset: u32, length: u32, index: u32) -> Result<u64> {
    let address = list_lanes(number, kind, buffer, offset, length, index, index.wrapping_add(1)).result()?;
    // SAFETY: list_lanes checked the lane.
    Ok(unsafe { element::load(lane_kind(kind), address, true) })
}

/// `list_set_i64` / `list_set_f64` from value bits: a one-lane fill.
#[inline(always)]
pub fn list_set(
    number: Number,
    kind: u32,
    buffer: u32,
    offset: u32,
    length: u32,
    index: u32,
    value: u64,
) -> Result<()> {
    list_fill(number, kind, buffer, offset, length, index, index.wrapping_add(1), value)
}

/// `list_fill_i64` / `list_fill_f64` from value bits.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn list_fill(
    number: Number,
    kind: u32,
    buffer: u32,
    offset: u32,
    length: u32,
    start: u32,
    end: u32,
    value: u64,
) -> Result<()> {
    let address = list_lanes(number, kind, buffer, offset, length, start, end).result()?;
    // SAFETY: list_lanes checked lanes start..end.
    unsafe { bulk::fill_lanes(lane_kind(kind), address, end - start, value) };
    Ok(())
}

/// `list_get_i64(kind, buffer, offsetInBytes, length, index)`.
#[inline(always)]
pub fn list_get_i64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32) -> Result<i64> {
    list_get(Number::Int, kind, buffer, offset, length, index).map(|v| v as i64)
}

/// `list_set_i64(kind, buffer, offsetInBytes, length, index, value)`.
#[inline(always)]
pub fn list_set_i64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32, value: i64) -> Result<()> {
    list_set(Number::Int, kind, buffer, offset, length, index, value as u64)
}

/// `list_get_f64(kind, buffer, offsetInBytes, length, index)`.
#[inline(always)]
pub fn list_get_f64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32) -> Result<f64> {
    list_get(Number::Float, kind, buffer, offset, length, index).map(f64::from_bits)
}

/// `list_set_f64(kind, buffer, offsetInBytes, length, index, value)`.
#[inline(always)]
pub fn list_set_f64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32, value: f64) -> Result<()> {
    list_set(Number::Float, kind, buffer, offset, length, index, value.to_bits())
}

/// `list_fill_i64(kind, buffer, offsetInBytes, length, start, end, value)`.
#[inline(always)]
pub fn list_fill_i64(kind: u32, buffer: u32, offset: u32, length: u32, start: u32, end: u32, value: i64) -> Result<()> {
    list_fill(Number::Int, kind, buffer, offset, length, start, end, value as u64)
}

/// `list_fill_f64(kind, buffer, offsetInBytes, length, start, end, value)`.
#[inline(always)]
pub fn list_fill_f64(kind: u32, buffer: u32, offset: u32, length: u32, start: u32, end: u32, value: f64) -> Result<()> {
    list_fill(Number::Float, kind, buffer, offset, length, start, end, value.to_bits())
}

/// `list_set_range(kind, buffer, offsetInBytes, length, start, end,
/// srcKind, srcBuffer, srcOffsetInBytes, srcLength, skipCount)`.
#[allow(clippy::too_many_arguments)]
pub fn list_set_range(
    kind_code: u32,
    buffer: u32,
    offset: u32,
    length: u32,
    start: u32,
    end: u32,
    src_kind: u32,
    src_buffer: u32,
    src_offset: u32,
    src_length: u32,
    skip_count: u32,
) -> Result<()> {
    let (dk, sk) = (kind(kind_code, None)?, kind(src_kind, None)?);
    bulk::set_range_kinds(dk, sk)?;
    let dst = View::open(dk, buffer, offset, length)?;
    let src = View::open(sk, src_buffer, src_offset, src_length)?;
    bulk::set_range(dst, start, end, src, skip_count)
}

/// The address of a ByteData access of type `ty`, packed (see
/// [`Packed`]): the checks of `bytedata_get_*`. The type is checked first
/// (`BAD_KIND`), then the buffer and the view, then the byte offset.
#[inline(never)]
pub fn bytedata_at(number: Number, buffer: u32, offset: u32, length: u32, byte_offset: u32, ty: u32) -> Packed {
    Packed::new(
        element::bytedata_type(ty, number).and_then(|ty| {
            element::bytedata_address(View::open(Kind::ByteData, buffer, offset, length)?, byte_offset, ty)
        }),
    )
}

/// `bytedata_get_i64` / `bytedata_get_f64` as value bits.
pub fn bytedata_get(
    number: Number,
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little_endian: u32,
) -> Result<u64> {
    let address = bytedata_at(number, buffer, offset, length, byte_offset, ty).result()?;
    // SAFETY: bytedata_at checked the access.
    Ok(unsafe { element::load(lane_kind(ty), address, little_endian != 0) })
}

/// `bytedata_set_i64` / `bytedata_set_f64` from value bits.
#[allow(clippy::too_many_arguments)]
pub fn bytedata_set(
    number: Number,
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little_endian: u32,
    value: u64,
) -> Result<()> {
    let address = bytedata_at(number, buffer, offset, length, byte_offset, ty).result()?;
    // SAFETY: bytedata_at checked the access.
    unsafe { element::store(lane_kind(ty), address, little_endian != 0, value) };
    Ok(())
}

/// `bytedata_get_i64(buffer, offsetInBytes, length, byteOffset, type, littleEndian)`.
#[inline(always)]
pub fn bytedata_get_i64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little_endian: u32,
) -> Result<i64> {
    bytedata_get(Number::Int, buffer, offset, length, byte_offset, ty, little_endian).map(|v| v as i64)
}

/// `bytedata_set_i64(buffer, offsetInBytes, length, byteOffset, type, littleEndian, value)`.
#[inline(always)]
pub fn bytedata_set_i64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little_endian: u32,
    value: i64,
) -> Result<()> {
    bytedata_set(Number::Int, buffer, offset, length, byte_offset, ty, little_endian, value as u64)
}

/// `bytedata_get_f64(buffer, offsetInBytes, length, byteOffset, type, littleEndian)`.
#[inline(always)]
pub fn bytedata_get_f64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little_endian: u32,
) -> Result<f64> {
    bytedata_get(Number::Float, buffer, offset, length, byte_offset, ty, little_endian).map(f64::from_bits)
}

/// `bytedata_set_f64(buffer, offsetInBytes, length, byteOffset, type, littleEndian, value)`.
#[inline(always)]
pub fn bytedata_set_f64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little_endian: u32,
    value: f64,
) -> Result<()> {
    bytedata_set(Number::Float, buffer, offset, length, byte_offset, ty, little_endian, value.to_bits())
}

/// `list_add` / `list_mul(kind, out, outOffsetInBytes, a, aOffsetInBytes,
/// b, bOffsetInBytes, length)`.
#[allow(clippy::too_many_arguments)]
pub fn list_binary(
    op: Op,
    kind_code: u32,
    out: u32,
    out_offset: u32,
    a: u32,
    a_offset: u32,
    b: u32,
    b_offset: u32,
    length: u32,
) -> Result<()> {
    let k = bulk::arithmetic_kind(kind(kind_code, None)?)?;
    let out = View::open(k, out, out_offset, length)?;
    let a = View::open(k, a, a_offset, length)?;
    let b = View::open(k, b, b_offset, length)?;
    bulk::binary(op, out, a, b)
}
