//! Element conversions: Dart's store rules and byte-order reads and writes.
//!
//! Every scalar access of the typed-data half goes through here, as raw bits
//! (`u64`) read from or written to memory in a chosen byte order. Lists are
//! little-endian (wasm's order); ByteData is big-endian unless asked
//! otherwise. One byte loop serves every width, which keeps `runtime.wasm`
//! small; element access is not the fast path (compilers inline plain loads
//! and stores against the ABI's layout instead).

use multimem_abi::Kind;

/// The scalar kind of one lane: `Int32List` for `Int32x4List`,
/// `Float32List` for `Float32x4List`, `Float64List` for `Float64x2List`,
/// the kind itself otherwise.
pub const fn lane_kind(kind: Kind) -> Kind {
    match kind {
        Kind::Int32x4List => Kind::Int32List,
        Kind::Float32x4List => Kind::Float32List,
        Kind::Float64x2List => Kind::Float64List,
        k => k,
    }
}

/// Bytes per lane: `elementSizeInBytes / lanes` (1, 2, 4 or 8).
pub const fn lane_size(kind: Kind) -> u32 {
    lane_kind(kind).element_size()
}

/// Whether reads of the kind's lanes sign-extend.
const fn is_signed(kind: Kind) -> bool {
    matches!(lane_kind(kind), Kind::Int8List | Kind::Int16List | Kind::Int32List | Kind::Int64List)
}

/// The value of an `int` lane from its bits: sign- or zero-extended as the
/// kind says (`Uint64List` gives the bit pattern).
pub fn decode_int(kind: Kind, bits: u64) -> i64 {
    let shift = 64 - 8 * lane_size(kind);
    if is_signed(kind) { ((bits << shift) as i64) >> shift } else { ((bits << shift) >> shift) as i64 }
}

/// The bits an `int` store writes: two's complement truncation (done by
/// [`write()`] writing only the lane's bytes), except that `Uint8ClampedList`
/// clamps to `0..=255`.
pub fn encode_int(kind: Kind, value: i64) -> u64 {
    if matches!(kind, Kind::Uint8ClampedList) { value.clamp(0, 255) as u64 } else { value as u64 }
}

/// The value of a `float` lane from its bits, widened to f64.
pub fn decode_float(kind: Kind, bits: u64) -> f64 {
    if lane_size(kind) == 4 { f32::from_bits(bits as u32) as f64 } else { f64::from_bits(bits) }
}

/// The bits a `float` store writes: `Float32` lanes round to nearest f32.
pub fn encode_float(kind: Kind, value: f64) -> u64 {
    if lane_size(kind) == 4 { (value as f32).to_bits() as u64 } else { value.to_bits() }
}

/// Reads `width` (1..=8) bytes at `p` as an unsigned number.
///
/// # Safety
/// `p..p + width` must be readable.
pub unsafe fn read(p: *const u8, width: u32, little_endian: bool) -> u64 {
    let mut bits = 0u64;
    let mut i = 0;
    while i < width {
        // SAFETY: i < width, inside the caller's range.
        let byte = unsafe { *p.add(i as usize) } as u64;
        if little_endian {
            bits |= byte << (8 * i);
        } else {
            bits = (bits << 8) | byte;
        }
        i += 1;
    }
    bits
}

/// Writes the low `width` (1..=8) bytes of `bits` at `p`.
///
/// # Safety
/// `p..p + width` must be writable.
pub unsafe fn write(p: *mut u8, width: u32, little_endian: bool, bits: u64) {
    let mut i = 0;
    while i < width {
        let byte = if little_endian { i } else { width - 1 - i };
        // SAFETY: i < width, inside the caller's range.
        unsafe { *p.add(i as usize) = (bits >> (8 * byte)) as u8 };
        i += 1;
    }
}

/// Repeats the low `width` (1, 2, 4 or 8) bytes of `bits` across a u64, the
/// pattern a fill of lanes of that width writes (little-endian).
pub fn replicate(bits: u64, width: u32) -> u64 {
    let mut pattern = bits;
    let mut w = width;
    while w < 8 {
        pattern = (pattern & (u64::MAX >> (64 - 8 * w))) * (1 + (1u64 << (8 * w)));
        w *= 2;
    }
    pattern
}
