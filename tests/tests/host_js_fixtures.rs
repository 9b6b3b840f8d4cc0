//! js-glue's test fixtures (`js-glue/test/fixtures/app.wat` and `lib.wat`,
//! which `multimem-js-fixtures` compiles for the Node tests) linked with
//! runtime.wasm in both builds and run in wasmtime through multimem-host:
//! the multi-memory build with multi-memory on, the single-memory build
//! with it off. Every export of the fixture app is exercised, and the two
//! builds must give the same values (checked here against values computed
//! independently). The Node side of the same comparison belongs to the JS
//! glue's own tests.

use multimem_host::{ErrorCode, Kind, Options, error_code, instantiate_wasm};
use wasmtime::{Caller, Engine, Instance, Module, Store};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../js-glue/test/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn link(single: bool) -> Vec<u8> {
    let mut l = multimem_linker::Linker::new(multimem_linker::Config::default().single_memory(single));
    l.add_module("app", &fixture("app.wat")).unwrap();
    l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM).unwrap();
    l.link().unwrap().wasm
}

/// What one run of the scenario observed.
#[derive(Debug, PartialEq)]
struct Observed {
    made: Vec<u8>,
    length_inline: i32,
    peek: i32,
    refcount_held: u32,
    unhold_left: i32,
    sums: Vec<i64>,
    callbacks: u32,
    sum_after_callback: i64,
    copied: Vec<u8>,
    ext_byte: u8,
    fail_code: Option<ErrorCode>,
    bad_new_code: Option<ErrorCode>,
    live_at_end: u32,
}

fn scenario(engine: Engine, single: bool) -> Observed {
    let mut store: Store<u32> = Store::new(&engine, 0);
    let lib = Module::new(&engine, fixture("lib.wat")).unwrap();
    let lib = Instance::new(&mut store, &lib, &[]).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    linker.func_wrap("host", "callback", |mut c: Caller<'_, u32>| *c.data_mut() += 1).unwrap();
    let inst = instantiate_wasm(&mut store, &mut linker, &link(single), Some(lib), &Options::default()).unwrap();
    assert_eq!(inst.lowered.is_some(), single);
    let rt = inst.runtime.clone();

    let addr: i32 = inst.call(&mut store, "make", (64, 7)).unwrap();
    let buf = rt.adopt(&mut store, addr as u32).unwrap();
    let made = rt.bytes(&store, &buf).unwrap().to_vec();
    let length_inline = inst.call(&mut store, "length_inline", addr).unwrap();
    // Bytes written by the host, read by the app's plain load on the runtime memory.
    rt.bytes_mut(&mut store, &buf).unwrap()[5] = 200;
    let peek = inst.call(&mut store, "peek", (addr, 5)).unwrap();
    inst.call::<i32, ()>(&mut store, "hold", addr).unwrap();
    let refcount_held = rt.refcount(&mut store, &buf).unwrap();
    let unhold_left = inst.call(&mut store, "unhold", ()).unwrap();

    // The runtime reads the list: three kinds over the same bytes.
    let ints = rt.view(&mut store, &buf, Kind::Int32List, 16, 4).unwrap();
    rt.elements_mut::<i32, u32>(&mut store, &ints).unwrap().copy_from_slice(&[-1, 2, -3, 400_000]);
    let mut sums = Vec::new();
    for (kind, off, len) in [(Kind::Uint8List, 0, 64), (Kind::Int32List, 16, 4), (Kind::Int8List, 16, 16)] {
        sums.push(inst.call(&mut store, "sum", (kind.code() as i32, addr, off, len)).unwrap());
    }
    let sum_after_callback =
        inst.call(&mut store, "sum_after_callback", (Kind::Uint8List.code() as i32, addr)).unwrap();
    let callbacks = *store.data();

    // The external library's memory: the runtime copies from it, the app stores into it.
    inst.call::<_, ()>(&mut store, "copy_from_external", (addr, 0, 100, 31)).unwrap();
    let copied = rt.bytes(&store, &buf).unwrap()[..31].to_vec();
    inst.call::<_, ()>(&mut store, "ext_store", (9, 42)).unwrap();
    let ext_byte = inst.external_memory.unwrap().data(&store)[9];

    let fail_code = error_code(&inst.call::<(), ()>(&mut store, "fail", ()).unwrap_err());
    let bad_new_code = error_code(&inst.call::<(i32, i32), i32>(&mut store, "make", (-1, 0)).unwrap_err());
    drop((buf, ints));
    let live_at_end = rt.stats(&mut store).unwrap().live_buffers;
    Observed {
        made,
        length_inline,
        peek,
        refcount_held,
        unhold_left,
        sums,
        callbacks,
        sum_after_callback,
        copied,
        ext_byte,
        fail_code,
        bad_new_code,
        live_at_end,
    }
}

#[test]
fn js_glue_fixtures_give_the_same_results_in_both_builds() {
    let multi = scenario(Options::engine().unwrap(), false);
    let single = scenario(Options::single_memory_engine().unwrap(), true);
    assert_eq!(multi, single);

    // Independently: 64 bytes of 7, byte 5 set to 200, then bytes 16..32 an Int32List.
    let mut bytes = [7u8; 64];
    bytes[5] = 200;
    let ints = [-1i32, 2, -3, 400_000];
    for (i, v) in ints.iter().enumerate() {
        bytes[16 + 4 * i..20 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    let want_sums = vec![
        bytes.iter().map(|&b| b as i64).sum::<i64>(),
        ints.iter().map(|&v| v as i64).sum::<i64>(),
        bytes[16..32].iter().map(|&b| b as i8 as i64).sum::<i64>(),
    ];
    assert_eq!(multi.made, vec![7u8; 64]);
    assert_eq!((multi.length_inline, multi.peek), (64, 200));
    assert_eq!((multi.refcount_held, multi.unhold_left), (2, 1));
    assert_eq!(multi.sums, want_sums);
    assert_eq!((multi.callbacks, multi.sum_after_callback), (1, want_sums[0]));
    assert_eq!(multi.copied, b"hello from the external library");
    assert_eq!(multi.ext_byte, 42);
    assert_eq!((multi.fail_code, multi.bad_new_code), (None, Some(ErrorCode::BadLength)));
    assert_eq!(multi.live_at_end, 0);
}
