//! `multimem-compile`: compile a `.mm` program, link it with runtime.wasm,
//! run it in wasmtime next to the external library, print what it printed,
//! the runtime stats and the ownership check. Exits 1 on any error,
//! including a leak (live buffers that the program no longer reaches).

use anyhow::{Context as _, Result, bail};
use multimem_compiler::run::{Build, Mode, Outcome};
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
    --single-memory    run the single-memory build (multimem-link
                       --single-memory) in wasmtime with multi-memory off,
                       as engines without multi-memory (Safari) run it
    --both-builds      run the multi-memory build, then the single-memory
                       build, and fail unless output and stats are the same
    --tokens-everywhere
                       own every buffer with a multimem:gc.own token, also
                       the ones that provably do not escape (no scope-based
                       release)
    --leak             debug: omit the scope-based releases (the leak check
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
    let mut builds = vec![Build::MultiMemory];
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
            "--single-memory" => builds = vec![Build::SingleMemory],
            "--both-builds" => builds = vec![Build::MultiMemory, Build::SingleMemory],
            "--leak" => options.leak = true,
            "--tokens-everywhere" => options.tokens_everywhere = true,
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
        let out = multimem_compiler::run::link(&app, builds[0])?;
        std::fs::write(f, &out.wasm).with_context(|| format!("writing {f}"))?;
    }
    if !run {
        return Ok(());
    }
    if options.backend != Backend::Multimem {
        bail!("only the multimem backend runs here; the gc-array backend is for the benchmark");
    }
    let mut first: Option<Outcome> = None;
    for build in builds {
        let outcome = multimem_compiler::run::run(&app, mode, build)
            .with_context(|| format!("running {path} ({} build)", build.name()))?;
        report(&path, mode, build, &outcome)?;
        if let Some(f) = &first {
            if f.printed != outcome.printed
                || (f.stats, f.after_gc, f.reachable, f.final_stats, f.tokens)
                    != (outcome.stats, outcome.after_gc, outcome.reachable, outcome.final_stats, outcome.tokens)
            {
                bail!("{path}: the {} build printed or counted differently from the multi-memory build", build.name());
            }
            println!("-- same output and stats as the multi-memory build");
        }
        first.get_or_insert(outcome);
    }
    Ok(())
}

/// Prints what one run printed, its stats and its leak check.
fn report(path: &str, mode: Mode, build: Build, outcome: &Outcome) -> Result<()> {
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
    println!("-- {path} ({how} module, {} build, {} bytes): {}", build.name(), outcome.module_bytes, outcome.stats);
    let t = &outcome.tokens;
    println!(
        "-- after a GC: {} live buffer(s), the {} the globals still reach; tokens made {}, released {} in {} batch(es)",
        outcome.after_gc.live_buffers, outcome.reachable, t.made, t.released, t.batches
    );
    if let Err(e) = &outcome.leak_check {
        bail!("checking {path} for leaks: {e:#}");
    }
    println!(
        "-- no leaks: live buffers {} after dropping the globals and a GC (peak runtime memory {} pages)",
        outcome.final_stats.live_buffers, outcome.final_stats.pages
    );
    Ok(())
}
