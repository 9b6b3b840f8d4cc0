//! Element access: `list_get_*`/`list_set_*` on list views (lanes for the
//! SIMD kinds) and ByteData's `get*`/`set*` at any byte offset in either
//! byte order.
//!
//! Values cross the ABI as i64 (`int` kinds) or f64 (`float` kinds). To keep
//! `runtime.wasm` small, both travel through one code path as "value bits"
//! (the i64, or the f64's bits) with the [`Number`] class saying which; the
//! typed functions are thin wrappers. The store rules themselves (truncate,
//! clamp, round to f32) live in [`super::convert`].

use multimem_abi::{ErrorCode, Kind, Number};

use super::convert::{decode_float, decode_int, encode_float, encode_int, lane_size, read, write};
use super::view::View;
use crate::Result;
use crate::memory::ptr;

/// Value bits of a lane of `kind` from its raw bits.
pub fn decode(kind: Kind, raw: u64) -> u64 {
    if kind.number() == Number::Int { decode_int(kind, raw) as u64 } else { decode_float(kind, raw).to_bits() }
}

/// Raw bits a store of value bits `value` into a lane of `kind` writes.
pub fn encode(kind: Kind, value: u64) -> u64 {
    if kind.number() == Number::Int {
        encode_int(kind, value as i64)
    } else {
        encode_float(kind, f64::from_bits(value))
    }
}

/// Value bits of the lane of `kind` at `address`, in the given byte order.
///
/// # Safety
/// The lane's bytes must lie inside a checked view.
#[inline(never)]
pub unsafe fn load(kind: Kind, address: u32, little_endian: bool) -> u64 {
    // SAFETY: the caller's contract.
    decode(kind, unsafe { read(ptr(address), lane_size(kind), little_endian) })
}

/// Stores value bits into the lane of `kind` at `address` with the kind's
/// store rules, in the given byte order.
///
/// # Safety
/// The lane's bytes must lie inside a checked view.
#[inline(never)]
pub unsafe fn store(kind: Kind, address: u32, little_endian: bool, value: u64) {
    // SAFETY: the caller's contract.
    unsafe { write(ptr(address), lane_size(kind), little_endian, encode(kind, value)) }
}

/// Value bits of lane `index` of a view of class `number`.
pub fn get(view: View, number: Number, index: u32) -> Result<u64> {
    let address = view.require(number)?.lane_address(index)?;
    // SAFETY: lane_address checked that the lane lies inside the view.
    Ok(unsafe { load(view.kind, address, true) })
}

/// Stores value bits into lane `index` of a view of class `number`: a
/// one-lane `fillRange`, which shares its code.
pub fn set(view: View, number: Number, index: u32, value: u64) -> Result<()> {
    super::bulk::fill(view, number, index, index.wrapping_add(1), value)
}

/// Element (lane) `index` of an `int` view, sign- or zero-extended.
pub fn get_i64(view: View, index: u32) -> Result<i64> {
    get(view, Number::Int, index).map(|v| v as i64)
}

/// Stores `value` into element (lane) `index` of an `int` view, truncating
/// (clamping for `Uint8ClampedList`).
pub fn set_i64(view: View, index: u32, value: i64) -> Result<()> {
    set(view, Number::Int, index, value as u64)
}

/// The value type of a ByteData access: the kind code `type` of the
/// `bytedata_*` exports, which must be a scalar kind of `number`
/// (`int`: 1..=9, `float`: 10..=11); `BAD_KIND` otherwise.
pub fn bytedata_type(code: u32, number: Number) -> Result<Kind> {
    match Kind::from_code(code) {
        Some(k) if k.number() == number && k.lanes() == 1 => Ok(k),
        _ => Err(ErrorCode::BadKind),
    }
}

/// Address of a `ty`-sized access at `byte_offset` in a ByteData view;
/// `BAD_KIND` if the view is not ByteData, `RANGE` unless the access lies
/// inside it.
pub fn bytedata_address(view: View, byte_offset: u32, ty: Kind) -> Result<u32> {
    if view.kind != Kind::ByteData {
        return Err(ErrorCode::BadKind);
    }
    // ByteData's lanes are its bytes. `end` wraps only for offsets near
    // 2^32, and then fails `start <= end`.
    view.lanes(byte_offset, byte_offset.wrapping_add(ty.element_size()))
}
