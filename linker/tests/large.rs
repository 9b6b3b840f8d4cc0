//! A module large enough (> 1 MiB of code, > 256 functions) to take the
//! parallel paths: code rewritten and validated in chunks shared by the
//! threads. The output must be identical to the single-threaded one and
//! must run: functions from all over the module are called in wasmtime.

mod common;
use common::*;

use multimem_linker::Config;
use multimem_test_harness::{Imports, engine};

fn big_module(funcs: usize) -> String {
    let mut s = String::from(
        "(module $big\n  (import \"small\" \"add\" (func $add (param i32 i32) (result i32)))\n  (memory 1)\n  (global $g (mut i32) (i32.const 0))\n",
    );
    for i in 0..funcs {
        s.push_str(&format!(
            "  (func $f{i} (export \"f{i}\") (param i32) (result i32)\n    (global.set $g (i32.add (global.get $g) (i32.const 1)))\n    (i32.store (i32.const 16) (local.get 0))\n    (call $add (i32.load (i32.const 16)) (i32.const {i}))\n{}  )\n",
            "    (drop (i32.mul (local.get 0) (i32.const 3)))\n".repeat(8)
        ));
    }
    s.push_str(")\n");
    s
}

#[test]
fn parallel_equals_sequential_and_runs() {
    let n = 24_000;
    let big = wasm(&big_module(n));
    assert!(big.len() > (1 << 20), "fixture too small: {}", big.len());
    let small = wasm(
        r#"(module $small (memory 1) (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#,
    );
    let one = link(Config::default().threads(1), &[("small", &small), ("big", &big)]).unwrap();
    let two = link(Config::default().threads(2), &[("small", &small), ("big", &big)]).unwrap();
    let four = link(Config::default().threads(4), &[("small", &small), ("big", &big)]).unwrap();
    assert_eq!(one.wasm, two.wasm);
    assert_eq!(one.wasm, four.wasm);
    // Unjoined (the helpers' chunks in their own buffers), written to a
    // writer and over a longer file: the same bytes.
    let mut l = multimem_linker::Linker::new(Config::default().threads(2));
    l.add_module("small", &small).unwrap();
    l.add_module("big", &big).unwrap();
    let split = l.link_split().unwrap();
    assert_eq!(split.len(), one.wasm.len());
    let mut written = Vec::new();
    split.write_to(&mut written).unwrap();
    assert_eq!(written, one.wasm);
    let path = std::env::temp_dir().join(format!("multimem-large-{}.wasm", std::process::id()));
    std::fs::write(&path, vec![0xffu8; one.wasm.len() + 12345]).unwrap();
    split.write_file(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), one.wasm);
    std::fs::remove_file(&path).unwrap();

    let imports = Imports::defaults(&engine::full(), &two.wasm).unwrap();
    assert!(imports.names().is_empty(), "unresolved imports: {:?}", imports.names());
    let mut inst = imports.instantiate().unwrap();
    for i in [0, 1, n / 2, n / 2 + 1, n - 1] {
        assert_eq!(inst.call::<i32, i32>(&format!("f{i}"), 100).unwrap(), 100 + i as i32);
    }
}

#[test]
fn invalid_body_is_reported_with_threads() {
    // Invalid bodies among many valid ones: in a small module, and in one
    // large enough (> 1 MiB of code) to be cut into chunks for several
    // threads, where they fall into different chunks.
    for (funcs, bad) in [(600, &[500][..]), (24_000, &[500, 20_000][..])] {
        let mut text = big_module(funcs);
        for b in bad {
            text = text.replace(
                &format!("(func $f{b} (export \"f{b}\") (param i32) (result i32)\n"),
                &format!("(func $f{b} (export \"f{b}\") (param i32) (result i32)\n    (i64.const 1) (drop)\n    (f32.const 1)\n"),
            );
        }
        invalid_body_is_reported(&wat::parse_str(&text).unwrap());
    }
}

fn invalid_body_is_reported(bytes: &[u8]) {
    let small = common::wasm("(module (func (export \"s\")))");
    for threads in [1, 2, 4] {
        // Default: bodies are validated in the output; the failure is then
        // traced back to the input, with the input validator's message.
        let mut l = multimem_linker::Linker::new(Config::default().threads(threads));
        l.add_module("small", &small).unwrap();
        l.add_module("big", bytes).unwrap();
        let e = l.link().unwrap_err();
        assert_eq!(e.kind(), multimem_linker::ErrorKind::InvalidModule);
        assert!(e.to_string().starts_with("module `big` is not a valid wasm module: type mismatch"), "{e}");
        // --validate-inputs: the same error, when the input is added.
        let mut l = multimem_linker::Linker::new(Config::default().threads(threads).validate_inputs(true));
        let e2 = l.add_module("big", bytes).unwrap_err();
        assert_eq!((e2.kind(), e2.message()), (e.kind(), e.message()));
    }
}
