//! `runtime.wasm` against addresses that are not buffers, in every build
//! (default, scalar, checked, atomic): the exactness rules of `docs/ABI.md`
//! ("Error codes", "Buffers and the header").
//!
//! - A header forged inside a live buffer is `NOT_A_BUFFER` for every export
//!   that takes a buffer, and nothing changes (issue 13, item 1).
//! - A live tag with a refcount outside `1..=MAX_REFCOUNT` is `NOT_A_BUFFER`
//!   for every export (item 2).
//! - Freed memory fits a buffer of 60% of the memory without growing, in
//!   every build, the checked one's quarantine included (item 3).
//! - Interior pointers of a freed buffer are `NOT_A_BUFFER`, also where the
//!   address once was the start of a freed buffer (item 4); `FREED` is the
//!   answer for a freed buffer's exact start, until its block is reused.

use multimem_abi::{ErrorCode, FREED_TAG, LIVE_TAG, MAX_REFCOUNT, PAGE_SIZE};
use multimem_test_harness::{Rt, Setup};
use wasmtime::{Trap, Val};

use ErrorCode::{Freed, NotABuffer, RefcountOverflow};

/// One fresh instance of every build, with a one-page external memory
/// (for `external_copy_in`/`_out`).
fn all() -> Vec<Rt> {
    Rt::all(&Setup::new().external_memory(1, None))
}

/// Calls an export with untyped values (so one list of calls serves every
/// signature), with the harness's trap protocol: a failure must be
/// `unreachable` with a nonzero `last_error`, and becomes that code.
///
/// `buffer_release_batch` takes its addresses from the instance's queue, not
/// its arguments: its entry in [`calls`] is `(count, address)`, and the
/// address is written to the queue's first slot before the call.
fn call(rt: &mut Rt, name: &str, args: &[Val]) -> Result<Option<Val>, ErrorCode> {
    let args = if name == "buffer_release_batch" {
        let queue: u32 = rt.ok("buffer_release_batch", 0u32);
        rt.write32(queue, args[1].unwrap_i32() as u32);
        &args[..1]
    } else {
        args
    };
    let f = rt.instance.get_func(&mut rt.store, name).unwrap_or_else(|| panic!("no export {name}"));
    let mut results = vec![Val::I32(0); f.ty(&rt.store).results().len()];
    match f.call(&mut rt.store, args, &mut results) {
        Ok(()) => Ok(results.first().cloned()),
        Err(e) => {
            assert_eq!(e.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached), "[{}] {name}: {e:?}", rt.variant);
            let code: u32 = rt.ok("last_error", ());
            Err(ErrorCode::from_code(code).filter(|c| *c != ErrorCode::Ok).expect("a trap records its code"))
        }
    }
}

/// `buffer_check(b)` as an error code (`None` for a live buffer).
fn check(rt: &mut Rt, b: u32) -> Option<ErrorCode> {
    match rt.ok::<u32, u32>("buffer_check", b) {
        0 => None,
        c => Some(ErrorCode::from_code(c).unwrap()),
    }
}

/// `buffer_release(b)`, which may fail.
fn release(rt: &mut Rt, b: u32) -> Result<u32, ErrorCode> {
    rt.call("buffer_release", b)
}

fn live_buffers(rt: &mut Rt) -> u32 {
    rt.stat("stats_live_buffers")
}

fn pages(rt: &mut Rt) -> u32 {
    rt.stat("stats_pages")
}

/// Writes a well-formed header (block word, tag, length, refcount) for the
/// address `at`, in the 16 bytes before it.
fn forge(rt: &mut Rt, at: u32, tag: u32, length: u32, refcount: u32) {
    for (k, v) in [64, tag, length, refcount].into_iter().enumerate() {
        rt.write32(at - 16 + 4 * k as u32, v);
    }
}

fn i(v: u32) -> Val {
    Val::I32(v as i32)
}

/// Freed blocks the checked build keeps out of reuse
/// (`multimem_runtime::checked::QUARANTINE`, documented in ABI.md).
const QUARANTINE: u32 = 1024;

const INT32: u32 = 6; // Int32List
const UINT8: u32 = 2; // Uint8List
const FLOAT64: u32 = 11; // Float64List

/// Every call of every export that takes a buffer, with `x` in one buffer
/// position and the live buffer `g` (256 bytes) in the others, all other
/// arguments valid for an 8-byte buffer. With a live buffer of at least 16
/// bytes as `x` each call succeeds (checked in `calls_are_valid_for_a_live_buffer`).
fn calls(x: u32, g: u32) -> Vec<(&'static str, Vec<Val>)> {
    let f = |v: f64| Val::F64(v.to_bits());
    let l = Val::I64;
    vec![
        ("buffer_check", vec![i(x)]),
        ("buffer_length", vec![i(x)]),
        ("buffer_refcount", vec![i(x)]),
        ("buffer_retain", vec![i(x)]),
        ("buffer_release", vec![i(x)]),
        ("view_check", vec![i(UINT8), i(x), i(0), i(8)]),
        ("list_get_i64", vec![i(UINT8), i(x), i(0), i(8), i(1)]),
        ("list_set_i64", vec![i(UINT8), i(x), i(0), i(8), i(1), l(7)]),
        ("list_get_f64", vec![i(FLOAT64), i(x), i(0), i(1), i(0)]),
        ("list_set_f64", vec![i(FLOAT64), i(x), i(0), i(1), i(0), f(1.5)]),
        ("list_fill_i64", vec![i(UINT8), i(x), i(0), i(8), i(0), i(8), l(9)]),
        ("list_fill_f64", vec![i(FLOAT64), i(x), i(0), i(1), i(0), i(1), f(2.5)]),
        ("list_set_range", vec![i(UINT8), i(x), i(0), i(8), i(0), i(8), i(UINT8), i(g), i(0), i(8), i(0)]),
        ("list_set_range", vec![i(UINT8), i(g), i(0), i(8), i(0), i(8), i(UINT8), i(x), i(0), i(8), i(0)]),
        ("bytes_copy", vec![i(x), i(0), i(g), i(0), i(8)]),
        ("bytes_copy", vec![i(g), i(0), i(x), i(0), i(8)]),
        ("bytes_fill", vec![i(x), i(0), i(8), i(0x5A)]),
        ("bytedata_get_i64", vec![i(x), i(0), i(8), i(0), i(INT32), i(1)]),
        ("bytedata_set_i64", vec![i(x), i(0), i(8), i(0), i(INT32), i(1), l(-3)]),
        ("bytedata_get_f64", vec![i(x), i(0), i(8), i(0), i(FLOAT64), i(1)]),
        ("bytedata_set_f64", vec![i(x), i(0), i(8), i(0), i(FLOAT64), i(1), f(0.25)]),
        ("list_add", vec![i(INT32), i(x), i(0), i(g), i(0), i(g), i(0), i(2)]),
        ("list_add", vec![i(INT32), i(g), i(0), i(x), i(0), i(g), i(0), i(2)]),
        ("list_add", vec![i(INT32), i(g), i(0), i(g), i(0), i(x), i(0), i(2)]),
        ("list_mul", vec![i(INT32), i(x), i(0), i(g), i(0), i(g), i(0), i(2)]),
        ("list_mul", vec![i(INT32), i(g), i(0), i(x), i(0), i(g), i(0), i(2)]),
        ("list_mul", vec![i(INT32), i(g), i(0), i(g), i(0), i(x), i(0), i(2)]),
        ("external_copy_in", vec![i(x), i(0), i(0), i(8)]),
        ("external_copy_out", vec![i(0), i(x), i(0), i(8)]),
        ("buffer_release_batch", vec![i(1), i(x)]),
    ]
}

/// Asserts that every call with `x` in a buffer position fails with
/// `want`, and that no byte of the own memory changed.
fn assert_every_export_says(rt: &mut Rt, x: u32, g: u32, want: ErrorCode) {
    // In the shared builds an instance's first `buffer_release_batch` takes
    // its release queue from the heap (docs/ABI.md, "Threads"): a change
    // that is not the failed call's. Take it before the snapshot. The
    // queue's first slot is the test's own write (see `call`), so it is
    // left out of the comparison wherever the queue lies.
    let queue: u32 = rt.ok("buffer_release_batch", 0u32);
    let before = rt.read(0, rt.own_size() as u32);
    let live = live_buffers(rt);
    for (name, args) in calls(x, g) {
        let got = match call(rt, name, &args) {
            Ok(Some(Val::I32(code))) if name.ends_with("_check") => ErrorCode::from_code(code as u32).unwrap(),
            Ok(r) => panic!("[{}] {name}({x:#x}) succeeded: {r:?}", rt.variant),
            Err(code) => code,
        };
        assert_eq!(got, want, "[{}] {name} with {x:#x}", rt.variant);
    }
    assert_eq!(live_buffers(rt), live, "[{}]", rt.variant);
    // Below the buffers lie the runtime's data and stack (`last_error`
    // among them): compare from the first header on.
    let from = x.min(g) - 16;
    let after = rt.read(from, before.len() as u32 - from);
    let slot = queue as usize..queue as usize + 4;
    let changed =
        (from as usize..before.len()).find(|&at| !slot.contains(&at) && after[at - from as usize] != before[at]);
    assert_eq!(changed, None, "[{}] a failed call changed the heap at that address", rt.variant);
}

/// Every export that can answer NOT_A_BUFFER appears in [`calls`], so a new
/// export cannot skip these tests.
#[test]
fn calls_cover_every_export_taking_a_buffer() {
    let named: Vec<&str> = calls(0, 0).iter().map(|(n, _)| *n).collect();
    for e in multimem_abi::EXPORTS {
        if e.errors.contains(&NotABuffer) {
            assert!(named.contains(&e.name), "{} is not exercised", e.name);
        }
    }
}

#[test]
fn calls_are_valid_for_a_live_buffer() {
    for mut rt in all() {
        let g = rt.new_buffer(256);
        let x = rt.new_buffer(16);
        for (name, args) in calls(x, g) {
            if name == "buffer_release" || name == "buffer_release_batch" {
                continue; // would free x
            }
            let r = call(&mut rt, name, &args);
            assert!(r.is_ok(), "[{}] {name}: {r:?}", rt.variant);
            if name.ends_with("_check") {
                assert!(matches!(r, Ok(Some(Val::I32(0)))), "[{}] {name}: {r:?}", rt.variant);
            }
        }
    }
}

/// The reproduction: data bytes that look like a live header for
/// `b + 64` must not make `b + 64` a buffer.
#[test]
fn a_forged_live_header_inside_a_live_buffer_is_not_a_buffer() {
    for mut rt in all() {
        let b = rt.new_buffer(256);
        let g = rt.new_buffer(256);
        let f = b + 64;
        forge(&mut rt, f, f ^ LIVE_TAG, 8, 1);
        assert_every_export_says(&mut rt, f, g, NotABuffer);
        // The heap is intact: a new buffer does not overlap b, and the
        // counters did not move.
        let c = rt.new_buffer(256);
        assert!(c + 256 <= b - 16 || c >= b + 256, "[{}] new buffer {c:#x} overlaps {b:#x}", rt.variant);
        assert_eq!(live_buffers(&mut rt), 3, "[{}]", rt.variant);
        for x in [b, g, c] {
            assert_eq!(release(&mut rt, x), Ok(0), "[{}]", rt.variant);
        }
        assert_eq!(live_buffers(&mut rt), 0, "[{}]", rt.variant);
    }
}

/// A header with `FREED_TAG` forged inside a live buffer is not a freed
/// buffer either: nothing was ever freed there.
#[test]
fn a_forged_freed_header_inside_a_live_buffer_is_not_a_buffer() {
    for mut rt in all() {
        let b = rt.new_buffer(256);
        let g = rt.new_buffer(256);
        let f = b + 128;
        forge(&mut rt, f, FREED_TAG, 8, 1);
        assert_every_export_says(&mut rt, f, g, NotABuffer);
        // Forged headers at every 16-byte step of the buffer.
        for off in (16..256).step_by(16) {
            forge(&mut rt, b + off, (b + off) ^ LIVE_TAG, 16, 1);
            assert_eq!(check(&mut rt, b + off), Some(NotABuffer), "[{}] +{off}", rt.variant);
            assert_eq!(release(&mut rt, b + off), Err(NotABuffer), "[{}] +{off}", rt.variant);
        }
        assert_eq!(live_buffers(&mut rt), 2, "[{}]", rt.variant);
    }
}

/// A live tag with a refcount of 0 or above MAX_REFCOUNT: one answer,
/// NOT_A_BUFFER, from every export (ABI.md, the `refcount` row).
#[test]
fn a_refcount_outside_one_to_max_is_not_a_buffer_for_every_export() {
    for mut rt in all() {
        let b = rt.new_buffer(64);
        let g = rt.new_buffer(256);
        for rc in [0, MAX_REFCOUNT + 1, u32::MAX] {
            rt.write32(b - 4, rc);
            assert_every_export_says(&mut rt, b, g, NotABuffer);
        }
        // MAX_REFCOUNT itself is a live count: retain overflows, release works.
        rt.write32(b - 4, MAX_REFCOUNT);
        assert_eq!(check(&mut rt, b), None, "[{}]", rt.variant);
        assert_eq!(rt.ok::<u32, u32>("buffer_refcount", b), MAX_REFCOUNT);
        assert_eq!(rt.call::<u32, ()>("buffer_retain", b), Err(RefcountOverflow), "[{}]", rt.variant);
        assert_eq!(release(&mut rt, b), Ok(MAX_REFCOUNT - 1), "[{}]", rt.variant);
        rt.write32(b - 4, 1);
        assert_eq!(release(&mut rt, b), Ok(0));
        assert_eq!(release(&mut rt, g), Ok(0));
        assert_eq!(live_buffers(&mut rt), 0, "[{}]", rt.variant);
    }
}

/// After every buffer is released, a buffer of 60% of the memory fits
/// without growing it: neither the quick lists, nor the checked build's
/// quarantine, nor the runtime's own tables split the free space.
#[test]
fn freed_memory_fits_a_buffer_of_sixty_percent_without_growing() {
    for mut rt in all() {
        let mut live: Vec<u32> = (0..4000u32).map(|k| rt.new_buffer(16 + k * 7919 % 3000)).collect();
        // Release in a scattered order.
        let mut k = 0usize;
        while !live.is_empty() {
            k = (k + 2654435761) % live.len();
            let b = live.swap_remove(k);
            assert_eq!(release(&mut rt, b), Ok(0));
        }
        let before = pages(&mut rt);
        assert!(before >= 64, "[{}] only {before} pages", rt.variant);
        let len = (before as u64 * PAGE_SIZE as u64 * 6 / 10) as u32;
        let big = rt.call::<u32, u32>("buffer_new", len);
        assert!(big.is_ok(), "[{}] {big:?}", rt.variant);
        assert_eq!(pages(&mut rt), before, "[{}] buffer_new({len}) grew the memory", rt.variant);
    }
}

/// Addresses inside a freed buffer are NOT_A_BUFFER, also where one once was
/// the start of another freed buffer; only a freed buffer's exact start is
/// FREED.
#[test]
fn interior_pointers_of_freed_buffers_are_not_a_buffer() {
    for mut rt in all() {
        let [a, b, c, _guard] = [0; 4].map(|_| rt.new_buffer(64));
        for x in [a, b, c] {
            assert_eq!(release(&mut rt, x), Ok(0));
            assert_eq!(check(&mut rt, x), Some(Freed), "[{}]", rt.variant);
            assert_eq!(check(&mut rt, x + 32), Some(NotABuffer), "[{}]", rt.variant);
        }
        if rt.has_feature("checked") {
            // Push a, b and c out of the quarantine.
            for _ in 0..QUARANTINE {
                let x = rt.new_buffer(64);
                release(&mut rt, x).unwrap();
            }
        }
        // A large buffer makes the runtime coalesce what was freed, then
        // goes back to the heap (or the quarantine).
        let big = rt.new_buffer(4 << 20);
        release(&mut rt, big).unwrap();
        // A buffer over a, b and c (their merged block is the best fit, so
        // the first one here; more are tried in case another block of that
        // size was free): b and c are interior pointers now.
        let mut others = vec![];
        let d = loop {
            let d = rt.new_buffer(200);
            if d <= b && c < d + 200 {
                break d;
            }
            others.push(d);
            assert!(others.len() < 64, "[{}] no buffer took the block of a, b and c", rt.variant);
        };
        assert_eq!(d, a, "[{}]", rt.variant);
        for x in [b, c, b + 16] {
            assert_eq!(check(&mut rt, x), Some(NotABuffer), "[{}] {x:#x} inside a live buffer", rt.variant);
        }
        release(&mut rt, d).unwrap();
        assert_eq!(check(&mut rt, d), Some(Freed), "[{}]", rt.variant);
        for x in [b, c, b + 16] {
            assert_eq!(check(&mut rt, x), Some(NotABuffer), "[{}] {x:#x} inside a freed buffer", rt.variant);
            assert_eq!(release(&mut rt, x), Err(NotABuffer), "[{}] {x:#x}", rt.variant);
        }
    }
}

/// `FREED` is the answer for a released buffer's start until its block is
/// reused; in every build but the checked one, the next buffer of the same
/// size takes the block, and the address is then that new, live buffer
/// (ABI.md: FREED after reuse is not detectable there).
#[test]
fn freed_stays_freed_until_the_block_is_reused() {
    for mut rt in all() {
        let a = rt.new_buffer(100);
        release(&mut rt, a).unwrap();
        assert_eq!(check(&mut rt, a), Some(Freed), "[{}]", rt.variant);
        let b = rt.new_buffer(100);
        if rt.has_feature("checked") {
            assert_ne!(a, b, "the quarantine keeps the block");
            assert_eq!(check(&mut rt, a), Some(Freed));
        } else {
            assert_eq!(a, b, "[{}] the block is reused", rt.variant);
            assert_eq!(check(&mut rt, a), None, "[{}] the address is a live buffer again", rt.variant);
        }
    }
}
