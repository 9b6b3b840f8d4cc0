//! Native tests of the typed-data half: every operation on every kind,
//! checked against Rust's own conversions (`as` casts, f32 rounding,
//! `to_be_bytes`/`to_le_bytes`), plus a property test against a `Vec<u8>`
//! model of a buffer.

extern crate std;
use std::vec;
use std::vec::Vec;

use multimem_abi::{ErrorCode, Kind, MAX_LENGTH, Number};

use super::calls;
use super::convert::lane_kind;
use super::kernels::{self, Op};
use super::view::View;
use crate::memory::{ptr, reset_native};

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    127,
    128,
    -128,
    -129,
    255,
    256,
    -256,
    300,
    32767,
    32768,
    -32768,
    -32769,
    65535,
    65536,
    0x7fff_ffff,
    0x8000_0000,
    -0x8000_0000,
    -0x8000_0001,
    0xffff_ffff,
    0x1_0000_0000,
    i64::MAX,
    i64::MIN,
    0x0123_4567_89ab_cdef,
    -0x0123_4567_89ab_cdef,
];

const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.1,
    1.0 / 3.0,
    3.4028235e38,
    3.5e38,
    -3.5e38,
    1e-45,
    1.4e-45,
    1e-300,
    f64::MAX,
    f64::MIN_POSITIVE,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    16777217.0,
    2.5,
    -2.5,
];

/// A fresh heap and a new buffer of `len` bytes.
fn fresh(len: u32) -> u32 {
    reset_native();
    crate::buffer::new(len).unwrap()
}

fn new(len: u32) -> u32 {
    crate::buffer::new(len).unwrap()
}

/// The bytes of a buffer.
fn bytes(buffer: u32, len: u32) -> Vec<u8> {
    (0..len).map(|i| unsafe { *ptr(buffer + i) }).collect()
}

fn set_bytes(buffer: u32, data: &[u8]) {
    for (i, b) in data.iter().enumerate() {
        unsafe { *ptr(buffer + i as u32) = *b };
    }
}

/// Model: the little-endian bytes an `int` store of `v` writes, from Rust casts.
fn int_bytes(kind: Kind, v: i64) -> Vec<u8> {
    match lane_kind(kind) {
        Kind::Int8List => (v as i8).to_le_bytes().to_vec(),
        Kind::Uint8List => (v as u8).to_le_bytes().to_vec(),
        Kind::Uint8ClampedList => vec![v.clamp(0, 255) as u8],
        Kind::Int16List => (v as i16).to_le_bytes().to_vec(),
        Kind::Uint16List => (v as u16).to_le_bytes().to_vec(),
        Kind::Int32List => (v as i32).to_le_bytes().to_vec(),
        Kind::Uint32List => (v as u32).to_le_bytes().to_vec(),
        Kind::Int64List => v.to_le_bytes().to_vec(),
        Kind::Uint64List => (v as u64).to_le_bytes().to_vec(),
        k => panic!("not an int kind: {k:?}"),
    }
}

/// Model: the value an `int` load of little-endian `b` gives.
fn int_value(kind: Kind, b: &[u8]) -> i64 {
    match lane_kind(kind) {
        Kind::Int8List => b[0] as i8 as i64,
        Kind::Uint8List | Kind::Uint8ClampedList => b[0] as i64,
        Kind::Int16List => i16::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Uint16List => u16::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Int32List => i32::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Uint32List => u32::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Int64List => i64::from_le_bytes(b.try_into().unwrap()),
        Kind::Uint64List => u64::from_le_bytes(b.try_into().unwrap()) as i64,
        k => panic!("not an int kind: {k:?}"),
    }
}

/// Model: the bytes a `float` store writes.
fn float_bytes(kind: Kind, v: f64) -> Vec<u8> {
    match lane_kind(kind) {
        Kind::Float32List => (v as f32).to_le_bytes().to_vec(),
        Kind::Float64List => v.to_le_bytes().to_vec(),
        k => panic!("not a float kind: {k:?}"),
    }
}

/// Model: the value a `float` load gives.
fn float_value(kind: Kind, b: &[u8]) -> f64 {
    match lane_kind(kind) {
        Kind::Float32List => f32::from_le_bytes(b.try_into().unwrap()) as f64,
        Kind::Float64List => f64::from_le_bytes(b.try_into().unwrap()),
        k => panic!("not a float kind: {k:?}"),
    }
}

fn lane_width(kind: Kind) -> u32 {
    kind.element_size() / kind.lanes()
}

fn kinds(number: Number) -> impl Iterator<Item = Kind> {
    Kind::ALL.iter().copied().filter(move |k| k.number() == number)
}

fn same_bits(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn there_are_fifteen_kinds_and_all_are_handled() {
    assert_eq!(Kind::ALL.len(), 15);
    assert_eq!(kinds(Number::Int).count(), 10);
    assert_eq!(kinds(Number::Float).count(), 4);
}

#[test]
fn int_set_get_every_kind_matches_rust_casts() {
    for kind in kinds(Number::Int) {
        let w = lane_width(kind);
        // A view of 4 elements at offsetInBytes = one element.
        let offset = kind.element_size();
        let buf = fresh(5 * offset);
        let lanes = 4 * kind.lanes();
        for (n, &v) in INTS.iter().enumerate() {
            let index = n as u32 % lanes;
            calls::list_set_i64(kind as u32, buf, offset, 4, index, v)
                .unwrap_or_else(|e| panic!("{kind:?} set {v}: {e:?}"));
            let stored = bytes(buf + offset + index * w, w);
            assert_eq!(stored, int_bytes(kind, v), "{kind:?} store {v}");
            let got = calls::list_get_i64(kind as u32, buf, offset, 4, index).unwrap();
            assert_eq!(got, int_value(kind, &stored), "{kind:?} load after {v}");
        }
    }
}

#[test]
fn clamped_store_clamps_and_others_truncate() {
    let buf = fresh(16);
    let k = Kind::Uint8ClampedList as u32;
    for (v, want) in
        [(-5i64, 0u8), (0, 0), (255, 255), (256, 255), (1000, 255), (i64::MIN, 0), (i64::MAX, 255), (77, 77)]
    {
        calls::list_set_i64(k, buf, 0, 16, 3, v).unwrap();
        assert_eq!(bytes(buf + 3, 1), [want]);
    }
    calls::list_set_i64(Kind::Uint8List as u32, buf, 0, 16, 3, 256 + 7).unwrap();
    assert_eq!(bytes(buf + 3, 1), [7]);
    calls::list_set_i64(Kind::Int8List as u32, buf, 0, 16, 3, 200).unwrap();
    assert_eq!(calls::list_get_i64(Kind::Int8List as u32, buf, 0, 16, 3).unwrap(), 200i64 as i8 as i64);
}

#[test]
fn float_set_get_every_kind_matches_rust_casts() {
    for kind in kinds(Number::Float) {
        let w = lane_width(kind);
        let buf = fresh(4 * kind.element_size());
        let lanes = 4 * kind.lanes();
        for (n, &v) in FLOATS.iter().enumerate() {
            let index = n as u32 % lanes;
            calls::list_set_f64(kind as u32, buf, 0, 4, index, v).unwrap();
            let stored = bytes(buf + index * w, w);
            assert_eq!(stored, float_bytes(kind, v), "{kind:?} store {v}");
            let got = calls::list_get_f64(kind as u32, buf, 0, 4, index).unwrap();
            assert!(same_bits(got, float_value(kind, &stored)), "{kind:?} load after {v}");
        }
    }
    // Round to nearest (even) on Float32 stores.
    let buf = fresh(8);
    calls::list_set_f64(Kind::Float32List as u32, buf, 0, 2, 1, 16777217.0).unwrap();
    assert_eq!(calls::list_get_f64(Kind::Float32List as u32, buf, 0, 2, 1).unwrap(), 16777216.0);
    calls::list_set_f64(Kind::Float32List as u32, buf, 0, 2, 0, 0.1).unwrap();
    assert_eq!(calls::list_get_f64(Kind::Float32List as u32, buf, 0, 2, 0).unwrap(), 0.1f32 as f64);
}

#[test]
fn simd_kinds_address_lanes() {
    let buf = fresh(64);
    // Int32x4List view of 2 elements at offset 16: lanes 0..8.
    for lane in 0..8u32 {
        calls::list_set_i64(Kind::Int32x4List as u32, buf, 16, 2, lane, 1000 + lane as i64).unwrap();
    }
    for lane in 0..8u32 {
        let b = bytes(buf + 16 + 4 * lane, 4);
        assert_eq!(i32::from_le_bytes(b.try_into().unwrap()), 1000 + lane as i32);
    }
    assert_eq!(calls::list_set_i64(Kind::Int32x4List as u32, buf, 16, 2, 8, 0), Err(ErrorCode::Range));
    // Float64x2List: 2 lanes per element.
    for lane in 0..4u32 {
        calls::list_set_f64(Kind::Float64x2List as u32, buf, 0, 2, lane, lane as f64 + 0.5).unwrap();
    }
    assert_eq!(calls::list_get_f64(Kind::Float64x2List as u32, buf, 0, 2, 3).unwrap(), 3.5);
    assert_eq!(bytes(buf + 24, 8), 3.5f64.to_le_bytes());
    assert_eq!(calls::list_get_f64(Kind::Float64x2List as u32, buf, 0, 2, 4), Err(ErrorCode::Range));
    // Float32x4List rounds lanes to f32.
    calls::list_set_f64(Kind::Float32x4List as u32, buf, 32, 2, 7, 0.1).unwrap();
    assert_eq!(bytes(buf + 32 + 28, 4), 0.1f32.to_le_bytes());
    // Int32x4 lanes sign-extend.
    calls::list_set_i64(Kind::Int32x4List as u32, buf, 0, 1, 0, 0xffff_ffff).unwrap();
    assert_eq!(calls::list_get_i64(Kind::Int32x4List as u32, buf, 0, 1, 0).unwrap(), -1);
}

#[test]
fn wrong_number_class_is_bad_kind() {
    let buf = fresh(64);
    for kind in Kind::ALL {
        let (int_ok, float_ok) = (kind.number() == Number::Int, kind.number() == Number::Float);
        let code = *kind as u32;
        assert_eq!(calls::list_get_i64(code, buf, 0, 1, 0).is_ok(), int_ok, "{kind:?}");
        assert_eq!(calls::list_set_i64(code, buf, 0, 1, 0, 1).is_ok(), int_ok, "{kind:?}");
        assert_eq!(calls::list_get_f64(code, buf, 0, 1, 0).is_ok(), float_ok, "{kind:?}");
        assert_eq!(calls::list_set_f64(code, buf, 0, 1, 0, 1.0).is_ok(), float_ok, "{kind:?}");
        if !int_ok {
            assert_eq!(calls::list_get_i64(code, buf, 0, 1, 0), Err(ErrorCode::BadKind));
            assert_eq!(calls::list_fill_i64(code, buf, 0, 1, 0, 1, 0), Err(ErrorCode::BadKind));
        }
        if !float_ok {
            assert_eq!(calls::list_get_f64(code, buf, 0, 1, 0), Err(ErrorCode::BadKind));
            assert_eq!(calls::list_fill_f64(code, buf, 0, 1, 0, 1, 0.0), Err(ErrorCode::BadKind));
        }
    }
    for code in [15, 16, 255, u32::MAX] {
        assert_eq!(calls::list_get_i64(code, buf, 0, 1, 0), Err(ErrorCode::BadKind));
        assert_eq!(calls::view_check(code, buf, 0, 1), ErrorCode::BadKind as u32);
    }
}

#[test]
fn view_rules_alignment_and_range_for_every_kind() {
    let len = 64u32;
    let buf = fresh(len);
    for kind in Kind::ALL {
        let size = kind.element_size();
        for offset in 0..=len + 1 {
            for length in 0..=len / size + 1 {
                let want = if offset % size != 0 {
                    Err(ErrorCode::Alignment)
                } else if offset + length * size > len {
                    Err(ErrorCode::Range)
                } else {
                    Ok(())
                };
                let got = View::new(*kind, buf, len, offset, length).map(|_| ());
                assert_eq!(got, want, "{kind:?} offset {offset} length {length}");
                let code = want.err().map_or(0, |e| e as u32);
                assert_eq!(calls::view_check(*kind as u32, buf, offset, length), code);
            }
        }
    }
}

#[test]
fn view_arithmetic_near_u32_max_never_wraps() {
    let buf = fresh(64);
    for kind in Kind::ALL {
        let k = *kind as u32;
        let size = kind.element_size();
        // Lengths whose byte size wraps u32 to something small.
        let wrapping = (1u64 << 32) / size as u64;
        for length in
            [wrapping as u32, (wrapping as u32).wrapping_add(1), u32::MAX, 0x8000_0000].into_iter().filter(|&l| l > 64)
        {
            assert_eq!(View::new(*kind, buf, 64, 0, length), Err(ErrorCode::Range), "{kind:?} {length}");
        }
        // Offsets near 2^32, aligned so that only the range can fail.
        let offset = u32::MAX - (size - 1);
        assert_eq!(View::new(*kind, buf, 64, offset, 0), Err(ErrorCode::Range));
        assert_eq!(View::new(*kind, buf, 64, offset, 1), Err(ErrorCode::Range));
        assert_eq!(calls::view_check(k, buf, offset, 1), ErrorCode::Range as u32);
        assert_eq!(calls::view_check(k, buf, 0, MAX_LENGTH + 1), ErrorCode::BadLength as u32);
        assert_eq!(calls::view_check(k, buf, 0, u32::MAX), ErrorCode::BadLength as u32);
        // Through the element exports, a huge length is RANGE.
        if kind.number() == Number::Int {
            assert_eq!(calls::list_get_i64(k, buf, 0, u32::MAX, 0), Err(ErrorCode::Range));
            assert_eq!(calls::list_fill_i64(k, buf, 0, 1, 0, u32::MAX, 0), Err(ErrorCode::Range));
            assert_eq!(calls::list_get_i64(k, buf, 0, 1, u32::MAX), Err(ErrorCode::Range));
        }
    }
    // Index arithmetic: index * lane size would wrap to a small address.
    assert_eq!(calls::list_get_i64(Kind::Int64List as u32, buf, 0, 8, 0x2000_0001), Err(ErrorCode::Range));
    assert_eq!(calls::bytedata_get_i64(buf, 0, 64, u32::MAX - 3, 6, 0), Err(ErrorCode::Range));
    assert_eq!(calls::bytedata_get_i64(buf, u32::MAX, 2, 0, 1, 0), Err(ErrorCode::Range));
    assert_eq!(super::bulk::bytes_copy(buf, u32::MAX, buf, 0, 2), Err(ErrorCode::Range));
    assert_eq!(super::bulk::bytes_copy(buf, 0, buf, 1, u32::MAX), Err(ErrorCode::Range));
    assert_eq!(super::bulk::bytes_fill(buf, 16, u32::MAX - 15, 0), Err(ErrorCode::Range));
    let i32k = Kind::Int32List as u32;
    assert_eq!(calls::list_set_range(i32k, buf, 0, 16, 0, 1, i32k, buf, 0, 16, u32::MAX), Err(ErrorCode::Range));
    assert_eq!(calls::list_set_range(i32k, buf, 0, 16, 2, 1, i32k, buf, 0, 16, 0), Err(ErrorCode::Range));
    assert_eq!(calls::list_binary(Op::Add, i32k, buf, 0, buf, 0, buf, 0, 0x4000_0001), Err(ErrorCode::Range));
    assert_eq!(bytes(buf, 64), vec![0; 64], "failed calls wrote nothing");
}

#[test]
fn view_check_reports_codes_in_documented_order() {
    let buf = fresh(32);
    let freed = new(32);
    assert_eq!(crate::buffer::release(freed), Ok(0));
    let not_a_buffer = buf + 4;
    // Every check fails: the first in the order wins.
    assert_eq!(calls::view_check(99, not_a_buffer, 3, u32::MAX), ErrorCode::BadKind as u32);
    assert_eq!(calls::view_check(4, not_a_buffer, 3, u32::MAX), ErrorCode::NotABuffer as u32);
    assert_eq!(calls::view_check(4, freed, 3, u32::MAX), ErrorCode::Freed as u32);
    assert_eq!(calls::view_check(4, buf, 3, u32::MAX), ErrorCode::BadLength as u32);
    assert_eq!(calls::view_check(4, buf, 3, 100), ErrorCode::Alignment as u32);
    assert_eq!(calls::view_check(4, buf, 2, 100), ErrorCode::Range as u32);
    assert_eq!(calls::view_check(4, buf, 2, 15), 0);
    assert_eq!(calls::view_check(0, buf, 3, 29), 0, "ByteData has no alignment rule");
    // The other exports: kind first, then buffer, then alignment, then range.
    assert_eq!(calls::list_get_i64(10, not_a_buffer, 3, 100, 200), Err(ErrorCode::BadKind));
    assert_eq!(calls::list_get_i64(4, not_a_buffer, 3, 100, 200), Err(ErrorCode::NotABuffer));
    assert_eq!(calls::list_get_i64(4, freed, 3, 100, 200), Err(ErrorCode::Freed));
    assert_eq!(calls::list_get_i64(4, buf, 3, 100, 200), Err(ErrorCode::Alignment));
    assert_eq!(calls::list_get_i64(4, buf, 2, 100, 200), Err(ErrorCode::Range));
    assert_eq!(calls::list_get_i64(4, buf, 2, 15, 200), Err(ErrorCode::Range));
    assert_eq!(calls::bytedata_get_i64(not_a_buffer, 0, 1, 0, 11, 0), Err(ErrorCode::BadKind));
    assert_eq!(calls::bytedata_get_f64(freed, 0, 1, 0, 11, 0), Err(ErrorCode::Freed));
    assert_eq!(calls::bytedata_get_f64(not_a_buffer, 0, 1, 0, 11, 0), Err(ErrorCode::NotABuffer));
}

#[test]
fn sublist_view_follows_dart() {
    let buf = fresh(64);
    let v = View::new(Kind::Int16List, buf, 64, 8, 20).unwrap();
    let s = v.sublist_view(3, 10).unwrap();
    assert_eq!((s.offset_in_bytes, s.length, s.kind, s.buffer), (14, 7, Kind::Int16List, buf));
    assert_eq!(v.sublist_view(20, 20).unwrap().length, 0);
    assert_eq!(v.sublist_view(5, 4), Err(ErrorCode::Range));
    assert_eq!(v.sublist_view(0, 21), Err(ErrorCode::Range));
    assert_eq!(v.sublist_view(u32::MAX, u32::MAX), Err(ErrorCode::Range));
    // Views share bytes: a store through the sublist is seen by the parent.
    super::element::set_i64(s, 0, -2).unwrap();
    assert_eq!(super::element::get_i64(v, 3).unwrap(), -2);
    assert_eq!(bytes(buf + 14, 2), (-2i16).to_le_bytes());
}

#[test]
fn bytedata_every_type_both_orders_any_offset() {
    let len = 24u32;
    let buf = fresh(len + 3);
    for code in 1..=11u32 {
        let ty = Kind::from_code(code).unwrap();
        let w = ty.element_size();
        for offset in 0..=(len - w) {
            for little in [0u32, 1] {
                if ty.number() == Number::Int {
                    for &v in INTS {
                        calls::bytedata_set_i64(buf, 3, len, offset, code, little, v).unwrap();
                        let mut want = int_bytes(ty, v);
                        if little == 0 {
                            want.reverse();
                        }
                        assert_eq!(bytes(buf + 3 + offset, w), want, "{ty:?} at {offset} little={little} {v}");
                        let got = calls::bytedata_get_i64(buf, 3, len, offset, code, little).unwrap();
                        assert_eq!(got, int_value(ty, &int_bytes(ty, v)));
                    }
                } else {
                    for &v in FLOATS {
                        calls::bytedata_set_f64(buf, 3, len, offset, code, little, v).unwrap();
                        let want = if w == 4 {
                            if little != 0 {
                                (v as f32).to_le_bytes().to_vec()
                            } else {
                                (v as f32).to_be_bytes().to_vec()
                            }
                        } else if little != 0 {
                            v.to_le_bytes().to_vec()
                        } else {
                            v.to_be_bytes().to_vec()
                        };
                        assert_eq!(bytes(buf + 3 + offset, w), want, "{ty:?} at {offset} little={little} {v}");
                        let got = calls::bytedata_get_f64(buf, 3, len, offset, code, little).unwrap();
                        assert!(same_bits(got, float_value(ty, &float_bytes(ty, v))));
                    }
                }
            }
            // One past the end.
            assert_eq!(
                calls::bytedata_get_i64(buf, 3, len, len - w + 1, code, 0).err().unwrap_or(ErrorCode::Ok),
                if ty.number() == Number::Int { ErrorCode::Range } else { ErrorCode::BadKind }
            );
        }
    }
    // Big-endian by default: getUint16 of [0x12, 0x34] is 0x1234.
    set_bytes(buf, &[0x12, 0x34]);
    assert_eq!(calls::bytedata_get_i64(buf, 0, 2, 0, Kind::Uint16List as u32, 0).unwrap(), 0x1234);
    assert_eq!(calls::bytedata_get_i64(buf, 0, 2, 0, Kind::Uint16List as u32, 1).unwrap(), 0x3412);
    // Types outside 1..=9 / 10..=11 are BAD_KIND.
    for code in [0u32, 10, 11, 12, 13, 14, 15, 99] {
        assert_eq!(calls::bytedata_get_i64(buf, 0, 8, 0, code, 0), Err(ErrorCode::BadKind), "{code}");
        assert_eq!(calls::bytedata_set_i64(buf, 0, 8, 0, code, 0, 1), Err(ErrorCode::BadKind), "{code}");
    }
    for code in [0u32, 1, 9, 12, 13, 14, 15] {
        assert_eq!(calls::bytedata_get_f64(buf, 0, 8, 0, code, 0), Err(ErrorCode::BadKind), "{code}");
        assert_eq!(calls::bytedata_set_f64(buf, 0, 8, 0, code, 0, 1.0), Err(ErrorCode::BadKind), "{code}");
    }
}

#[test]
fn fill_range_every_kind() {
    for kind in Kind::ALL.iter().copied().filter(|k| k.number() != Number::Bytes) {
        let elements = 7u32;
        let len = 16 + elements * kind.element_size() + 16;
        let buf = fresh(len);
        let offset = 16;
        let lanes = elements * kind.lanes();
        let w = lane_width(kind);
        for (start, end) in [(0, lanes), (1, lanes - 1), (3, 3), (2, 5), (0, 1)] {
            set_bytes(buf, &vec![0xAA; len as usize]);
            let mut want = vec![0xAAu8; len as usize];
            let (fill_bytes, r) = if kind.number() == Number::Int {
                let v = -0x0102_0304_0506_0708i64 - start as i64;
                (int_bytes(kind, v), calls::list_fill_i64(kind as u32, buf, offset, elements, start, end, v))
            } else {
                let v = 0.1 + start as f64;
                (float_bytes(kind, v), calls::list_fill_f64(kind as u32, buf, offset, elements, start, end, v))
            };
            r.unwrap();
            for lane in start..end {
                let at = (offset + lane * w) as usize;
                want[at..at + w as usize].copy_from_slice(&fill_bytes);
            }
            assert_eq!(bytes(buf, len), want, "{kind:?} fill {start}..{end}");
        }
        let k = kind as u32;
        let bad = if kind.number() == Number::Int {
            [
                calls::list_fill_i64(k, buf, offset, elements, 0, lanes + 1, 0),
                calls::list_fill_i64(k, buf, offset, elements, 3, 2, 0),
            ]
        } else {
            [
                calls::list_fill_f64(k, buf, offset, elements, 0, lanes + 1, 0.0),
                calls::list_fill_f64(k, buf, offset, elements, 3, 2, 0.0),
            ]
        };
        assert_eq!(bad, [Err(ErrorCode::Range), Err(ErrorCode::Range)]);
    }
    // Clamped fill clamps.
    let buf = fresh(8);
    calls::list_fill_i64(Kind::Uint8ClampedList as u32, buf, 0, 8, 2, 6, 999).unwrap();
    assert_eq!(bytes(buf, 8), [0, 0, 255, 255, 255, 255, 0, 0]);
}

/// Reference setRange: read all source values first, then store them.
fn model_set_range(mem: &mut [u8], dk: Kind, d: usize, sk: Kind, s: usize, count: usize) {
    let (ds, ss) = (dk.element_size() as usize, sk.element_size() as usize);
    if dk == sk {
        mem.copy_within(s..s + count * ss, d);
        return;
    }
    if dk.number() == Number::Int {
        let vals: Vec<i64> = (0..count).map(|i| int_value(sk, &mem[s + i * ss..s + (i + 1) * ss])).collect();
        for (i, v) in vals.into_iter().enumerate() {
            mem[d + i * ds..d + (i + 1) * ds].copy_from_slice(&int_bytes(dk, v));
        }
    } else {
        let vals: Vec<f64> = (0..count).map(|i| float_value(sk, &mem[s + i * ss..s + (i + 1) * ss])).collect();
        for (i, v) in vals.into_iter().enumerate() {
            mem[d + i * ds..d + (i + 1) * ds].copy_from_slice(&float_bytes(dk, v));
        }
    }
}

/// Pseudo-random bytes (xorshift), so failures reproduce.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn set_range_converts_between_every_pair_even_overlapping() {
    let len = 256u32;
    let mut cases = 0;
    for &dk in Kind::ALL {
        for &sk in Kind::ALL {
            let allowed = dk.number() == sk.number()
                && dk.number() != Number::Bytes
                && (dk == sk || (dk.lanes() == 1 && sk.lanes() == 1));
            let buf = fresh(len);
            if !allowed {
                assert_eq!(
                    calls::list_set_range(dk as u32, buf, 0, 1, 0, 1, sk as u32, buf, 0, 1, 0),
                    Err(ErrorCode::BadKind),
                    "{dk:?} <- {sk:?}"
                );
                continue;
            }
            // Same buffer, every relative placement of the two ranges.
            for d_off in (0..64u32).step_by(8) {
                for s_off in (0..64u32).step_by(8) {
                    let (d_off, s_off) =
                        (d_off / dk.element_size() * dk.element_size(), s_off / sk.element_size() * sk.element_size());
                    let dlen = (len - d_off) / dk.element_size();
                    let slen = (len - s_off) / sk.element_size();
                    let count = dlen.min(slen).min(13);
                    let (start, skip) = (2.min(dlen - count), 1.min(slen - count));
                    let seed = (d_off * 1000 + s_off) as u64 + dk as u64 * 7 + sk as u64 * 131;
                    let init = noise(seed, len as usize);
                    set_bytes(buf, &init);
                    let mut want = init.clone();
                    model_set_range(
                        &mut want,
                        dk,
                        (d_off + start * dk.element_size()) as usize,
                        sk,
                        (s_off + skip * sk.element_size()) as usize,
                        count as usize,
                    );
                    calls::list_set_range(
                        dk as u32,
                        buf,
                        d_off,
                        dlen,
                        start,
                        start + count,
                        sk as u32,
                        buf,
                        s_off,
                        slen,
                        skip,
                    )
                    .unwrap();
                    let got = bytes(buf, len);
                    assert_eq!(got, want, "{dk:?}@{d_off} <- {sk:?}@{s_off}");
                    cases += 1;
                }
            }
            // Between two buffers, and a too-short source.
            let other = new(len);
            set_bytes(other, &noise(9, len as usize));
            let mut want = bytes(buf, len);
            let mut mem = [want.clone(), bytes(other, len)].concat();
            model_set_range(&mut mem, dk, 0, sk, len as usize, 5);
            want.copy_from_slice(&mem[..len as usize]);
            calls::list_set_range(dk as u32, buf, 0, 5, 0, 5, sk as u32, other, 0, 6, 0).unwrap();
            assert_eq!(bytes(buf, len), want);
            assert_eq!(
                calls::list_set_range(dk as u32, buf, 0, 5, 0, 5, sk as u32, other, 0, 6, 2),
                Err(ErrorCode::Range)
            );
        }
    }
    assert!(cases > 500, "{cases}");
}

#[test]
fn set_range_checks_both_views() {
    let buf = fresh(64);
    let freed = new(16);
    crate::buffer::release(freed).unwrap();
    let (i32k, i16k) = (Kind::Int32List as u32, Kind::Int16List as u32);
    assert_eq!(calls::list_set_range(i32k, buf, 0, 4, 0, 4, 99, buf, 0, 4, 0), Err(ErrorCode::BadKind));
    assert_eq!(
        calls::list_set_range(i32k, buf, 0, 4, 0, 4, Kind::Float32List as u32, buf, 0, 4, 0),
        Err(ErrorCode::BadKind)
    );
    assert_eq!(
        calls::list_set_range(i32k, buf, 0, 4, 0, 4, Kind::Int32x4List as u32, buf, 0, 1, 0),
        Err(ErrorCode::BadKind)
    );
    assert_eq!(calls::list_set_range(0, buf, 0, 4, 0, 4, 0, buf, 0, 4, 0), Err(ErrorCode::BadKind));
    assert_eq!(calls::list_set_range(i32k, buf, 0, 4, 0, 4, i16k, freed, 0, 4, 0), Err(ErrorCode::Freed));
    assert_eq!(calls::list_set_range(i32k, buf + 16, 0, 4, 0, 4, i16k, buf, 0, 4, 0), Err(ErrorCode::NotABuffer));
    assert_eq!(calls::list_set_range(i32k, buf, 2, 4, 0, 4, i16k, buf, 0, 4, 0), Err(ErrorCode::Alignment));
    assert_eq!(calls::list_set_range(i32k, buf, 0, 4, 0, 4, i16k, buf, 1, 4, 0), Err(ErrorCode::Alignment));
    assert_eq!(calls::list_set_range(i32k, buf, 0, 17, 0, 4, i16k, buf, 0, 4, 0), Err(ErrorCode::Range));
    assert_eq!(calls::list_set_range(i32k, buf, 0, 4, 0, 5, i16k, buf, 0, 4, 0), Err(ErrorCode::Range));
    assert_eq!(calls::list_set_range(i32k, buf, 0, 4, 0, 4, i16k, buf, 0, 4, 1), Err(ErrorCode::Range));
    // SIMD kinds copy from themselves, counting 16-byte elements.
    set_bytes(buf, &noise(3, 64));
    let before = bytes(buf, 64);
    let k = Kind::Float32x4List as u32;
    calls::list_set_range(k, buf, 0, 4, 1, 3, k, buf, 0, 4, 0).unwrap();
    let mut want = before.clone();
    want.copy_within(0..32, 16);
    assert_eq!(bytes(buf, 64), want);
}

#[test]
fn bytes_copy_and_fill() {
    let a = fresh(100);
    let b = new(50);
    set_bytes(a, &noise(1, 100));
    for (d, s, n) in [(0u32, 1u32, 99u32), (1, 0, 99), (10, 30, 40), (30, 10, 40), (5, 5, 20), (0, 0, 0), (17, 3, 64)] {
        let mut want = bytes(a, 100);
        want.copy_within(s as usize..(s + n) as usize, d as usize);
        super::bulk::bytes_copy(a, d, a, s, n).unwrap();
        assert_eq!(bytes(a, 100), want, "copy {s}->{d} x{n}");
    }
    super::bulk::bytes_copy(b, 3, a, 50, 47).unwrap();
    assert_eq!(bytes(b + 3, 47), bytes(a + 50, 47));
    assert_eq!(super::bulk::bytes_copy(b, 4, a, 0, 47), Err(ErrorCode::Range));
    assert_eq!(super::bulk::bytes_copy(b, 0, a, 54, 47), Err(ErrorCode::Range));
    assert_eq!(super::bulk::bytes_copy(b + 1, 0, a, 0, 1), Err(ErrorCode::NotABuffer));
    for (o, n) in [(0u32, 100u32), (3, 61), (99, 1), (100, 0), (7, 0)] {
        let mut want = bytes(a, 100);
        want[o as usize..(o + n) as usize].fill(0xC3);
        super::bulk::bytes_fill(a, o, n, 0x1_23C3).unwrap();
        assert_eq!(bytes(a, 100), want);
    }
    assert_eq!(super::bulk::bytes_fill(a, 1, 100, 0), Err(ErrorCode::Range));
    crate::buffer::release(b).unwrap();
    assert_eq!(super::bulk::bytes_fill(b, 0, 1, 0), Err(ErrorCode::Freed));
}

/// Reference element-wise op on little-endian lanes.
fn model_binary(op: Op, kind: Kind, a: &[u8], b: &[u8]) -> Vec<u8> {
    let w = lane_width(kind) as usize;
    let mut out = Vec::new();
    for (x, y) in a.chunks(w).zip(b.chunks(w)) {
        match lane_kind(kind) {
            Kind::Int32List => {
                let (x, y) = (i32::from_le_bytes(x.try_into().unwrap()), i32::from_le_bytes(y.try_into().unwrap()));
                out.extend((if op == Op::Add { x.wrapping_add(y) } else { x.wrapping_mul(y) }).to_le_bytes());
            }
            Kind::Float32List => {
                let (x, y) = (f32::from_le_bytes(x.try_into().unwrap()), f32::from_le_bytes(y.try_into().unwrap()));
                out.extend((if op == Op::Add { x + y } else { x * y }).to_le_bytes());
            }
            _ => {
                let (x, y) = (f64::from_le_bytes(x.try_into().unwrap()), f64::from_le_bytes(y.try_into().unwrap()));
                out.extend((if op == Op::Add { x + y } else { x * y }).to_le_bytes());
            }
        }
    }
    out
}

#[test]
fn add_and_mul_every_supported_kind() {
    for &kind in Kind::ALL {
        let supported = super::bulk::arithmetic_kind(kind).is_ok();
        let size = kind.element_size();
        let buf = fresh(4096);
        if !supported {
            assert_eq!(calls::list_binary(Op::Add, kind as u32, buf, 0, buf, 0, buf, 0, 1), Err(ErrorCode::BadKind));
            continue;
        }
        for op in [Op::Add, Op::Mul] {
            for n in [0u32, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33] {
                let bytes_n = n * size;
                let (o, a, b) = (0u32, 1600 + size, 800 + 2 * size); // aligned to size, not to 16
                let init = noise(n as u64 + size as u64, 4096);
                set_bytes(buf, &init);
                let want = model_binary(
                    op,
                    kind,
                    &init[a as usize..(a + bytes_n) as usize],
                    &init[b as usize..(b + bytes_n) as usize],
                );
                calls::list_binary(op, kind as u32, buf, o, buf, a, buf, b, n).unwrap();
                assert_eq!(bytes(buf + o, bytes_n), want, "{kind:?} {op:?} n={n}");
                assert_eq!(
                    bytes(buf + bytes_n, 16),
                    init[bytes_n as usize..bytes_n as usize + 16],
                    "wrote past the end"
                );
                // Exact aliasing: out = a, and out = a = b.
                set_bytes(buf, &init);
                calls::list_binary(op, kind as u32, buf, a, buf, a, buf, b, n).unwrap();
                assert_eq!(bytes(buf + a, bytes_n), want, "{kind:?} {op:?} out=a n={n}");
                set_bytes(buf, &init);
                let sq = model_binary(
                    op,
                    kind,
                    &init[b as usize..(b + bytes_n) as usize],
                    &init[b as usize..(b + bytes_n) as usize],
                );
                calls::list_binary(op, kind as u32, buf, b, buf, b, buf, b, n).unwrap();
                assert_eq!(bytes(buf + b, bytes_n), sq, "{kind:?} {op:?} out=a=b n={n}");
            }
        }
        assert_eq!(calls::list_binary(Op::Mul, kind as u32, buf, 1, buf, 0, buf, 0, 1), Err(ErrorCode::Alignment));
        assert_eq!(calls::list_binary(Op::Mul, kind as u32, buf, 0, buf, 4096, buf, 0, 1), Err(ErrorCode::Range));
    }
    // Wrapping and IEEE edge cases.
    let buf = fresh(48);
    let i = Kind::Int32List as u32;
    calls::list_set_i64(i, buf, 0, 12, 0, i32::MAX as i64).unwrap();
    calls::list_set_i64(i, buf, 0, 12, 4, 2).unwrap();
    calls::list_binary(Op::Add, i, buf, 32, buf, 0, buf, 16, 1).unwrap();
    assert_eq!(calls::list_get_i64(i, buf, 0, 12, 8).unwrap(), i32::MIN as i64 + 1);
    calls::list_binary(Op::Mul, i, buf, 32, buf, 0, buf, 16, 1).unwrap();
    assert_eq!(calls::list_get_i64(i, buf, 0, 12, 8).unwrap(), -2);
    let f = Kind::Float64List as u32;
    calls::list_set_f64(f, buf, 0, 6, 0, f64::INFINITY).unwrap();
    calls::list_set_f64(f, buf, 0, 6, 1, 0.0).unwrap();
    calls::list_binary(Op::Mul, f, buf, 16, buf, 0, buf, 8, 1).unwrap();
    assert!(calls::list_get_f64(f, buf, 0, 6, 2).unwrap().is_nan());
}

#[test]
fn kernels_fill_and_copy_against_slices() {
    for len in 0..80usize {
        for width in [1u32, 2, 4, 8] {
            let mut v = vec![0u8; len + 3];
            let bits = 0x1122_3344_5566_7788u64;
            let pattern = super::convert::replicate(bits, width);
            let base = width as usize % 3;
            unsafe { kernels::fill(v.as_mut_ptr().add(base), len, pattern) };
            for (i, b) in v.iter().enumerate() {
                let want =
                    if i >= base && i < base + len { bits.to_le_bytes()[(i - base) % width as usize] } else { 0 };
                assert_eq!(*b, want, "width {width} len {len} at {i}");
            }
        }
        for (d, s) in [(0usize, 0usize), (0, 1), (1, 0), (0, 17), (17, 0), (5, 40), (40, 5)] {
            let mut v = noise(len as u64, len + 64);
            let mut want = v.clone();
            want.copy_within(s..s + len, d);
            unsafe { kernels::copy(v.as_mut_ptr().add(d), v.as_ptr().add(s), len) };
            assert_eq!(v, want, "copy {s}->{d} x{len}");
        }
    }
}

#[test]
fn freed_and_foreign_buffers_are_rejected_by_every_call() {
    let buf = fresh(64);
    let freed = new(64);
    crate::buffer::release(freed).unwrap();
    for b in [freed, buf + 16, 0, u32::MAX - 15] {
        let expect = |r: crate::Result<()>| {
            let e = r.unwrap_err();
            assert!(matches!(e, ErrorCode::Freed | ErrorCode::NotABuffer), "{b:#x}: {e:?}");
        };
        expect(calls::list_get_i64(6, b, 0, 1, 0).map(|_| ()));
        expect(calls::list_set_i64(6, b, 0, 1, 0, 0));
        expect(calls::list_get_f64(10, b, 0, 1, 0).map(|_| ()));
        expect(calls::list_set_f64(10, b, 0, 1, 0, 0.0));
        expect(calls::list_fill_i64(6, b, 0, 1, 0, 1, 0));
        expect(calls::list_fill_f64(10, b, 0, 1, 0, 1, 0.0));
        expect(calls::list_set_range(6, b, 0, 1, 0, 1, 6, buf, 0, 1, 0));
        expect(calls::list_set_range(6, buf, 0, 1, 0, 1, 6, b, 0, 1, 0));
        expect(super::bulk::bytes_copy(b, 0, buf, 0, 1));
        expect(super::bulk::bytes_copy(buf, 0, b, 0, 1));
        expect(super::bulk::bytes_fill(b, 0, 1, 0));
        expect(calls::bytedata_get_i64(b, 0, 1, 0, 1, 0).map(|_| ()));
        expect(calls::bytedata_set_f64(b, 0, 8, 0, 11, 0, 0.0));
        expect(calls::list_binary(Op::Add, 6, buf, 0, b, 0, buf, 0, 1));
        expect(calls::list_binary(Op::Add, 6, buf, 0, buf, 0, b, 0, 1));
        expect(calls::list_binary(Op::Add, 6, b, 0, buf, 0, buf, 0, 1));
        assert_ne!(calls::view_check(6, b, 0, 1), 0);
    }
    assert_eq!(bytes(buf, 64), vec![0; 64]);
}

mod model {
    //! Property test: random sequences of typed operations on two buffers,
    //! against a `Vec<u8>` model of each buffer's bytes.
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        SetI {
            kind: u32,
            offset: u32,
            length: u32,
            index: u32,
            value: i64,
        },
        SetF {
            kind: u32,
            offset: u32,
            length: u32,
            index: u32,
            value: f64,
        },
        GetI {
            kind: u32,
            offset: u32,
            length: u32,
            index: u32,
        },
        GetF {
            kind: u32,
            offset: u32,
            length: u32,
            index: u32,
        },
        FillI {
            kind: u32,
            offset: u32,
            length: u32,
            start: u32,
            end: u32,
            value: i64,
        },
        SetRange {
            dk: u32,
            d_buf: bool,
            d_off: u32,
            d_len: u32,
            start: u32,
            end: u32,
            sk: u32,
            s_buf: bool,
            s_off: u32,
            s_len: u32,
            skip: u32,
        },
        Copy {
            d_buf: bool,
            d_off: u32,
            s_buf: bool,
            s_off: u32,
            len: u32,
        },
        Fill {
            offset: u32,
            len: u32,
            byte: u32,
        },
    }

    const LEN: u32 = 96;

    /// Offsets and byte lengths: mostly inside the buffer, sometimes far
    /// outside (overflow checks).
    fn small() -> impl Strategy<Value = u32> {
        prop_oneof![12 => 0u32..=LEN + 8, 1 => Just(u32::MAX), 1 => Just(0x8000_0000u32), 1 => Just(u32::MAX - 7)]
    }

    /// Element counts and indices: mostly small enough to fit.
    fn count() -> impl Strategy<Value = u32> {
        prop_oneof![12 => 0u32..=6, 3 => 0u32..=24, 1 => 0u32..=LEN, 1 => Just(u32::MAX), 1 => Just(0x2000_0000u32)]
    }

    /// Indices and `skipCount`s: mostly small.
    fn index() -> impl Strategy<Value = u32> {
        prop_oneof![10 => 0u32..=2, 2 => count()]
    }

    /// `(start, end)`: mostly a valid small range, sometimes anything.
    fn range() -> impl Strategy<Value = (u32, u32)> {
        prop_oneof![8 => (0u32..=2, 0u32..=4).prop_map(|(s, n)| (s, s + n)), 2 => (count(), count())]
    }

    /// Kind codes: mostly of one number class, sometimes anything
    /// (including ByteData and codes outside the table).
    fn kind_of(codes: &'static [u32]) -> impl Strategy<Value = u32> {
        prop_oneof![8 => proptest::sample::select(codes), 1 => 0u32..20]
    }

    const INT: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 12];
    const FLOAT: &[u32] = &[10, 11, 13, 14];
    const LIST: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

    /// Offsets that are usually aligned for most kinds.
    fn offset() -> impl Strategy<Value = u32> {
        prop_oneof![6 => (0u32..=3).prop_map(|k| k * 16), 3 => (0u32..=6).prop_map(|k| k * 8), 1 => small()]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (kind_of(INT), offset(), count(), index(), any::<i64>())
                .prop_map(|(kind, offset, length, index, value)| Op::SetI { kind, offset, length, index, value }),
            (kind_of(FLOAT), offset(), count(), index(), any::<f64>())
                .prop_map(|(kind, offset, length, index, value)| Op::SetF { kind, offset, length, index, value }),
            (kind_of(INT), offset(), count(), index()).prop_map(|(kind, offset, length, index)| Op::GetI {
                kind,
                offset,
                length,
                index
            }),
            (kind_of(FLOAT), offset(), count(), index()).prop_map(|(kind, offset, length, index)| Op::GetF {
                kind,
                offset,
                length,
                index
            }),
            (kind_of(INT), offset(), count(), range(), any::<i64>()).prop_map(
                |(kind, offset, length, (start, end), value)| Op::FillI { kind, offset, length, start, end, value }
            ),
            // Same kind half the time, else a kind of the same class, else anything.
            (
                kind_of(LIST),
                prop_oneof![2 => Just(None), 1 => kind_of(LIST).prop_map(Some)],
                any::<bool>(),
                offset(),
                count(),
                range(),
                any::<bool>(),
                offset(),
                count(),
                index()
            )
                .prop_map(|(dk, other, d_buf, d_off, d_len, (start, end), s_buf, s_off, s_len, skip)| {
                    let sk = other.unwrap_or(dk);
                    Op::SetRange { dk, d_buf, d_off, d_len, start, end, sk, s_buf, s_off, s_len, skip }
                }),
            (any::<bool>(), small(), any::<bool>(), small(), small())
                .prop_map(|(d_buf, d_off, s_buf, s_off, len)| Op::Copy { d_buf, d_off, s_buf, s_off, len }),
            (small(), small(), any::<u32>()).prop_map(|(offset, len, byte)| Op::Fill { offset, len, byte }),
        ]
    }

    /// The model's verdict on a view: the error, or its byte range.
    fn model_view(
        kind: u32,
        number: Option<Number>,
        offset: u32,
        length: u32,
    ) -> Result<(Kind, usize, usize), ErrorCode> {
        let k = Kind::from_code(kind).filter(|k| number.is_none_or(|n| k.number() == n)).ok_or(ErrorCode::BadKind)?;
        let size = k.element_size() as u64;
        if !(offset as u64).is_multiple_of(size) {
            return Err(ErrorCode::Alignment);
        }
        if offset as u64 + length as u64 * size > LEN as u64 {
            return Err(ErrorCode::Range);
        }
        Ok((k, offset as usize, length as usize))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        #[test]
        fn typed_ops_match_a_byte_model(ops in proptest::collection::vec(op(), 1..200)) {
            reset_native();
            let bufs = [crate::buffer::new(LEN).unwrap(), crate::buffer::new(LEN).unwrap()];
            let mut mem = vec![vec![0u8; LEN as usize]; 2];
            for op in ops {
                match op {
                    Op::SetI { kind, offset, length, index, value } => {
                        let want = model_view(kind, Some(Number::Int), offset, length).and_then(|(k, o, l)| {
                            let w = lane_width(k) as usize;
                            if index as u64 >= (l * k.lanes() as usize) as u64 { return Err(ErrorCode::Range) }
                            let at = o + index as usize * w;
                            mem[0][at..at + w].copy_from_slice(&int_bytes(k, value));
                            Ok(())
                        });
                        prop_assert_eq!(calls::list_set_i64(kind, bufs[0], offset, length, index, value), want);
                    }
                    Op::SetF { kind, offset, length, index, value } => {
                        let want = model_view(kind, Some(Number::Float), offset, length).and_then(|(k, o, l)| {
                            let w = lane_width(k) as usize;
                            if index as u64 >= (l * k.lanes() as usize) as u64 { return Err(ErrorCode::Range) }
                            let at = o + index as usize * w;
                            mem[0][at..at + w].copy_from_slice(&float_bytes(k, value));
                            Ok(())
                        });
                        prop_assert_eq!(calls::list_set_f64(kind, bufs[0], offset, length, index, value), want);
                    }
                    Op::GetI { kind, offset, length, index } => {
                        let want = model_view(kind, Some(Number::Int), offset, length).and_then(|(k, o, l)| {
                            let w = lane_width(k) as usize;
                            if index as u64 >= (l * k.lanes() as usize) as u64 { return Err(ErrorCode::Range) }
                            let at = o + index as usize * w;
                            Ok(int_value(k, &mem[0][at..at + w]))
                        });
                        prop_assert_eq!(calls::list_get_i64(kind, bufs[0], offset, length, index), want);
                    }
                    Op::GetF { kind, offset, length, index } => {
                        let want = model_view(kind, Some(Number::Float), offset, length).and_then(|(k, o, l)| {
                            let w = lane_width(k) as usize;
                            if index as u64 >= (l * k.lanes() as usize) as u64 { return Err(ErrorCode::Range) }
                            let at = o + index as usize * w;
                            Ok(float_value(k, &mem[0][at..at + w]))
                        });
                        let got = calls::list_get_f64(kind, bufs[0], offset, length, index);
                        match (got, want) {
                            (Ok(g), Ok(w)) => prop_assert!(same_bits(g, w)),
                            (g, w) => prop_assert_eq!(g.err(), w.err()),
                        }
                    }
                    Op::FillI { kind, offset, length, start, end, value } => {
                        let want = model_view(kind, Some(Number::Int), offset, length).and_then(|(k, o, l)| {
                            let w = lane_width(k) as usize;
                            if start > end || end as u64 > (l * k.lanes() as usize) as u64 { return Err(ErrorCode::Range) }
                            for i in start as usize..end as usize {
                                mem[0][o + i * w..o + (i + 1) * w].copy_from_slice(&int_bytes(k, value));
                            }
                            Ok(())
                        });
                        prop_assert_eq!(calls::list_fill_i64(kind, bufs[0], offset, length, start, end, value), want);
                    }
                    Op::SetRange { dk, d_buf, d_off, d_len, start, end, sk, s_buf, s_off, s_len, skip } => {
                        let (di, si) = (d_buf as usize, s_buf as usize);
                        let kinds_ok = match (Kind::from_code(dk), Kind::from_code(sk)) {
                            (Some(a), Some(b)) => a.number() == b.number() && a.number() != Number::Bytes && (a == b || (a.lanes() == 1 && b.lanes() == 1)),
                            _ => false,
                        };
                        let want = if !kinds_ok { Err(ErrorCode::BadKind) } else {
                            model_view(dk, None, d_off, d_len).and_then(|d| Ok((d, model_view(sk, None, s_off, s_len)?))).and_then(|((dkk, dof, dl), (skk, sof, sl))| {
                                if start > end || end as usize > dl || skip as u64 + (end - start) as u64 > sl as u64 { return Err(ErrorCode::Range) }
                                let count = (end - start) as usize;
                                let d = dof + start as usize * dkk.element_size() as usize;
                                let s = sof + skip as usize * skk.element_size() as usize;
                                if di == si {
                                    model_set_range(&mut mem[di], dkk, d, skk, s, count);
                                } else {
                                    let mut joined = [mem[di].clone(), mem[si].clone()].concat();
                                    model_set_range(&mut joined, dkk, d, skk, LEN as usize + s, count);
                                    mem[di].copy_from_slice(&joined[..LEN as usize]);
                                }
                                Ok(())
                            })
                        };
                        prop_assert_eq!(calls::list_set_range(dk, bufs[di], d_off, d_len, start, end, sk, bufs[si], s_off, s_len, skip), want);
                    }
                    Op::Copy { d_buf, d_off, s_buf, s_off, len } => {
                        let (di, si) = (d_buf as usize, s_buf as usize);
                        let ok = d_off as u64 + len as u64 <= LEN as u64 && s_off as u64 + len as u64 <= LEN as u64;
                        let want = if ok {
                            let src = mem[si][s_off as usize..(s_off + len) as usize].to_vec();
                            mem[di][d_off as usize..(d_off + len) as usize].copy_from_slice(&src);
                            Ok(())
                        } else { Err(ErrorCode::Range) };
                        prop_assert_eq!(super::super::bulk::bytes_copy(bufs[di], d_off, bufs[si], s_off, len), want);
                    }
                    Op::Fill { offset, len, byte } => {
                        let want = if offset as u64 + len as u64 <= LEN as u64 {
                            mem[1][offset as usize..(offset + len) as usize].fill(byte as u8);
                            Ok(())
                        } else { Err(ErrorCode::Range) };
                        prop_assert_eq!(super::super::bulk::bytes_fill(bufs[1], offset, len, byte), want);
                    }
                }
                for i in 0..2 {
                    // Floats stored from the model and the runtime agree bit for bit (both use `as f32`).
                    prop_assert_eq!(bytes(bufs[i], LEN), mem[i].clone());
                }
            }
        }
    }
}
