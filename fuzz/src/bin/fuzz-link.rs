//! `fuzz-link`: runs the linker's differential fuzzer over a deterministic
//! range of seeds, on stable Rust.
//!
//! ```text
//! fuzz-link [--seeds A..B] [--jobs N] [--time SECS] [--failures DIR] [--quiet]
//! fuzz-link --seed N          # replay one seed, every mode, in full
//! fuzz-link --input FILE      # replay a cargo-fuzz input (crash-*, corpus file)
//! fuzz-link --stats           # what the generated cases contain (no linking)
//! fuzz-link --files DIR [--mode M] [--interesting TEXT]   # a case from files
//! ```
//!
//! Each seed expands to a fuzz input (`multimem_fuzz::seed_input`), which
//! `multimem_fuzz::run_case` links in five modes and checks. A failure
//! prints the seed, the mode, the message and the replay command, and
//! writes the inputs (`.wasm`, `.wat`) to the failures directory. At the
//! end a summary: cases, links per mode, divergences, link failures by
//! message pattern, inconclusive counts, cases per second. Exit code 1 if
//! any case failed (or the harness itself panicked).

use multimem_fuzz::report::{self, Summary};
use multimem_fuzz::{CaseReport, Mode, ModeOutcome};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: fuzz-link [--seeds A..B] [--jobs N] [--time SECS] [--mode M] [--failures DIR] [--quiet]
       fuzz-link --seed N
       fuzz-link --input FILE
       fuzz-link --stats [--seeds A..B]
       fuzz-link --files DIR [--mode M] [--interesting TEXT]

  --seeds A..B    seeds A (inclusive) to B (exclusive); default 0..1000
  --jobs N        worker threads; default: available parallelism
  --time SECS     stop starting new seeds after SECS seconds
  --failures DIR  where failing inputs are written; default fuzz/failures
  --quiet         no line per failure (the summary still lists each class)
  --seed N        replay one seed and print every mode's outcome in full
  --input FILE    the same for a raw fuzz input (from cargo-fuzz)
  --stats         only generate the seeds' cases and print what they contain
  --files DIR     check the case in DIR (a.wasm or a.wat, b and u if present),
                  as written to the failures directory or minimised by hand
  --mode M        only this mode (alone, after-unrelated, with-runtime, gc,
                  gc-some-exports); repeat for several
  --interesting TEXT
                  with --files: exit 0 if and only if a failure's message
                  contains TEXT (a predicate for `wasm-tools shrink`)
";

/// A case that runs this long is reported (a hang is a failure too).
const SLOW_CASE: Duration = Duration::from_secs(60);

struct Args {
    seeds: std::ops::Range<u64>,
    jobs: usize,
    time: Option<Duration>,
    failures: PathBuf,
    quiet: bool,
    replay_seed: Option<u64>,
    replay_input: Option<PathBuf>,
    stats: bool,
    files: Option<PathBuf>,
    modes: Vec<Mode>,
    interesting: Option<String>,
}

impl Args {
    /// The modes to run: those given with `--mode`, or all.
    fn modes(&self) -> Vec<Mode> {
        if self.modes.is_empty() { Mode::ALL.to_vec() } else { self.modes.clone() }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seeds: 0..1000,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        time: None,
        failures: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("failures"),
        quiet: false,
        replay_seed: None,
        replay_input: None,
        stats: false,
        files: None,
        modes: Vec::new(),
        interesting: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--seeds" => {
                let v = value()?;
                let (from, to) = v.split_once("..").ok_or_else(|| format!("--seeds wants A..B, got `{v}`"))?;
                let num = |s: &str| s.parse::<u64>().map_err(|e| format!("--seeds `{v}`: {e}"));
                a.seeds = num(from)?..num(to)?;
            }
            "--jobs" => a.jobs = value()?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--time" => a.time = Some(Duration::from_secs(value()?.parse().map_err(|e| format!("--time: {e}"))?)),
            "--failures" => a.failures = PathBuf::from(value()?),
            "--quiet" => a.quiet = true,
            "--seed" => a.replay_seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--input" => a.replay_input = Some(PathBuf::from(value()?)),
            "--stats" => a.stats = true,
            "--files" => a.files = Some(PathBuf::from(value()?)),
            "--mode" => {
                let v = value()?;
                a.modes.push(Mode::from_name(&v).ok_or_else(|| format!("unknown mode `{v}`"))?);
            }
            "--interesting" => a.interesting = Some(value()?),
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if a.jobs == 0 {
        return Err("--jobs must be at least 1".into());
    }
    Ok(a)
}

/// The command that replays `seed`. A case is the same in every build
/// profile (generation, linking and fuel are deterministic), so the
/// replay uses the dev profile whatever this binary was built with.
fn replay_command(seed: u64) -> String {
    format!("cargo run -p multimem-fuzz --bin fuzz-link -- --seed {seed}")
}

/// Runs one input, turning a panic outside the linker (the generator,
/// wasmtime or this harness) into a skipped case whose reason says so.
fn run_one(engine: &wasmtime::Engine, data: &[u8], modes: &[Mode]) -> CaseReport {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| multimem_fuzz::run_case_in(engine, data, modes))) {
        Ok(r) => r,
        Err(p) => CaseReport {
            case: multimem_fuzz::generate(data).ok(),
            skipped: Some(format!("harness panic: {}", multimem_fuzz::link_modes::panic_message(&*p))),
            modes: Vec::new(),
            times: Default::default(),
        },
    }
}

fn is_harness_panic(r: &CaseReport) -> bool {
    r.skipped.as_deref().is_some_and(|s| s.starts_with("harness panic"))
}

fn replay(engine: &wasmtime::Engine, label: &str, data: &[u8], args: &Args, replay: &str) -> bool {
    let report = run_one(engine, data, &args.modes());
    if let Some(case) = &report.case {
        let sizes: Vec<String> = case
            .modules
            .iter()
            .chain([&case.unrelated])
            .map(|m| format!("{} ({} bytes)", m.name, m.wasm.len()))
            .collect();
        println!("{label}: {}", sizes.join(", "));
    }
    if let Some(why) = &report.skipped {
        println!("skipped: {why}");
    }
    for (mode, outcome) in &report.modes {
        println!("{:<16} {outcome:?}", mode.name());
    }
    let failed = report.failures().next().is_some() || is_harness_panic(&report);
    if failed {
        match report::write_failure(&args.failures, label, &report, replay) {
            Ok(dir) => println!("inputs written to {}", dir.display()),
            Err(e) => eprintln!("cannot write the failure: {e}"),
        }
    }
    !failed
}

fn main() {
    // Every case runs on a thread with a deep native stack, for the deep
    // wasm stack of `deep_stack_engine` (fewer cases end inconclusive).
    let main = std::thread::Builder::new()
        .stack_size(multimem_fuzz::execute::DEEP_NATIVE_STACK)
        .spawn(run_main)
        .expect("spawn the main thread");
    std::process::exit(main.join().unwrap_or(2));
}

fn run_main() -> i32 {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if args.stats {
        let mut coverage = multimem_fuzz::stats::Coverage::default();
        for seed in args.seeds.clone() {
            if let Ok(case) = multimem_fuzz::generate(&multimem_fuzz::seed_input(seed)) {
                coverage.add(&case);
            }
        }
        print!("{}", coverage.render());
        return 0;
    }
    let engine = multimem_fuzz::execute::deep_stack_engine();
    if let Some(seed) = args.replay_seed {
        let ok =
            replay(&engine, &format!("seed {seed}"), &multimem_fuzz::seed_input(seed), &args, &replay_command(seed));
        std::process::exit(if ok { 0 } else { 1 });
    }
    if let Some(dir) = &args.files {
        std::process::exit(check_files(&engine, dir, &args));
    }
    if let Some(path) = &args.replay_input {
        let data = std::fs::read(path).unwrap_or_else(|e| {
            eprintln!("error: cannot read {}: {e}", path.display());
            std::process::exit(2);
        });
        let label = format!("input {}", path.file_name().map_or("input".into(), |n| n.to_string_lossy()));
        let cmd = format!("cargo run -p multimem-fuzz --bin fuzz-link -- --input {}", path.display());
        std::process::exit(if replay(&engine, &label, &data, &args, &cmd) { 0 } else { 1 });
    }
    // Linker panics are caught and reported with their message; the
    // default hook would print each one again.
    std::panic::set_hook(Box::new(|_| {}));
    if fuzz(&engine, &args) { 0 } else { 1 }
}

/// `--files`: the case in `dir`, in the chosen modes; the exit code.
fn check_files(engine: &wasmtime::Engine, dir: &std::path::Path, args: &Args) -> i32 {
    let case = match report::read_case(dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let report = multimem_fuzz::check_case(engine, case, &args.modes());
    if let Some(why) = &report.skipped {
        println!("skipped: {why}");
    }
    for (mode, outcome) in &report.modes {
        println!("{:<16} {outcome:?}", mode.name());
    }
    let failed = report.failures().next().is_some();
    match &args.interesting {
        Some(text) => {
            let hit = report.failures().any(|(_, o)| match o {
                ModeOutcome::LinkFailure(m) | ModeOutcome::Divergence(m) => m.contains(text.as_str()),
                _ => false,
            });
            if hit { 0 } else { 1 }
        }
        None => i32::from(failed),
    }
}

/// What a worker is on: its seed and since when (for the hang watch).
type Running = Option<(u64, Instant)>;

/// The parallel run over `args.seeds`; true if nothing failed.
fn fuzz(engine: &wasmtime::Engine, args: &Args) -> bool {
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(args.seeds.start));
    let running: Arc<Mutex<Vec<Running>>> = Arc::new(Mutex::new(vec![None; args.jobs]));
    let (tx, rx) = mpsc::channel::<(u64, CaseReport)>();
    let deadline = args.time.map(|t| start + t);
    let mut workers = Vec::new();
    for w in 0..args.jobs {
        let (engine, next, running, tx, end) =
            (engine.clone(), next.clone(), running.clone(), tx.clone(), args.seeds.end);
        let modes = args.modes();
        let builder = std::thread::Builder::new().stack_size(multimem_fuzz::execute::DEEP_NATIVE_STACK);
        workers.push(
            builder
                .spawn(move || {
                    loop {
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        if seed >= end {
                            break;
                        }
                        running.lock().unwrap()[w] = Some((seed, Instant::now()));
                        let report = run_one(&engine, &multimem_fuzz::seed_input(seed), &modes);
                        running.lock().unwrap()[w] = None;
                        if tx.send((seed, report)).is_err() {
                            break;
                        }
                    }
                })
                .expect("spawn a worker"),
        );
    }
    drop(tx);
    let mut summary = Summary::default();
    let mut harness_panics = 0u64;
    let mut last_progress = Instant::now();
    let mut warned = std::collections::HashSet::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok((seed, report)) => {
                let label = format!("seed {seed}");
                summary.add(&label, &report);
                if is_harness_panic(&report) {
                    harness_panics += 1;
                }
                if report.failures().next().is_some() || is_harness_panic(&report) {
                    print_failure(args, &label, seed, &report);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        for (seed, since) in running.lock().unwrap().iter().flatten() {
            if since.elapsed() > SLOW_CASE && warned.insert(*seed) {
                eprintln!(
                    "SLOW seed {seed}: running for {:.0} s (a hang?): {}",
                    since.elapsed().as_secs_f64(),
                    replay_command(*seed)
                );
            }
        }
        if last_progress.elapsed() > Duration::from_secs(30) {
            last_progress = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "progress: {} cases, {} failures, {:.1} cases/s, {:.0} s",
                summary.cases,
                summary.failures(),
                summary.cases as f64 / secs,
                secs
            );
        }
    }
    for w in workers {
        let _ = w.join();
    }
    print!("{}", summary.render(start.elapsed().as_secs_f64()));
    if harness_panics > 0 {
        println!("harness panics: {harness_panics} (a bug in the fuzzer, wasm-smith or wasmtime; see `skipped`)");
    }
    summary.failures() == 0 && harness_panics == 0
}

fn print_failure(args: &Args, label: &str, seed: u64, report: &CaseReport) {
    let replay = replay_command(seed);
    let written = report::write_failure(&args.failures, label, report, &replay);
    if args.quiet {
        return;
    }
    for (mode, outcome) in report.failures() {
        let (kind, message) = match outcome {
            ModeOutcome::LinkFailure(m) => ("link failure", m),
            ModeOutcome::Divergence(m) => ("divergence", m),
            _ => continue,
        };
        println!("FAIL {label} [{}] {kind}: {}", mode.name(), message.chars().take(400).collect::<String>());
    }
    if let Some(why) = &report.skipped {
        println!("FAIL {label}: {why}");
    }
    match written {
        Ok(dir) => println!("  replay: {replay}   inputs: {}", dir.display()),
        Err(e) => println!("  replay: {replay}   (cannot write inputs: {e})"),
    }
}
