//! multimem-host runs both builds of a link the same way: the multi-memory
//! build in an engine with multi-memory on, and the single-memory build
//! (`multimem-link --single-memory`) in one with multi-memory *off*, from
//! nothing but its bytes. Each scenario runs in both builds and must give
//! the same values: the runtime's exports, handles, slices over the
//! runtime memory (also across its growth), the library's memory
//! (`Instantiated::external_memory`, which the single-memory build reaches
//! through `multimem:memory` calls), externrefs and error codes.

use multimem_host::{App, ErrorCode, Instantiated, Kind, Options, error_code, instantiate, instantiate_unlinked};
use wasmtime::{Engine, ExternRef, Instance, Module, Rooted, Store};

/// An app that uses the runtime memory (plain loads), the library's memory
/// (plain loads and stores, `memory.grow`, the runtime's cross-memory
/// copies), and holds an externref in a global.
const APP: &str = r#"(module
  (import "multimem" "memory" (memory $own 0))
  (import "env" "memory" (memory $ext 0))
  (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
  (import "multimem" "external_copy_in" (func $copy_in (param i32 i32 i32 i32)))
  (import "multimem" "external_copy_out" (func $copy_out (param i32 i32 i32 i32)))
  (global $held (mut externref) (ref.null extern))
  ;; A new buffer of n bytes, byte i = 3 * i, handed to the caller.
  (func (export "make") (param $n i32) (result i32)
    (local $b i32) (local $i i32)
    (local.set $b (call $new (local.get $n)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 $own (i32.add (local.get $b) (local.get $i)) (i32.mul (local.get $i) (i32.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $b))
  ;; lengthInBytes from the header, inline (docs/ABI.md).
  (func (export "length_inline") (param $b i32) (result i32) (i32.load $own offset=0 (i32.sub (local.get $b) (i32.const 8))))
  ;; n bytes at addr of the library's memory, copied into a new buffer.
  (func (export "from_lib") (param $addr i32) (param $n i32) (result i32)
    (local $b i32)
    (local.set $b (call $new (local.get $n)))
    (call $copy_in (local.get $b) (i32.const 0) (local.get $addr) (local.get $n))
    (local.get $b))
  ;; A buffer's n bytes copied out to addr in the library's memory.
  (func (export "to_lib") (param $addr i32) (param $b i32) (param $n i32)
    (call $copy_out (local.get $addr) (local.get $b) (i32.const 0) (local.get $n)))
  ;; Plain accesses to the library's memory (calls in the single-memory build).
  (func (export "ext_store32") (param $a i32) (param $v i32) (i32.store $ext offset=4 (local.get $a) (local.get $v)))
  (func (export "ext_load32") (param $a i32) (result i32) (i32.load $ext offset=4 (local.get $a)))
  (func (export "ext_grow") (param $n i32) (result i32) (memory.grow $ext (local.get $n)))
  (func (export "ext_size") (result i32) (memory.size $ext))
  (func (export "ext_fill") (param $a i32) (param $v i32) (param $n i32) (memory.fill $ext (local.get $a) (local.get $v) (local.get $n)))
  (func (export "hold") (param externref) (global.set $held (local.get 0)))
  (func (export "unhold") (global.set $held (ref.null extern)))
  (func (export "fail") unreachable)
  (func (export "bad_new") (result i32) (call $new (i32.const -1))))"#;

/// The library: a memory of its own and an allocator for it.
const LIB: &str = r#"(module
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 1024))
  (data (i32.const 100) "hello from the library")
  (func (export "alloc") (param $n i32) (result i32)
    (global.get $top)
    (global.set $top (i32.add (global.get $top) (local.get $n)))))"#;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Build {
    Multi,
    Single,
}

const BUILDS: [Build; 2] = [Build::Multi, Build::Single];

fn engine(build: Build) -> Engine {
    match build {
        Build::Multi => Options::engine().unwrap(),
        Build::Single => Options::single_memory_engine().unwrap(),
    }
}

fn link(build: Build) -> Vec<u8> {
    let app = wat::parse_str(APP).unwrap();
    let config = multimem_linker::Config::default().single_memory(build == Build::Single);
    let mut l = multimem_linker::Linker::new(config);
    l.add_module("app", &app).unwrap();
    l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM).unwrap();
    l.link().unwrap().wasm
}

fn library(store: &mut Store<()>) -> Instance {
    let lib = Module::new(store.engine(), wat::parse_str(LIB).unwrap()).unwrap();
    Instance::new(&mut *store, &lib, &[]).unwrap()
}

fn setup(build: Build) -> (Store<()>, Instantiated) {
    let mut store = Store::new(&engine(build), ());
    let lib = library(&mut store);
    let mut linker = wasmtime::Linker::new(store.engine());
    let inst =
        multimem_host::instantiate_wasm(&mut store, &mut linker, &link(build), Some(lib), &Options::default()).unwrap();
    assert_eq!(inst.lowered.is_some(), build == Build::Single);
    (store, inst)
}

/// Runs `scenario` in both builds and checks it returned the same value.
fn same_in_both<R: PartialEq + std::fmt::Debug>(scenario: impl Fn(Build, &mut Store<()>, &Instantiated) -> R) -> R {
    let mut results = Vec::new();
    for build in BUILDS {
        let (mut store, inst) = setup(build);
        results.push(scenario(build, &mut store, &inst));
        inst.runtime.check_no_leaks(&mut store).unwrap();
    }
    assert_eq!(results[0], results[1], "the two builds differ");
    results.pop().unwrap()
}

#[test]
fn the_single_memory_build_has_one_memory_and_runs_with_multi_memory_off() {
    let single = link(Build::Single);
    let memories = |wasm: &[u8]| {
        let mut n = 0;
        for p in wasmparser::Parser::new(0).parse_all(wasm) {
            match p.unwrap() {
                wasmparser::Payload::MemorySection(r) => n += r.count(),
                wasmparser::Payload::ImportSection(r) => {
                    n += r
                        .into_imports()
                        .filter(|i| matches!(i.as_ref().unwrap().ty, wasmparser::TypeRef::Memory(_)))
                        .count() as u32
                }
                _ => {}
            }
        }
        n
    };
    assert_eq!((memories(&link(Build::Multi)), memories(&single)), (2, 1));
    Module::new(&engine(Build::Single), &single).unwrap();
    // The multi-memory build does not compile there; the error says which build to use.
    let e = App::new(&engine(Build::Single), &link(Build::Multi)).err().unwrap();
    assert!(format!("{e:#}").contains("multimem-link --single-memory"), "{e:#}");
}

#[test]
fn buffers_handles_and_slices_are_the_same_in_both_builds() {
    let got = same_in_both(|_, store, inst| {
        let rt = inst.runtime.clone();
        let addr: i32 = inst.call(&mut *store, "make", 10).unwrap();
        let buf = rt.adopt(&mut *store, addr as u32).unwrap();
        let bytes = rt.bytes(&*store, &buf).unwrap().to_vec();
        let list = rt.view(&mut *store, &buf, Kind::Uint8List, 2, 8).unwrap();
        let tail = rt.sublist_view(&mut *store, &list, 4, 8).unwrap();
        let elements = rt.elements::<u8, ()>(&*store, &tail).unwrap().to_vec();
        let refcount = rt.refcount(&mut *store, &buf).unwrap();
        let inline_len: i32 = inst.call(&mut *store, "length_inline", addr).unwrap();
        // A Float64List written by the host, read back.
        let f = rt.list_new(&mut *store, Kind::Float64List, 3).unwrap();
        rt.elements_mut::<f64, ()>(&mut *store, &f).unwrap().copy_from_slice(&[0.5, -1.0, 2.25]);
        let floats = rt.elements::<f64, ()>(&*store, &f).unwrap().to_vec();
        let stats = rt.stats(&mut *store).unwrap();
        (bytes, elements, refcount, inline_len, floats, stats)
    });
    assert_eq!(got.0, (0..10).map(|i| i * 3).collect::<Vec<u8>>());
    assert_eq!(got.1, vec![18, 21, 24, 27]);
    assert_eq!((got.2, got.3), (3, 10));
    assert_eq!(got.5.live_buffers, 2);
}

#[test]
fn slices_stay_valid_across_growth_of_the_native_memory() {
    same_in_both(|_, store, inst| {
        let rt = inst.runtime.clone();
        let small = rt.list_new(&mut *store, Kind::Int32List, 4).unwrap();
        rt.elements_mut::<i32, ()>(&mut *store, &small).unwrap().copy_from_slice(&[1, -2, 3, -4]);
        let before = rt.stats(&mut *store).unwrap().pages;
        let big = rt.buffer_new(&mut *store, 8 << 20).unwrap();
        let after = rt.stats(&mut *store).unwrap().pages;
        assert!(after > before + 100, "{before} -> {after}");
        let read = rt.elements::<i32, ()>(&*store, &small).unwrap().to_vec();
        assert_eq!(rt.bytes(&*store, &big).unwrap().len(), 8 << 20);
        (read, before, after)
    });
}

#[test]
fn the_librarys_memory_is_the_same_memory_in_both_builds() {
    let got = same_in_both(|_, store, inst| {
        let rt = inst.runtime.clone();
        let ext = inst.external_memory.expect("env.memory came from the library");
        let lib = inst.library.unwrap();
        assert_eq!(ext.data_ptr(&*store), lib.get_memory(&mut *store, "memory").unwrap().data_ptr(&*store));
        // The library's data segment, through the runtime's cross-memory copy.
        let addr: i32 = inst.call(&mut *store, "from_lib", (100, 22)).unwrap();
        let buf = rt.adopt(&mut *store, addr as u32).unwrap();
        let copied = rt.bytes(&*store, &buf).unwrap().to_vec();
        // And back out, at a place the library allocates.
        let alloc = lib.get_typed_func::<i32, i32>(&mut *store, "alloc").unwrap();
        let at = alloc.call(&mut *store, 22).unwrap();
        inst.call::<_, ()>(&mut *store, "to_lib", (at, addr, 22)).unwrap();
        let out = ext.data(&*store)[at as usize..at as usize + 22].to_vec();
        // Plain stores and loads by the app; the host sees them in the same memory.
        inst.call::<_, ()>(&mut *store, "ext_store32", (200, 0x1234_5678)).unwrap();
        let host_view = u32::from_le_bytes(ext.data(&*store)[204..208].try_into().unwrap());
        ext.data_mut(&mut *store)[300..304].copy_from_slice(&7u32.to_le_bytes());
        let app_view: i32 = inst.call(&mut *store, "ext_load32", 296).unwrap();
        // Growth of the library's memory, seen by the host's handle.
        let old: i32 = inst.call(&mut *store, "ext_grow", 2).unwrap();
        let size: i32 = inst.call(&mut *store, "ext_size", ()).unwrap();
        let host_size = ext.size(&*store);
        inst.call::<_, ()>(&mut *store, "ext_fill", (65536 + 10, 0xAB, 3)).unwrap();
        let filled = ext.data(&*store)[65536 + 9..65536 + 14].to_vec();
        // Out of range: the app's own trap, and the runtime's EXTERNAL_RANGE.
        let oob = inst.call::<i32, i32>(&mut *store, "ext_load32", 3 * 65536 - 4).unwrap_err();
        let oob_trap = oob.downcast_ref::<wasmtime::Trap>().copied();
        let e = inst.call::<(i32, i32), i32>(&mut *store, "from_lib", (-16, 32)).unwrap_err();
        let code = error_code(&e);
        drop(buf);
        // The failed copy's buffer was allocated before the trap: a leak the stats show.
        let leaked = rt.stats(&mut *store).unwrap();
        let raw = inst.app.get_typed_func::<u32, u32>(&mut *store, "buffer_release").unwrap();
        let leaked_addr = {
            // The leaked buffer is the only live one: find it by its header.
            let data = rt.memory().expect("an unshared runtime memory").data(&*store);
            (16..data.len() as u32 - 16)
                .step_by(16)
                .find(|a| {
                    let w =
                        |k: u32| u32::from_le_bytes(data[(a - k) as usize..(a - k + 4) as usize].try_into().unwrap());
                    w(12) == a ^ multimem_abi::LIVE_TAG && w(8) == 32
                })
                .unwrap()
        };
        raw.call(&mut *store, leaked_addr).unwrap();
        (copied, out, host_view, app_view, old, size, host_size, filled, oob_trap, code, leaked.live_buffers)
    });
    assert_eq!(got.0, b"hello from the library");
    assert_eq!(got.1, b"hello from the library");
    assert_eq!((got.2, got.3), (0x1234_5678, 7));
    assert_eq!((got.4, got.5, got.6), (1, 3, 3));
    assert_eq!(got.7, vec![0, 0xAB, 0xAB, 0xAB, 0]);
    assert_eq!(got.8, Some(wasmtime::Trap::MemoryOutOfBounds));
    assert_eq!(got.9, Some(ErrorCode::ExternalRange));
    assert_eq!(got.10, 1);
}

#[test]
fn externrefs_are_released_by_gc_in_both_builds() {
    same_in_both(|_, store, inst| {
        let rt = inst.runtime.clone();
        let buf = rt.buffer_new(&mut *store, 48).unwrap();
        let r = rt.to_externref(&mut *store, buf).unwrap();
        let hold = inst.app.get_typed_func::<Option<Rooted<ExternRef>>, ()>(&mut *store, "hold").unwrap();
        {
            let mut scope = wasmtime::RootScope::new(&mut *store);
            let rooted = r.to_rooted(&mut scope);
            hold.call(&mut scope, Some(rooted)).unwrap();
        }
        drop(r);
        rt.collect(&mut *store).unwrap();
        let held = rt.stats(&mut *store).unwrap().live_buffers;
        inst.call::<(), ()>(&mut *store, "unhold", ()).unwrap();
        let released = rt.collect(&mut *store).unwrap();
        let after = rt.stats(&mut *store).unwrap().live_buffers;
        assert_eq!((held, released, after), (1, 1, 0));
        (held, released, after)
    });
}

#[test]
fn error_codes_of_app_calls_are_exact_in_both_builds() {
    same_in_both(|_, store, inst| {
        let mut codes = Vec::new();
        for f in ["fail", "bad_new", "bad_new", "fail", "bad_new"] {
            let e = match f {
                "fail" => inst.call::<(), ()>(&mut *store, f, ()).unwrap_err(),
                _ => inst.call::<(), i32>(&mut *store, f, ()).unwrap_err(),
            };
            codes.push(error_code(&e));
        }
        assert_eq!(
            codes,
            [None, Some(ErrorCode::BadLength), Some(ErrorCode::BadLength), None, Some(ErrorCode::BadLength)]
        );
        codes
    });
}

#[test]
fn a_single_memory_module_given_as_a_plain_module_is_refused_with_what_to_do() {
    let engine = engine(Build::Single);
    let mut store = Store::new(&engine, ());
    let lib = library(&mut store);
    let module = Module::new(&engine, link(Build::Single)).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    let e = instantiate(&mut store, &mut linker, &module, Some(lib), &Options::default()).err().unwrap();
    assert!(format!("{e:#}").contains("App::new(engine, wasm_bytes)"), "{e:#}");
}

#[test]
fn an_unlinked_app_runs_as_a_single_memory_build_next_to_runtime_wasm() {
    let results: Vec<_> = BUILDS
        .into_iter()
        .map(|build| {
            let app = wat::parse_str(APP).unwrap();
            let wasm = match build {
                Build::Multi => app,
                Build::Single => {
                    let mut l = multimem_linker::Linker::new(multimem_linker::Config::default().single_memory(true));
                    l.add_module("app", &app).unwrap();
                    l.link().unwrap().wasm
                }
            };
            let mut store = Store::new(&engine(build), ());
            let lib = library(&mut store);
            let app = App::new(store.engine(), &wasm).unwrap();
            assert_eq!(app.is_single_memory(), build == Build::Single);
            let runtime = Module::new(store.engine(), multimem_runtime_wasm::RUNTIME_WASM).unwrap();
            let mut linker = wasmtime::Linker::new(store.engine());
            let inst =
                instantiate_unlinked(&mut store, &mut linker, &app, &runtime, Some(lib), &Options::default()).unwrap();
            let addr: i32 = inst.call(&mut store, "from_lib", (100, 5)).unwrap();
            let buf = inst.runtime.adopt(&mut store, addr as u32).unwrap();
            let bytes = inst.runtime.bytes(&store, &buf).unwrap().to_vec();
            inst.call::<_, ()>(&mut store, "ext_store32", (400, 99)).unwrap();
            let back: i32 = inst.call(&mut store, "ext_load32", 400).unwrap();
            drop(buf);
            inst.runtime.check_no_leaks(&mut store).unwrap();
            (bytes, back)
        })
        .collect();
    assert_eq!(results[0], (b"hello".to_vec(), 99));
    assert_eq!(results[0], results[1]);
}
