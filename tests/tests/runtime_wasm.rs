//! `runtime.wasm` itself in wasmtime (multi-memory and GC on), in every
//! build, the shared ones included (one instance over its shared memory, on
//! one thread): its export and import sections against `docs/ABI.md`, the
//! trap protocol (every error decoded through `last_error`, traps leave the
//! shadow stack balanced and the instance usable), memory growth, out of
//! memory, copies to and from an external memory, the checked builds'
//! quarantine of freed blocks and the rejection of forged headers.
//!
//! The intrinsics are host functions over a second wasmtime `Memory` that
//! plays the external library's memory, as an unlinked host would do it.

use multimem_abi::{
    ErrorCode, INTRINSICS, INTRINSICS_MODULE, LIVE_TAG, MAX_LENGTH, MAX_REFCOUNT, OnError, Op, PAGE_SIZE, ValType,
    header,
};
use multimem_runtime_wasm::{SHARED_VARIANTS, VARIANTS};
use multimem_test_harness::{Rt, Setup};

use ErrorCode::{BadLength, ExternalRange, Freed, NotABuffer, OutOfMemory, Range, RefcountOverflow};

/// An external memory of 1 page growable to 4; the own memory capped at
/// `max_own_bytes`.
fn setup(max_own_bytes: usize) -> Setup {
    Setup::new().external_memory(1, Some(4)).max_own_bytes(max_own_bytes)
}

/// A fresh instance of every build.
fn all(max_own_bytes: usize) -> Vec<Rt> {
    Rt::all(&setup(max_own_bytes))
}

/// Whether the build `variant` (docs/ABI.md, builds) has a cargo feature.
fn has_feature(variant: &str, feature: &str) -> bool {
    multimem_abi::build(variant)
        .unwrap_or_else(|| panic!("{variant} is not a build of docs/ABI.md"))
        .cargo_features
        .contains(&feature)
}

fn val_type(v: ValType) -> wasmparser::ValType {
    match v {
        ValType::I32 => wasmparser::ValType::I32,
        ValType::I64 => wasmparser::ValType::I64,
        ValType::F32 => wasmparser::ValType::F32,
        ValType::F64 => wasmparser::ValType::F64,
    }
}

/// The pieces of a module these tests look at.
struct Shape {
    types: Vec<wasmparser::FuncType>,
    /// Type index of every function, imports first.
    funcs: Vec<u32>,
    imports: Vec<(String, String, u32)>,
    exports: Vec<(String, wasmparser::ExternalKind, u32)>,
    /// Globals written by each defined function's body.
    global_sets: Vec<Vec<u32>>,
    mutable_globals: Vec<u32>,
    /// Number of globals (all defined: runtime.wasm imports none).
    globals: u32,
    memories: Vec<wasmparser::MemoryType>,
}

fn shape(wasm: &[u8]) -> Shape {
    use wasmparser::{Operator, Payload, TypeRef};
    let mut s = Shape {
        types: vec![],
        funcs: vec![],
        imports: vec![],
        exports: vec![],
        global_sets: vec![],
        mutable_globals: vec![],
        globals: 0,
        memories: vec![],
    };
    let mut globals = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    s.types.push(ty.unwrap());
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.unwrap();
                    match imp.ty {
                        TypeRef::Func(t) => {
                            s.funcs.push(t);
                            s.imports.push((imp.module.to_string(), imp.name.to_string(), t));
                        }
                        other => panic!("runtime.wasm imports a non-function: {other:?}"),
                    }
                }
            }
            Payload::FunctionSection(r) => s.funcs.extend(r.into_iter().map(|t| t.unwrap())),
            Payload::MemorySection(r) => s.memories.extend(r.into_iter().map(|m| m.unwrap())),
            Payload::GlobalSection(r) => {
                for g in r {
                    if g.unwrap().ty.mutable {
                        s.mutable_globals.push(globals);
                    }
                    globals += 1;
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.unwrap();
                    s.exports.push((e.name.to_string(), e.kind, e.index));
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut sets = vec![];
                for op in body.get_operators_reader().unwrap() {
                    if let Operator::GlobalSet { global_index } = op.unwrap() {
                        sets.push(global_index);
                    }
                }
                s.global_sets.push(sets);
            }
            _ => {}
        }
    }
    s.globals = globals;
    s
}

#[test]
fn exports_and_imports_match_the_abi_tables() {
    for (variant, wasm) in VARIANTS.iter().chain(SHARED_VARIANTS) {
        let s = shape(wasm);
        let shared = has_feature(variant, "shared");
        let mut names: Vec<&str> = s.exports.iter().map(|(n, _, _)| n.as_str()).collect();
        names.sort();
        // The shared builds add the exports of the exports-shared table
        // (docs/ABI.md, "Builds of the runtime": "All builds have the same
        // exports (except that the shared builds add `instance_may_wait`").
        let extra = if shared { multimem_abi::SHARED_EXPORTS } else { &[] };
        let mut expected: Vec<&str> =
            multimem_abi::EXPORTS.iter().chain(extra).map(|e| e.name).chain([multimem_abi::MEMORY_EXPORT]).collect();
        expected.sort();
        assert_eq!(names, expected, "[{variant}] export names");
        for (name, kind, index) in &s.exports {
            if name == multimem_abi::MEMORY_EXPORT {
                assert_eq!(*kind, wasmparser::ExternalKind::Memory);
                continue;
            }
            assert_eq!(*kind, wasmparser::ExternalKind::Func, "[{variant}] {name}");
            let abi = multimem_abi::export(name).unwrap();
            let ty = &s.types[s.funcs[*index as usize] as usize];
            let params: Vec<_> = abi.params.iter().map(|&v| val_type(v)).collect();
            let results: Vec<_> = abi.results.iter().map(|&v| val_type(v)).collect();
            assert_eq!((ty.params(), ty.results()), (&params[..], &results[..]), "[{variant}] signature of {name}");
        }
        for (module, name, ty) in &s.imports {
            assert_eq!(module, multimem_abi::INTRINSICS_MODULE, "[{variant}] import {module}.{name}");
            let i = multimem_abi::intrinsic(name).unwrap_or_else(|| panic!("[{variant}] {name} is not an intrinsic"));
            let ty = &s.types[*ty as usize];
            let params: Vec<_> = i.params.iter().map(|&v| val_type(v)).collect();
            let results: Vec<_> = i.results.iter().map(|&v| val_type(v)).collect();
            assert_eq!((ty.params(), ty.results()), (&params[..], &results[..]), "[{variant}] signature of {name}");
        }
        assert_eq!(s.memories.len(), 1, "[{variant}] runtime.wasm defines exactly one memory");
        let mem = s.memories[0];
        assert!(!mem.memory64, "[{variant}] own memory is a 32-bit memory");
        // Shared exactly in the shared builds (docs/ABI.md, builds table).
        assert_eq!(mem.shared, shared, "[{variant}] own memory shared");
        assert_eq!(
            mem.maximum,
            Some(u64::from(multimem_abi::MAX_PAGES)),
            "[{variant}] own memory maximum (ABI.md MAX_PAGES)"
        );
        let atomic_import =
            s.imports.iter().any(|(_, n, _)| multimem_abi::intrinsic(n).is_some_and(|i| i.op == Op::I32AtomicRmwAdd));
        assert_eq!(
            atomic_import,
            has_feature(variant, "atomic-refcounts"),
            "[{variant}] only the build with atomic refcounts imports the atomic intrinsic"
        );
        assert!(s.imports.len() <= INTRINSICS.len());
    }
}

/// `multimem_host::intrinsics::define`, which unlinked runs use, defines
/// exactly the intrinsics of docs/ABI.md, each at its documented signature.
#[test]
fn the_host_defines_exactly_the_abi_intrinsics() {
    let engine = multimem_test_harness::engine::runtime();
    let mut linker = wasmtime::Linker::<()>::new(&engine);
    multimem_host::intrinsics::define(&mut linker, None).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let mut defined: Vec<(String, wasmtime::Extern)> = linker
        .iter(&mut store)
        .filter(|(module, _, _)| *module == INTRINSICS_MODULE)
        .map(|(_, name, ext)| (name.to_string(), ext))
        .collect();
    defined.sort_by(|a, b| a.0.cmp(&b.0));
    let mut table: Vec<&str> = INTRINSICS.iter().map(|i| i.name).collect();
    table.sort();
    assert_eq!(defined.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), table);
    for (name, ext) in defined {
        let abi = multimem_abi::intrinsic(&name).unwrap();
        let ty = ext.into_func().unwrap_or_else(|| panic!("{name} is not a function")).ty(&store);
        let show = |v: &[ValType]| v.iter().map(|&t| val_type(t).to_string()).collect::<Vec<_>>();
        let got = (
            ty.params().map(|t| t.to_string()).collect::<Vec<_>>(),
            ty.results().map(|t| t.to_string()).collect::<Vec<_>>(),
        );
        assert_eq!(got, (show(abi.params), show(abi.results)), "signature of {name}");
    }
}

/// Globals of the shared builds that each instance has its own copy of:
/// `last_error`, whether it may wait, its release queue (docs/ABI.md,
/// "Threads": "Per-instance state" and `instance_may_wait`), appended
/// after wasm-ld's globals by `runtime/bundle`.
const PER_INSTANCE_GLOBALS: u32 = 3;

/// A trapping export must not leave its own shadow-stack frame behind:
/// `unreachable` skips any epilogue, so no trapping export may write the
/// stack pointer (wasm-ld's `__stack_pointer`, global 0) itself. Callees
/// that return normally restore theirs.
#[test]
fn trapping_exports_keep_the_shadow_stack_balanced() {
    for (variant, wasm) in VARIANTS.iter().chain(SHARED_VARIANTS) {
        let s = shape(wasm);
        let imports = s.imports.len();
        let stack_pointer = 0;
        if has_feature(variant, "shared") {
            // The shared builds use no shadow stack at all (docs/ABI.md,
            // "Threads": "No shadow stack"): no function writes the stack
            // pointer, trapping or not. The only globals any function
            // writes are the per-instance state (trapping exports write
            // `last_error` there, by design).
            let per_instance = s.globals - PER_INSTANCE_GLOBALS..s.globals;
            assert_eq!(s.mutable_globals[0], stack_pointer, "[{variant}]");
            assert!(
                per_instance.clone().all(|g| s.mutable_globals.contains(&g)),
                "[{variant}] {:?}",
                s.mutable_globals
            );
            for (f, sets) in s.global_sets.iter().enumerate() {
                for g in sets {
                    assert!(per_instance.contains(g), "[{variant}] function {} writes global {g}", f + imports);
                }
            }
        } else {
            // The one mutable global is wasm-ld's __stack_pointer.
            assert_eq!(s.mutable_globals, [stack_pointer], "[{variant}]");
        }
        for (name, _, index) in &s.exports {
            let Some(abi) = multimem_abi::export(name) else { continue };
            if abi.on_error != OnError::Traps {
                continue;
            }
            let sets = &s.global_sets[*index as usize - imports];
            assert!(!sets.contains(&stack_pointer), "[{variant}] trapping export {name} writes the stack pointer");
        }
    }
    // And in practice: thousands of traps, then everything still works.
    for mut rt in all(usize::MAX) {
        let b: u32 = rt.ok("buffer_new", 100);
        for i in 0..20_000u32 {
            assert_eq!(rt.call::<u32, ()>("buffer_retain", b + 16 * (i % 7 + 1)), Err(NotABuffer));
            assert_eq!(rt.call::<u32, u32>("buffer_new", MAX_LENGTH + 1 + i), Err(BadLength));
            assert_eq!(rt.call::<(u32, u32, u32, u32), ()>("external_copy_in", (b, 0, 0, 101)), Err(Range));
        }
        let c: u32 = rt.ok("buffer_new", 5000);
        rt.ok::<(u32, u32, u32, u32), ()>("external_copy_out", (0, c, 0, 5000));
        assert_eq!(rt.ok::<u32, u32>("buffer_release", b), 0);
        assert_eq!(rt.ok::<u32, u32>("buffer_release", c), 0);
        assert_eq!(rt.stats(), (0, 0, 0));
    }
}

#[test]
fn a_fresh_instance_rejects_every_address_without_reading_it() {
    for mut rt in all(usize::MAX) {
        let size = rt.own_size() as u32;
        for bad in [0, 16, 0x1_0000, size - 16, size, 0x7FFF_FFF0, 0xFFFF_FFF0] {
            assert_eq!(rt.ok::<u32, u32>("buffer_check", bad), NotABuffer.code(), "[{}] {bad:#x}", rt.variant);
            assert_eq!(rt.call::<u32, u32>("buffer_release", bad), Err(NotABuffer), "[{}] {bad:#x}", rt.variant);
        }
    }
}

/// Reused blocks are zero-filled over `lengthInBytes`, for every small
/// length, and
/// nothing past the data (the padding beyond 16 bytes and the next block's
/// header) is written.
#[test]
fn reused_blocks_are_zeroed_and_nothing_past_them_is_written() {
    for mut rt in all(usize::MAX) {
        for len in (0..=300u32).chain([511, 512, 1000, 4096, 70_000]) {
            let keep: u32 = rt.ok("buffer_new", 64);
            let b: u32 = rt.ok("buffer_new", len);
            let guard: u32 = rt.ok("buffer_new", 64);
            rt.fill(b, len, 0xEE);
            let cap = len.max(16).next_multiple_of(16);
            let (past, past_len) = (b + len.max(16), cap + 16 - len.max(16));
            rt.fill(past, b + cap - past, 0xDD);
            let snapshot = rt.read(past, past_len);
            rt.ok::<u32, u32>("buffer_release", b);
            let c: u32 = rt.ok("buffer_new", len);
            // The checked builds quarantine freed blocks instead of reusing them.
            if !rt.has_feature("checked") {
                assert_eq!(c, b, "[{}] len {len}: the freed block was not reused", rt.variant);
                assert_eq!(rt.read(past, past_len), snapshot, "[{}] len {len}: wrote past the data", rt.variant);
            }
            let data = rt.read(c, len);
            assert!(data.iter().all(|&x| x == 0), "[{}] len {len}: new buffer not zeroed", rt.variant);
            for x in [keep, guard, c] {
                rt.ok::<u32, u32>("buffer_release", x);
            }
        }
        assert_eq!(rt.stats(), (0, 0, 0));
    }
}

#[test]
fn buffers_and_counters() {
    for mut rt in all(usize::MAX) {
        assert_eq!(rt.ok::<(), u32>("abi_version", ()), multimem_abi::ABI_VERSION);
        assert_eq!(rt.ok::<(), u32>("last_error", ()), 0);
        let a: u32 = rt.ok("buffer_new", 100);
        let z: u32 = rt.ok("buffer_new", 0);
        assert_ne!(a, z);
        assert_eq!(a % 16, 0);
        assert_eq!(rt.header(a, header::TAG), a ^ LIVE_TAG);
        assert_eq!(rt.ok::<u32, u32>("buffer_length", a), 100);
        assert_eq!(rt.ok::<u32, u32>("buffer_refcount", a), 1);
        assert_eq!(rt.read(a, 100), [0u8; 100]);
        let (n, bytes, heap) = rt.stats();
        assert_eq!((n, bytes), (2, 100));
        assert!(heap >= 100 + 2 * 16 + 16, "{heap}");
        rt.ok::<u32, ()>("buffer_retain", a);
        let rc_at = a.wrapping_add_signed(header::REFCOUNT);
        if rt.is_shared() {
            // The shared builds' inlined retain: `i32.atomic.rmw.add` of 1
            // at buffer - 4 (docs/ABI.md, "Threads", Refcounts).
            assert_eq!(rt.atomic_add32(rc_at, 1), 2, "[{}]", rt.variant);
        } else {
            // The inlined retain of docs/ABI.md: load, add, store at buffer - 4.
            let rc = rt.read32(rc_at);
            rt.write32(rc_at, rc + 1);
        }
        assert_eq!(rt.ok::<u32, u32>("buffer_refcount", a), 3);
        assert_eq!(rt.ok::<u32, u32>("buffer_release", a), 2);
        assert_eq!(rt.ok::<u32, u32>("buffer_release", a), 1);
        assert_eq!(rt.ok::<u32, u32>("buffer_check", a), 0);
        assert_eq!(rt.ok::<u32, u32>("buffer_release", a), 0);
        assert_eq!(rt.ok::<u32, u32>("buffer_check", a), Freed.code(), "[{}]", rt.variant);
        assert_eq!(rt.ok::<u32, u32>("buffer_release", z), 0);
        assert_eq!(rt.stats(), (0, 0, 0));
    }
}

#[test]
fn every_error_is_decoded_from_its_trap() {
    for mut rt in all(usize::MAX) {
        let a: u32 = rt.ok("buffer_new", 64);
        // Foreign addresses: misaligned, below the heap, inside a buffer, out of bounds.
        for bad in [0, 4, a + 1, a + 32, 16, 0xFFFF_FFF0, rt.own_size() as u32] {
            assert_eq!(rt.call::<u32, u32>("buffer_release", bad), Err(NotABuffer), "[{}] {bad:#x}", rt.variant);
            assert_eq!(rt.call::<u32, ()>("buffer_retain", bad), Err(NotABuffer));
            assert_eq!(rt.call::<u32, u32>("buffer_length", bad), Err(NotABuffer));
            assert_eq!(rt.call::<u32, u32>("buffer_refcount", bad), Err(NotABuffer));
            assert_eq!(rt.ok::<u32, u32>("buffer_check", bad), NotABuffer.code());
        }
        // Refcount overflow, detected before anything changes.
        rt.set_header(a, header::REFCOUNT, MAX_REFCOUNT);
        assert_eq!(rt.call::<u32, ()>("buffer_retain", a), Err(RefcountOverflow));
        assert_eq!(rt.ok::<u32, u32>("buffer_refcount", a), MAX_REFCOUNT);
        rt.set_header(a, header::REFCOUNT, 1);
        // Bad lengths.
        for len in [MAX_LENGTH + 1, u32::MAX, 0x8000_0000] {
            assert_eq!(rt.call::<u32, u32>("buffer_new", len), Err(BadLength));
        }
        // Ranges of external copies.
        assert_eq!(rt.call::<(u32, u32, u32, u32), ()>("external_copy_in", (a, 60, 0, 5)), Err(Range));
        assert_eq!(rt.call::<(u32, u32, u32, u32), ()>("external_copy_in", (a, u32::MAX, 0, 2)), Err(Range));
        assert_eq!(
            rt.call::<(u32, u32, u32, u32), ()>("external_copy_in", (a, 0, PAGE_SIZE - 3, 4)),
            Err(ExternalRange)
        );
        assert_eq!(rt.call::<(u32, u32, u32, u32), ()>("external_copy_out", (u32::MAX, a, 0, 2)), Err(ExternalRange));
        assert_eq!(rt.call::<(u32, u32, u32, u32), ()>("external_copy_out", (0, a + 16, 0, 2)), Err(NotABuffer));
        // Double release and use after free.
        assert_eq!(rt.ok::<u32, u32>("buffer_release", a), 0);
        assert_eq!(rt.call::<u32, u32>("buffer_release", a), Err(Freed));
        assert_eq!(rt.call::<u32, ()>("buffer_retain", a), Err(Freed));
        assert_eq!(rt.call::<u32, u32>("buffer_length", a), Err(Freed));
        assert_eq!(rt.call::<(u32, u32, u32, u32), ()>("external_copy_out", (0, a, 0, 1)), Err(Freed));
        assert_eq!(rt.stats(), (0, 0, 0));
    }
}

#[test]
fn memory_grows_and_out_of_memory_is_an_error() {
    // Own memory capped at 4 MiB by the store's limiter.
    for mut rt in all(4 << 20) {
        let pages0: u32 = rt.ok("stats_pages", ());
        assert_eq!(pages0 as usize * PAGE_SIZE as usize, rt.own_size());
        let mut live = vec![];
        loop {
            match rt.call::<u32, u32>("buffer_new", 300_000) {
                Ok(b) => live.push(b),
                Err(e) => {
                    assert_eq!(e, OutOfMemory, "[{}]", rt.variant);
                    break;
                }
            }
        }
        assert!(live.len() >= 10, "[{}] only {} buffers fit", rt.variant, live.len());
        let pages: u32 = rt.ok("stats_pages", ());
        assert!(pages > pages0);
        assert_eq!(pages as usize * PAGE_SIZE as usize, rt.own_size());
        assert_eq!(rt.stats().0 as usize, live.len());
        // The heap is still consistent: small buffers still work, and after
        // freeing everything the big ones fit again.
        let small: u32 = rt.ok("buffer_new", 10);
        rt.ok::<u32, u32>("buffer_release", small);
        for b in live.drain(..) {
            rt.ok::<u32, u32>("buffer_release", b);
        }
        assert_eq!(rt.stats(), (0, 0, 0));
        for _ in 0..10 {
            live.push(rt.ok("buffer_new", 300_000));
        }
        assert_eq!(rt.ok::<(), u32>("stats_pages", ()), pages, "[{}] freed memory was not reused", rt.variant);
        for b in live {
            rt.ok::<u32, u32>("buffer_release", b);
        }
    }
}

#[test]
fn external_copies_move_bytes_between_memories() {
    for mut rt in all(usize::MAX) {
        let ext = rt.external();
        let pattern: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        ext.data_mut(&mut rt.store)[500..1500].copy_from_slice(&pattern);
        let b: u32 = rt.ok("buffer_new", 2000);
        rt.ok::<(u32, u32, u32, u32), ()>("external_copy_in", (b, 100, 500, 1000));
        assert_eq!(rt.read(b + 100, 1000), pattern, "[{}]", rt.variant);
        assert_eq!(rt.read(b + 99, 1), [0]);
        assert_eq!(rt.read(b + 1100, 1), [0]);
        rt.ok::<(u32, u32, u32, u32), ()>("external_copy_out", (PAGE_SIZE - 1000, b, 100, 1000));
        assert_eq!(&ext.data(&rt.store)[PAGE_SIZE as usize - 1000..PAGE_SIZE as usize], &pattern[..]);
        // The external memory grows; the bounds follow it.
        assert_eq!(rt.call::<(u32, u32, u32, u32), ()>("external_copy_out", (PAGE_SIZE, b, 0, 1)), Err(ExternalRange));
        ext.grow(&mut rt.store, 1).unwrap();
        rt.ok::<(u32, u32, u32, u32), ()>("external_copy_out", (PAGE_SIZE, b, 100, 1));
        assert_eq!(ext.data(&rt.store)[PAGE_SIZE as usize], pattern[0]);
        rt.ok::<u32, u32>("buffer_release", b);
        assert_eq!(rt.stats(), (0, 0, 0));
    }
}

/// The checked builds' quarantine keeps a freed block out of reuse, so its
/// stale address stays `FREED` while the build without it hands the block
/// out again at once; and in every build a header forged inside a live
/// buffer is `NOT_A_BUFFER` (docs/ABI.md, builds). Checked against its
/// plain build: `checked` against `default`, `shared-checked` against
/// `shared`.
#[test]
fn checked_build_keeps_stale_addresses_freed_and_no_build_accepts_forged_headers() {
    let engine = multimem_test_harness::engine::runtime();
    let rt = |name: &'static str| {
        let wasm = multimem_runtime_wasm::variant(name).unwrap_or_else(|| panic!("no build {name}"));
        Rt::new(&engine, name, wasm, &setup(usize::MAX)).unwrap()
    };
    for (checked, plain) in [("checked", "default"), ("shared-checked", "shared")] {
        let (mut rt, mut plain) = (rt(checked), rt(plain));
        assert!(rt.has_feature("checked") && !plain.has_feature("checked"));
        let a: u32 = rt.ok("buffer_new", 64);
        let stale: u32 = rt.ok("buffer_new", 64);
        rt.ok::<u32, u32>("buffer_release", stale);
        // Many buffers of the same size later the stale address is still FREED
        // (the quarantine keeps its block out of reuse) ...
        let mut live = vec![];
        for _ in 0..500 {
            live.push(rt.ok::<u32, u32>("buffer_new", 64));
        }
        assert!(!live.contains(&stale), "[{checked}]");
        assert_eq!(rt.call::<u32, ()>("buffer_retain", stale), Err(Freed), "[{checked}]");
        assert_eq!(rt.call::<u32, u32>("buffer_release", stale), Err(Freed), "[{checked}]");
        assert_eq!(rt.ok::<u32, u32>("buffer_check", stale), Freed.code(), "[{checked}]");
        // ... where the plain build reuses the block for the next buffer.
        let pa: u32 = plain.ok("buffer_new", 64);
        let ps: u32 = plain.ok("buffer_new", 64);
        plain.ok::<u32, u32>("buffer_release", ps);
        assert_eq!(plain.ok::<u32, u32>("buffer_new", 64), ps, "[{}] reuses a freed block at once", plain.variant);
        // A forged header inside a live buffer is NOT_A_BUFFER in both.
        for (rt, a) in [(&mut rt, a), (&mut plain, pa)] {
            let forged = a + 32;
            rt.set_header(forged, header::TAG, forged ^ LIVE_TAG);
            rt.set_header(forged, header::LENGTH, 8);
            rt.set_header(forged, header::REFCOUNT, 1);
            assert_eq!(rt.call::<u32, u32>("buffer_release", forged), Err(NotABuffer), "[{}]", rt.variant);
            assert_eq!(rt.ok::<u32, u32>("buffer_check", forged), NotABuffer.code(), "[{}]", rt.variant);
        }
        for b in live.into_iter().chain([a]) {
            rt.ok::<u32, u32>("buffer_release", b);
        }
        assert_eq!(rt.stats(), (0, 0, 0), "[{checked}]");
    }
}

/// runtime.wasm skips zero-filling the part of a block carved from memory
/// it never handed out (still zero from `memory.grow`); this checks, in
/// every variant, that it never returns dirty memory: each buffer is
/// dirtied over its whole length and released, and new buffers of mixed
/// sizes (small ones from the quick lists, large ones split from reused
/// blocks, from the untouched tail, and after growth) must read as zero.
#[test]
fn new_buffers_are_zero_after_dirty_reuse_and_growth() {
    for mut rt in all(usize::MAX) {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut live: Vec<u32> = Vec::new();
        for step in 0..1500 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let r = (rng >> 16) as u32;
            if live.len() < 24 && !r.is_multiple_of(3) {
                let len = match r % 4 {
                    0 => r % 300,
                    1 => r % 5000,
                    2 => r % 70_000,
                    _ => r % 400_000,
                };
                let b: u32 = rt.ok("buffer_new", len);
                assert!(
                    rt.read(b, len).iter().all(|&x| x == 0),
                    "[{}] step {step}: buffer_new({len}) at {b:#x} is not zeroed",
                    rt.variant
                );
                rt.fill(b, len, 0xA5);
                live.push(b);
            } else if !live.is_empty() {
                let b = live.swap_remove((r as usize / 5) % live.len());
                rt.ok::<u32, u32>("buffer_release", b);
            }
        }
        for b in live {
            rt.ok::<u32, u32>("buffer_release", b);
        }
        assert_eq!(rt.stats(), (0, 0, 0));
    }
}
