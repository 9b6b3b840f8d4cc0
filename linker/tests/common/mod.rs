//! Helpers shared by the linker's integration tests.
#![allow(dead_code)]

/// The `app` + `rt` pair used by several tests: calls, globals, a table,
/// data in two memories, an intrinsic, names and a start function each.
pub const APP: &str = r#"
(module $app
  (import "env" "memory" (memory $ext 1))
  (import "rt" "twice" (func $twice (param i32) (result i32)))
  (import "rt" "counter" (global $counter (mut i32)))
  (memory $m 1)
  (table 2 funcref)
  (elem (i32.const 0) func $run $twice)
  (data (memory $m) (i32.const 0) "app")
  (func $init (global.set $counter (i32.const 1)))
  (start $init)
  (func $run (export "run") (param $x i32) (result i32)
    (i32.add (call $twice (local.get $x)) (global.get $counter))))
"#;

pub const RT: &str = r#"
(module $rt
  (import "multimem:intrinsics" "i32_load_external" (func $ld (param i32) (result i32)))
  (memory $heap (export "memory") 1)
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (data (i32.const 16) "rt")
  (func $init (global.set $counter (i32.add (global.get $counter) (i32.const 10))))
  (start $init)
  (func $twice (export "twice") (param $v i32) (result i32)
    (i32.add (i32.mul (local.get $v) (i32.const 2)) (call $ld (i32.const 0)))))
"#;

pub fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test WAT parses")
}

pub fn link(
    config: multimem_linker::Config,
    inputs: &[(&str, &[u8])],
) -> Result<multimem_linker::Output, multimem_linker::Error> {
    let mut l = multimem_linker::Linker::new(config);
    for (n, b) in inputs {
        l.add_module(n, b)?;
    }
    l.link()
}

/// Validates `wasm` with every proposal the linker accepts
/// ([`multimem_linker::features`]).
pub fn validate(wasm: &[u8]) -> Result<(), wasmparser::BinaryReaderError> {
    wasmparser::Validator::new_with_features(multimem_linker::features()).validate_all(wasm).map(|_| ())
}
