//! Typed-data views: Dart's range and alignment rules, `sublistView`, and
//! lane addressing.
//!
//! A view is `(buffer, offsetInBytes, length, kind)` with `length` counted
//! in elements (docs/ABI.md, "Typed-data kinds"). [`View::new`] is the pure
//! rule check against a known `lengthInBytes`; [`View::open`] and
//! [`view_check`] first validate the buffer through [`crate::buffer`].
//! All arithmetic is done in u64, so u32 inputs near 2^32 give `RANGE` (or
//! `BAD_LENGTH`), never a wrapped address.

use multimem_abi::{ErrorCode, Kind, MAX_LENGTH, Number};

use super::convert::lane_size;
use crate::Result;

/// A checked view `(buffer, offsetInBytes, length, kind)`: its bytes lie
/// inside its buffer and `offsetInBytes` is aligned to the element size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    /// The typed-data kind.
    pub kind: Kind,
    /// The buffer's address (its first data byte in the own memory).
    pub buffer: u32,
    /// `offsetInBytes` of the view inside the buffer.
    pub offset_in_bytes: u32,
    /// `length` in elements (not lanes, not bytes).
    pub length: u32,
}

/// Decodes a kind code, `BAD_KIND` outside the table or, when `number` is
/// given, for a kind of another number class.
#[inline(always)]
pub fn kind(code: u32, number: Option<Number>) -> Result<Kind> {
    match Kind::from_code(code) {
        Some(k) if number.is_none_or(|n| k.number() == n) => Ok(k),
        _ => Err(ErrorCode::BadKind),
    }
}

impl View {
    /// Checks a view of a buffer whose `lengthInBytes` is `buffer_length`:
    /// `ALIGNMENT` if `offsetInBytes` is not a multiple of
    /// `elementSizeInBytes`, `RANGE` if `offsetInBytes + length *
    /// elementSizeInBytes` exceeds `buffer_length`.
    #[inline(always)]
    pub fn new(kind: Kind, buffer: u32, buffer_length: u32, offset_in_bytes: u32, length: u32) -> Result<View> {
        check(kind, buffer_length, offset_in_bytes, length)?;
        Ok(View { kind, buffer, offset_in_bytes, length })
    }

    /// Validates `buffer` (`NOT_A_BUFFER`, `FREED`) and then the view as
    /// [`View::new`] does.
    #[inline(always)]
    pub fn open(kind: Kind, buffer: u32, offset_in_bytes: u32, length: u32) -> Result<View> {
        open_check(kind, buffer, offset_in_bytes, length)?;
        Ok(View { kind, buffer, offset_in_bytes, length })
    }

    /// `elementSizeInBytes` of the view's kind.
    pub fn element_size(self) -> u32 {
        self.kind.element_size()
    }

    /// `lengthInBytes` of the view.
    pub fn length_in_bytes(self) -> u32 {
        // Cannot wrap: checked against the buffer's length in `new`.
        self.length.wrapping_mul(self.element_size())
    }

    /// Address of the view's first byte in the own memory.
    pub fn address(self) -> u32 {
        // Cannot wrap: the buffer's bytes lie inside the own memory.
        self.buffer.wrapping_add(self.offset_in_bytes)
    }

    /// Number of lanes (`length * lanes`): what the scalar element
    /// operations index.
    pub fn lane_count(self) -> u32 {
        self.length.wrapping_mul(self.kind.lanes())
    }

    /// Address of lane `start`, after checking `start <= end <= lane_count`
    /// (`RANGE` otherwise): the lanes `start..end` an operation may touch.
    #[inline(always)]
    pub fn lanes(self, start: u32, end: u32) -> Result<u32> {
        if start > end || end > self.lane_count() {
            return Err(ErrorCode::Range);
        }
        Ok(self.address().wrapping_add(start.wrapping_mul(lane_size(self.kind))))
    }

    /// Address of lane `index` (`RANGE` unless `index < lane_count`).
    #[inline(always)]
    pub fn lane_address(self, index: u32) -> Result<u32> {
        // index + 1 wraps to 0 only for u32::MAX, which then fails start <= end.
        self.lanes(index, index.wrapping_add(1))
    }

    /// Dart's `sublistView(list, start, end)`: the view of elements
    /// `start..end` of this one, sharing its bytes; `RANGE` unless
    /// `start <= end <= length`.
    pub fn sublist_view(self, start: u32, end: u32) -> Result<View> {
        if start > end || end > self.length {
            return Err(ErrorCode::Range);
        }
        Ok(View {
            offset_in_bytes: self.offset_in_bytes.wrapping_add(start.wrapping_mul(self.element_size())),
            length: end - start,
            ..self
        })
    }

    /// `BAD_KIND` unless the view's kind belongs to `number`.
    pub fn require(self, number: Number) -> Result<View> {
        if self.kind.number() == number { Ok(self) } else { Err(ErrorCode::BadKind) }
    }
}

/// The alignment and range rules of a view (see [`View::new`]). Returns
/// only the verdict, which wasm32 passes in a register; callers build the
/// [`View`] from the arguments they already hold.
pub fn check(kind: Kind, buffer_length: u32, offset_in_bytes: u32, length: u32) -> Result<()> {
    let size = kind.element_size();
    if offset_in_bytes & (size - 1) != 0 {
        return Err(ErrorCode::Alignment);
    }
    if offset_in_bytes as u64 + length as u64 * size as u64 > buffer_length as u64 {
        return Err(ErrorCode::Range);
    }
    Ok(())
}

/// [`View::open`]'s checks, out of line: every export opens one to three
/// views, and one shared body keeps `runtime.wasm` small.
#[inline(never)]
pub fn open_check(kind: Kind, buffer: u32, offset_in_bytes: u32, length: u32) -> Result<()> {
    check(kind, crate::buffer::resolve(buffer)?, offset_in_bytes, length)
}

/// The checks of the `view_check` export, in its documented order:
/// `BAD_KIND`, `NOT_A_BUFFER`, `FREED`, `BAD_LENGTH` (length above
/// `MAX_LENGTH`), `ALIGNMENT`, `RANGE`.
pub fn view_check(kind_code: u32, buffer: u32, offset_in_bytes: u32, length: u32) -> Result<()> {
    let kind = kind(kind_code, None)?;
    let buffer_length = crate::buffer::resolve(buffer)?;
    if length > MAX_LENGTH {
        return Err(ErrorCode::BadLength);
    }
    check(kind, buffer_length, offset_in_bytes, length)
}
