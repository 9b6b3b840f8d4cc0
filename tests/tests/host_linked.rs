//! multimem-host with a hand-written app linked to runtime.wasm by
//! multimem-linker and instantiated next to the wasm32 external library:
//! buffers made by wasm and adopted by the host, bytes moved from the
//! library's memory by the lowered `external_copy_in`, and a leaking export
//! caught by the stats check.

use multimem_host::{Kind, Options, instantiate};
use wasmtime::{Instance, Module, Store};

const APP: &str = r#"(module
  (import "env" "memory" (memory 0))
  (import "multimem" "memory" (memory 0))
  (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
  (import "multimem" "external_copy_in" (func $copy_in (param i32 i32 i32 i32)))
  ;; A new buffer of n bytes, byte i = 3 * i, handed to the caller (who owns the reference).
  (func (export "make") (param $n i32) (result i32)
    (local $b i32) (local $i i32)
    (local.set $b (call $new (local.get $n)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 1 (i32.add (local.get $b) (local.get $i)) (i32.mul (local.get $i) (i32.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $b))
  ;; n bytes at addr of the external (library) memory, copied into a new buffer.
  (func (export "from_lib") (param $addr i32) (param $n i32) (result i32)
    (local $b i32)
    (local.set $b (call $new (local.get $n)))
    (call $copy_in (local.get $b) (i32.const 0) (local.get $addr) (local.get $n))
    (local.get $b))
  ;; Allocates and forgets: a leak.
  (func (export "leak") (drop (call $new (i32.const 40)))))"#;

fn setup() -> (Store<()>, multimem_host::Instantiated) {
    let app = wat::parse_str(APP).unwrap();
    let mut l = multimem_linker::Linker::new(multimem_linker::Config::default());
    l.add_module("app", &app).unwrap();
    l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM).unwrap();
    let linked = l.link().unwrap();
    let engine = Options::engine().unwrap();
    let mut store = Store::new(&engine, ());
    let lib = Module::new(&engine, multimem_compiler::EXTLIB_WASM).unwrap();
    let lib = Instance::new(&mut store, &lib, &[]).unwrap();
    let module = Module::new(&engine, &linked.wasm).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    let inst = instantiate(&mut store, &mut linker, &module, Some(lib), &Options::default()).unwrap();
    (store, inst)
}

#[test]
fn buffers_made_by_wasm_are_adopted_and_read() {
    let (mut store, inst) = setup();
    let rt = inst.runtime.clone();
    let addr: i32 = inst.call(&mut store, "make", 10).unwrap();
    let buf = rt.adopt(&mut store, addr as u32).unwrap();
    assert_eq!(buf.length_in_bytes(), 10);
    let want: Vec<u8> = (0..10).map(|i| i * 3).collect();
    assert_eq!(rt.bytes(&store, &buf).unwrap(), &want[..]);
    let list = rt.view(&mut store, &buf, Kind::Uint8List, 2, 8).unwrap();
    assert_eq!(rt.elements::<u8, ()>(&store, &list).unwrap(), &want[2..]);
    drop((buf, list));
    rt.check_no_leaks(&mut store).unwrap();
}

#[test]
fn external_copy_in_reads_the_library_memory() {
    let (mut store, inst) = setup();
    let rt = inst.runtime.clone();
    let ext = inst.external_memory.expect("env.memory came from the library");
    let lib = inst.library.unwrap();
    assert_eq!(ext.data_ptr(&store), lib.get_memory(&mut store, "memory").unwrap().data_ptr(&store));
    let alloc = lib.get_typed_func::<u32, u32>(&mut store, "alloc").unwrap();
    let at = alloc.call(&mut store, 5).unwrap();
    ext.data_mut(&mut store)[at as usize..at as usize + 5].copy_from_slice(b"hello");
    let addr: i32 = inst.call(&mut store, "from_lib", (at as i32, 5)).unwrap();
    let buf = rt.adopt(&mut store, addr as u32).unwrap();
    assert_eq!(rt.bytes(&store, &buf).unwrap(), b"hello");
    // Outside the library's memory: the runtime's EXTERNAL_RANGE, decoded.
    let e = inst.call::<(i32, i32), i32>(&mut store, "from_lib", (-16, 32)).unwrap_err();
    assert_eq!(multimem_host::error_code(&e), Some(multimem_host::ErrorCode::ExternalRange), "{e:#}");
    drop(buf);
    // The failed call allocated its buffer before the copy trapped; it is a
    // leak the stats show (the wasm code never got to hand it out).
    let s = rt.stats(&mut store).unwrap();
    assert_eq!((s.live_buffers, s.live_bytes), (1, 32));
}

#[test]
fn a_leaking_export_is_caught_by_the_stats_check() {
    let (mut store, inst) = setup();
    inst.call::<(), ()>(&mut store, "leak", ()).unwrap();
    let e = inst.runtime.check_no_leaks(&mut store).unwrap_err();
    assert!(format!("{e}").contains("1 buffer(s) holding 40 bytes"), "{e}");
}
