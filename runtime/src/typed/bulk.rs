//! Bulk operations on views: `fillRange`, `setRange`, byte copy and fill,
//! and element-wise add and mul. Each checks everything first and then
//! runs one kernel from [`super::kernels`], so a failed call writes nothing.

use multimem_abi::{ErrorCode, Kind, Number};

use super::convert::{lane_size, replicate};
use super::element::{encode, load, store};
use super::kernels::{self, Op};
use super::view::View;
use crate::Result;
use crate::memory::ptr;

/// `fillRange` of lanes `start..end` of a view of class `number` with
/// value bits (see [`super::element`]).
#[inline(never)]
pub fn fill(view: View, number: Number, start: u32, end: u32, value: u64) -> Result<()> {
    let address = view.require(number)?.lanes(start, end)?;
    // SAFETY: lanes start..end lie inside the view, checked above.
    unsafe { fill_lanes(view.kind, address, end - start, value) };
    Ok(())
}

/// Stores value bits into `lanes` lanes of `kind` from `address`: one
/// replicated pattern, one kernel call. The end of every `fillRange`
/// (views here, the raw exports in [`super::calls`]).
///
/// # Safety
/// The lanes must lie inside the runtime memory (callers check the view).
#[inline(always)]
pub unsafe fn fill_lanes(kind: Kind, address: u32, lanes: u32, value: u64) {
    let width = lane_size(kind);
    let pattern = replicate(encode(kind, value), width);
    // SAFETY: the caller's contract.
    unsafe { kernels::fill(ptr(address), lanes.wrapping_mul(width) as usize, pattern) };
}

/// `BAD_KIND` unless `setRange` may copy from `src` kind into `dst` kind:
/// the same list kind, or two non-SIMD list kinds of the same `number`
/// (ByteData has no `setRange`; `int` and `float` do not mix, as in Dart).
pub fn set_range_kinds(dst: Kind, src: Kind) -> Result<()> {
    let same_number = dst.number() == src.number() && dst.number() != Number::Bytes;
    if same_number && (dst == src || dst.lanes() | src.lanes() == 1) { Ok(()) } else { Err(ErrorCode::BadKind) }
}

/// Dart's `setRange(start, end, src, skipCount)`: elements
/// `skipCount..skipCount + (end - start)` of `src` into `start..end` of
/// `dst`. Same kind: a byte move (memmove). Different kinds: element-wise
/// conversion with `dst`'s store rules, in an order that stays correct when
/// the two views share bytes (see `convert_elements`). `RANGE` unless
/// `start <= end <= dst.length` and `skipCount + (end - start) <=
/// src.length`.
#[inline(always)]
pub fn set_range(dst: View, start: u32, end: u32, src: View, skip_count: u32) -> Result<()> {
    set_range_kinds(dst.kind, src.kind)?;
    if start > end || end > dst.length || skip_count as u64 + (end - start) as u64 > src.length as u64 {
        return Err(ErrorCode::Range);
    }
    let count = end - start;
    let d = dst.address().wrapping_add(start.wrapping_mul(dst.element_size()));
    let s = src.address().wrapping_add(skip_count.wrapping_mul(src.element_size()));
    if dst.kind == src.kind {
        // SAFETY: both ranges lie inside their views, checked above.
        unsafe { kernels::copy(ptr(d), ptr(s), count.wrapping_mul(dst.element_size()) as usize) };
    } else {
        convert_elements(dst.kind, d, src.kind, s, count);
    }
    Ok(())
}

/// Converts `count` elements of kind `sk` at `s` into kind `dk` at `d`.
///
/// The ranges may overlap with different element sizes, where neither a
/// forward nor a backward pass is safe on its own. Element `i` of the
/// destination starts `f(i) = (d - s) + i * (ds - ss)` bytes after element
/// `i` of the source, and `f` is monotonic, so one split point `k`
/// separates the elements whose destination lies ahead of their source
/// (converted back to front, like memmove's backward case) from those
/// behind it (converted front to back). Converting the "ahead" part first
/// never overwrites a source element that is still unread: no scratch
/// memory, no allocation.
fn convert_elements(dk: Kind, d: u32, sk: Kind, s: u32, count: u32) {
    let (ds, ss) = (dk.element_size() as i64, sk.element_size() as i64);
    let gap = d as i64 - s as i64;
    let growing = ds >= ss;
    // k = first i with g + i * m >= 0: the first element behind its
    // source when the sizes grow, ahead of it when they shrink.
    let (g, m) = if growing { (gap, ds - ss) } else { (-gap, ss - ds) };
    let k = if g >= 0 {
        0
    } else if m == 0 {
        count
    } else {
        ((-g + m - 1) / m).min(count as i64) as u32
    };
    // Backward over the part ahead of its source, then forward: one loop
    // over j, so the element step is emitted once.
    let (back, fwd_start) = if growing { ((k, count), 0) } else { ((0, k), k) };
    let back_len = back.1 - back.0;
    let mut j = 0;
    while j < count {
        let i = if j < back_len { back.1 - 1 - j } else { fwd_start + (j - back_len) };
        let sp = s.wrapping_add(i.wrapping_mul(ss as u32));
        let dp = d.wrapping_add(i.wrapping_mul(ds as u32));
        // SAFETY: i < count; both elements lie inside their views.
        unsafe { store(dk, dp, true, load(sk, sp, true)) };
        j += 1;
    }
}

/// `bytes_copy(dst, dstOffset, src, srcOffset, lengthInBytes)`: copy
/// within or between buffers, overlap safe.
pub fn bytes_copy(dst: u32, dst_offset: u32, src: u32, src_offset: u32, length_in_bytes: u32) -> Result<()> {
    let d = View::open(Kind::ByteData, dst, dst_offset, length_in_bytes)?;
    let s = View::open(Kind::ByteData, src, src_offset, length_in_bytes)?;
    // SAFETY: both ranges checked by View::open.
    unsafe { kernels::copy(ptr(d.address()), ptr(s.address()), length_in_bytes as usize) };
    Ok(())
}

/// `bytes_fill(buffer, offset, lengthInBytes, byte)`: sets the bytes to the
/// low 8 bits of `byte`.
pub fn bytes_fill(buffer: u32, offset: u32, length_in_bytes: u32, byte: u32) -> Result<()> {
    let v = View::open(Kind::ByteData, buffer, offset, length_in_bytes)?;
    // SAFETY: the range is checked by View::open.
    unsafe { kernels::fill(ptr(v.address()), length_in_bytes as usize, replicate(byte as u64, 1)) };
    Ok(())
}

/// `BAD_KIND` unless `list_add`/`list_mul` support `kind`: Int32List,
/// Float32List, Float64List and the three SIMD kinds.
pub fn arithmetic_kind(kind: Kind) -> Result<Kind> {
    match kind {
        Kind::Int32List
        | Kind::Float32List
        | Kind::Float64List
        | Kind::Int32x4List
        | Kind::Float32x4List
        | Kind::Float64x2List => Ok(kind),
        _ => Err(ErrorCode::BadKind),
    }
}

/// `out[i] = a[i] op b[i]` for the first `min` elements of three views of
/// one kind; `RANGE` unless `a` and `b` are at least as long as `out`.
/// `out` may be `a` or `b` exactly.
#[inline(always)]
pub fn binary(op: Op, out: View, a: View, b: View) -> Result<()> {
    let kind = arithmetic_kind(out.kind)?;
    if a.kind != kind || b.kind != kind {
        return Err(ErrorCode::BadKind);
    }
    if a.length < out.length || b.length < out.length {
        return Err(ErrorCode::Range);
    }
    // SAFETY: all three ranges lie inside their buffers (checked views).
    unsafe {
        kernels::binary(
            op,
            super::convert::lane_kind(kind),
            ptr(out.address()),
            ptr(a.address()),
            ptr(b.address()),
            out.length_in_bytes() as usize,
        )
    };
    Ok(())
}
