//! multimem-host with a hand-written app linked to runtime.wasm by
//! multimem-linker and instantiated next to the wasm32 external library:
//! buffers made by wasm and adopted by the host, bytes moved from the
//! library's memory by the lowered `external_copy_in`, and a leaking export
//! caught by the stats check.

use multimem_host::{ErrorCode, Kind, Options, error_code, instantiate, instantiate_unlinked};
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
  (func (export "leak") (drop (call $new (i32.const 40))))
  ;; The app's own trap, no runtime call involved.
  (func (export "fail") unreachable)
  ;; A runtime error: buffer_new(-1) is BAD_LENGTH.
  (func (export "bad_new") (result i32) (call $new (i32.const -1))))"#;

/// The app linked with runtime.wasm (`linked`), or importing it as a
/// separate instance with host intrinsics, in an engine with the given
/// config.
fn setup_with(config: &wasmtime::Config, linked: bool) -> (Store<()>, multimem_host::Instantiated) {
    let app = wat::parse_str(APP).unwrap();
    let engine = wasmtime::Engine::new(config).unwrap();
    let mut store = Store::new(&engine, ());
    let lib = Module::new(&engine, multimem_compiler::EXTLIB_WASM).unwrap();
    let lib = Instance::new(&mut store, &lib, &[]).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    let inst = if linked {
        let mut l = multimem_linker::Linker::new(multimem_linker::Config::default());
        l.add_module("app", &app).unwrap();
        l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM).unwrap();
        let module = Module::new(&engine, &l.link().unwrap().wasm).unwrap();
        instantiate(&mut store, &mut linker, &module, Some(lib), &Options::default()).unwrap()
    } else {
        let module = Module::new(&engine, &app).unwrap();
        let runtime = Module::new(&engine, multimem_runtime_wasm::RUNTIME_WASM).unwrap();
        instantiate_unlinked(&mut store, &mut linker, &module, &runtime, Some(lib), &Options::default()).unwrap()
    };
    (store, inst)
}

fn setup() -> (Store<()>, multimem_host::Instantiated) {
    setup_with(&Options::engine_config(), true)
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

/// Issue 13, item 6: a call into the app carries the runtime's code exactly
/// when the runtime recorded it in that call: an app's own trap never
/// carries an earlier call's code, and the same runtime error twice in a
/// row is reported twice. Linked and unlinked.
#[test]
fn error_codes_of_app_calls_are_exact() {
    for linked in [true, false] {
        let (mut store, inst) = setup_with(&Options::engine_config(), linked);
        let e = inst.call::<(), ()>(&mut store, "fail", ()).unwrap_err();
        assert_eq!(error_code(&e), None, "[linked {linked}] {e:#}");
        for _ in 0..2 {
            let e = inst.call::<(), i32>(&mut store, "bad_new", ()).unwrap_err();
            assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "[linked {linked}] {e:#}");
        }
        // `last_error` still says BAD_LENGTH; this trap is the app's.
        let e = inst.call::<(), ()>(&mut store, "fail", ()).unwrap_err();
        assert_eq!(error_code(&e), None, "[linked {linked}] {e:#}");
        assert_eq!(e.downcast_ref::<wasmtime::Trap>(), Some(&wasmtime::Trap::UnreachableCodeReached));
        assert_eq!(inst.runtime.last_error(&mut store).unwrap(), Some(ErrorCode::BadLength));
        let e = inst.call::<(), i32>(&mut store, "bad_new", ()).unwrap_err();
        assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "[linked {linked}] {e:#}");
    }
}

/// The runtime's trap function is learned when first needed: here the only
/// runtime error so far came from a call the host did not make.
#[test]
fn the_runtimes_trap_function_is_learned_when_first_needed() {
    let (mut store, inst) = setup();
    let raw_new = inst.app.get_typed_func::<u32, u32>(&mut store, "buffer_new").unwrap();
    assert!(raw_new.call(&mut store, 0x8000_0000).is_err());
    let e = inst.call::<(), ()>(&mut store, "fail", ()).unwrap_err();
    assert_eq!(error_code(&e), None, "{e:#}");
    let e = inst.call::<(), i32>(&mut store, "bad_new", ()).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
}

/// Without wasm backtraces an unchanged code cannot be attributed: it is
/// not reported, and the error says why. A changed one still is.
#[test]
fn without_backtraces_an_unchanged_code_is_not_reported() {
    let mut config = Options::engine_config();
    config.wasm_backtrace_max_frames(None);
    let (mut store, inst) = setup_with(&config, true);
    let e = inst.call::<(), i32>(&mut store, "bad_new", ()).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
    let errors = [
        inst.call::<(), ()>(&mut store, "fail", ()).unwrap_err(),
        inst.call::<(), i32>(&mut store, "bad_new", ()).unwrap_err(),
    ];
    for e in errors {
        assert_eq!(error_code(&e), None, "{e:#}");
        assert!(format!("{e:#}").contains("cannot be told apart"), "{e:#}");
    }
}
