//! Which tool lowers which multi-memory layout to one memory correctly
//! (issue 12, "Benchmark"). Not a test: a comparison that `run.sh` writes
//! into BENCHMARKS.md.
//!
//! Phases, in order:
//! 1. each layout's inputs (WAT below, plus the real `runtime.wasm` where
//!    the layout has the runtime) are linked by `multimem-link` as a
//!    multi-memory module: the *reference*, run in wasmtime with
//!    multi-memory on;
//! 2. each tool turns the same inputs into a single-memory module:
//!    - `multimem-link --single-memory` (the `multimem-linker` library),
//!      run with `multimem-host`'s reserved module;
//!    - binaryen's `wasm-merge` then `wasm-opt --multi-memory-lowering`
//!      (binaryen 132 from npm, on Node), run as it is;
//! 3. every result runs in wasmtime with multi-memory *off*: the layout's
//!    `run` export is called, and what the host can see afterwards (the
//!    result, and each memory the host supplied: its size and a hash of
//!    its bytes) is compared with the reference.
//!
//! A tool "lowers a layout correctly" when its output validates without
//! multi-memory and everything the host sees matches the reference. The
//! host-supplied memories matter: they belong to an external library, so a
//! lowering that stores other memories inside them, or resizes them,
//! changes what the library sees.

use std::path::{Path, PathBuf};
use std::process::Command;

use multimem_host::lowered::LoweredMemories;
use wasmtime::{Engine, Extern, ExternType, Linker, Module, Store, Val};

const BEGIN: &str = "<!-- bench:lowering:begin (written by bench/lowering/run.sh; do not edit by hand) -->";
const END: &str = "<!-- bench:lowering:end -->";

/// A memory the host supplies (an external library's).
struct HostMemory {
    module: &'static str,
    name: &'static str,
    min: u32,
    max: Option<u32>,
    shared: bool,
}

/// One layout: inputs, the memories the host supplies, and an explicit
/// native memory to try when the default is refused.
struct Layout {
    name: &'static str,
    inputs: Vec<(&'static str, Vec<u8>)>,
    host: Vec<HostMemory>,
    native_fallback: Option<(&'static str, &'static str)>,
}

/// What the host sees after `run`: the result, and each supplied memory's
/// pages and FNV-1a hash.
#[derive(Debug, PartialEq)]
struct Seen {
    result: String,
    memories: Vec<(u64, u64)>,
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|e| panic!("layout WAT: {e}"))
}

fn layouts() -> Vec<Layout> {
    let runtime = multimem_runtime_wasm::RUNTIME_WASM.to_vec();
    vec![
        Layout {
            name: "runtime + external import (`env.memory`)",
            inputs: vec![
                (
                    "app",
                    wat(r#"(module
                      (import "env" "memory" (memory $ext 1 8))
                      (import "multimem" "memory" (memory $own 1))
                      (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
                      (import "multimem" "external_copy_in" (func $in (param i32 i32 i32 i32)))
                      (import "multimem" "external_copy_out" (func $out (param i32 i32 i32 i32)))
                      (import "multimem" "buffer_release" (func $release (param i32) (result i32)))
                      (func (export "run") (result i64)
                        (local $b i32) (local $i i32) (local $sum i64)
                        ;; the library writes, grows its memory, writes past the old end
                        (memory.fill $ext (i32.const 100) (i32.const 7) (i32.const 50))
                        (drop (memory.grow $ext (i32.const 1)))
                        (i32.store $ext (i32.const 65600) (i32.const 0x01020304))
                        (local.set $b (call $new (i32.const 256)))
                        (call $in (local.get $b) (i32.const 0) (i32.const 100) (i32.const 50))
                        (call $in (local.get $b) (i32.const 64) (i32.const 65600) (i32.const 4))
                        (loop $l
                          (local.set $sum (i64.add (local.get $sum)
                            (i64.extend_i32_u (i32.load8_u $own (i32.add (local.get $b) (local.get $i))))))
                          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 256))))
                        (i32.store8 $own (local.get $b) (i32.const 99))
                        (call $out (i32.const 70000) (local.get $b) (i32.const 0) (i32.const 8))
                        (drop (call $release (local.get $b)))
                        (i64.add (local.get $sum) (i64.extend_i32_u (memory.size $ext)))))"#),
                ),
                ("multimem", runtime.clone()),
            ],
            host: vec![HostMemory { module: "env", name: "memory", min: 1, max: Some(8), shared: false }],
            native_fallback: None,
        },
        Layout {
            name: "an app with its own memory",
            inputs: vec![
                (
                    "app",
                    wat(r#"(module
                      (import "multimem" "memory" (memory $own 1))
                      (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
                      (memory $mine 1 4)
                      (data $mine (i32.const 0) "app data")
                      (func (export "run") (result i64)
                        (local $b i32)
                        (drop (memory.grow $mine (i32.const 2)))
                        (i64.store $mine (i32.const 131072) (i64.const 0x1122334455667788))
                        (local.set $b (call $new (i32.const 16)))
                        (memory.copy $own $mine (local.get $b) (i32.const 0) (i32.const 8))
                        (i64.add (i64.load $own (local.get $b))
                          (i64.add (i64.load $mine (i32.const 131072)) (i64.extend_i32_u (memory.size $mine))))))"#),
                ),
                ("multimem", runtime.clone()),
            ],
            host: vec![],
            native_fallback: None,
        },
        Layout {
            name: "two external memories",
            inputs: vec![(
                "app",
                wat(r#"(module
                  (import "env" "memory" (memory $a 1 4))
                  (import "lib2" "memory" (memory $b 1 4))
                  (func (export "run") (result i64)
                    (memory.fill $a (i32.const 0) (i32.const 3) (i32.const 1000))
                    (drop (memory.grow $b (i32.const 1)))
                    (memory.copy $b $a (i32.const 65536) (i32.const 0) (i32.const 1000))
                    (i64.add (i64.load $b (i32.const 65536)) (i64.extend_i32_u (memory.size $b)))))"#),
            )],
            host: vec![
                HostMemory { module: "env", name: "memory", min: 1, max: Some(4), shared: false },
                HostMemory { module: "lib2", name: "memory", min: 1, max: Some(4), shared: false },
            ],
            native_fallback: None,
        },
        Layout {
            name: "memory64 (an app's 64-bit memory next to the runtime's)",
            inputs: vec![
                (
                    "app",
                    wat(r#"(module
                      (import "multimem" "memory" (memory $own 1))
                      (memory $wide (export "wide") i64 1)
                      (func (export "run") (result i64)
                        (i64.store $wide (i64.const 8) (i64.const 42))
                        (i32.store $own (i32.const 16) (i32.const 5))
                        (i64.add (i64.load $wide (i64.const 8)) (i64.extend_i32_u (i32.load $own (i32.const 16))))))"#),
                ),
                ("multimem", runtime.clone()),
            ],
            host: vec![],
            native_fallback: Some(("app", "wide")),
        },
        Layout {
            name: "shared memory (an imported shared `env.memory`)",
            inputs: vec![
                (
                    "app",
                    wat(r#"(module
                      (import "env" "memory" (memory $ext 1 2 shared))
                      (import "multimem" "memory" (memory $own 1))
                      (func (export "run") (result i64)
                        (i32.atomic.store $ext (i32.const 64) (i32.const 40))
                        (drop (i32.atomic.rmw.add $ext (i32.const 64) (i32.const 2)))
                        (memory.copy $own $ext (i32.const 0) (i32.const 64) (i32.const 4))
                        (i64.extend_i32_u (i32.add (i32.load $own (i32.const 0)) (i32.atomic.load $ext (i32.const 64))))))"#),
                ),
                ("multimem", runtime),
            ],
            host: vec![HostMemory { module: "env", name: "memory", min: 1, max: Some(2), shared: true }],
            native_fallback: None,
        },
    ]
}

fn config() -> wasmtime::Config {
    let mut c = wasmtime::Config::new();
    c.wasm_gc(true)
        .wasm_function_references(true)
        .wasm_threads(true)
        .shared_memory(true)
        .wasm_simd(true)
        .wasm_memory64(true)
        .wasm_bulk_memory(true);
    c
}

/// Links with `multimem-link`, multi-memory or single-memory (with an
/// explicit native memory when given).
fn link(layout: &Layout, single: bool, native: Option<(&str, &str)>) -> Result<Vec<u8>, String> {
    let mut config =
        multimem_linker::Config::default().single_memory(single).export_conflict(multimem_linker::ExportConflict::Skip);
    if let Some((m, f)) = native {
        config = config.native_memory(m, f);
    }
    let mut l = multimem_linker::Linker::new(config);
    for (name, bytes) in &layout.inputs {
        l.add_module(name, bytes).map_err(|e| e.to_string())?;
    }
    l.link().map(|o| o.wasm).map_err(|e| e.to_string())
}

/// binaryen: wasm-merge, then wasm-opt --multi-memory-lowering.
/// The wasm features binaryen is told about: what the layouts and the
/// runtime use and wasmtime 48 reads (`-all` also turns on encodings such
/// as compact imports, which wasmtime rejects).
const BINARYEN_FEATURES: &[&str] = &[
    "--enable-multimemory",
    "--enable-bulk-memory",
    "--enable-simd",
    "--enable-threads",
    "--enable-gc",
    "--enable-reference-types",
    "--enable-memory64",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-extended-const",
];

/// The lowered module, and whether memory exports had to be removed first.
/// `wasm-merge` cannot lower the runtime's intrinsics, so a layout with
/// the runtime gives binaryen multimem-link's multi-memory output
/// (`multi`) to lower instead of merging the inputs itself.
fn binaryen(layout: &Layout, multi: &[u8], node: &Path, bin: &Path, work: &Path) -> Result<(Vec<u8>, bool), String> {
    let merged = work.join("merged.wasm");
    let lowered = work.join("lowered.wasm");
    let mut merge = Command::new(node);
    merge.arg(bin.join("wasm-merge"));
    for (name, bytes) in &layout.inputs {
        let p = work.join(format!("{name}.wasm"));
        std::fs::write(&p, bytes).map_err(|e| e.to_string())?;
        merge.arg(&p).arg(name);
    }
    let run = |c: &mut Command, what: &str| -> Result<(), String> {
        let out = c.output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("failed").trim();
            Err(format!("{what} fails: {first}"))
        }
    };
    if has_intrinsics(layout) {
        std::fs::write(&merged, multi).map_err(|e| e.to_string())?;
    } else {
        run(merge.args(BINARYEN_FEATURES).arg("--skip-export-conflicts").arg("-o").arg(&merged), "wasm-merge")?;
    }
    let lower = |input: &Path| {
        run(
            Command::new(node)
                .arg(bin.join("wasm-opt"))
                .arg(input)
                .args(BINARYEN_FEATURES)
                .arg("--multi-memory-lowering")
                .arg("-o")
                .arg(&lowered),
            "wasm-opt --multi-memory-lowering",
        )
    };
    match lower(&merged) {
        Ok(()) => {}
        // Its best chance: the pass refuses exported memories other than
        // the first, so drop those exports and try again (said in the
        // cell; the module then exports less than the inputs did).
        Err(e) if e.contains("only the first memory can be exported") => {
            let stripped = work.join("stripped.wasm");
            let bytes = std::fs::read(&merged).map_err(|e| e.to_string())?;
            std::fs::write(&stripped, strip_memory_exports(&bytes)?).map_err(|e| e.to_string())?;
            lower(&stripped).map_err(|e2| format!("{e}; with the other memories' exports removed, {e2}"))?;
            return std::fs::read(&lowered).map(|w| (w, true)).map_err(|e| e.to_string());
        }
        Err(e) => return Err(e),
    }
    std::fs::read(&lowered).map(|w| (w, false)).map_err(|e| e.to_string())
}

/// Whether an input imports `multimem:intrinsics` (the runtime does).
fn has_intrinsics(layout: &Layout) -> bool {
    layout.inputs.iter().any(|(_, bytes)| {
        wasmparser::Parser::new(0).parse_all(bytes).any(|p| match p {
            Ok(wasmparser::Payload::ImportSection(r)) => {
                r.into_imports().flatten().any(|i| i.module == multimem_abi::INTRINSICS_MODULE)
            }
            _ => false,
        })
    })
}

/// `wasm` without exports of memories other than memory 0.
fn strip_memory_exports(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = wasm[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| e.to_string())?;
        let Some((id, range)) = payload.as_section() else { continue };
        if let wasmparser::Payload::ExportSection(r) = &payload {
            let mut s = wasm_encoder::ExportSection::new();
            for e in r.clone() {
                let e = e.map_err(|e| e.to_string())?;
                if e.kind == wasmparser::ExternalKind::Memory && e.index != 0 {
                    continue;
                }
                s.export(e.name, wasm_encoder::ExportKind::from(e.kind), e.index);
            }
            out.push(7);
            wasm_encoder::Encode::encode(&wasm_encoder::RawSection { id: 7, data: &section_bytes(&s) }, &mut out);
            continue;
        }
        out.push(id);
        wasm_encoder::Encode::encode(&wasm_encoder::RawSection { id, data: &wasm[range] }, &mut out);
    }
    Ok(out)
}

fn section_bytes(s: &wasm_encoder::ExportSection) -> Vec<u8> {
    let mut with_size = Vec::new();
    wasm_encoder::Encode::encode(s, &mut with_size);
    // Drop the size prefix `encode` writes: `RawSection` writes its own.
    let mut r = wasmparser::BinaryReader::new(&with_size, 0);
    let _ = r.read_var_u32();
    with_size[r.original_position()..].to_vec()
}

/// Runs `wasm` with the layout's host memories (plus fresh values for any
/// other import, and the reserved module for a single-memory build) and
/// returns what the host sees.
fn run(engine: &Engine, layout: &Layout, wasm: &[u8]) -> Result<Seen, String> {
    let module =
        Module::new(engine, wasm).map_err(|e| format!("does not validate without multi-memory: {}", e.root_cause()))?;
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    let mut host = Vec::new();
    for h in &layout.host {
        let ext: Extern = if h.shared {
            let ty = wasmtime::MemoryType::shared(h.min, h.max.unwrap_or(h.min));
            wasmtime::SharedMemory::new(engine, ty).map_err(|e| e.to_string())?.into()
        } else {
            wasmtime::Memory::new(&mut store, wasmtime::MemoryType::new(h.min, h.max))
                .map_err(|e| e.to_string())?
                .into()
        };
        linker.define(&store, h.module, h.name, ext.clone()).map_err(|e| e.to_string())?;
        host.push(ext);
    }
    for imp in module.imports() {
        if imp.module() == multimem_abi::LOWERED_MODULE
            || layout.host.iter().any(|h| h.module == imp.module() && h.name == imp.name())
        {
            continue;
        }
        // Anything else the tool made the module import: a fresh memory of
        // the declared type (binaryen imports the combined memory).
        match imp.ty() {
            ExternType::Memory(m) => {
                let ext: Extern = if m.is_shared() {
                    wasmtime::SharedMemory::new(engine, m).map_err(|e| e.to_string())?.into()
                } else {
                    wasmtime::Memory::new(&mut store, m).map_err(|e| e.to_string())?.into()
                };
                linker.define(&store, imp.module(), imp.name(), ext).map_err(|e| e.to_string())?;
            }
            other => return Err(format!("imports `{}.{}` ({other:?})", imp.module(), imp.name())),
        }
    }
    if LoweredMemories::is_single_memory(wasm) {
        LoweredMemories::define(&mut store, &mut linker, wasm, &module).map_err(|e| e.to_string())?;
    }
    let inst = linker.instantiate(&mut store, &module).map_err(|e| format!("instantiation fails: {e}"))?;
    let f = inst.get_func(&mut store, "run").ok_or("no `run` export")?;
    let mut out = [Val::I64(0)];
    let result = match f.call(&mut store, &[], &mut out) {
        Ok(()) => format!("{:?}", out[0].unwrap_i64()),
        Err(e) => format!("trap: {}", e.root_cause()),
    };
    let memories = host
        .iter()
        .map(|e| {
            let bytes: Vec<u8> = match e {
                Extern::Memory(m) => m.data(&store).to_vec(),
                Extern::SharedMemory(m) => m.data().iter().map(|c| unsafe { *c.get() }).collect(),
                _ => Vec::new(),
            };
            let hash = bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3));
            ((bytes.len() / 65536) as u64, hash)
        })
        .collect();
    Ok(Seen { result, memories })
}

/// One table cell: whether the tool lowered the layout, and whether the
/// host saw the same as with the multi-memory reference.
fn verdict(reference: &Seen, got: Result<Seen, String>) -> String {
    match got {
        Err(e) => format!("no: {e}"),
        Ok(seen) if seen == *reference => "**yes**: same result and same external memories".to_string(),
        Ok(seen) if seen.result != reference.result => {
            format!("no: `run` gives {} (reference {})", seen.result, reference.result)
        }
        Ok(seen) => {
            let sizes = seen.memories.iter().zip(&reference.memories).any(|(a, b)| a.0 != b.0);
            if sizes {
                "no: an external memory has another size afterwards (the lowering resized the library's memory)"
                    .to_string()
            } else {
                "no: an external memory holds other bytes afterwards".to_string()
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let (Some(node), Some(bin)) = (arg("--node"), arg("--binaryen")) else {
        eprintln!("usage: bench-lowering --node NODE --binaryen BINARYEN_BIN_DIR [--benchmarks BENCHMARKS.md]");
        std::process::exit(2);
    };
    let multi = Engine::new(config().wasm_multi_memory(true)).expect("engine");
    let single = Engine::new(config().wasm_multi_memory(false)).expect("engine");
    let work = std::env::temp_dir().join(format!("multimem-bench-lowering-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let version = Command::new(&node)
        .arg(bin.join("wasm-opt"))
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut table = String::from(
        "| layout | multimem-link --single-memory | wasm-merge + wasm-opt --multi-memory-lowering |\n|---|---|---|\n",
    );
    for layout in layouts() {
        let linked =
            link(&layout, false, None).unwrap_or_else(|e| panic!("{}: linking the reference: {e}", layout.name));
        let reference = run(&multi, &layout, &linked)
            .unwrap_or_else(|e| panic!("{}: the multi-memory reference fails: {e}", layout.name));
        let mut ours = verdict(&reference, link(&layout, true, None).and_then(|w| run(&single, &layout, &w)));
        if let (Some((m, f)), true) = (layout.native_fallback, ours.starts_with("no")) {
            let with = verdict(&reference, link(&layout, true, Some((m, f))).and_then(|w| run(&single, &layout, &w)));
            ours = format!("{with} with `--native-memory {m}.{f}`; by default {}", ours.trim_start_matches("no: "));
        }
        let mut stripped = false;
        let theirs = binaryen(&layout, &linked, &node, &bin, &work).and_then(|(w, s)| {
            stripped = s;
            run(&single, &layout, &w)
        });
        let mut theirs = verdict(&reference, theirs);
        if stripped {
            theirs.push_str(" (after removing the exports of every memory but the first, which the pass refuses)");
        }
        if has_intrinsics(&layout) {
            theirs.push_str(" (given multimem-link's multi-memory output: wasm-merge cannot lower intrinsics)");
        }
        println!("{}:\n  ours:     {ours}\n  binaryen: {theirs}", layout.name);
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            layout.name,
            ours.replace('|', "\\|"),
            theirs.replace('|', "\\|")
        ));
    }
    let _ = std::fs::remove_dir_all(&work);
    let section = format!(
        "{BEGIN}\n## Lowering to one memory: which tool is correct on which layout\n\n\
         `bench/lowering/run.sh` links each layout as a multi-memory module (the reference, run in wasmtime 48 with \
         multi-memory on), then lowers it to one memory with each tool and runs the result in wasmtime with \
         multi-memory **off**. A tool is correct on a layout when its output validates without multi-memory and \
         the host sees exactly what the reference shows: `run`'s result, and the size and bytes of every memory the \
         host supplied (an external library's, which a lowering must not resize or write into). Our output runs \
         with multimem-host's `multimem:memory` implementation; binaryen's ({version}, from npm, on Node 24) needs \
         none. The layouts' WAT is in `bench/lowering/src/main.rs`.\n\n{table}\n{END}\n"
    );
    print!("\n{section}");
    if let Some(path) = arg("--benchmarks") {
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = match (old.find(BEGIN), old.find(END)) {
            (Some(b), Some(e)) => format!("{}{section}{}", &old[..b], old[e + END.len()..].trim_start_matches('\n')),
            _ => format!("{}\n{section}", old.trim_end()),
        };
        std::fs::write(&path, new).expect("writing BENCHMARKS.md");
    }
}
