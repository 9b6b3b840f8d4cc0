//! The typed-data exports of `runtime.wasm` in wasmtime, in every build
//! (default, scalar, checked, atomic, and the shared builds, each as one
//! instance over its shared memory): signatures against the ABI table,
//! values against Rust's own conversions, and misuse decoded through
//! `last_error` (BAD_KIND, NOT_A_BUFFER, FREED, BAD_LENGTH, ALIGNMENT,
//! RANGE). Failed calls must leave memory and counters untouched and the
//! instance usable, even after thousands of traps.

use multimem_abi::{ErrorCode, Kind, MAX_LENGTH, Number, ValType};
use multimem_runtime_wasm::{SHARED_VARIANTS, VARIANTS};
use multimem_test_harness::Rt;
use wasmtime::Module;

use ErrorCode::{Alignment, BadKind, BadLength, Freed, NotABuffer, Range};

/// Runs `f` on a fresh instance of every build. No external memory is
/// given: the typed exports never touch it, so an intrinsic that needed it
/// would fail the call and the test.
fn each_build(f: impl FnMut(&mut Rt)) {
    Rt::each(f)
}

/// Little-endian bytes an `int` store of `v` writes, from Rust casts.
fn int_bytes(kind: Kind, v: i64) -> Vec<u8> {
    match kind {
        Kind::Int8List => (v as i8).to_le_bytes().to_vec(),
        Kind::Uint8List => (v as u8).to_le_bytes().to_vec(),
        Kind::Uint8ClampedList => vec![v.clamp(0, 255) as u8],
        Kind::Int16List => (v as i16).to_le_bytes().to_vec(),
        Kind::Uint16List => (v as u16).to_le_bytes().to_vec(),
        Kind::Int32List | Kind::Int32x4List => (v as i32).to_le_bytes().to_vec(),
        Kind::Uint32List => (v as u32).to_le_bytes().to_vec(),
        Kind::Int64List | Kind::Uint64List => v.to_le_bytes().to_vec(),
        k => panic!("{k:?}"),
    }
}

/// The value an `int` load of `b` gives, from Rust casts.
fn int_value(kind: Kind, b: &[u8]) -> i64 {
    match kind {
        Kind::Int8List => b[0] as i8 as i64,
        Kind::Uint8List | Kind::Uint8ClampedList => b[0] as i64,
        Kind::Int16List => i16::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Uint16List => u16::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Int32List | Kind::Int32x4List => i32::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Uint32List => u32::from_le_bytes(b.try_into().unwrap()) as i64,
        Kind::Int64List => i64::from_le_bytes(b.try_into().unwrap()),
        Kind::Uint64List => u64::from_le_bytes(b.try_into().unwrap()) as i64,
        k => panic!("{k:?}"),
    }
}

const TYPED_EXPORTS: &[&str] = &[
    "view_check",
    "list_get_i64",
    "list_set_i64",
    "list_get_f64",
    "list_set_f64",
    "list_fill_i64",
    "list_fill_f64",
    "list_set_range",
    "bytes_copy",
    "bytes_fill",
    "bytedata_get_i64",
    "bytedata_set_i64",
    "bytedata_get_f64",
    "bytedata_set_f64",
    "list_add",
    "list_mul",
];

#[test]
fn typed_exports_have_the_abi_signatures() {
    let engine = multimem_test_harness::engine::runtime();
    for (variant, wasm) in VARIANTS.iter().chain(SHARED_VARIANTS) {
        let module = Module::new(&engine, wasm).unwrap();
        for name in TYPED_EXPORTS {
            let abi = multimem_abi::export(name).unwrap_or_else(|| panic!("{name} is not in docs/ABI.md"));
            let ty = module.get_export(name).unwrap_or_else(|| panic!("[{variant}] no export {name}"));
            let f = ty.func().unwrap_or_else(|| panic!("[{variant}] {name} is not a function"));
            let conv = |t: &ValType| match t {
                ValType::I32 => wasmtime::ValType::I32.to_string(),
                ValType::I64 => wasmtime::ValType::I64.to_string(),
                ValType::F32 => wasmtime::ValType::F32.to_string(),
                ValType::F64 => wasmtime::ValType::F64.to_string(),
            };
            let want: (Vec<String>, Vec<String>) =
                (abi.params.iter().map(conv).collect(), abi.results.iter().map(conv).collect());
            let got: (Vec<String>, Vec<String>) =
                (f.params().map(|t| t.to_string()).collect(), f.results().map(|t| t.to_string()).collect());
            assert_eq!(got, want, "[{variant}] {name}");
        }
    }
}

#[test]
fn int_elements_store_and_load_like_rust_casts() {
    let values = [
        0i64,
        1,
        -1,
        127,
        128,
        -129,
        255,
        256,
        65535,
        -32769,
        0x7fff_ffff,
        0x8000_0000,
        -0x8000_0001,
        i64::MAX,
        i64::MIN,
    ];
    each_build(|rt| {
        for &kind in Kind::ALL.iter().filter(|k| k.number() == Number::Int) {
            let size = kind.element_size();
            let lane = size / kind.lanes();
            let b = rt.new_buffer(4 * size + size);
            for (n, &v) in values.iter().enumerate() {
                let i = n as u32 % (4 * kind.lanes());
                rt.set_i64(kind, b, size, 4, i, v).unwrap();
                let stored = rt.read(b + size + i * lane, lane);
                let lane_kind = if kind == Kind::Int32x4List { Kind::Int32List } else { kind };
                assert_eq!(stored, int_bytes(lane_kind, v), "[{}] {kind:?} store {v}", rt.variant);
                assert_eq!(
                    rt.get_i64(kind, b, size, 4, i).unwrap(),
                    int_value(lane_kind, &stored),
                    "[{}] {kind:?} load",
                    rt.variant
                );
            }
        }
    });
}

#[test]
fn float_elements_round_to_f32_and_widen() {
    let values = [0.1f64, -0.0, 1e39, -1e-46, 16777217.0, f64::INFINITY, f64::MIN_POSITIVE, 2.5];
    each_build(|rt| {
        for &kind in Kind::ALL.iter().filter(|k| k.number() == Number::Float) {
            let lane = kind.element_size() / kind.lanes();
            let b = rt.new_buffer(2 * kind.element_size());
            for (n, &v) in values.iter().enumerate() {
                let i = n as u32 % (2 * kind.lanes());
                rt.set_f64(kind, b, 0, 2, i, v).unwrap();
                let (want_bytes, want) = if lane == 4 {
                    ((v as f32).to_le_bytes().to_vec(), v as f32 as f64)
                } else {
                    (v.to_le_bytes().to_vec(), v)
                };
                assert_eq!(rt.read(b + i * lane, lane), want_bytes, "[{}] {kind:?} {v}", rt.variant);
                assert_eq!(rt.get_f64(kind, b, 0, 2, i).unwrap().to_bits(), want.to_bits());
            }
        }
    });
}

#[test]
fn bytedata_reads_and_writes_both_byte_orders_at_odd_offsets() {
    each_build(|rt| {
        let b = rt.new_buffer(32);
        // ByteData view at offsetInBytes 3, lengthInBytes 20.
        let (off, len) = (3u32, 20u32);
        for at in [0u32, 1, 5, 12] {
            for little in [0u32, 1] {
                let v: i64 = -0x0123_4567_89ab_cdef;
                for (ty, w) in
                    [(Kind::Int16List, 2u32), (Kind::Uint32List, 4), (Kind::Int64List, 8), (Kind::Uint8ClampedList, 1)]
                {
                    let _: () = rt.ok("bytedata_set_i64", (b, off, len, at, ty as u32, little, v));
                    let mut want = int_bytes(ty, v);
                    if little == 0 {
                        want.reverse();
                    }
                    assert_eq!(rt.read(b + off + at, w), want, "[{}] {ty:?} at {at} little={little}", rt.variant);
                    let got: i64 = rt.ok("bytedata_get_i64", (b, off, len, at, ty as u32, little));
                    assert_eq!(got, int_value(ty, &int_bytes(ty, v)));
                }
                let f = 1.0f64 / 3.0;
                let _: () = rt.ok("bytedata_set_f64", (b, off, len, at, Kind::Float32List as u32, little, f));
                let want = if little == 0 { (f as f32).to_be_bytes() } else { (f as f32).to_le_bytes() };
                assert_eq!(rt.read(b + off + at, 4), want);
                let _: () = rt.ok("bytedata_set_f64", (b, off, len, at, Kind::Float64List as u32, little, f));
                let want = if little == 0 { f.to_be_bytes() } else { f.to_le_bytes() };
                assert_eq!(rt.read(b + off + at, 8), want);
                let got: f64 = rt.ok("bytedata_get_f64", (b, off, len, at, Kind::Float64List as u32, little));
                assert_eq!(got, f);
            }
        }
        // Endian.big by default: bytes 12 34 read as getUint16 = 0x1234.
        rt.write(b, &[0x12, 0x34]);
        assert_eq!(
            rt.call::<_, i64>("bytedata_get_i64", (b, 0u32, 2u32, 0u32, Kind::Uint16List as u32, 0u32)),
            Ok(0x1234)
        );
        assert_eq!(
            rt.call::<_, i64>("bytedata_get_i64", (b, 0u32, 2u32, 0u32, Kind::Uint16List as u32, 1u32)),
            Ok(0x3412)
        );
        // Past the view's end, and types outside 1..=9 / 10..=11.
        assert_eq!(
            rt.call::<_, i64>("bytedata_get_i64", (b, off, len, 13u32, Kind::Int64List as u32, 0u32)),
            Err(Range)
        );
        assert_eq!(
            rt.call::<_, i64>("bytedata_get_i64", (b, off, len, u32::MAX, Kind::Int8List as u32, 0u32)),
            Err(Range)
        );
        assert_eq!(
            rt.call::<_, i64>("bytedata_get_i64", (b, off, 30u32, 0u32, Kind::Int8List as u32, 0u32)),
            Err(Range)
        );
        for ty in [0u32, 10, 12, 15, 99] {
            assert_eq!(rt.call::<_, i64>("bytedata_get_i64", (b, off, len, 0u32, ty, 0u32)), Err(BadKind), "type {ty}");
        }
        for ty in [0u32, 1, 9, 13, 14] {
            assert_eq!(
                rt.call::<_, ()>("bytedata_set_f64", (b, off, len, 0u32, ty, 0u32, 1.0f64)),
                Err(BadKind),
                "type {ty}"
            );
        }
    });
}

#[test]
fn view_check_returns_codes_in_the_documented_order() {
    each_build(|rt| {
        let b = rt.new_buffer(32);
        let freed = rt.new_buffer(32);
        let _: u32 = rt.ok("buffer_release", freed);
        let i16k = Kind::Int16List as u32;
        let code = |e: ErrorCode| e.code();
        assert_eq!(rt.view_check(15, b + 4, 3, u32::MAX), code(BadKind));
        assert_eq!(rt.view_check(i16k, b + 4, 3, u32::MAX), code(NotABuffer));
        assert_eq!(rt.view_check(i16k, freed, 3, u32::MAX), code(Freed));
        assert_eq!(rt.view_check(i16k, b, 3, MAX_LENGTH + 1), code(BadLength));
        assert_eq!(rt.view_check(i16k, b, 3, 1), code(Alignment));
        assert_eq!(rt.view_check(i16k, b, 2, 16), code(Range));
        assert_eq!(rt.view_check(i16k, b, u32::MAX - 1, 1), code(Range));
        assert_eq!(rt.view_check(Kind::Float64x2List as u32, b, 16, 1), 0);
        assert_eq!(rt.view_check(Kind::Float64x2List as u32, b, 8, 1), code(Alignment));
        assert_eq!(rt.view_check(Kind::ByteData as u32, b, 31, 1), 0);
        // Every kind at every small offset: 0, ALIGNMENT or RANGE exactly as Dart's rules say.
        for &kind in Kind::ALL {
            let size = kind.element_size();
            for off in 0..=33u32 {
                for len in [0u32, 1, 2, 32 / size] {
                    let want = if off % size != 0 {
                        code(Alignment)
                    } else if off as u64 + len as u64 * size as u64 > 32 {
                        code(Range)
                    } else {
                        0
                    };
                    assert_eq!(
                        rt.view_check(kind as u32, b, off, len),
                        want,
                        "[{}] {kind:?} off {off} len {len}",
                        rt.variant
                    );
                }
            }
        }
    });
}

#[test]
fn misuse_traps_with_its_code_and_changes_nothing() {
    each_build(|rt| {
        let b = rt.new_buffer(64);
        let other = rt.new_buffer(64);
        let freed = rt.new_buffer(64);
        let _: u32 = rt.ok("buffer_release", freed);
        let pattern: Vec<u8> = (0..64).collect();
        rt.write(b, &pattern);
        rt.write(other, &pattern);
        let (live, bytes) = (rt.stat("stats_live_buffers"), rt.stat("stats_live_bytes"));
        let i32k = Kind::Int32List;
        // Kind errors come first, before the buffer is even looked at.
        assert_eq!(rt.get_i64(Kind::Float32List, freed, 1, 99, 0), Err(BadKind));
        assert_eq!(rt.get_f64(Kind::Int32List, b, 0, 1, 0), Err(BadKind));
        assert_eq!(rt.get_i64(Kind::ByteData, b, 0, 1, 0), Err(BadKind));
        assert_eq!(rt.call::<_, i64>("list_get_i64", (15u32, b, 0u32, 1u32, 0u32)), Err(BadKind));
        // Then the buffer.
        for bad in [b + 4, b + 16, 0, 8, u32::MAX - 15] {
            assert_eq!(rt.get_i64(i32k, bad, 0, 1, 0), Err(NotABuffer), "[{}] {bad:#x}", rt.variant);
        }
        assert_eq!(rt.get_i64(i32k, freed, 0, 1, 0), Err(Freed));
        assert_eq!(rt.set_f64(Kind::Float64List, freed, 0, 1, 0, 1.0), Err(Freed));
        assert_eq!(rt.call::<_, ()>("bytes_copy", (b, 0u32, freed, 0u32, 1u32)), Err(Freed));
        assert_eq!(rt.call::<_, ()>("bytes_fill", (freed, 0u32, 1u32, 0u32)), Err(Freed));
        // Then the view's alignment and range, then the index.
        assert_eq!(rt.set_i64(i32k, b, 2, 1, 0, 7), Err(Alignment));
        assert_eq!(rt.set_i64(i32k, b, 4, 16, 0, 7), Err(Range));
        assert_eq!(rt.set_i64(i32k, b, 4, 15, 15, 7), Err(Range));
        assert_eq!(rt.set_i64(i32k, b, 4, 15, u32::MAX, 7), Err(Range));
        assert_eq!(rt.set_i64(i32k, b, 0, 0x4000_0001, 0, 7), Err(Range), "length * 4 wraps to 4");
        assert_eq!(rt.set_i64(Kind::Int64List, b, 0, 8, 0x2000_0000, 7), Err(Range), "index * 8 wraps to 0");
        assert_eq!(rt.call::<_, ()>("list_fill_i64", (i32k as u32, b, 0u32, 16u32, 3u32, 2u32, 0i64)), Err(Range));
        assert_eq!(
            rt.call::<_, ()>("list_fill_f64", (Kind::Float32x4List as u32, b, 0u32, 4u32, 0u32, 17u32, 0f64)),
            Err(Range)
        );
        assert_eq!(rt.call::<_, ()>("bytes_copy", (b, 1u32, other, 0u32, 64u32)), Err(Range));
        assert_eq!(rt.call::<_, ()>("bytes_copy", (b, 0u32, other, u32::MAX, 2u32)), Err(Range));
        assert_eq!(rt.call::<_, ()>("bytes_fill", (b, 16u32, u32::MAX - 15, 0u32)), Err(Range));
        // setRange: kinds, then both views, then the ranges.
        let sr = |rt: &mut Rt,
                  dk: Kind,
                  d: u32,
                  doff: u32,
                  dlen: u32,
                  start: u32,
                  end: u32,
                  sk: Kind,
                  s: u32,
                  soff: u32,
                  slen: u32,
                  skip: u32| {
            rt.call::<_, ()>("list_set_range", (dk as u32, d, doff, dlen, start, end, sk as u32, s, soff, slen, skip))
        };
        assert_eq!(sr(rt, i32k, freed, 0, 1, 0, 1, Kind::Float32List, b, 0, 1, 0), Err(BadKind), "int from float");
        assert_eq!(sr(rt, Kind::Int32x4List, b, 0, 1, 0, 1, i32k, b, 0, 4, 0), Err(BadKind), "SIMD from another kind");
        assert_eq!(
            sr(rt, Kind::ByteData, b, 0, 1, 0, 1, Kind::ByteData, b, 0, 1, 0),
            Err(BadKind),
            "ByteData has no setRange"
        );
        assert_eq!(sr(rt, i32k, b, 0, 4, 0, 4, Kind::Int8List, freed, 0, 4, 0), Err(Freed));
        assert_eq!(sr(rt, i32k, b, 0, 4, 0, 4, Kind::Int16List, other, 1, 4, 0), Err(Alignment));
        assert_eq!(sr(rt, i32k, b, 0, 4, 0, 5, Kind::Int16List, other, 0, 4, 0), Err(Range));
        assert_eq!(sr(rt, i32k, b, 0, 4, 0, 4, Kind::Int16List, other, 0, 4, 1), Err(Range), "too few source elements");
        assert_eq!(sr(rt, i32k, b, 0, 4, 0, 4, Kind::Int16List, other, 0, 4, u32::MAX), Err(Range));
        // add/mul: unsupported kinds, misaligned or short views.
        let bin = |rt: &mut Rt, name: &str, kind: Kind, o: u32, oo: u32, a: u32, ao: u32, bb: u32, bo: u32, n: u32| {
            rt.call::<_, ()>(name, (kind as u32, o, oo, a, ao, bb, bo, n))
        };
        assert_eq!(bin(rt, "list_add", Kind::Int16List, b, 0, b, 0, b, 0, 1), Err(BadKind));
        assert_eq!(bin(rt, "list_mul", Kind::Uint32List, b, 0, b, 0, b, 0, 1), Err(BadKind));
        assert_eq!(bin(rt, "list_add", Kind::Float64List, b, 0, freed, 0, b, 0, 1), Err(Freed));
        assert_eq!(bin(rt, "list_add", Kind::Float64List, b, 0, b, 4, b, 0, 1), Err(Alignment));
        assert_eq!(bin(rt, "list_mul", Kind::Float64x2List, b, 0, b, 0, other, 16, 4), Err(Range));
        // Nothing was written, nothing leaked.
        assert_eq!(rt.read(b, 64), pattern, "[{}]", rt.variant);
        assert_eq!(rt.read(other, 64), pattern);
        assert_eq!((rt.stat("stats_live_buffers"), rt.stat("stats_live_bytes")), (live, bytes));
    });
}

#[test]
fn set_range_add_and_sublist_views_in_wasm() {
    each_build(|rt| {
        let b = rt.new_buffer(96);
        // Int16List [1, -2, 3, 40000 -> truncated] widened into Int64List.
        for (i, v) in [1i64, -2, 3, 40000].iter().enumerate() {
            rt.set_i64(Kind::Int16List, b, 0, 4, i as u32, *v).unwrap();
        }
        let _: () = rt.ok(
            "list_set_range",
            (Kind::Int64List as u32, b, 16u32, 4u32, 0u32, 4u32, Kind::Int16List as u32, b, 0u32, 4u32, 0u32),
        );
        let got: Vec<i64> = (0..4).map(|i| rt.get_i64(Kind::Int64List, b, 16, 4, i).unwrap()).collect();
        assert_eq!(got, [1, -2, 3, 40000i64 as i16 as i64], "[{}]", rt.variant);
        // Overlapping widening conversion in place: Int8 at 8.. into Int32 at 4.. (destination ahead).
        rt.write(b, &(0u8..64).map(|x| x.wrapping_mul(37)).collect::<Vec<_>>());
        let src: Vec<i64> = rt.read(b + 8, 10).iter().map(|&x| x as i8 as i64).collect();
        let _: () = rt.ok(
            "list_set_range",
            (Kind::Int32List as u32, b, 4u32, 10u32, 0u32, 10u32, Kind::Int8List as u32, b, 8u32, 10u32, 0u32),
        );
        let got: Vec<i64> = (0..10).map(|i| rt.get_i64(Kind::Int32List, b, 4, 10, i).unwrap()).collect();
        assert_eq!(got, src, "[{}] overlapping Int8 -> Int32", rt.variant);
        // Clamped destination.
        rt.set_i64(Kind::Int32List, b, 0, 2, 0, -5).unwrap();
        rt.set_i64(Kind::Int32List, b, 0, 2, 1, 300).unwrap();
        let _: () = rt.ok(
            "list_set_range",
            (Kind::Uint8ClampedList as u32, b, 32u32, 2u32, 0u32, 2u32, Kind::Int32List as u32, b, 0u32, 2u32, 0u32),
        );
        assert_eq!(rt.read(b + 32, 2), [0, 255]);
        // Float64 -> Float32 rounds.
        rt.set_f64(Kind::Float64List, b, 0, 1, 0, 0.1).unwrap();
        let _: () = rt.ok(
            "list_set_range",
            (Kind::Float32List as u32, b, 8u32, 1u32, 0u32, 1u32, Kind::Float64List as u32, b, 0u32, 1u32, 0u32),
        );
        assert_eq!(rt.read(b + 8, 4), 0.1f32.to_le_bytes());
        // Float32x4 add through a sublist view (offsetInBytes 16, 2 elements).
        for i in 0..12 {
            rt.set_f64(Kind::Float32x4List, b, 0, 4, i, i as f64).unwrap();
        }
        let _: () = rt.ok("list_add", (Kind::Float32x4List as u32, b, 64u32, b, 0u32, b, 16u32, 2u32));
        let got: Vec<f64> = (0..8).map(|i| rt.get_f64(Kind::Float32x4List, b, 64, 2, i).unwrap()).collect();
        assert_eq!(got, (0..8).map(|i| (i + i + 4) as f64).collect::<Vec<_>>());
        // Int32 multiplication wraps.
        rt.set_i64(Kind::Int32List, b, 0, 2, 0, 0x10000).unwrap();
        let _: () = rt.ok("list_mul", (Kind::Int32List as u32, b, 4u32, b, 0u32, b, 0u32, 1u32));
        assert_eq!(rt.get_i64(Kind::Int32List, b, 0, 2, 1), Ok(0));
    });
}

#[test]
fn thousands_of_traps_leave_the_instance_usable() {
    // A trap must not leave a shadow-stack frame behind: with a 64 KiB
    // stack, 5000 leaked 16-byte frames would overflow it and the calls at
    // the end (which do use the stack) would fail. (The shared builds have
    // no shadow stack at all, docs/ABI.md "Threads"; in them this checks
    // that traps leave the instance, its `last_error` global included,
    // usable.)
    each_build(|rt| {
        let b = rt.new_buffer(64);
        let i32k = Kind::Int32List as u32;
        for i in 0..5000u32 {
            let f = Kind::Float64List as u32;
            let outcomes = [
                rt.get_i64(Kind::Int32List, b, 0, 16, 16 + i).map(|_| ()),
                rt.set_i64(Kind::Int32List, b, 0, 16, 16 + i, 0),
                rt.get_f64(Kind::Float64List, b, 0, 8, 8 + i).map(|_| ()),
                rt.set_f64(Kind::Float64List, b, 0, 8, 8 + i, 0.0),
                rt.call::<_, ()>("list_fill_i64", (i32k, b, 0u32, 16u32, 0u32, 17 + i, 0i64)),
                rt.call::<_, ()>("list_fill_f64", (f, b, 0u32, 8u32, 0u32, 9 + i, 0f64)),
                rt.call::<_, i64>("bytedata_get_i64", (b, 0u32, 64u32, 64 + i, 1u32, 0u32)).map(|_| ()),
                rt.call::<_, ()>("bytedata_set_i64", (b, 0u32, 64u32, 64 + i, 1u32, 0u32, 0i64)),
                rt.call::<_, f64>("bytedata_get_f64", (b, 0u32, 64u32, 64 + i, 11u32, 0u32)).map(|_| ()),
                rt.call::<_, ()>("bytedata_set_f64", (b, 0u32, 64u32, 64 + i, 11u32, 0u32, 0f64)),
                rt.call::<_, ()>("bytes_copy", (b, 0u32, b, 1u32, 64 + i)),
                rt.call::<_, ()>("bytes_fill", (b, 1u32, 64 + i, 0u32)),
                rt.call::<_, ()>("list_add", (i32k, b, 0u32, b, 0u32, b, 0u32, 17 + i)),
                rt.call::<_, ()>("list_mul", (f, b, 0u32, b, 0u32, b, 0u32, 9 + i)),
                rt.call::<_, ()>("list_set_range", (i32k, b, 0u32, 16u32, 0u32, 16u32, 1u32, b, 0u32, 16u32, 1 + i)),
            ];
            for (n, r) in outcomes.into_iter().enumerate() {
                assert_eq!(r, Err(Range), "[{}] call {n}, round {i}", rt.variant);
            }
        }
        // Still correct: a tail-using add (scratch on the stack), a conversion, element access.
        for i in 0..5 {
            rt.set_i64(Kind::Int32List, b, 0, 16, i, i as i64 * 3).unwrap();
        }
        let _: () = rt.ok("list_add", (Kind::Int32List as u32, b, 32u32, b, 0u32, b, 0u32, 5u32));
        let got: Vec<i64> = (0..5).map(|i| rt.get_i64(Kind::Int32List, b, 32, 5, i).unwrap()).collect();
        assert_eq!(got, [0, 6, 12, 18, 24], "[{}]", rt.variant);
        let c = rt.new_buffer(16);
        let _: u32 = rt.ok("buffer_release", c);
    });
}
