//! The bulk kernels of `runtime.wasm` give bit-identical results in the
//! default (simd128) build and the scalar build.
//!
//! Both builds run in wasmtime side by side. Every kernel-backed export
//! (`list_add`, `list_mul`, `list_fill_*`, `bytes_fill`, `bytes_copy`,
//! `list_set_range`) gets the same random inputs in both: every length from
//! 0 to 64 elements and some longer ones, offsets that are not multiples of
//! 16, aliasing between `out` and the inputs, NaNs with payloads, infinities,
//! subnormals and integer overflow. After each call every byte of every
//! buffer involved must be equal in the two instances. Integer results are
//! also checked against Rust's wrapping arithmetic, and float results
//! against Rust's IEEE arithmetic wherever the reference is not NaN, so the
//! two builds cannot agree on a wrong answer. A last test looks inside the
//! binaries: the default build uses v128 instructions for each kernel, the
//! scalar build validates without the SIMD proposal.

use anyhow::Result;
use multimem_abi::{ErrorCode, Kind};
use multimem_runtime_wasm::{RUNTIME_WASM, RUNTIME_WASM_SCALAR};
use multimem_test_harness::{Rt, Setup};

/// Both builds, side by side.
struct Pair {
    simd: Rt,
    scalar: Rt,
}

impl Pair {
    fn new() -> Pair {
        // No kernel touches the external memory, so none is given: an
        // intrinsic call would fail the call and the test.
        let (engine, setup) = (multimem_test_harness::engine::runtime(), Setup::new());
        Pair {
            simd: Rt::new(&engine, "default", RUNTIME_WASM, &setup).unwrap(),
            scalar: Rt::new(&engine, "scalar", RUNTIME_WASM_SCALAR, &setup).unwrap(),
        }
    }

    /// Creates buffers with the given contents in both instances, runs `f`
    /// on each instance, and asserts that the results and all buffers' bytes
    /// agree. Returns the final bytes and the (common) result.
    fn run<R: PartialEq + std::fmt::Debug>(
        &mut self,
        what: &str,
        inits: &[Vec<u8>],
        f: impl Fn(&mut Rt, &[u32]) -> std::result::Result<R, ErrorCode>,
    ) -> (Vec<Vec<u8>>, std::result::Result<R, ErrorCode>) {
        let mut outs = Vec::new();
        for rt in [&mut self.simd, &mut self.scalar] {
            let bufs: Vec<u32> = inits.iter().map(|d| rt.buffer(d)).collect();
            let r = f(rt, &bufs);
            let bytes: Vec<Vec<u8>> = bufs.iter().zip(inits).map(|(b, d)| rt.read(*b, d.len() as u32)).collect();
            for b in bufs {
                rt.release(b);
            }
            outs.push((bytes, r));
        }
        let (scalar, simd) = (outs.pop().unwrap(), outs.pop().unwrap());
        assert_eq!(simd.1, scalar.1, "{what}: results differ");
        for (i, (a, b)) in simd.0.iter().zip(&scalar.0).enumerate() {
            if a != b {
                let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap();
                panic!(
                    "{what}: buffer {i} differs at byte {at}: simd {:02x?} scalar {:02x?}",
                    &a[at..(at + 16).min(a.len())],
                    &b[at..(at + 16).min(b.len())]
                );
            }
        }
        simd
    }
}

/// xorshift64*: reproducible pseudo-random inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % n as u64) as u32
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Special lane values: NaNs with payloads and signs, infinities, zeros,
/// subnormals, extremes.
const F32_SPECIAL: &[u32] = &[
    0x7fc0_0000,
    0xffc0_0000,
    0x7f80_0001,
    0x7fa0_1234,
    0xff80_4321,
    0x7f80_0000,
    0xff80_0000,
    0,
    0x8000_0000,
    1,
    0x8000_0001,
    0x007f_ffff,
    0x7f7f_ffff,
    0xff7f_ffff,
    0x3f80_0000,
];
const F64_SPECIAL: &[u64] = &[
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0x7ff4_0000_dead_beef,
    0xfff0_0000_0000_1234,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0,
    0x8000_0000_0000_0000,
    1,
    0x000f_ffff_ffff_ffff,
    0x7fef_ffff_ffff_ffff,
    0x3ff0_0000_0000_0000,
];
const I32_SPECIAL: &[u32] = &[0, 1, 0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 0x0001_0000, 0xffff];

/// Random lane data for a kind: mostly random bits, a third special values.
fn lanes(rng: &mut Rng, kind: Kind, bytes: usize) -> Vec<u8> {
    let lane = (kind.element_size() / kind.lanes()) as usize;
    let float = kind.number() == multimem_abi::Number::Float;
    let mut out = Vec::with_capacity(bytes);
    while out.len() < bytes {
        let special = rng.below(3) == 0;
        match (lane, float) {
            (4, true) if special => out.extend(F32_SPECIAL[rng.below(F32_SPECIAL.len() as u32) as usize].to_le_bytes()),
            (8, true) if special => out.extend(F64_SPECIAL[rng.below(F64_SPECIAL.len() as u32) as usize].to_le_bytes()),
            (4, false) if special => {
                out.extend(I32_SPECIAL[rng.below(I32_SPECIAL.len() as u32) as usize].to_le_bytes())
            }
            // Random floats in a moderate range, so sums and products are
            // mostly ordinary numbers.
            (4, true) => out.extend(((rng.next() as i32 as f32) / 65536.0).to_le_bytes()),
            (8, true) => out.extend(((rng.next() as i64 as f64) / 4294967296.0).to_le_bytes()),
            _ => out.extend(rng.bytes(lane)),
        }
    }
    out.truncate(bytes);
    out
}

const ARITHMETIC: &[Kind] = &[
    Kind::Int32List,
    Kind::Float32List,
    Kind::Float64List,
    Kind::Int32x4List,
    Kind::Float32x4List,
    Kind::Float64x2List,
];

/// Element counts: every count up to 64, then some longer ones.
fn counts() -> impl Iterator<Item = u32> {
    (0..=64).chain([65, 100, 127, 255, 256, 1000])
}

/// Rust's own result of one lane, or None where IEEE leaves the NaN's bits
/// open.
fn reference(kind: Kind, mul: bool, x: &[u8], y: &[u8]) -> Option<Vec<u8>> {
    let lane = kind.element_size() / kind.lanes();
    let float = kind.number() == multimem_abi::Number::Float;
    match (lane, float) {
        (4, false) => {
            let (x, y) = (i32::from_le_bytes(x.try_into().unwrap()), i32::from_le_bytes(y.try_into().unwrap()));
            Some((if mul { x.wrapping_mul(y) } else { x.wrapping_add(y) }).to_le_bytes().to_vec())
        }
        (4, true) => {
            let (x, y) = (f32::from_le_bytes(x.try_into().unwrap()), f32::from_le_bytes(y.try_into().unwrap()));
            let r = if mul { x * y } else { x + y };
            (!r.is_nan()).then(|| r.to_le_bytes().to_vec())
        }
        _ => {
            let (x, y) = (f64::from_le_bytes(x.try_into().unwrap()), f64::from_le_bytes(y.try_into().unwrap()));
            let r = if mul { x * y } else { x + y };
            (!r.is_nan()).then(|| r.to_le_bytes().to_vec())
        }
    }
}

/// Checks `out` lanes against [`reference`]; NaN lanes must be NaN.
fn check_reference(what: &str, kind: Kind, mul: bool, a: &[u8], b: &[u8], out: &[u8]) {
    let lane = (kind.element_size() / kind.lanes()) as usize;
    for i in (0..out.len()).step_by(lane) {
        let (x, y, o) = (&a[i..i + lane], &b[i..i + lane], &out[i..i + lane]);
        match reference(kind, mul, x, y) {
            Some(want) => assert_eq!(o, &want[..], "{what}: lane at byte {i}"),
            None if lane == 4 => {
                assert!(f32::from_le_bytes(o.try_into().unwrap()).is_nan(), "{what}: lane at byte {i} not NaN")
            }
            None => assert!(f64::from_le_bytes(o.try_into().unwrap()).is_nan(), "{what}: lane at byte {i} not NaN"),
        }
    }
}

#[test]
fn add_and_mul_agree_for_every_kind_length_offset_and_alias() {
    let mut pair = Pair::new();
    let mut rng = Rng(0x5eed_0001);
    let mut calls = 0;
    for &kind in ARITHMETIC {
        let size = kind.element_size();
        for (name, mul) in [("list_add", false), ("list_mul", true)] {
            for n in counts() {
                let bytes = (n * size) as usize;
                // Offsets: 16-aligned, and one element off (not 16-aligned
                // for 4- and 8-byte kinds).
                for (oo, ao, bo) in [(0, 0, 0), (size, 3 * size, 2 * size), (16, size, 16 + size)] {
                    let len = bytes + 64;
                    let inits =
                        vec![lanes(&mut rng, kind, len), lanes(&mut rng, kind, len), lanes(&mut rng, kind, len)];
                    let what = format!("{name} {kind:?} n={n} offsets {oo}/{ao}/{bo}");
                    let (after, r) = pair.run(&what, &inits, |rt, b| {
                        rt.ok::<_, ()>(name, (kind as u32, b[0], oo, b[1], ao, b[2], bo, n));
                        Ok(())
                    });
                    r.unwrap();
                    let (a, b) =
                        (&inits[1][ao as usize..ao as usize + bytes], &inits[2][bo as usize..bo as usize + bytes]);
                    check_reference(&what, kind, mul, a, b, &after[0][oo as usize..oo as usize + bytes]);
                    assert_eq!(after[0][..oo as usize], inits[0][..oo as usize], "{what}: wrote before out");
                    assert_eq!(
                        after[0][oo as usize + bytes..],
                        inits[0][oo as usize + bytes..],
                        "{what}: wrote past out"
                    );
                    calls += 2;
                }
                // Aliasing in one buffer: out = a, out = b, out = a = b, and
                // out overlapping a by one element (not promised by the ABI,
                // but both builds must still agree).
                let far = (bytes as u32 + 16 + 15) & !15;
                let len = far as usize + bytes + 32;
                let data = lanes(&mut rng, kind, len);
                let e = size;
                for (oo, ao, bo, exact) in
                    [(0, 0, far, true), (far, 0, far, true), (16, 16, 16, true), (e, 0, far, false), (0, e, e, false)]
                {
                    let what = format!("{name} {kind:?} n={n} aliased {oo}/{ao}/{bo}");
                    let (after, r) = pair.run(&what, std::slice::from_ref(&data), |rt, b| {
                        rt.ok::<_, ()>(name, (kind as u32, b[0], oo, b[0], ao, b[0], bo, n));
                        Ok(())
                    });
                    r.unwrap();
                    if exact {
                        let (a, b) = (&data[ao as usize..ao as usize + bytes], &data[bo as usize..bo as usize + bytes]);
                        check_reference(&what, kind, mul, a, b, &after[0][oo as usize..oo as usize + bytes]);
                    }
                    calls += 2;
                }
            }
        }
    }
    assert!(calls > 5000, "{calls}");
}

#[test]
fn fills_agree_for_every_kind_value_and_range() {
    let mut pair = Pair::new();
    let mut rng = Rng(0x5eed_0002);
    let ints: &[i64] =
        &[0, -1, 1, 255, 256, -129, 0x7fff_ffff, -0x8000_0000, i64::MAX, i64::MIN, 0x0123_4567_89ab_cdef];
    let floats: Vec<f64> = F64_SPECIAL.iter().map(|b| f64::from_bits(*b)).chain([0.1, 1e39, -1e-46, 3.0]).collect();
    for &kind in Kind::ALL {
        let (size, lanes_per) = (kind.element_size(), kind.lanes());
        for n in counts() {
            let lanes_total = n * lanes_per;
            let offset = if size == 16 { 16 } else { size * 3 };
            let len = (offset + n * size + 16) as usize;
            let init = rng.bytes(len);
            let start = if lanes_total == 0 { 0 } else { rng.below(lanes_total.min(5) + 1).min(lanes_total) };
            let end = lanes_total - rng.below((lanes_total - start).min(5) + 1);
            match kind.number() {
                multimem_abi::Number::Int => {
                    let v = ints[rng.below(ints.len() as u32) as usize];
                    let what = format!("list_fill_i64 {kind:?} n={n} {start}..{end} {v}");
                    let (after, r) = pair.run(&what, std::slice::from_ref(&init), |rt, b| {
                        rt.call::<_, ()>("list_fill_i64", (kind as u32, b[0], offset, n, start, end, v))
                    });
                    r.unwrap();
                    // Spot-check the stored pattern against Rust's truncation.
                    let lane = (size / lanes_per) as usize;
                    if start < end {
                        let at = (offset + start * size / lanes_per) as usize;
                        let want = if kind == Kind::Uint8ClampedList {
                            vec![v.clamp(0, 255) as u8]
                        } else {
                            v.to_le_bytes()[..lane].to_vec()
                        };
                        assert_eq!(after[0][at..at + lane], want[..], "{what}");
                    }
                }
                multimem_abi::Number::Float => {
                    let v = floats[rng.below(floats.len() as u32) as usize];
                    let what = format!("list_fill_f64 {kind:?} n={n} {start}..{end} {v:e} ({:#x})", v.to_bits());
                    let (_, r) = pair.run(&what, std::slice::from_ref(&init), |rt, b| {
                        rt.call::<_, ()>("list_fill_f64", (kind as u32, b[0], offset, n, start, end, v))
                    });
                    r.unwrap();
                }
                multimem_abi::Number::Bytes => {
                    let (o, l, byte) = (rng.below(7), n, rng.next() as u32);
                    let what = format!("bytes_fill n={l} at {o} byte {byte:#x}");
                    let (after, r) = pair.run(&what, std::slice::from_ref(&init), |rt, b| {
                        rt.call::<_, ()>("bytes_fill", (b[0], o, l, byte))
                    });
                    r.unwrap();
                    let mut want = init.clone();
                    want[o as usize..(o + l) as usize].fill(byte as u8);
                    assert_eq!(after[0], want, "{what}");
                }
            }
        }
    }
}

#[test]
fn copies_agree_for_every_length_and_overlap() {
    let mut pair = Pair::new();
    let mut rng = Rng(0x5eed_0003);
    // bytes_copy within one buffer: every length to 64 and some longer,
    // every small distance in both directions (overlapping memmove).
    for n in counts() {
        for (d, s) in [
            (0u32, 0u32),
            (0, 1),
            (1, 0),
            (0, 15),
            (15, 0),
            (3, 19),
            (19, 3),
            (0, 16),
            (16, 0),
            (7, 40),
            (40, 7),
            (5, 5 + n),
        ] {
            let len = (d.max(s) + n + 8) as usize;
            let init = rng.bytes(len);
            let what = format!("bytes_copy {s}->{d} n={n}");
            let (after, r) = pair
                .run(&what, std::slice::from_ref(&init), |rt, b| rt.call::<_, ()>("bytes_copy", (b[0], d, b[0], s, n)));
            r.unwrap();
            let mut want = init.clone();
            want.copy_within(s as usize..(s + n) as usize, d as usize);
            assert_eq!(after[0], want, "{what}");
        }
        // Between two buffers, odd offsets.
        let (a, b) = (rng.bytes(n as usize + 9), rng.bytes(n as usize + 9));
        let what = format!("bytes_copy across n={n}");
        let (after, r) = pair.run(&what, &[a.clone(), b.clone()], |rt, bufs| {
            rt.call::<_, ()>("bytes_copy", (bufs[0], 3, bufs[1], 7, n))
        });
        r.unwrap();
        assert_eq!(after[0][3..3 + n as usize], b[7..7 + n as usize]);
    }
    // list_set_range: same kind (the copy kernel) and conversions between
    // kinds of different sizes, overlapping in one buffer.
    for &dk in Kind::ALL.iter().filter(|k| k.number() != multimem_abi::Number::Bytes) {
        for &sk in
            Kind::ALL.iter().filter(|k| k.number() == dk.number() && (**k == dk || (k.lanes() == 1 && dk.lanes() == 1)))
        {
            for n in [0u32, 1, 2, 3, 5, 8, 13, 17, 33, 64] {
                for (dm, sm) in [(0u32, 0u32), (0, 1), (1, 0), (2, 5), (5, 2)] {
                    let (d_off, s_off) = (dm * dk.element_size(), sm * sk.element_size());
                    let len = (d_off + n * dk.element_size()).max(s_off + n * sk.element_size()) as usize + 16;
                    let init = lanes(&mut rng, if dk.element_size() >= sk.element_size() { dk } else { sk }, len);
                    let what = format!("list_set_range {dk:?}@{d_off} <- {sk:?}@{s_off} n={n}");
                    let (_, r) = pair.run(&what, std::slice::from_ref(&init), |rt, b| {
                        rt.call::<_, ()>(
                            "list_set_range",
                            (dk as u32, b[0], d_off, n, 0, n, sk as u32, b[0], s_off, n, 0),
                        )
                    });
                    r.unwrap();
                }
            }
        }
    }
}

#[test]
fn errors_agree_too() {
    // The same bad calls fail with the same codes in both builds and leave
    // the buffers untouched.
    let mut pair = Pair::new();
    let init: Vec<u8> = (0..64).collect();
    type Case = fn(&mut Rt, u32) -> std::result::Result<(), ErrorCode>;
    let cases: &[(&str, Case)] = &[
        ("add bad kind", |rt, b| rt.call("list_add", (Kind::Int16List as u32, b, 0u32, b, 0u32, b, 0u32, 1u32))),
        ("add misaligned", |rt, b| rt.call("list_add", (Kind::Float64List as u32, b, 4u32, b, 0u32, b, 0u32, 1u32))),
        ("mul range", |rt, b| rt.call("list_mul", (Kind::Float32x4List as u32, b, 0u32, b, 16u32, b, 0u32, 4u32))),
        ("fill range", |rt, b| rt.call("list_fill_i64", (Kind::Int32List as u32, b, 0u32, 16u32, 0u32, 17u32, -1i64))),
        ("bytes_fill range", |rt, b| rt.call("bytes_fill", (b, 1u32, u32::MAX, 0u32))),
        ("bytes_copy range", |rt, b| rt.call("bytes_copy", (b, 0u32, b, 60u32, 5u32))),
    ];
    for (what, f) in cases {
        let (after, r) = pair.run(what, std::slice::from_ref(&init), |rt, b| f(rt, b[0]));
        assert!(r.is_err(), "{what}");
        assert_eq!(after[0], init, "{what}: a failed call wrote");
    }
}

/// Names of the SIMD operators in a function body (by wasmparser's names).
fn simd_ops(wasm: &[u8]) -> Result<std::collections::BTreeSet<String>> {
    let mut found = std::collections::BTreeSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload? {
            let mut ops = body.get_operators_reader()?;
            while !ops.eof() {
                let name = format!("{:?}", ops.read()?);
                let name = name.split([' ', '{', '(']).next().unwrap_or_default().to_string();
                if ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"].iter().any(|p| name.starts_with(p)) {
                    found.insert(name);
                }
            }
        }
    }
    Ok(found)
}

#[test]
fn default_build_uses_simd_and_scalar_build_has_none() {
    let ops = simd_ops(RUNTIME_WASM).unwrap();
    for op in
        ["V128Load", "V128Store", "I64x2Splat", "I32x4Add", "I32x4Mul", "F32x4Add", "F32x4Mul", "F64x2Add", "F64x2Mul"]
    {
        assert!(ops.contains(op), "default runtime.wasm lacks {op}; has {ops:?}");
    }
    assert_eq!(simd_ops(RUNTIME_WASM_SCALAR).unwrap(), Default::default());
    // Stronger: the scalar build validates with the SIMD proposal off.
    let mut features = wasmparser::WasmFeatures::default();
    features.remove(wasmparser::WasmFeatures::SIMD | wasmparser::WasmFeatures::RELAXED_SIMD);
    wasmparser::Validator::new_with_features(features)
        .validate_all(RUNTIME_WASM_SCALAR)
        .expect("scalar build uses SIMD");
    assert!(wasmparser::Validator::new_with_features(features).validate_all(RUNTIME_WASM).is_err());
}
