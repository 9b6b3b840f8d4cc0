//! The `multimem-link` binary: on bad input every failure is one `error:`
//! line on stderr, exit code 1, and never a panic or backtrace; good input
//! is written as binary or text, over whatever file the output names.

#[path = "../../tests/common/mod.rs"]
mod common;
use common::*;

use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_multimem-link")).args(args).env("RUST_BACKTRACE", "1").output().unwrap()
}

fn dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("multimem-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, bytes: &[u8]) -> String {
    let p = dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// Asserts failure with exit 1 and a stderr containing `needle`, no panic.
fn fails(args: &[&str], needle: &str) {
    let out = cli(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "args {args:?}: stderr {stderr}");
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks `{needle}`: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "stderr: {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn help_documents_every_flag() {
    let out = cli(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--output",
        "--wat",
        "--with-runtime",
        "--runtime-variant",
        "--own-memory",
        "--validate-inputs",
        "--export",
        "--rename-conflicts",
        "--export-prefix",
        "--skip-conflicts",
        "--external-memory",
        "--gc",
        "--threads",
        "--name-prefix",
        "--strip-names",
        "--keep-dwarf",
        "--quiet",
        "--help",
        "--version",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

#[test]
fn links_binary_and_text_inputs() {
    let app = write("app.wat", APP.as_bytes());
    let rt = write("rt.wasm", &wasm(RT));
    let out = dir().join("ok.wasm");
    let o = cli(&[&format!("app={app}"), &format!("rt={rt}"), "--rename-conflicts", "-o", &out.display().to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    wasmparser::Validator::new_with_features(multimem_linker::features()).validate_all(&bytes).unwrap();
    // Text output goes to stdout and parses back.
    let o = cli(&[&format!("app={app}"), &format!("rt={rt}"), "--rename-conflicts", "--wat"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("(module"));
    let reparsed = wat::parse_str(&text).unwrap();
    wasmparser::Validator::new_with_features(multimem_linker::features()).validate_all(&reparsed).unwrap();
    assert_eq!(wasmprinter::print_bytes(&reparsed).unwrap(), text, "text output round-trips");
}

/// The output file: written over a longer old one, over a shorter one,
/// and over one of the (mapped) inputs; each time exactly the linked
/// bytes, as `-o -` prints them.
#[test]
fn output_overwrites_files_in_place_including_an_input() {
    let rt = write("rt-self.wasm", &wasm(RT));
    let app = write("app-self.wasm", &wasm(APP));
    let expected = cli(&[&format!("app={app}"), &format!("rt={rt}"), "--rename-conflicts", "-o", "-"]).stdout;
    assert!(!expected.is_empty());
    let out = dir().join("over.wasm").display().to_string();
    for old in [vec![0xaau8; expected.len() * 3], vec![1u8; 3]] {
        std::fs::write(&out, old).unwrap();
        let o = cli(&[&format!("app={app}"), &format!("rt={rt}"), "--rename-conflicts", "-o", &out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(std::fs::read(&out).unwrap(), expected);
    }
    // The input `app` is also the output.
    let o = cli(&[&format!("app={app}"), &format!("rt={rt}"), "--rename-conflicts", "-o", &app]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&app).unwrap(), expected);
}

#[test]
fn bad_inputs_exit_1_with_a_message() {
    let valid = wasm(APP);
    let rt = write("rt2.wasm", &wasm(RT));
    let rt_arg = format!("rt={rt}");
    let out = dir().join("x.wasm").display().to_string();
    // Truncated binary.
    let t = write("trunc.wasm", &valid[..valid.len() / 2]);
    fails(&[&format!("app={t}"), &rt_arg, "-o", &out], "module `app` is not a valid wasm module");
    // Not wasm at all (binary garbage).
    let g = write("garbage.bin", &[0xff, 0xfe, 0x00, 0x01, 0x80]);
    fails(&[&format!("app={g}"), "-o", &out], "neither a wasm binary");
    // Text that is not WAT.
    let n = write("notwat.wat", b"(module (func (i32.bogus)))");
    fails(&[&format!("app={n}"), "-o", &out], "is not valid WAT");
    // A module that parses but does not validate.
    let inv = write("invalid.wat", b"(module (func (result i32) (i64.const 1)))");
    fails(&[&format!("app={inv}"), "-o", &out], "type mismatch");
    // Missing file.
    fails(&["app=/nonexistent/file.wasm", "-o", &out], "cannot read");
    // A binary cut inside its header is a truncated binary, not bad WAT.
    for cut in 1..8 {
        let h = write("header.wasm", &valid[..cut]);
        let needle = if cut < 4 { "truncated wasm binary" } else { "module `app` is not a valid wasm module" };
        fails(&[&format!("app={h}"), "-o", &out], needle);
    }
    fails(&[&format!("app={}", write("empty.wasm", b"")), "-o", &out], "is empty");
    // Devices and directories are refused at once (`/dev/zero` would
    // otherwise be read without end), by what they are.
    fails(&["app=/dev/zero", "-o", &out], "`/dev/zero`: it is a character device, not a regular file");
    fails(&[&format!("app={}", dir().display()), "-o", &out], "it is a directory, not a regular file");
    // Mismatched modules.
    let a = write("mm_a.wat", b"(module (import \"b\" \"f\" (func (param i32))))");
    let b = write("mm_b.wat", b"(module (func (export \"f\") (param i64)))");
    fails(&[&format!("a={a}"), &format!("b={b}"), "-o", &out], "type mismatch: module `a` imports function `b.f`");
    // Conflicting modules.
    let c1 = write("c1.wat", b"(module (func (export \"f\")))");
    fails(&[&format!("a={c1}"), &format!("b={c1}"), "-o", &out], "export name conflict");
    // Same name twice.
    fails(&[&format!("a={c1}"), &format!("a={c1}"), "-o", &out], "given twice");
    // Usage errors.
    fails(&["--frobnicate"], "unknown option");
    fails(&[&format!("a={c1}")], "no output file");
    fails(&["justafile.wasm", "-o", &out], "must be NAME=FILE");
    fails(&[&format!("a={c1}"), "--export", "nodot", "-o", &out], "MODULE.NAME");
    fails(&[&format!("a={c1}"), "--name-prefix", "sometimes", "-o", &out], "--name-prefix");
    fails(&[&format!("a={c1}"), "--threads", "many", "-o", &out], "--threads expects a number");
    fails(&[&format!("a={c1}"), "--runtime-variant", "fast", "-o", &out], "--runtime-variant expects one of default");
    // Unwritable output.
    fails(&[&format!("a={c1}"), "-o", "/nonexistent/dir/out.wasm"], "cannot write");
}

/// `--with-runtime` adds the default build as `multimem`; `--runtime-variant`
/// picks another build (byte for byte the one `multimem-runtime-wasm` ships).
#[test]
fn runtime_variants_are_the_bundled_builds() {
    let out = dir().join("rt-only.wasm");
    for (name, bytes) in multimem_runtime_wasm::VARIANTS.iter().chain(multimem_runtime_wasm::SHARED_VARIANTS) {
        let o = cli(&["--runtime-variant", name, "--strip-names", "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let linked = std::fs::read(&out).unwrap();
        // Linked alone, a module keeps its exports and its code size.
        let exports = |w: &[u8]| -> Vec<String> {
            wasmparser::Parser::new(0)
                .parse_all(w)
                .filter_map(|p| match p.unwrap() {
                    wasmparser::Payload::ExportSection(r) => Some(r.into_iter().map(|e| e.unwrap().name.to_string())),
                    _ => None,
                })
                .flatten()
                .collect()
        };
        assert_eq!(exports(&linked), exports(bytes), "{name}");
        let imports = |w: &[u8]| -> Vec<String> {
            wasmparser::Parser::new(0)
                .parse_all(w)
                .filter_map(|p| match p.unwrap() {
                    wasmparser::Payload::ImportSection(r) => {
                        Some(r.into_imports().map(|i| i.unwrap().name.to_string()).collect::<Vec<_>>())
                    }
                    _ => None,
                })
                .flatten()
                .collect()
        };
        // Only the atomic build calls `i32_atomic_rmw_add_own`, lowered to
        // an instruction: no intrinsic import is left in any build.
        assert!(imports(&linked).iter().all(|i| !i.contains("_external") && !i.contains("_own")), "{name}");
    }
    let a = cli(&["--with-runtime", "--strip-names", "-o", out.to_str().unwrap()]);
    assert!(a.status.success());
    let with_runtime = std::fs::read(&out).unwrap();
    let b = cli(&["--runtime-variant", "default", "--strip-names", "-o", out.to_str().unwrap()]);
    assert!(b.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), with_runtime);
}

/// The runtime's shared build links with `--import-shared-memory`: its heap
/// becomes the shared import `multimem.memory` with the maximum asked for,
/// and is no longer defined (workers instantiate one module over one heap).
/// The default build, whose data is active, is refused by name.
#[test]
fn the_shared_runtime_build_imports_its_heap_shared() {
    let out = dir().join("shared.wasm");
    let o = cli(&[
        "--runtime-variant",
        "shared",
        "--import-shared-memory",
        "--shared-memory-max-pages",
        "1024",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let wasm = std::fs::read(&out).unwrap();
    let mut memories = Vec::new();
    let mut defined = Vec::new();
    for p in wasmparser::Parser::new(0).parse_all(&wasm) {
        match p.unwrap() {
            wasmparser::Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    let i = i.unwrap();
                    if let wasmparser::TypeRef::Memory(m) = i.ty {
                        memories.push((i.module.to_string(), i.name.to_string(), m.shared, m.maximum));
                    }
                }
            }
            wasmparser::Payload::MemorySection(r) => {
                defined.extend(r.into_iter().map(|m| m.unwrap().maximum));
            }
            _ => {}
        }
    }
    assert_eq!(memories, [("multimem".to_string(), "memory".to_string(), true, Some(1024))]);
    // Only the private empty external memory (nothing here imports
    // `env.memory`) is defined; the heap is not.
    assert_eq!(defined, [Some(0)]);
    fails(&["--with-runtime", "--import-shared-memory", "-o", out.to_str().unwrap()], "is active in memory");
}
