//! The WebAssembly spec testsuite (`multi-memory/` and `gc/`) as
//! single-memory builds (docs/ABI.md, "Single-memory build"), run in
//! wasmtime with multi-memory disabled, against the same files as
//! multi-memory builds.
//!
//! The suite lives outside the repository (`../shared/testsuite`, or
//! `$MULTIMEM_TESTSUITE`); when it is missing the tests fail under
//! `CI=true` and elsewhere are listed under "NOT RUN" by `./test.sh`
//! (`multimem_test_harness::skip`).
//!
//! Every file runs twice through the runner of `multimem_tests::wast_run`
//! (wasmtime-wast cannot instantiate a single-memory build), with every
//! module the script instantiates linked first:
//! - *multi-memory build*: linked as usual, run in the harness's full
//!   engine (`multimem_test_harness::engine::full`);
//! - *single-memory build*: the same link with `single_memory(true)`, run
//!   in the same configuration with `wasm_multi_memory(false)`; its
//!   reserved imports and lowered memories come from
//!   `multimem_host::lowered::LoweredMemories`.
//!
//! Two link shapes, each one test per directory:
//! - `alone`: the spec module on its own; memory 0 stays native, every
//!   other memory is lowered;
//! - `with_runtime`: an unrelated module (two memories, data, a start
//!   function copying between them) first, then `runtime.wasm`, then the
//!   spec module, exporting only the spec module's exports. The runtime's
//!   memory is the native one, so every memory of the spec module is
//!   lowered, and every index space of the spec module is shifted.
//!
//! Checks: every directive passes for the multi-memory build (the
//! wasmtime-wast run of `spec_testsuite.rs` passes the same files, so a
//! failure there is this runner's), and the single-memory build has the
//! same outcome for every directive, so every assertion that passes in
//! multi-memory mode passes. A link the single-memory build refuses (a
//! 64-bit or custom-page memory cannot be lowered, by design) fails the
//! test with the linker's error at the module's line: the suite has no
//! such memory (no `memory i64` or `pagesize` in either directory), so no
//! refusal is expected and none is skipped. `assert_invalid` and
//! `assert_malformed` test the engine, not the linker: as in
//! `spec_testsuite.rs`, their modules are not linked and must be rejected
//! by the full engine, in both modes.
//!
//! Each test prints its counts (files, directives, assertions passed per
//! build, modules linked, single-memory modules that call lowered
//! memories) and its time.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use multimem_tests::spec_suite;
use multimem_tests::wast_run::{self, Report};
use wasmtime::{Engine, Linker, Store};

/// Where the suite is, or `None` after recording that it did not run.
fn suite_dir() -> Option<PathBuf> {
    spec_suite::dir("spec testsuite, single-memory builds (tests/tests/spec_single_memory.rs)")
}

/// Which modules a spec module is linked with.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Alone,
    WithRuntime,
}

/// Which build of the link.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Build {
    Multi,
    Single,
}

/// Name of the spec module in the link (no spec import uses it).
const SPEC: &str = "multimem_spec_module";
/// Name of the unrelated module in the link.
const UNRELATED: &str = "multimem_unrelated";

/// A module unrelated to any spec module, linked first: it shifts every
/// index space of the spec module, and in the single-memory build its two
/// memories are lowered, so its data segments and its start function's
/// copy between them go through the reserved module when every spec
/// module is instantiated.
const UNRELATED_WAT: &str = r#"
(module
  (rec (type $s (struct (field (mut i32)))) (type $a (array (mut i8))))
  (memory $m0 1 2)
  (memory $m1 1)
  (table 2 funcref)
  (global $g (mut i32) (i32.const 7))
  (tag $t (param i32))
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $gc (result i32) (struct.get $s 0 (struct.new $s (i32.const 5))))
  (func $start
    (global.set $g (call $inc (global.get $g)))
    (memory.copy $m1 $m0 (i32.const 100) (i32.const 0) (i32.const 9))
    (i32.store $m1 (i32.const 16) (call $gc))
    (memory.init $m0 $passive (i32.const 32) (i32.const 0) (i32.const 4))
    (data.drop $passive))
  (start $start)
  (elem (i32.const 0) $inc)
  (data (memory $m0) (i32.const 0) "unrelated")
  (data (memory $m1) (i32.const 0) "second")
  (data $passive "pass"))
"#;

/// Links one spec module in `shape` as `build`.
fn link(shape: Shape, build: Build, unrelated: &[u8], spec: &[u8]) -> Result<Vec<u8>, String> {
    use multimem_linker::{Config, Linker};
    let mut config = Config::default().single_memory(build == Build::Single);
    if let Shape::WithRuntime = shape {
        // Only the spec module's exports, so that runtime and unrelated
        // names cannot clash with them.
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
    let mut add =
        |name: &str, bytes: &[u8]| linker.add_module(name, bytes).map_err(|e| format!("add_module({name}): {e}"));
    if let Shape::WithRuntime = shape {
        add(UNRELATED, unrelated)?;
        add(multimem_linker::RUNTIME_MODULE, multimem_runtime_wasm::RUNTIME_WASM)?;
    }
    add(SPEC, spec)?;
    let out = linker.link().map_err(|e| format!("{e} ({:?})", e.kind()))?;
    if build == Build::Single && memory_count(&out.wasm)? > 1 {
        return Err("the single-memory build has more than one memory".into());
    }
    Ok(out.wasm)
}

/// How many memories (imported and defined) a module has.
fn memory_count(wasm: &[u8]) -> Result<u32, String> {
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| format!("reading the linked module: {e}"))? {
            wasmparser::Payload::MemorySection(s) => n += s.count(),
            wasmparser::Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    let import = import.map_err(|e| format!("reading the linked module: {e}"))?;
                    n += u32::from(matches!(import.ty, wasmparser::TypeRef::Memory(_)));
                }
            }
            _ => {}
        }
    }
    Ok(n)
}

/// The engines of the two builds.
struct Engines {
    full: Engine,
    single: Engine,
}

impl Engines {
    fn new() -> Engines {
        let mut config = multimem_test_harness::engine::full_config();
        config.wasm_multi_memory(false);
        Engines {
            full: multimem_test_harness::engine::full(),
            single: Engine::new(&config).expect("the engine with multi-memory off"),
        }
    }
}

/// The imports a link with the runtime adds: `env.memory`, for the
/// runtime's intrinsics that need an external memory when no input
/// imports one.
fn env_memory(store: &mut Store<()>, linker: &mut Linker<()>) -> wasmtime::Result<()> {
    let memory = wasmtime::Memory::new(&mut *store, wasmtime::MemoryType::new(1, None))?;
    linker.define(&*store, "env", "memory", memory)?;
    Ok(())
}

fn no_imports(_: &mut Store<()>, _: &mut Linker<()>) -> wasmtime::Result<()> {
    Ok(())
}

/// Runs one file as `build` of `shape`, every module linked by `link_step`.
fn run_file(
    engines: &Engines,
    shape: Shape,
    build: Build,
    source: &str,
    link_step: &mut wast_run::LinkStep<'_>,
) -> Result<Report, String> {
    let options = wast_run::Options {
        engine: if build == Build::Single { &engines.single } else { &engines.full },
        reference: &engines.full,
        setup: match shape {
            Shape::Alone => &no_imports,
            Shape::WithRuntime => &env_memory,
        },
    };
    wast_run::run(source, &options, link_step)
}

/// Both builds' reports of one file.
struct FileResult {
    name: String,
    multi: Result<Report, String>,
    single: Result<Report, String>,
}

/// What went wrong with one file: its multi-memory build fails somewhere,
/// or the single-memory build's outcomes differ from it.
fn problems(file: &FileResult) -> Vec<String> {
    let name = &file.name;
    let (multi, single) = match (&file.multi, &file.single) {
        (Ok(m), Ok(s)) => (m, s),
        (Err(e), _) | (_, Err(e)) => return vec![format!("{name}: {e}")],
    };
    let mut out = Vec::new();
    for r in multi.failures() {
        out.push(format!(
            "{name}:{}: {} fails for the MULTI-memory build (a runner or linker problem): {}",
            r.line,
            r.directive,
            r.outcome.as_ref().unwrap_err()
        ));
    }
    if multi.records.len() != single.records.len() {
        out.push(format!(
            "{name}: {} directives ran for one build, {} for the other",
            multi.records.len(),
            single.records.len()
        ));
        return out;
    }
    for (m, s) in multi.records.iter().zip(&single.records) {
        assert_eq!((m.line, m.directive), (s.line, s.directive), "{name}: the two runs disagree on the script");
        match (&m.outcome, &s.outcome) {
            (Ok(()), Err(e)) => out.push(format!(
                "{name}:{}: {} passes for the multi-memory build, fails for the SINGLE-memory build: {e}",
                s.line, s.directive
            )),
            (Err(_), Ok(())) => out.push(format!(
                "{name}:{}: {} fails for the multi-memory build, passes for the single-memory build",
                s.line, s.directive
            )),
            _ => {}
        }
    }
    out
}

/// Runs every file of `sub` in `shape`, both builds, on two threads, and
/// fails with every problem found.
fn run_pass(sub: &str, shape: Shape) {
    let Some(suite) = suite_dir() else { return };
    let started = Instant::now();
    let files = spec_suite::wast_files(&suite, sub);
    let engines = Engines::new();
    let unrelated = wat::parse_str(UNRELATED_WAT).expect("the unrelated module");
    let next = Mutex::new(files.iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(path) = next.lock().unwrap().next().cloned() {
                    let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
                    let source = std::fs::read_to_string(path).map_err(|e| format!("reading: {e}"));
                    let run = |build| {
                        let source = source.as_deref().map_err(Clone::clone)?;
                        run_file(&engines, shape, build, source, &mut |b| link(shape, build, &unrelated, b))
                    };
                    let result = FileResult { name, multi: run(Build::Multi), single: run(Build::Single) };
                    results.lock().unwrap().push(result);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.name.cmp(&b.name));

    let problems: Vec<String> = results.iter().flat_map(problems).collect();
    let reports = |pick: fn(&FileResult) -> &Result<Report, String>| {
        results.iter().filter_map(move |f| pick(f).as_ref().ok()).collect::<Vec<_>>()
    };
    let (multi, single) = (reports(|f| &f.multi), reports(|f| &f.single));
    let sum = |rs: &[&Report], f: fn(&Report) -> usize| rs.iter().map(|r| f(r)).sum::<usize>();
    let assertions = sum(&multi, |r| r.assertions().count());
    let lowered = sum(&single, |r| r.lowered);
    eprintln!(
        "{sub} {shape:?}: {} files, {} directives, {assertions} assertions; passed: multi-memory build {}, \
         single-memory build {}; {} modules linked per build, {lowered} single-memory instances call lowered \
         memories; {:.1} s",
        results.len(),
        sum(&multi, |r| r.records.len()),
        sum(&multi, Report::passed_assertions),
        sum(&single, Report::passed_assertions),
        sum(&multi, |r| r.linked),
        started.elapsed().as_secs_f64(),
    );
    assert!(problems.is_empty(), "{} problems in {sub}/ ({shape:?}):\n  {}", problems.len(), problems.join("\n  "));
    // Every file instantiates modules, and the multi-memory files use
    // memories other than the native one: the lowered path must have run.
    assert!(sum(&multi, |r| r.linked) >= results.len(), "fewer modules linked than files");
    if sub == "multi-memory" {
        assert!(lowered > 0, "no single-memory instance called a lowered memory: the lowering was not tested");
    }
}

#[test]
fn multi_memory_alone() {
    run_pass("multi-memory", Shape::Alone);
}

#[test]
fn gc_alone() {
    run_pass("gc", Shape::Alone);
}

#[test]
fn multi_memory_with_runtime_and_unrelated_module() {
    run_pass("multi-memory", Shape::WithRuntime);
}

#[test]
fn gc_with_runtime_and_unrelated_module() {
    run_pass("gc", Shape::WithRuntime);
}

/// The single-memory builds' values really are checked: with the bytes
/// the host applies to lowered memories (`multimem.segments`) overwritten,
/// files whose data lives in a lowered memory fail.
#[test]
fn a_wrong_single_memory_build_fails_real_files() {
    let Some(suite) = suite_dir() else { return };
    let engines = Engines::new();
    let unrelated = wat::parse_str(UNRELATED_WAT).expect("the unrelated module");
    for file in ["multi-memory/load1.wast", "multi-memory/memory_copy0.wast", "multi-memory/memory_init0.wast"] {
        let source = std::fs::read_to_string(suite.join(file)).expect("reading the file");
        let mut corrupted = 0;
        let report = run_file(&engines, Shape::Alone, Build::Single, &source, &mut |bytes| {
            let mut wasm = link(Shape::Alone, Build::Single, &unrelated, bytes)?;
            corrupted += overwrite_lowered_segments(&mut wasm);
            Ok(wasm)
        })
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(corrupted > 0, "{file}: no lowered segment to overwrite");
        assert!(report.failures().count() > 0, "{file} passed although its lowered memories' data was overwritten");
    }
}

/// Overwrites every segment's bytes in the `multimem.segments` section
/// (count, then index, length and bytes each; docs/ABI.md) with `0x55`;
/// returns how many segments it overwrote.
fn overwrite_lowered_segments(wasm: &mut [u8]) -> usize {
    let mut range = None;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload
            && c.name() == multimem_abi::SEGMENTS_SECTION
        {
            range = Some(c.data_offset()..c.data_offset() + c.data().len());
        }
    }
    let Some(range) = range else { return 0 };
    let section = &mut wasm[range];
    let u32_at = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap()) as usize;
    let count = u32_at(section, 0);
    let mut at = 4;
    for _ in 0..count {
        let len = u32_at(section, at + 4);
        section[at + 8..at + 8 + len].fill(0x55);
        at += 8 + len;
    }
    count
}
