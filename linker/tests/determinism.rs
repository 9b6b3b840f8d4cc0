//! The output is a function of the inputs and the configuration only:
//! linking the same inputs twice (in one process and in fresh linkers)
//! gives identical bytes; and swapping the input order gives a different
//! but equally working module.

mod common;
use common::*;

use multimem_linker::{Config, ExportConflict};
use multimem_test_harness::{Imports, engine};

/// `run(5)` of a linked APP + RT, with 100 in the first word of `env.memory`.
fn run(wasm: &[u8]) -> i32 {
    let mut imports = Imports::defaults(&engine::full(), wasm).unwrap();
    assert_eq!(imports.names(), [("env", "memory")], "the only import left is the external memory");
    let mem = imports.memory("env", "memory");
    mem.data_mut(&mut imports.store)[0..4].copy_from_slice(&100i32.to_le_bytes());
    imports.instantiate().unwrap().call::<i32, i32>("run", 5).unwrap()
}

#[test]
fn same_inputs_same_bytes() {
    let (app, rt) = (wasm(APP), wasm(RT));
    let config = || Config::default().export_conflict(ExportConflict::Rename);
    let first = link(config(), &[("app", &app), ("rt", &rt)]).unwrap();
    for _ in 0..5 {
        let again = link(config(), &[("app", &app), ("rt", &rt)]).unwrap();
        assert_eq!(first.wasm, again.wasm);
        assert_eq!(first.warnings, again.warnings);
    }
    // Same with dead-code removal, whose worklist must not leak hash order.
    let gc = || config().gc(true);
    let a = link(gc(), &[("app", &app), ("rt", &rt)]).unwrap();
    let b = link(gc(), &[("app", &app), ("rt", &rt)]).unwrap();
    assert_eq!(a.wasm, b.wasm);
    // 5*2 + 100 (external memory word) + counter (app start sets 1, rt start then adds 10).
    assert_eq!(run(&first.wasm), 10 + 100 + 11);
    assert_eq!(run(&a.wasm), 10 + 100 + 11);
}

#[test]
fn input_order_changes_layout_not_behaviour() {
    let (app, rt) = (wasm(APP), wasm(RT));
    let ab = link(Config::default(), &[("app", &app), ("rt", &rt)]).unwrap();
    let ba = link(Config::default(), &[("rt", &rt), ("app", &app)]).unwrap();
    assert_ne!(ab.wasm, ba.wasm, "layout follows input order");
    let ba2 = link(Config::default(), &[("rt", &rt), ("app", &app)]).unwrap();
    assert_eq!(ba.wasm, ba2.wasm);
    assert_eq!(run(&ab.wasm), 121);
    // rt's start runs first now: counter = 10, then app's start sets it to 1.
    assert_eq!(run(&ba.wasm), 10 + 100 + 1);
}
