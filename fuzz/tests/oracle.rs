//! The oracle can fail: a deliberately wrong "linked" module is reported
//! as a divergence, and the differences that the rules allow are not.
//!
//! Each test runs an original module and a hand-made stand-in for its
//! linked version through the real executor (wasmtime) and compares them.

use multimem_fuzz::execute::{self, Run};
use multimem_fuzz::oracle::{self, Inconclusive, Verdict};

fn run_pair(original: &str, linked: &str) -> (Run, Run) {
    let engine = execute::engine();
    let o = wasmtime::Module::new(&engine, wat::parse_str(original).unwrap()).unwrap();
    let l = wasmtime::Module::new(&engine, wat::parse_str(linked).unwrap()).unwrap();
    let original = execute::run(&engine, &[("a", &o)], None, None);
    let linked = execute::run(&engine, &[("linked", &l)], Some(&original.plan), None);
    (original, linked)
}

fn verdict(original: &str, linked: &str) -> Verdict {
    let (o, l) = run_pair(original, linked);
    oracle::compare(&o, &l)
}

fn assert_diverges(original: &str, linked: &str, needle: &str) {
    match verdict(original, linked) {
        Verdict::Divergence(what) => assert!(what.contains(needle), "divergence `{what}` does not mention `{needle}`"),
        other => panic!("expected a divergence about `{needle}`, got {other:?}"),
    }
}

const ADD: &str = r#"(module
  (func (export "a.add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

#[test]
fn the_same_module_is_the_same() {
    assert_eq!(verdict(ADD, ADD), Verdict::Same);
}

#[test]
fn a_different_result_diverges() {
    let wrong = r#"(module
      (func (export "a.add") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1))))"#;
    assert_diverges(ADD, wrong, "call `a.add`");
}

#[test]
fn a_missing_trap_diverges() {
    let traps = r#"(module (func (export "a.f") unreachable))"#;
    let returns = r#"(module (func (export "a.f")))"#;
    assert_diverges(traps, returns, "UnreachableCodeReached");
    assert_diverges(returns, traps, "UnreachableCodeReached");
}

#[test]
fn another_trap_code_diverges() {
    let oob = r#"(module (memory 1) (func (export "a.f") (drop (i32.load (i32.const 70000)))))"#;
    let div = r#"(module (memory 1) (func (export "a.f") (drop (i32.div_u (i32.const 1) (i32.const 0)))))"#;
    assert_diverges(oob, div, "call `a.f`");
}

#[test]
fn different_memory_contents_diverge() {
    let store = |v: u32| {
        format!(
            r#"(module (memory (export "a.mem") 1) (func (export "a.f") (i32.store (i32.const 8) (i32.const {v}))))"#
        )
    };
    assert_diverges(&store(1), &store(2), "after the last call");
}

#[test]
fn different_initial_data_diverges() {
    let data = |s: &str| format!(r#"(module (memory (export "a.mem") 1) (data (i32.const 0) "{s}"))"#);
    assert_diverges(&data("ab"), &data("ba"), "after instantiation");
}

#[test]
fn a_different_global_diverges() {
    let global = |v: i64| format!(r#"(module (global (export "a.g") i64 (i64.const {v})))"#);
    assert_diverges(&global(1), &global(2), "a.g");
}

#[test]
fn a_write_to_the_host_memory_is_observed() {
    let store = |a: u32| {
        format!(
            r#"(module (import "env" "memory" (memory 1 4))
                 (func (export "a.f") (i32.store (i32.const {a}) (i32.const 7))))"#
        )
    };
    assert_diverges(&store(0), &store(4), "env.memory");
}

#[test]
fn different_host_calls_diverge() {
    let calls = |v: u32| {
        format!(
            r#"(module (import "env" "log_i32" (func $log (param i32)))
                 (func (export "a.f") (call $log (i32.const {v}))))"#
        )
    };
    assert_diverges(&calls(1), &calls(2), "host calls differ");
}

#[test]
fn a_different_exception_payload_diverges() {
    let throw = |v: u32| {
        format!(
            r#"(module (tag $t (param i32))
                 (func (export "a.f") (throw $t (i32.const {v}))))"#
        )
    };
    assert_eq!(verdict(&throw(3), &throw(3)), Verdict::Same);
    assert_diverges(&throw(3), &throw(4), "Exception");
}

#[test]
fn a_missing_export_diverges() {
    let two = r#"(module (func (export "a.f")) (global (export "a.g") i32 (i32.const 0)))"#;
    let one = r#"(module (func (export "a.f")))"#;
    assert_diverges(two, one, "`a.g` is missing");
    let without_func = r#"(module (global (export "a.g") i32 (i32.const 0)))"#;
    assert_diverges(two, without_func, "missing");
}

#[test]
fn another_function_type_diverges() {
    let i64_add = r#"(module
      (func (export "a.add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1))))"#;
    assert_diverges(ADD, i64_add, "has type");
}

#[test]
fn a_linked_module_that_fails_to_instantiate_diverges() {
    let traps_in_start = r#"(module (func $s unreachable) (start $s) (func (export "a.add")))"#;
    let fine = r#"(module (func (export "a.add")))"#;
    assert_diverges(fine, traps_in_start, "instantiation");
}

#[test]
fn failing_to_instantiate_with_another_trap_is_the_same() {
    // Segment order differs after linking (oracle.rs): the first failing
    // step, and so the trap, may be another one.
    let data_oob = r#"(module (memory 0) (data (i32.const 0) "x"))"#;
    let start_traps = r#"(module (func $s unreachable) (start $s))"#;
    assert_eq!(verdict(data_oob, start_traps), Verdict::Same);
}

#[test]
fn nan_bits_do_not_matter_but_other_floats_do() {
    let nan =
        |bits: &str| format!(r#"(module (func (export "a.f") (result f32) (f32.reinterpret_i32 (i32.const {bits}))))"#);
    assert_eq!(verdict(&nan("0x7fc00000"), &nan("0x7fc00001")), Verdict::Same);
    assert_diverges(&nan("0x3f800000"), &nan("0x3f800001"), "call `a.f`");
}

#[test]
fn gc_objects_compare_by_shape_not_identity() {
    let pair = |a: u32, b: u32| {
        format!(
            r#"(module (type $p (struct (field i32) (field i32)))
                 (func (export "a.f") (result (ref $p)) (struct.new $p (i32.const {a}) (i32.const {b}))))"#
        )
    };
    assert_eq!(verdict(&pair(1, 2), &pair(1, 2)), Verdict::Same);
    assert_diverges(&pair(1, 2), &pair(1, 3), "call `a.f`");
}

#[test]
fn running_out_of_fuel_on_one_side_is_inconclusive() {
    let spins = r#"(module (func (export "a.f") (loop $l (br $l))))"#;
    let returns = r#"(module (func (export "a.f")))"#;
    assert_eq!(verdict(spins, returns), Verdict::Inconclusive(Inconclusive::Fuel));
}

#[test]
fn running_out_of_fuel_on_both_sides_goes_on_comparing() {
    // The same spinning export on both sides, then a different result: the
    // second call is still compared.
    let module = |v: u32| {
        format!(
            r#"(module (global (export "a.g") (mut i32) (i32.const 0))
                 (func (export "a.spin") (loop $l (global.set 0 (i32.add (global.get 0) (i32.const 1))) (br $l)))
                 (func (export "a.after") (result i32) (i32.const {v})))"#
        )
    };
    assert_eq!(verdict(&module(1), &module(1)), Verdict::Same);
    assert_diverges(&module(1), &module(2), "a.after");
    // Spinning differently leaves another global behind.
    let faster = r#"(module (global (export "a.g") (mut i32) (i32.const 0))
      (func (export "a.spin") (loop $l (global.set 0 (i32.add (global.get 0) (i32.const 2))) (br $l)))
      (func (export "a.after") (result i32) (i32.const 1)))"#;
    assert_diverges(&module(1), faster, "a.g");
}

#[test]
fn exhausting_the_stack_is_inconclusive() {
    let recurses = r#"(module (func $f (export "a.f") (call $f)))"#;
    assert_eq!(verdict(recurses, recurses), Verdict::Inconclusive(Inconclusive::Stack));
}

#[test]
fn what_came_before_an_inconclusive_call_is_still_compared() {
    let module = |v: u32| {
        format!(
            r#"(module (func (export "a.first") (result i32) (i32.const {v}))
                 (func $r (export "a.recurse") (call $r)))"#
        )
    };
    assert_diverges(&module(1), &module(2), "a.first");
}
