//! Runs every fixture in `tests/fixtures/*.wat` through the real
//! `multimem-link` binary and then, when linking must succeed, runs the
//! output in wasmtime (multi-memory, GC, threads, exceptions, SIMD on).
//!
//! A fixture is one file in the style of wasm-tools' `tests/cli`: a header
//! of `;;` directives, then several `(module $name ...)` forms, each an
//! input named by its `$name` (passed in file order). Directives:
//!
//! - `;; RUN: FLAGS...`           extra CLI flags (`--gc`, `--export m.f`, ...)
//! - `;; INVOKE: f(i32:1 i64:2) -> i32:3`  call export `f`, compare results
//! - `;; TRAP: f(...) ~ TEXT`      the call traps, message contains TEXT
//! - `;; CHECK-WAT: TEXT`          the output's text format contains TEXT
//! - `;; CHECK-NO-WAT: TEXT`       ... does not contain TEXT
//! - `;; CHECK-WAT-COUNT: N TEXT`  ... contains TEXT exactly N times
//! - `;; CHECK-IMPORTS: a.b c.d`   the output's imports, exactly, in order
//! - `;; CHECK-EXPORTS: x y`       the output's exports, exactly, in order
//! - `;; CHECK-FIRST-SECTION: N`   the output's first section is the custom
//!   section named N
//! - `;; WARN: TEXT`               a warning on stderr contains TEXT
//! - `;; INSTANTIATE-FAILS: TEXT`  instantiating the output fails, the error
//!   contains TEXT (then no call directive may follow)
//! - `;; ERROR`                    linking fails with exit code 1; stderr must
//!   equal `<fixture>.stderr` (`MULTIMEM_BLESS=1` rewrites it)
//!
//! Every fixture that links is linked a second time with `--gc` toggled
//! (added when `RUN:` lacks it, removed when it has it), and a third time
//! with `--single-memory`, run in an engine with multi-memory off (the
//! reserved module from multimem-host); the behaviour directives
//! (`INVOKE`, `TRAP`, `INSTANTIATE-FAILS`) must hold for those outputs too:
//! dead-code removal and the single-memory build never change what the
//! exports do. The text, import, export and warning checks apply to the
//! first link only. `;; NO-SINGLE-MEMORY: why` skips the third link (for a
//! fixture whose layout the single-memory build refuses, with the reason).
//!
//! `MULTIMEM_LINK_BIN=path` runs the fixtures against another build of
//! `multimem-link` (each fix's fixture must fail with the build before it).
//!
//! Imports left in the output are satisfied by the harness: memories,
//! tables and globals are created fresh (zeroed), functions return zeros.

use std::path::{Path, PathBuf};
use std::process::Command;

use multimem_test_harness::engine;
use multimem_test_harness::instance::Imports;
use wasmtime::{Engine, Instance, Module, Store, Val};

struct Fixture {
    path: PathBuf,
    flags: Vec<String>,
    modules: Vec<(String, String)>,
    directives: Vec<(String, String)>,
}

/// Splits the top-level `(module ...)` forms, skipping comments and strings.
fn split_modules(src: &str) -> Result<Vec<(String, String)>, String> {
    let b = src.as_bytes();
    let (mut i, mut depth, mut start) = (0usize, 0i32, 0usize);
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b';' if b.get(i + 1) == Some(&b';') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' if b.get(i + 1) == Some(&b';') => {
                let end = src[i..].find(";)").ok_or("unterminated block comment")?;
                i += end + 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    let form = &src[start..=i];
                    let rest = form.trim_start_matches('(').trim_start();
                    let rest = rest.strip_prefix("module").ok_or("top-level form is not a module")?.trim_start();
                    let name = rest
                        .strip_prefix('$')
                        .map(|r| r.split(|c: char| c.is_whitespace() || c == ')').next().unwrap_or("").to_string())
                        .ok_or("every module needs a $name")?;
                    out.push((name, form.to_string()));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(out)
}

fn load(path: &Path) -> Fixture {
    let src = std::fs::read_to_string(path).unwrap();
    let mut flags = Vec::new();
    let mut directives = Vec::new();
    for line in src.lines() {
        let Some(d) = line.strip_prefix(";; ") else { continue };
        let (key, val) = d.split_once(':').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((d.trim(), ""));
        if key == "RUN" {
            flags.extend(val.split_whitespace().map(str::to_string));
        } else if key.chars().all(|c| c.is_ascii_uppercase() || c == '-') && !key.is_empty() {
            directives.push((key.to_string(), val.to_string()));
        }
    }
    let modules = split_modules(&src).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Fixture { path: path.to_path_buf(), flags, modules, directives }
}

fn parse_val(s: &str) -> Result<Val, String> {
    let (ty, v) = s.split_once(':').ok_or_else(|| format!("value `{s}` must be TYPE:VALUE"))?;
    let e = |_: std::num::ParseIntError| format!("bad value `{s}`");
    let ef = |_: std::num::ParseFloatError| format!("bad value `{s}`");
    Ok(match ty {
        "i32" => Val::I32(if let Some(h) = v.strip_prefix("0x") {
            u32::from_str_radix(h, 16).map_err(e)? as i32
        } else {
            v.parse().map_err(e)?
        }),
        "i64" => Val::I64(if let Some(h) = v.strip_prefix("0x") {
            u64::from_str_radix(h, 16).map_err(e)? as i64
        } else {
            v.parse().map_err(e)?
        }),
        "f32" => Val::F32(v.parse::<f32>().map_err(ef)?.to_bits()),
        "f64" => Val::F64(v.parse::<f64>().map_err(ef)?.to_bits()),
        _ => return Err(format!("unknown type in `{s}`")),
    })
}

fn show(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32:{x}"),
        Val::I64(x) => format!("i64:{x}"),
        Val::F32(x) => format!("f32:{}", f32::from_bits(*x)),
        Val::F64(x) => format!("f64:{}", f64::from_bits(*x)),
        other => format!("{other:?}"),
    }
}

/// `f(a b) -> r s` into (name, args, results).
fn parse_call(s: &str) -> Result<(String, Vec<Val>, Vec<Val>), String> {
    let (call, results) = match s.split_once("->") {
        Some((c, r)) => (c.trim(), r.trim()),
        None => (s.trim(), ""),
    };
    let (name, args) = call.split_once('(').ok_or_else(|| format!("call `{s}` needs (...)"))?;
    let args = args.strip_suffix(')').ok_or_else(|| format!("call `{s}` needs a closing )"))?;
    let args = args.split_whitespace().map(parse_val).collect::<Result<_, _>>()?;
    let results = results.split_whitespace().map(parse_val).collect::<Result<_, _>>()?;
    Ok((name.trim().to_string(), args, results))
}

/// Instantiates `wasm` with a fresh default for every import (the shared
/// harness; a single-memory build gets its lowered memories and the
/// reserved module from multimem-host).
fn instantiate(engine: &Engine, wasm: &[u8]) -> Result<(Store<()>, Instance), String> {
    let i = Imports::defaults(engine, wasm)
        .and_then(|i| i.instantiate())
        .map_err(|e| format!("instantiation failed: {e:?}"))?;
    Ok((i.store, i.instance))
}

/// The engine for single-memory builds: the harness's full engine with
/// multi-memory off.
fn single_memory_engine() -> Engine {
    let mut c = engine::full_config();
    c.wasm_multi_memory(false);
    Engine::new(&c).unwrap()
}

/// The linker under test: this package's binary, or `MULTIMEM_LINK_BIN`
/// (to check that a fixture fails with another build, such as the one
/// before a fix).
fn linker() -> std::ffi::OsString {
    std::env::var_os("MULTIMEM_LINK_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_multimem-link").into())
}

/// What one run of the CLI gave: its exit code, the output bytes on
/// success, and stderr (with the temporary directory written `$DIR`).
type Linked = (Option<i32>, Option<Vec<u8>>, String);

/// Links `f`'s modules with `flags` through the CLI.
fn link(f: &Fixture, flags: &[String], tag: &str) -> Result<Linked, String> {
    let dir = std::env::temp_dir().join(format!(
        "multimem-fixture-{}-{}-{tag}",
        std::process::id(),
        f.path.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut args = Vec::new();
    for (name, text) in &f.modules {
        let p = dir.join(format!("{name}.wat"));
        std::fs::write(&p, text).map_err(|e| e.to_string())?;
        args.push(format!("{name}={}", p.display()));
    }
    let out_path = dir.join("out.wasm");
    args.extend(flags.iter().cloned());
    args.push("-o".into());
    args.push(out_path.display().to_string());
    let out = Command::new(linker()).args(&args).output().map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&dir.display().to_string(), "$DIR");
    let wasm = if out.status.success() { Some(std::fs::read(&out_path).map_err(|e| e.to_string())?) } else { None };
    let _ = std::fs::remove_dir_all(&dir);
    Ok((out.status.code(), wasm, stderr))
}

fn run_fixture(engine: &Engine, f: &Fixture) -> Result<(), String> {
    let (code, wasm, stderr) = link(f, &f.flags, "main")?;
    if f.directives.iter().any(|d| d.0 == "ERROR") {
        if code != Some(1) {
            return Err(format!("expected exit code 1, got {code:?}; stderr:\n{stderr}"));
        }
        let golden = PathBuf::from(format!("{}.stderr", f.path.display()));
        if std::env::var_os("MULTIMEM_BLESS").is_some() {
            std::fs::write(&golden, &stderr).map_err(|e| e.to_string())?;
        }
        let want = std::fs::read_to_string(&golden).map_err(|e| format!("missing {}: {e}", golden.display()))?;
        if want.trim() != stderr.trim() {
            return Err(format!("stderr differs from {}:\n--- want\n{want}\n--- got\n{stderr}", golden.display()));
        }
        return Ok(());
    }
    let wasm = wasm.ok_or_else(|| format!("link failed ({code:?}):\n{stderr}"))?;
    check(engine, f, &wasm, &stderr, true)?;
    // The same behaviour with --gc toggled.
    let gc = String::from("--gc");
    let toggled: Vec<String> = if f.flags.contains(&gc) {
        f.flags.iter().filter(|x| **x != gc).cloned().collect()
    } else {
        f.flags.iter().cloned().chain(std::iter::once(gc)).collect()
    };
    let (code, wasm, stderr) = link(f, &toggled, "gc-toggled")?;
    let wasm = wasm.ok_or_else(|| format!("with flags {toggled:?}: link failed ({code:?}):\n{stderr}"))?;
    check(engine, f, &wasm, &stderr, false).map_err(|e| format!("with flags {toggled:?}: {e}"))?;
    // The single-memory build behaves the same, with multi-memory off.
    if f.directives.iter().any(|d| d.0 == "NO-SINGLE-MEMORY") {
        return Ok(());
    }
    let single: Vec<String> = f.flags.iter().cloned().chain(std::iter::once("--single-memory".to_string())).collect();
    let (code, wasm, stderr) = link(f, &single, "single-memory")?;
    let wasm = wasm.ok_or_else(|| format!("with flags {single:?}: link failed ({code:?}):\n{stderr}"))?;
    check(&single_memory_engine(), f, &wasm, &stderr, false).map_err(|e| format!("with flags {single:?}: {e}"))
}

/// Checks the directives against the linked `wasm`: all of them, or with
/// `all` off only those about behaviour.
fn check(engine: &Engine, f: &Fixture, wasm: &[u8], stderr: &str, all: bool) -> Result<(), String> {
    let wat = wasmprinter::print_bytes(wasm).map_err(|e| e.to_string())?;
    let module = Module::new(engine, wasm).map_err(|e| format!("wasmtime rejects the output: {e:?}"))?;
    if let Some((_, needle)) = f.directives.iter().find(|d| d.0 == "INSTANTIATE-FAILS") {
        return match instantiate(engine, wasm) {
            Ok(_) => Err("instantiation succeeded".to_string()),
            Err(e) if e.contains(needle.as_str()) => Ok(()),
            Err(e) => Err(format!("instantiation failed with `{e}`, expected `{needle}`")),
        };
    }
    let (mut store, inst) = instantiate(engine, wasm)?;
    for (key, val) in &f.directives {
        let behaviour = matches!(key.as_str(), "INVOKE" | "TRAP");
        if !all && !behaviour {
            continue;
        }
        match key.as_str() {
            "WARN" => {
                if !stderr.contains(val.as_str()) {
                    return Err(format!("no warning containing `{val}`; stderr:\n{stderr}"));
                }
            }
            "CHECK-WAT" => {
                if !wat.contains(val.as_str()) {
                    return Err(format!("output text lacks `{val}`:\n{wat}"));
                }
            }
            "CHECK-WAT-COUNT" => {
                let (n, text) = val.split_once(' ').ok_or("CHECK-WAT-COUNT: N TEXT")?;
                let n: usize = n.parse().map_err(|_| "CHECK-WAT-COUNT: N TEXT")?;
                let got = wat.matches(text).count();
                if got != n {
                    return Err(format!("output text has `{text}` {got} times, want {n}:\n{wat}"));
                }
            }
            "CHECK-NO-WAT" => {
                if wat.contains(val.as_str()) {
                    return Err(format!("output text contains `{val}`:\n{wat}"));
                }
            }
            "CHECK-IMPORTS" => {
                let got: Vec<String> = module.imports().map(|i| format!("{}.{}", i.module(), i.name())).collect();
                let want: Vec<String> = val.split_whitespace().map(str::to_string).collect();
                if got != want {
                    return Err(format!("imports: want {want:?}, got {got:?}"));
                }
            }
            "CHECK-FIRST-SECTION" => {
                let first = wasmparser::Parser::new(0).parse_all(wasm).nth(1);
                match first {
                    Some(Ok(wasmparser::Payload::CustomSection(c))) if c.name() == val.as_str() => {}
                    other => return Err(format!("first section is not `{val}`: {other:?}")),
                }
            }
            "CHECK-EXPORTS" => {
                let got: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
                let want: Vec<String> = val.split_whitespace().map(str::to_string).collect();
                if got != want {
                    return Err(format!("exports: want {want:?}, got {got:?}"));
                }
            }
            "INVOKE" | "TRAP" => {
                let (call, needle) = match (key.as_str(), val.split_once('~')) {
                    ("TRAP", Some((c, n))) => (c.trim(), n.trim()),
                    _ => (val.as_str(), ""),
                };
                let (name, params, want) = parse_call(call)?;
                let func = inst.get_func(&mut store, &name).ok_or_else(|| format!("no exported function `{name}`"))?;
                let n = func.ty(&store).results().len();
                let mut results = vec![Val::I32(0); n];
                let r = func.call(&mut store, &params, &mut results);
                match (key.as_str(), r) {
                    ("INVOKE", Ok(())) => {
                        let got: Vec<String> = results.iter().map(show).collect();
                        let want: Vec<String> = want.iter().map(show).collect();
                        if got != want {
                            return Err(format!("{call}: want {want:?}, got {got:?}"));
                        }
                    }
                    ("INVOKE", Err(e)) => return Err(format!("{call} trapped: {e:?}")),
                    (_, Ok(())) => return Err(format!("{call} did not trap")),
                    (_, Err(e)) => {
                        let msg = format!("{e:?}");
                        if !msg.contains(needle) {
                            return Err(format!("{call} trapped with `{msg}`, expected `{needle}`"));
                        }
                    }
                }
            }
            "ERROR" | "NO-SINGLE-MEMORY" => {}
            other => return Err(format!("unknown directive `{other}`")),
        }
    }
    Ok(())
}

#[test]
fn fixtures() {
    let engine = engine::full();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "fixtures missing from {}", dir.display());
    let filter = std::env::var("FIXTURE").ok();
    let mut failures = Vec::new();
    for p in &paths {
        if filter.as_ref().is_some_and(|f| !p.to_string_lossy().contains(f.as_str())) {
            continue;
        }
        let fx = load(p);
        if let Err(e) = run_fixture(&engine, &fx) {
            failures.push(format!("FAIL {}: {e}", p.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures failed:\n{}", failures.len(), paths.len(), failures.join("\n\n"));
}
