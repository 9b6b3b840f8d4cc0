//! `multimem-compiler-bench`: element access in code from the example
//! compiler, multimem backend (lists in the runtime's linear memory, inline
//! loads/stores) against the same programs compiled to plain WasmGC arrays,
//! in the same process and the same run. Also prints the refcount sequence
//! of a copied reference, in the generated wasm and in Cranelift's x86-64
//! code (via `objdump` on the precompiled module), for BENCHMARKS.md.
//!
//! Usage: `multimem-compiler-bench [--runs N] [--no-disas] | --objdump FILE.wasm`

use anyhow::{Context as _, Result, bail};
use multimem_compiler::run::{Build, HostState, Mode, host_imports, prepare};
use multimem_compiler::{Backend, Options, compile};
use std::time::{Duration, Instant};
use wasmtime::{Module, Store};

const PROGRAMS: &[(&str, &str)] = &[
    ("Int32List read (sum_loop.mm, 8.2M reads)", "sum_loop.mm"),
    ("Float64List read-modify-write (bench_rmw.mm, 4.1M updates)", "bench_rmw.mm"),
    ("Int32List read through a variable holding one of two lists (bench_alias.mm, 8.2M reads)", "bench_alias.mm"),
];

fn programs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let mut runs = 15;
    let mut disas = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().context("--runs needs a number")?.parse()?,
            "--no-disas" => disas = false,
            "--objdump" => {
                // Print Cranelift's code for any module (with our engine config).
                let file = args.next().context("--objdump needs a .wasm file")?;
                print!("{}", objdump(&std::fs::read(&file)?)?);
                return Ok(());
            }
            _ => bail!("usage: multimem-compiler-bench [--runs N] [--no-disas]"),
        }
    }
    println!("element access: multimem (linked, inline loads/stores on the runtime memory) vs plain WasmGC arrays");
    println!("{runs} runs each, interleaved; medians of one `main` call\n");
    println!("| program | WasmGC array | multimem | ratio |");
    println!("|---|---|---|---|");
    for (label, file) in PROGRAMS {
        let src = std::fs::read_to_string(programs_dir().join(file))?;
        let app = compile(&src, &Options::default())?;
        let base = compile(&src, &Options { backend: Backend::GcArray, ..Default::default() })?;

        let mut p = prepare(&app, Mode::Linked, Build::MultiMemory)?;
        let engine = p.store.engine().clone();
        let mut bstore: Store<HostState> = Store::new(&engine, HostState::default());
        let mut linker = wasmtime::Linker::new(&engine);
        host_imports(&mut linker)?;
        let bmodule = Module::new(&engine, &base).map_err(anyhow::Error::from)?;
        let binst = linker.instantiate(&mut bstore, &bmodule).map_err(anyhow::Error::from)?;
        let bmain = binst.get_typed_func::<(), ()>(&mut bstore, "main").map_err(anyhow::Error::from)?;

        let (mut tm, mut tb) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            p.instance.call::<(), ()>(&mut p.store, "main", ())?;
            tm.push(t.elapsed());
            let t = Instant::now();
            bmain.call(&mut bstore, ()).map_err(anyhow::Error::from)?;
            tb.push(t.elapsed());
        }
        // Same answers, and nothing leaked (once the GC has collected the tokens).
        let (pm, pb) = (p.store.data().printed.clone(), bstore.data().printed.clone());
        if pm != pb {
            bail!("{file}: backends disagree: {:?} vs {:?}", pm.first(), pb.first());
        }
        p.instance.runtime.collect(&mut p.store)?;
        p.instance.runtime.check_no_leaks(&mut p.store)?;
        let (m, b) = (median(tm), median(tb));
        println!(
            "| {label} | {:.2} ms | {:.2} ms | {:.2}x |",
            b.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / b.as_secs_f64()
        );
    }
    if disas {
        disassemble()?;
    }
    Ok(())
}

/// Prints the inline retain of `retain.mm` as wasm text and as x86-64.
fn disassemble() -> Result<()> {
    let src = std::fs::read_to_string(programs_dir().join("retain.mm"))?;
    let app = compile(&src, &Options::default())?;
    let wat = wasmprinter::print_bytes(&app)?;
    let lines: Vec<&str> = wat.lines().collect();
    println!("\n## retain.mm: the inline retain in `keep`'s export wrapper, in the generated wasm (wasmprinter)\n```");
    // The retain: local.tee; local.get; i32.load; i32.const 1; i32.add; i32.store
    // (memory 0, the runtime's, so wasmprinter prints no memory index).
    let at = lines
        .windows(4)
        .position(|w| w[0].trim() == "i32.load" && w[1].trim() == "i32.const 1" && w[2].trim() == "i32.add")
        .context("no inline retain found in the generated module")?;
    for l in &lines[at.saturating_sub(6)..(at + 4).min(lines.len())] {
        println!("{}", l.trim());
    }
    println!("```");

    // Cranelift's code for the linked module: precompile, objdump, and show
    // the instructions around the `add $0x1` on a 32-bit value.
    let linked = multimem_compiler::run::link(&app, Build::MultiMemory)?;
    let text = objdump(&linked.wasm)?;
    let asm: Vec<&str> = text.lines().collect();
    println!("\n## retain.mm in Cranelift's x86-64 (objdump -d of Engine::precompile_module)\n```");
    let mut shown = false;
    for (i, l) in asm.iter().enumerate() {
        // The load, add and store fuse into one `add DWORD PTR [..],0x1`.
        // The app's functions come first in the linked module, the
        // runtime's (whose buffer_retain has its own increment) after them.
        if l.contains("add") && l.contains("DWORD PTR [") && l.trim_end().ends_with(",0x1") && i >= 3 {
            let window = &asm[i.saturating_sub(8)..(i + 3).min(asm.len())];
            if let Some(label) = asm[..i].iter().rev().find(|l| l.ends_with(">:")) {
                println!("{}", label.trim());
            }
            for w in window {
                println!("{}", w.trim());
            }
            shown = true;
            break;
        }
    }
    if !shown {
        println!("(pattern not found; full function list follows)");
        for l in asm.iter().filter(|l| l.ends_with(">:")) {
            println!("{l}");
        }
    }
    println!("```");
    Ok(())
}

/// x86-64 disassembly (objdump, Intel syntax) of `wasm` as Cranelift
/// compiles it with the host's engine configuration.
fn objdump(wasm: &[u8]) -> Result<String> {
    let engine = multimem_host::Options::engine()?;
    let cwasm = engine.precompile_module(wasm).map_err(anyhow::Error::from)?;
    let path = std::env::temp_dir().join(format!("multimem-bench-{}.cwasm", std::process::id()));
    std::fs::write(&path, &cwasm)?;
    let out = std::process::Command::new("objdump")
        .args(["-d", "--no-show-raw-insn", "-M", "intel"])
        .arg(&path)
        .output()
        .context("running objdump (binutils) on the precompiled module")?;
    let _ = std::fs::remove_file(&path);
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
