//! The typed-data exports of `runtime.wasm` (docs/ABI.md, export table from
//! `view_check` to `list_mul`). Each one is its [`super::calls`] body plus
//! the error convention: `view_check` returns its code, every other export
//! records the code and traps through [`crate::export::trap_on_error`].
//!
//! Nothing may trap with a shadow-stack frame open (see [`crate::export`]):
//! the exports returning a value first locate it through a call returning
//! [`calls::Packed`] (a register, no frame), trap if needed, then load.

use multimem_abi::Number;

use super::calls;
use super::element::load;
use super::kernels::Op;
use crate::export::trap_on_error;

/// The address in `p`, or a trap with its code. Goes through `Option`
/// rather than `Result<u32>`, which wasm32 would return through a
/// shadow-stack slot that the trap would then leave allocated.
#[inline(always)]
fn located(p: calls::Packed) -> u32 {
    match p.error() {
        Some(e) => crate::export::trap(e),
        None => p.address(),
    }
}

/// `list_get_*` as value bits, shared by both exports. It traps itself,
/// which is safe because neither it nor its callers hold a shadow-stack
/// frame: [`calls::list_lanes`] returns in a register.
#[inline(never)]
fn list_get(number: Number, kind: u32, buffer: u32, offset: u32, length: u32, index: u32) -> u64 {
    let address = located(calls::list_lanes(number, kind, buffer, offset, length, index, index.wrapping_add(1)));
    // SAFETY: list_lanes checked the lane.
    unsafe { load(calls::lane_kind(kind), address, true) }
}

/// `bytedata_get_*` as value bits, shared by both exports (see [`list_get`]).
#[inline(never)]
fn bytedata_get(number: Number, buffer: u32, offset: u32, length: u32, byte_offset: u32, ty: u32, little: u32) -> u64 {
    let address = located(calls::bytedata_at(number, buffer, offset, length, byte_offset, ty));
    // SAFETY: bytedata_at checked the access.
    unsafe { load(calls::lane_kind(ty), address, little != 0) }
}

/// `view_check(kind, buffer, offsetInBytes, length) -> code`.
#[unsafe(no_mangle)]
pub extern "C" fn view_check(kind: u32, buffer: u32, offset: u32, length: u32) -> u32 {
    calls::view_check(kind, buffer, offset, length)
}

/// `list_get_i64(kind, buffer, offsetInBytes, length, index)`.
#[unsafe(no_mangle)]
pub extern "C" fn list_get_i64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32) -> i64 {
    list_get(Number::Int, kind, buffer, offset, length, index) as i64
}

/// `list_set_i64(kind, buffer, offsetInBytes, length, index, value)`.
#[unsafe(no_mangle)]
pub extern "C" fn list_set_i64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32, value: i64) {
    trap_on_error(calls::list_set_i64(kind, buffer, offset, length, index, value))
}

/// `list_get_f64(kind, buffer, offsetInBytes, length, index)`.
#[unsafe(no_mangle)]
pub extern "C" fn list_get_f64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32) -> f64 {
    f64::from_bits(list_get(Number::Float, kind, buffer, offset, length, index))
}

/// `list_set_f64(kind, buffer, offsetInBytes, length, index, value)`.
#[unsafe(no_mangle)]
pub extern "C" fn list_set_f64(kind: u32, buffer: u32, offset: u32, length: u32, index: u32, value: f64) {
    trap_on_error(calls::list_set_f64(kind, buffer, offset, length, index, value))
}

/// `list_fill_i64(kind, buffer, offsetInBytes, length, start, end, value)`.
#[unsafe(no_mangle)]
pub extern "C" fn list_fill_i64(kind: u32, buffer: u32, offset: u32, length: u32, start: u32, end: u32, value: i64) {
    trap_on_error(calls::list_fill_i64(kind, buffer, offset, length, start, end, value))
}

/// `list_fill_f64(kind, buffer, offsetInBytes, length, start, end, value)`.
#[unsafe(no_mangle)]
pub extern "C" fn list_fill_f64(kind: u32, buffer: u32, offset: u32, length: u32, start: u32, end: u32, value: f64) {
    trap_on_error(calls::list_fill_f64(kind, buffer, offset, length, start, end, value))
}

/// `list_set_range(kind, buffer, offsetInBytes, length, start, end,
/// srcKind, srcBuffer, srcOffsetInBytes, srcLength, skipCount)`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn list_set_range(
    kind: u32,
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
) {
    trap_on_error(calls::list_set_range(
        kind, buffer, offset, length, start, end, src_kind, src_buffer, src_offset, src_length, skip_count,
    ))
}

/// `bytes_copy(dst, dstOffset, src, srcOffset, lengthInBytes)`.
#[unsafe(no_mangle)]
pub extern "C" fn bytes_copy(dst: u32, dst_offset: u32, src: u32, src_offset: u32, length: u32) {
    trap_on_error(super::bulk::bytes_copy(dst, dst_offset, src, src_offset, length))
}

/// `bytes_fill(buffer, offset, lengthInBytes, byte)`.
#[unsafe(no_mangle)]
pub extern "C" fn bytes_fill(buffer: u32, offset: u32, length: u32, byte: u32) {
    trap_on_error(super::bulk::bytes_fill(buffer, offset, length, byte))
}

/// `bytedata_get_i64(buffer, offsetInBytes, length, byteOffset, type, littleEndian)`.
#[unsafe(no_mangle)]
pub extern "C" fn bytedata_get_i64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little: u32,
) -> i64 {
    bytedata_get(Number::Int, buffer, offset, length, byte_offset, ty, little) as i64
}

/// `bytedata_set_i64(buffer, offsetInBytes, length, byteOffset, type, littleEndian, value)`.
#[unsafe(no_mangle)]
pub extern "C" fn bytedata_set_i64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little: u32,
    value: i64,
) {
    trap_on_error(calls::bytedata_set_i64(buffer, offset, length, byte_offset, ty, little, value))
}

/// `bytedata_get_f64(buffer, offsetInBytes, length, byteOffset, type, littleEndian)`.
#[unsafe(no_mangle)]
pub extern "C" fn bytedata_get_f64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little: u32,
) -> f64 {
    f64::from_bits(bytedata_get(Number::Float, buffer, offset, length, byte_offset, ty, little))
}

/// `bytedata_set_f64(buffer, offsetInBytes, length, byteOffset, type, littleEndian, value)`.
#[unsafe(no_mangle)]
pub extern "C" fn bytedata_set_f64(
    buffer: u32,
    offset: u32,
    length: u32,
    byte_offset: u32,
    ty: u32,
    little: u32,
    value: f64,
) {
    trap_on_error(calls::bytedata_set_f64(buffer, offset, length, byte_offset, ty, little, value))
}

/// `list_add(kind, out, outOffsetInBytes, a, aOffsetInBytes, b, bOffsetInBytes, length)`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn list_add(
    kind: u32,
    out: u32,
    out_offset: u32,
    a: u32,
    a_offset: u32,
    b: u32,
    b_offset: u32,
    length: u32,
) {
    trap_on_error(calls::list_binary(Op::Add, kind, out, out_offset, a, a_offset, b, b_offset, length))
}

/// `list_mul(kind, out, outOffsetInBytes, a, aOffsetInBytes, b, bOffsetInBytes, length)`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn list_mul(
    kind: u32,
    out: u32,
    out_offset: u32,
    a: u32,
    a_offset: u32,
    b: u32,
    b_offset: u32,
    length: u32,
) {
    trap_on_error(calls::list_binary(Op::Mul, kind, out, out_offset, a, a_offset, b, b_offset, length))
}
