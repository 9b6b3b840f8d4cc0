//! `multimem-compile`: compile a `.mm` program, link it with runtime.wasm,
//! run it in wasmtime next to the external library, print what it printed
//! and the runtime stats. Exits 1 on any error, including a leak.

use anyhow::{Context as _, Result, bail};
use multimem_compiler::run::Mode;
use multimem_compiler::{Backend, Options};

const HELP: &str = "\
multimem-compile: a tiny Dart-like typed-data language on WasmGC + multimem

USAGE:
    multimem-compile [OPTIONS] PROGRAM.mm

OPTIONS:
    --emit-wasm FILE   write the compiled (unlinked) app module to FILE
    --emit-linked FILE write the module linked with runtime.wasm to FILE
    --wat              print the compiled app module as text and stop
    --no-run           compile (and emit) only
    --unlinked         run runtime.wasm as its own instance with host
                       intrinsics instead of linking (for comparison)
    --leak             debug: omit end-of-scope releases (the leak check
                       must then fail)
    --backend gc-array compile lists as plain WasmGC arrays (benchmark
                       baseline; no runtime, subset of the language)
    -h, --help         this text
";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut program, mut emit, mut emit_linked) = (None, None, None);
    let (mut wat, mut run, mut mode) = (false, true, Mode::Linked);
    let mut options = Options::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            "--emit-wasm" => emit = Some(args.next().context("--emit-wasm needs a file")?),
            "--emit-linked" => emit_linked = Some(args.next().context("--emit-linked needs a file")?),
            "--wat" => wat = true,
            "--no-run" => run = false,
            "--unlinked" => mode = Mode::Unlinked,
            "--leak" => options.leak = true,
            "--backend" => match args.next().as_deref() {
                Some("gc-array") => options.backend = Backend::GcArray,
                Some("multimem") => options.backend = Backend::Multimem,
                other => bail!("--backend takes `multimem` or `gc-array`, got {other:?}"),
            },
            s if s.starts_with('-') => bail!("unknown option `{s}` (see --help)"),
            s => {
                if program.replace(s.to_string()).is_some() {
                    bail!("give one program");
                }
            }
        }
    }
    let path = program.context("no program given (see --help)")?;
    let source = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let app = multimem_compiler::compile(&source, &options).with_context(|| format!("compiling {path}"))?;
    if let Some(f) = &emit {
        std::fs::write(f, &app).with_context(|| format!("writing {f}"))?;
    }
    if wat {
        print!("{}", wasmprinter::print_bytes(&app)?);
        return Ok(());
    }
    if let Some(f) = &emit_linked {
        let out = multimem_compiler::run::link(&app)?;
        std::fs::write(f, &out.wasm).with_context(|| format!("writing {f}"))?;
    }
    if !run {
        return Ok(());
    }
    if options.backend != Backend::Multimem {
        bail!("only the multimem backend runs here; the gc-array backend is for the benchmark");
    }
    let outcome = multimem_compiler::run::run(&app, mode).with_context(|| format!("running {path}"))?;
    for w in &outcome.warnings {
        eprintln!("link warning: {w}");
    }
    for line in &outcome.printed {
        println!("{line}");
    }
    let how = match mode {
        Mode::Linked => "linked",
        Mode::Unlinked => "unlinked",
    };
    println!("-- {} ({how} module, {} bytes): {}", path, outcome.module_bytes, outcome.stats);
    outcome.leak_check.with_context(|| format!("checking {path} for leaks"))?;
    println!("-- no leaks: live buffers 0 at exit");
    Ok(())
}
