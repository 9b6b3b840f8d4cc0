//! The WebAssembly spec testsuite (`multi-memory/` and `gc/`), with every
//! module sent through the linker (issue 3, "Tests: the spec testsuite").
//!
//! The suite is read from `$MULTIMEM_TESTSUITE` or `../shared/testsuite`
//! relative to the repository root. When it is missing the tests fail under
//! `CI=true`; elsewhere they return at once, and `./test.sh` lists the suite
//! under "NOT RUN" at its end (`multimem_test_harness::skip`).
//!
//! Passes, each one test per directory:
//! - `identity`: the rewrite machinery alone (modules re-encoded as
//!   `binary`, not linked). Must pass, since the unmodified files pass in
//!   wasmtime 48 with loose error messages (testsuite/README.md); a failure
//!   here is a harness or engine problem, not a linker bug.
//! - `alone`: each module linked on its own.
//! - `with_runtime`: each module linked after an unrelated module (own
//!   memory, table, globals, tag, segments, GC types, start function; first,
//!   so every index space of the spec module shifts) and `runtime.wasm` (as
//!   `multimem`), exporting only the spec module's exports.
//! - `with_runtime_..._gc`: the same with dead-code removal on; whatever the
//!   script can reach must survive it (and the runtime's unexported
//!   functions must not).
//!
//! Every link is done twice and must give identical bytes.
//!
//! Every failure after linking is a linker bug; the test lists them all as
//! `file:line: message` and fails. Nothing is skipped.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use multimem_tests::spec_suite;
use multimem_tests::wast_link::{self, Failure};

/// Where the suite is, or `None` after recording that it did not run.
fn suite_dir() -> Option<PathBuf> {
    spec_suite::dir("spec testsuite (tests/tests/spec_testsuite.rs)")
}

/// How a pass turns one spec module into what the script instantiates.
#[derive(Clone, Copy, Debug)]
enum Pass {
    Identity,
    Alone,
    WithRuntime,
    /// `WithRuntime` with dead-code removal on: what the script can reach
    /// (the spec module's exports, start functions, active segments) must
    /// survive.
    WithRuntimeGc,
}

/// Name of the spec module in the link (chosen so no spec import uses it).
const SPEC: &str = "multimem_spec_module";
/// Name of the unrelated module in the link.
const UNRELATED: &str = "multimem_unrelated";
/// Name of runtime.wasm in the link (what apps import the runtime API from).
const RUNTIME: &str = multimem_linker::RUNTIME_MODULE;

/// A module unrelated to any spec module, linked first so that every index
/// space of the spec module shifts: types (a GC rec group), functions,
/// tables, memories, globals, tags, element and data segments. Its start
/// function writes its own memory and global, which no spec test can see.
const UNRELATED_WAT: &str = r#"
(module
  (rec (type $s (struct (field (mut i32)))) (type $a (array (mut i8))))
  (type $ft (func (param i32) (result i32)))
  (memory 1 2)
  (table 4 funcref)
  (global $g (mut i32) (i32.const 7))
  (global $g64 i64 (i64.const 9))
  (tag $t (param i32))
  (func $inc (type $ft) (i32.add (local.get 0) (i32.const 1)))
  (func $gc (result i32) (struct.get $s 0 (struct.new $s (i32.const 5))))
  (func $bytes (result i32) (array.len (array.new $a (i32.const 0) (i32.const 3))))
  (func $throws (throw $t (i32.const 1)))
  (func $start
    (global.set $g (call $inc (global.get $g)))
    (i32.store (i32.const 16) (call $gc))
    (memory.init $passive (i32.const 32) (i32.const 0) (i32.const 4))
    (data.drop $passive))
  (start $start)
  (elem (i32.const 0) $inc)
  (elem $fns funcref (ref.func $gc) (ref.func $bytes) (ref.func $throws))
  (data (i32.const 0) "unrelated")
  (data $passive "pass"))
"#;

/// The link step of `pass` for one module's bytes.
fn link(pass: Pass, unrelated: &[u8], spec: &[u8]) -> Result<Vec<u8>, String> {
    use multimem_linker::{Config, Linker};
    let mut config = Config::default();
    if let Pass::WithRuntime | Pass::WithRuntimeGc = pass {
        config = config.gc(matches!(pass, Pass::WithRuntimeGc));
        // Only the spec module's exports, so runtime and unrelated names
        // cannot clash with them.
        for payload in wasmparser::Parser::new(0).parse_all(spec) {
            if let Ok(wasmparser::Payload::ExportSection(exports)) = payload {
                for export in exports {
                    let export = export.map_err(|e| format!("reading spec exports: {e}"))?;
                    config = config.export(SPEC, export.name, None);
                }
            }
        }
    }
    let mut linker = Linker::new(config);
    let add = |linker: &mut Linker, name: &str, bytes: &[u8]| {
        linker.add_module(name, bytes).map_err(|e| format!("add_module({name}): {e}"))
    };
    match pass {
        Pass::Identity => return Ok(spec.to_vec()),
        Pass::Alone => add(&mut linker, SPEC, spec)?,
        Pass::WithRuntime | Pass::WithRuntimeGc => {
            add(&mut linker, UNRELATED, unrelated)?;
            add(&mut linker, RUNTIME, multimem_runtime_wasm::RUNTIME_WASM)?;
            add(&mut linker, SPEC, spec)?;
        }
    }
    let out = linker.link().map_err(|e| format!("{e} ({:?})", e.kind()))?;
    // Byte-for-byte deterministic output, on ~200 real modules.
    let again = linker.link().map_err(|e| format!("second link: {e}"))?;
    if again.wasm != out.wasm {
        return Err("linking the same inputs twice gave different bytes".into());
    }
    if let Pass::WithRuntime = pass {
        // The script can only see the spec module's exports; make sure the
        // other two inputs really are in the output (so their index spaces
        // did shift the spec module's), or this pass would test nothing.
        let (spec_counts, out_counts) = (defined_counts(spec)?, defined_counts(&out.wasm)?);
        // The unrelated module defines 1 memory, 5 functions, 1 table and
        // 1 tag; the runtime at least its own memory and some functions.
        let min = [spec_counts[0] + 2, spec_counts[1] + 6, spec_counts[2] + 1, spec_counts[3] + 1];
        if (0..4).any(|i| out_counts[i] < min[i]) {
            return Err(format!(
                "the linked module lacks the unrelated module or the runtime: \
                 defined (memories, functions, tables, tags) = {out_counts:?}, expected at least {min:?}"
            ));
        }
    }
    if let Pass::WithRuntimeGc = pass {
        // Dead-code removal must have run: the runtime's functions are not
        // exported, so (almost) none of them may survive.
        let all = defined_counts(spec)?[1]
            + defined_counts(unrelated)?[1]
            + defined_counts(multimem_runtime_wasm::RUNTIME_WASM)?[1];
        let kept = defined_counts(&out.wasm)?[1];
        if kept >= all {
            return Err(format!("gc(true) removed nothing: {kept} of {all} functions kept"));
        }
    }
    Ok(out.wasm)
}

/// (memories, functions, tables, tags) that a module defines (imports are
/// not counted: the linker may deduplicate identical ones).
fn defined_counts(wasm: &[u8]) -> Result<[u32; 4], String> {
    use wasmparser::Payload;
    let mut c = [0u32; 4];
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| format!("reading the linked module: {e}"))? {
            Payload::MemorySection(s) => c[0] += s.count(),
            Payload::FunctionSection(s) => c[1] += s.count(),
            Payload::TableSection(s) => c[2] += s.count(),
            Payload::TagSection(s) => c[3] += s.count(),
            _ => {}
        }
    }
    Ok(c)
}

/// An `env` module with a `memory` export, for the `env.memory` import the
/// linker adds when the runtime's intrinsics need an external memory and no
/// input imports one. One line, so the script's line numbers stay.
const ENV_PRELUDE: &str = r#"(module $multimem_env (memory (export "memory") 1)) (register "env" $multimem_env) "#;

/// Runs one file through `pass`; the failures (none if it passes) and how
/// many modules went through the link step.
fn check_file(engine: &wasmtime::Engine, pass: Pass, unrelated: &[u8], path: &Path) -> (Vec<Failure>, usize) {
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            return (vec![Failure { line: 0, message: format!("reading: {e}") }], 0);
        }
    };
    let prelude = match pass {
        Pass::WithRuntime | Pass::WithRuntimeGc => ENV_PRELUDE,
        Pass::Identity | Pass::Alone => "",
    };
    let mut linked = 0;
    let rewritten = wast_link::rewrite(&source, prelude, &mut |bytes| {
        linked += 1;
        link(pass, unrelated, bytes)
    });
    let text = match rewritten {
        Ok(text) => text,
        Err(failures) => return (failures, linked),
    };
    let name = path.file_name().unwrap().to_string_lossy();
    // MULTIMEM_WAST_DUMP=DIR keeps the rewritten scripts for debugging.
    if let Some(dir) = std::env::var_os("MULTIMEM_WAST_DUMP") {
        let dump = Path::new(&dir).join(format!("{pass:?}-{name}"));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dump, &text);
    }
    let failures = match wast_link::run_script(engine, &name, &text) {
        Ok(()) => Vec::new(),
        Err(mut failure) => {
            // Tell linker bugs from an environment problem: does the
            // unmodified file pass here?
            if let Err(base) = wast_link::run_script(engine, &name, &source) {
                failure.message = format!(
                    "{}\n      (the UNMODIFIED file fails too, at line {}: not a linker bug)",
                    failure.message, base.line
                );
            }
            vec![failure]
        }
    };
    (failures, linked)
}

/// Runs every file of `sub` through `pass` on two threads and fails with a
/// list of every failing directive.
fn run_pass(sub: &str, pass: Pass) {
    let Some(suite) = suite_dir() else { return };
    let files = spec_suite::wast_files(&suite, sub);
    let engine = wast_link::engine().expect("wasmtime engine");
    let unrelated = wat::parse_str(UNRELATED_WAT).expect("unrelated module");
    let next = Mutex::new(files.iter());
    let report = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let Some(path) = next.lock().unwrap().next() else {
                        break;
                    };
                    let (failures, linked) = check_file(&engine, pass, &unrelated, path);
                    let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
                    report.lock().unwrap().push((name, failures, linked));
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap();
    report.sort_by(|a, b| a.0.cmp(&b.0));
    let failed: Vec<_> = report.iter().filter(|(_, f, _)| !f.is_empty()).collect();
    let linked: usize = report.iter().map(|(_, _, n)| n).sum();
    let mut summary = String::new();
    for (name, failures, _) in &failed {
        for f in failures.iter() {
            summary.push_str(&format!("  {name}:{}: {}\n", f.line, f.message.replace('\n', "\n      ")));
        }
    }
    eprintln!(
        "{sub} {pass:?}: {} of {} files pass; {linked} modules went through the link step",
        report.len() - failed.len(),
        report.len()
    );
    // Every file of the suite defines modules; none linked means the
    // rewrite found nothing, and the pass would prove nothing.
    assert!(linked >= report.len(), "only {linked} modules linked in {} files", report.len());
    assert!(
        failed.is_empty(),
        "{} of {} files in {sub}/ fail in pass {pass:?}:\n{summary}",
        failed.len(),
        report.len()
    );
}

#[test]
fn multi_memory_identity() {
    run_pass("multi-memory", Pass::Identity);
}

#[test]
fn gc_identity() {
    run_pass("gc", Pass::Identity);
}

#[test]
fn multi_memory_linked_alone() {
    run_pass("multi-memory", Pass::Alone);
}

#[test]
fn gc_linked_alone() {
    run_pass("gc", Pass::Alone);
}

#[test]
fn multi_memory_linked_with_runtime_and_unrelated_module() {
    run_pass("multi-memory", Pass::WithRuntime);
}

#[test]
fn gc_linked_with_runtime_and_unrelated_module() {
    run_pass("gc", Pass::WithRuntime);
}

#[test]
fn multi_memory_linked_with_runtime_and_unrelated_module_gc() {
    run_pass("multi-memory", Pass::WithRuntimeGc);
}

#[test]
fn gc_linked_with_runtime_and_unrelated_module_gc() {
    run_pass("gc", Pass::WithRuntimeGc);
}

/// The harness runs each file's assertions against the bytes the link step
/// returns: a link step that loses the module's memory contents (here: the
/// real linker's output with every data segment overwritten) fails real files.
#[test]
fn a_wrong_link_step_fails_real_files() {
    let Some(suite) = suite_dir() else { return };
    let engine = wast_link::engine().expect("wasmtime engine");
    let unrelated = wat::parse_str(UNRELATED_WAT).expect("unrelated module");
    for file in ["multi-memory/memory_copy0.wast", "multi-memory/load0.wast", "gc/array_new_data.wast"] {
        let source = std::fs::read_to_string(suite.join(file)).expect("reading the file");
        let text = wast_link::rewrite(&source, "", &mut |bytes| {
            let mut wasm = link(Pass::Alone, &unrelated, bytes)?;
            overwrite_data(&mut wasm);
            Ok(wasm)
        })
        .unwrap_or_else(|f| panic!("{file}: rewrite failed: {f:?}"));
        let result = wast_link::run_script(&engine, file, &text);
        assert!(result.is_err(), "{file} passed although its data segments were overwritten");
    }
}

/// Overwrites the bytes of every data segment with `0x55`, keeping sizes.
fn overwrite_data(wasm: &mut [u8]) {
    let mut ranges = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::DataSection(reader)) = payload {
            for data in reader.into_iter().flatten() {
                ranges.push(data.range.end - data.data.len()..data.range.end);
            }
        }
    }
    for r in ranges {
        wasm[r].fill(0x55);
    }
}
