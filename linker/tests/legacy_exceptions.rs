//! Legacy exception handling (`try`, `catch`, `catch_all`, `delegate`,
//! `rethrow`): wasmtime 48 does not run it, so unlike the fixtures this
//! checks the linked text. The decoder needs the control frames to read
//! `catch` and `delegate`, and `catch` carries a tag index that moves.

mod common;
use common::*;

const APP: &str = r#"
(module $app
  (import "lib" "oops" (tag $oops (param i32)))
  (tag $mine (param i64))
  (func (export "run") (param i32) (result i32)
    try (result i32)
      try
        local.get 0
        throw $oops
      delegate 0
      i32.const 0
    catch $mine
      drop
      i32.const -2
    catch $oops
    catch_all
      i32.const -1
    end)
  (func (export "again") (param i32)
    try
      i64.const 1
      throw $mine
    catch $oops
      drop
      rethrow 0
    catch_all
      rethrow 0
    end))
"#;

const LIB: &str = r#"
(module $lib
  (tag $oops (export "oops") (param i32)))
"#;

#[test]
fn tags_of_catch_are_remapped_and_frames_followed() {
    let out = link(multimem_linker::Config::default().keep_names(false), &[("app", &wasm(APP)), ("lib", &wasm(LIB))])
        .unwrap();
    validate(&out.wasm).unwrap();
    let text = wasmprinter::print_bytes(&out.wasm).unwrap();
    // Output tags: app's own `$mine` is 0, lib's `oops` (app's import 0) is 1.
    let ops: Vec<&str> =
        text.lines().map(str::trim).filter(|l| l.starts_with("throw ") || l.starts_with("catch")).collect();
    assert_eq!(ops, ["throw 1", "catch 0", "catch 1", "catch_all", "throw 0", "catch 1", "catch_all"], "{text}");
    assert!(text.contains("delegate 0") && text.matches("rethrow 0").count() == 2, "{text}");
}
