//! `with-runtime`: runtime.wasm unlinked, its intrinsics implemented by the
//! host, against runtime.wasm linked, its intrinsics lowered.

use multimem_fuzz::execute::{self, Driver, Observed, Outcome};
use multimem_fuzz::generate::{Case, Input};
use multimem_fuzz::{Mode, ModeOutcome};

const APP: &str = r#"(module
  (import "env" "memory" (memory 1 4))
  (data (memory 0) (i32.const 100) "hello, multimem")
  (func (export "a.f") (result i32) (i32.const 1)))"#;

fn case(driver: Driver) -> Case {
    Case {
        modules: vec![Input { name: "a", wasm: wat::parse_str(APP).unwrap() }],
        unrelated: Input { name: "u", wasm: wat::parse_str("(module)").unwrap() },
        importer_first: false,
        some_exports: Vec::new(),
        runtime_first: false,
        run_with_runtime: true,
        driver,
    }
}

fn env_memory(snapshot: &execute::Snapshot) -> &Observed {
    &snapshot.iter().find(|(n, _)| n == "env.memory").expect("env.memory is observed").1
}

#[test]
fn the_driver_copies_through_the_runtimes_intrinsics() {
    let engine = execute::engine();
    let app = wasmtime::Module::new(&engine, wat::parse_str(APP).unwrap()).unwrap();
    let runtime = wasmtime::Module::new(&engine, multimem_runtime_wasm::RUNTIME_WASM).unwrap();
    let driver = Driver { external_src: 100, external_dst: 300, len: 15 };
    let run = execute::run(&engine, &[("a", &app), ("multimem", &runtime)], None, Some(driver));
    let driven: Vec<_> = run.calls.iter().filter(|c| c.export.starts_with("driver: ")).collect();
    assert_eq!(driven.len(), 3, "{driven:?}");
    assert!(driven.iter().all(|c| matches!(c.outcome, Outcome::Returned(_))), "{driven:?}");
    // external -> own -> external: env.memory changed (a copy landed at 300).
    assert_ne!(env_memory(run.initial.as_ref().unwrap()), env_memory(run.last.as_ref().unwrap()));
}

#[test]
fn the_runtime_linked_behaves_as_with_the_hosts_intrinsics() {
    let engine = execute::engine();
    for driver in [
        Driver { external_src: 100, external_dst: 300, len: 15 },
        // Past the end of env.memory: the runtime's EXTERNAL_RANGE trap, on both sides.
        Driver { external_src: 65_530, external_dst: 0, len: 15 },
    ] {
        for runtime_first in [false, true] {
            let mut c = case(driver);
            c.runtime_first = runtime_first;
            let report = multimem_fuzz::check_case(&engine, c, &[Mode::WithRuntime]);
            assert_eq!(
                report.modes,
                vec![(Mode::WithRuntime, ModeOutcome::Same)],
                "{driver:?}, first: {runtime_first}"
            );
        }
    }
}
