//! multimem-fuzz: differential fuzzing of the multimem linker.
//!
//! This crate owns `fuzz/` only and never changes the linker. It checks one
//! property of `multimem-link` (the `multimem-linker` library): **every
//! valid input links, and the linked module behaves exactly as the inputs
//! did**. A fuzz input (bytes from cargo-fuzz, or from a seed:
//! [`seed_input`]) becomes a case, and [`run_case`] goes through:
//!
//! 1. *Generate* (`generate.rs`): wasm-smith modules with multi-memory, GC,
//!    reference types, SIMD, bulk memory and exceptions, alone or in a pair
//!    where `b` imports from `a`, plus an unrelated module `u`.
//! 2. *Check* each input with wasmparser (all features, as the linker
//!    does); an input wasm-smith got wrong is skipped, not blamed on the
//!    linker.
//! 3. *Run the originals* in wasmtime (`execute.rs`), once for the case and
//!    once with `u` in front.
//! 4. For each mode (`link_modes.rs`): *link*; a link error on
//!    valid inputs is a failure. *Run the linked module* with the
//!    original's call plan and *compare* (`oracle.rs`, by the rules
//!    `values.rs` and `oracle.rs` state).
//!
//! Each step is a small module named after what it does, as in
//! wasm-tools' `fuzz/` (`generate_valid_module`, one module per property).
//! The same [`run_case`] runs under cargo-fuzz (`cargo-fuzz/`) and from the
//! `fuzz-link` binary over a deterministic range of seeds (no nightly
//! toolchain); a failing seed replays exactly with `fuzz-link --seed N`.
//!
//! Limits: no threads or shared memories; cases whose originals wasmtime cannot
//! compile are linked (a link failure still counts) but not run.
#![deny(missing_docs)]

pub mod env;
pub mod execute;
pub mod generate;
pub mod intrinsics;
pub mod link_modes;
pub mod oracle;
pub mod report;
pub mod stats;
pub mod values;

pub use generate::Case;
pub use link_modes::{Mode, Reference};
pub use oracle::{Inconclusive, Verdict};

use arbitrary::Unstructured;
use std::time::Duration;
use wasmtime::{Engine, Module};

/// How many bytes of input a seed expands to: more than the largest case
/// the generator's limits allow consumes, so every seed's case is built
/// from random bytes, not from the zeros `Unstructured` gives when empty.
pub const SEED_INPUT_LEN: usize = 64 << 10;

/// The fuzz input for `seed` (SplitMix64; the same bytes on every machine).
pub fn seed_input(seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(SEED_INPUT_LEN);
    while out.len() < SEED_INPUT_LEN {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// What linking and running one case in one mode gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModeOutcome {
    /// Linked, and behaved the same.
    Same,
    /// Linked; equal as far as it could be compared.
    Inconclusive(Inconclusive),
    /// Linked, but the originals cannot be run here (wasmtime rejects
    /// them); the link itself passed.
    NotRun(String),
    /// Linked and not run, by design ([`Case::run_with_runtime`]).
    LinkedOnly,
    /// The linker refused valid inputs (or panicked): a failure.
    LinkFailure(String),
    /// Linked, but behaved differently (or does not compile): a failure.
    Divergence(String),
}

impl ModeOutcome {
    /// Whether this is a failure (link failure or divergence).
    pub fn is_failure(&self) -> bool {
        matches!(self, ModeOutcome::LinkFailure(_) | ModeOutcome::Divergence(_))
    }
}

/// Where a case's time went: CPU time of its thread, so that the figures
/// hold on a machine shared with other work.
#[derive(Clone, Copy, Debug, Default)]
pub struct Times {
    /// Generating and checking the inputs.
    pub generate: Duration,
    /// Linking, all modes.
    pub link: Duration,
    /// Compiling in wasmtime, originals and linked modules.
    pub compile: Duration,
    /// Instantiating and calling, originals and linked modules.
    pub run: Duration,
}

/// Everything [`run_case`] found for one input.
#[derive(Debug)]
pub struct CaseReport {
    /// The generated case (`None` if generation failed).
    pub case: Option<Case>,
    /// Why the case was not linked at all (generator gave up, or made an
    /// invalid module).
    pub skipped: Option<String>,
    /// One entry per mode that ran, in [`Mode::ALL`] order.
    pub modes: Vec<(Mode, ModeOutcome)>,
    /// Where the time went.
    pub times: Times,
}

impl CaseReport {
    fn skipped(case: Option<Case>, why: String) -> CaseReport {
        CaseReport { case, skipped: Some(why), modes: Vec::new(), times: Times::default() }
    }

    /// The failing modes.
    pub fn failures(&self) -> impl Iterator<Item = &(Mode, ModeOutcome)> {
        self.modes.iter().filter(|(_, o)| o.is_failure())
    }
}

/// The case `data` generates, or why it generates none.
pub fn generate(data: &[u8]) -> Result<Case, String> {
    generate::generate_case(&mut Unstructured::new(data)).map_err(|e| format!("generator: {e}"))
}

/// The originals compiled, or why wasmtime could not.
struct Originals {
    modules: Vec<Module>,
    unrelated: Module,
}

fn compile_originals(engine: &Engine, case: &Case) -> Result<Originals, String> {
    let compile = |wasm: &[u8]| Module::new(engine, wasm).map_err(|e| format!("wasmtime rejects an input: {e:#}"));
    Ok(Originals {
        modules: case.modules.iter().map(|m| compile(&m.wasm)).collect::<Result<_, _>>()?,
        unrelated: compile(&case.unrelated.wasm)?,
    })
}

fn check_inputs(case: &Case) -> Result<(), String> {
    for input in case.modules.iter().chain([&case.unrelated]) {
        wasmparser::Validator::new_with_features(multimem_linker::features())
            .validate_all(&input.wasm)
            .map_err(|e| format!("wasm-smith made an invalid module `{}`: {e}", input.name))?;
    }
    Ok(())
}

/// The CPU time of the calling thread since [`CpuClock::start`].
struct CpuClock(Duration);

impl CpuClock {
    fn now() -> Duration {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid timespec for the call to write.
        let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
        if ok { Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32) } else { Duration::ZERO }
    }

    fn start() -> CpuClock {
        CpuClock(CpuClock::now())
    }

    fn elapsed(&self) -> Duration {
        CpuClock::now().saturating_sub(self.0)
    }
}

/// Runs one fuzz input through every mode (the phases in the crate docs).
pub fn run_case(engine: &Engine, data: &[u8]) -> CaseReport {
    run_case_in(engine, data, &Mode::ALL)
}

/// As [`run_case`], in `modes` only.
pub fn run_case_in(engine: &Engine, data: &[u8], modes: &[Mode]) -> CaseReport {
    let clock = CpuClock::start();
    let case = match generate(data) {
        Ok(c) => c,
        Err(why) => return CaseReport::skipped(None, why),
    };
    let generated = clock.elapsed();
    let mut report = check_case(engine, case, modes);
    report.times.generate += generated;
    report
}

/// Checks `case` in `modes` (phases 2 to 4 in the crate docs): for cases
/// from files (`fuzz-link --files`), and the rest of [`run_case`].
pub fn check_case(engine: &Engine, case: Case, modes: &[Mode]) -> CaseReport {
    let mut times = Times::default();
    let clock = CpuClock::start();
    if let Err(why) = check_inputs(&case) {
        return CaseReport::skipped(Some(case), why);
    }
    times.generate = clock.elapsed();
    let clock = CpuClock::start();
    let originals = compile_originals(engine, &case);
    times.compile += clock.elapsed();
    let mut reference = References::default();
    let mut done: Vec<(Vec<u8>, Reference, ModeOutcome)> = Vec::new();
    let mut outcomes = Vec::new();
    for &mode in modes {
        let clock = CpuClock::start();
        let linked = link_modes::link(mode, &case);
        times.link += clock.elapsed();
        let outcome = match linked {
            Err(message) => ModeOutcome::LinkFailure(message),
            Ok(_) if mode == Mode::WithRuntime && !case.run_with_runtime => ModeOutcome::LinkedOnly,
            Ok(linked) => match &originals {
                Err(why) => ModeOutcome::NotRun(why.clone()),
                // The same bytes against the same originals behave the
                // same: `gc` often removes nothing, `gc-some-exports` with
                // no list is `gc` (Mode::reference_in).
                Ok(_)
                    if let Some((_, _, o)) =
                        done.iter().find(|(w, k, _)| *w == linked && *k == mode.reference_in(&case)) =>
                {
                    o.clone()
                }
                Ok(originals) => {
                    let clock = CpuClock::start();
                    let original = reference.get(engine, &case, originals, mode);
                    times.run += clock.elapsed();
                    let driver = (mode == Mode::WithRuntime).then_some(case.driver);
                    let outcome = run_linked(engine, &linked, original, driver, &mut times);
                    done.push((linked, mode.reference_in(&case), outcome.clone()));
                    outcome
                }
            },
        };
        outcomes.push((mode, outcome));
    }
    CaseReport { case: Some(case), skipped: None, modes: outcomes, times }
}

/// [`run_case`] with one engine per process, panicking with every failing
/// mode's message if the case fails: the cargo-fuzz target's body.
pub fn check(data: &[u8]) {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    let report = run_case(ENGINE.get_or_init(execute::engine), data);
    let failures: Vec<String> = report.failures().map(|(m, o)| format!("[{}] {o:?}", m.name())).collect();
    assert!(failures.is_empty(), "the linker failed on this case:\n{}", failures.join("\n"));
}

/// runtime.wasm compiled for `engine`, once per engine and process (it
/// is the same module in every case).
fn runtime_module(engine: &Engine) -> Module {
    static CACHE: std::sync::Mutex<Vec<Module>> = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = cache.iter().find(|m| Engine::same(m.engine(), engine)) {
        return m.clone();
    }
    let m = Module::new(engine, multimem_runtime_wasm::RUNTIME_WASM).expect("wasmtime compiles runtime.wasm");
    cache.push(m.clone());
    m
}

/// The runs of the originals the modes compare with, each made once: the
/// case; `u` and the case; the case with the runtime (unlinked, its
/// intrinsics implemented by the host); the case calling only the kept
/// exports.
#[derive(Default)]
struct References {
    case: Option<execute::Run>,
    with_unrelated: Option<execute::Run>,
    with_runtime: Option<execute::Run>,
    some_exports: Option<execute::Run>,
}

impl References {
    fn get(&mut self, engine: &Engine, case: &Case, originals: &Originals, mode: Mode) -> &execute::Run {
        let mut modules: Vec<(&str, &Module)> = Vec::new();
        if mode.with_unrelated() {
            modules.push((case.unrelated.name, &originals.unrelated));
        }
        modules.extend(case.modules.iter().map(|m| m.name).zip(&originals.modules));
        if mode.reference() == Reference::WithUnrelated {
            return self.with_unrelated.get_or_insert_with(|| execute::run(engine, &modules, None, None));
        }
        if mode.reference() == Reference::WithRuntime {
            let runtime = runtime_module(engine);
            let at = if case.runtime_first { 0 } else { modules.len() };
            modules.insert(at, (multimem_linker::RUNTIME_MODULE, &runtime));
            return self.with_runtime.get_or_insert_with(|| execute::run(engine, &modules, None, Some(case.driver)));
        }
        let full = self.case.get_or_insert_with(|| execute::run(engine, &modules, None, None));
        if mode.reference_in(case) == Reference::Case {
            return full;
        }
        let kept: Vec<_> = full
            .plan
            .iter()
            .filter(|(name, _)| case.some_exports.iter().any(|(_, kept)| kept == name))
            .cloned()
            .collect();
        self.some_exports.get_or_insert_with(|| execute::run(engine, &modules, Some(&kept), None))
    }
}

fn run_linked(
    engine: &Engine,
    linked: &[u8],
    original: &execute::Run,
    driver: Option<execute::Driver>,
    times: &mut Times,
) -> ModeOutcome {
    let clock = CpuClock::start();
    let module = Module::new(engine, linked);
    times.compile += clock.elapsed();
    let module = match module {
        Ok(m) => m,
        Err(e) => return ModeOutcome::Divergence(format!("wasmtime rejects the linked module: {e:#}")),
    };
    let clock = CpuClock::start();
    let run = execute::run(engine, &[("linked", &module)], Some(&original.plan), driver);
    times.run += clock.elapsed();
    match oracle::compare(original, &run) {
        Verdict::Same => ModeOutcome::Same,
        Verdict::Inconclusive(why) => ModeOutcome::Inconclusive(why),
        Verdict::Divergence(what) => ModeOutcome::Divergence(what),
    }
}
