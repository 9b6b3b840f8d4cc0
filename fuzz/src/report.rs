//! What a run of many cases tells: counts per mode, failures grouped by
//! the pattern of their message, and the failing inputs written out.
//!
//! A failure's *pattern* is its message with numbers replaced by `N` and
//! quoted names (`` `x` ``) by `` `_` ``, so that one bug hit through many
//! different indices and modules counts as one class.

use crate::generate::{Case, Input};
use crate::{CaseReport, Inconclusive, Mode, ModeOutcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The class a failure message belongs to (see the module docs).
pub fn pattern(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            // Decimal, or hex after `0x` (offsets).
            let hex = c == '0' && chars.peek() == Some(&'x');
            if hex {
                chars.next();
            }
            while chars.peek().is_some_and(|d| if hex { d.is_ascii_hexdigit() } else { d.is_ascii_digit() }) {
                chars.next();
            }
            out.push('N');
        } else if c == '`' {
            for d in chars.by_ref() {
                if d == '`' {
                    break;
                }
            }
            out.push_str("`_`");
        } else {
            out.push(c);
        }
    }
    // Divergence details carry values; the class is what comes before them.
    let cut = out.find(": original").map_or(out.len(), |i| i + ": original".len());
    out.truncate(cut.min(200));
    out
}

/// Counts for one mode.
#[derive(Clone, Debug, Default)]
pub struct ModeCounts {
    /// Cases linked successfully.
    pub linked: u64,
    /// Linked and the same.
    pub same: u64,
    /// Linked, inconclusive, by reason.
    pub inconclusive: BTreeMap<Inconclusive, u64>,
    /// Linked, but the originals could not run in wasmtime.
    pub not_run: u64,
    /// Linked and not run, by design (`with-runtime` in 3 cases of 4).
    pub linked_only: u64,
    /// Link failures.
    pub link_failures: u64,
    /// Divergences.
    pub divergences: u64,
}

/// One failure class: how many, and the first seed (or input) that hit it.
#[derive(Clone, Debug)]
pub struct Class {
    /// Failures in the class.
    pub count: u64,
    /// The first case's label (`seed N` or a file name).
    pub first: String,
    /// Its full message.
    pub example: String,
}

/// Totals over a run of cases.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Cases run (skipped ones included).
    pub cases: u64,
    /// Cases not linked, by reason pattern.
    pub skipped: BTreeMap<String, u64>,
    /// Per mode.
    pub modes: BTreeMap<Mode, ModeCounts>,
    /// Failure classes: (mode, "link failure" or "divergence", pattern).
    pub classes: BTreeMap<(Mode, &'static str, String), Class>,
    /// Cases with at least one failure.
    pub failing_cases: u64,
    /// Time per phase, summed over cases.
    pub times: crate::Times,
}

impl Summary {
    /// Adds one case's report; `label` names it (`seed 17`).
    pub fn add(&mut self, label: &str, report: &CaseReport) {
        self.cases += 1;
        self.times.generate += report.times.generate;
        self.times.link += report.times.link;
        self.times.compile += report.times.compile;
        self.times.run += report.times.run;
        if let Some(why) = &report.skipped {
            *self.skipped.entry(pattern(why)).or_default() += 1;
        }
        if report.failures().next().is_some() {
            self.failing_cases += 1;
        }
        for (mode, outcome) in &report.modes {
            let counts = self.modes.entry(*mode).or_default();
            let failure = match outcome {
                ModeOutcome::Same => {
                    counts.linked += 1;
                    counts.same += 1;
                    None
                }
                ModeOutcome::Inconclusive(why) => {
                    counts.linked += 1;
                    *counts.inconclusive.entry(*why).or_default() += 1;
                    None
                }
                ModeOutcome::NotRun(_) => {
                    counts.linked += 1;
                    counts.not_run += 1;
                    None
                }
                ModeOutcome::LinkedOnly => {
                    counts.linked += 1;
                    counts.linked_only += 1;
                    None
                }
                ModeOutcome::LinkFailure(m) => {
                    counts.link_failures += 1;
                    Some(("link failure", m))
                }
                ModeOutcome::Divergence(m) => {
                    counts.linked += 1;
                    counts.divergences += 1;
                    Some(("divergence", m))
                }
            };
            if let Some((kind, message)) = failure {
                let class = self.classes.entry((*mode, kind, pattern(message))).or_insert_with(|| Class {
                    count: 0,
                    first: label.to_string(),
                    example: message.clone(),
                });
                class.count += 1;
            }
        }
    }

    /// Total failures (link failures and divergences, over all modes).
    pub fn failures(&self) -> u64 {
        self.modes.values().map(|c| c.link_failures + c.divergences).sum()
    }

    /// The summary as text; `seconds` is the wall time of the run.
    pub fn render(&self, seconds: f64) -> String {
        let mut s = String::new();
        let rate = self.cases as f64 / seconds.max(1e-9);
        let _ = writeln!(s, "cases: {} in {seconds:.1} s ({rate:.1} cases/s)", self.cases);
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3 / self.cases.max(1) as f64;
        let _ = writeln!(
            s,
            "CPU time per case: generate {:.1} ms, link {:.1} ms, compile {:.1} ms, run {:.1} ms",
            ms(self.times.generate),
            ms(self.times.link),
            ms(self.times.compile),
            ms(self.times.run)
        );
        for (why, n) in &self.skipped {
            let _ = writeln!(s, "  skipped {n}: {why}");
        }
        let _ = writeln!(
            s,
            "{:<16} {:>8} {:>8} {:>12} {:>8} {:>10} {:>10}",
            "mode", "linked", "same", "inconclusive", "not run", "link fail", "diverged"
        );
        for (mode, c) in &self.modes {
            let inconclusive: u64 = c.inconclusive.values().sum();
            let _ = writeln!(
                s,
                "{:<16} {:>8} {:>8} {:>12} {:>8} {:>10} {:>10}",
                mode.name(),
                c.linked,
                c.same,
                inconclusive,
                c.not_run + c.linked_only,
                c.link_failures,
                c.divergences
            );
            for (why, n) in &c.inconclusive {
                let _ = writeln!(s, "    inconclusive ({}): {n}", why.name());
            }
        }
        let _ = writeln!(
            s,
            "failures: {} in {} cases, {} classes",
            self.failures(),
            self.failing_cases,
            self.classes.len()
        );
        for ((mode, kind, pat), class) in &self.classes {
            let _ = writeln!(s, "  [{}] {kind} x{}: {pat}", mode.name(), class.count);
            let _ =
                writeln!(s, "      first: {} ({})", class.first, class.example.chars().take(300).collect::<String>());
        }
        s
    }
}

/// Writes a failing case to `dir/<label>/`: each input as `.wasm` and
/// `.wat`, the link order and kept exports in `case.txt`, and `README.txt`
/// with every failing mode, its message, the equivalent `multimem-link`
/// command and `replay`. Returns the directory.
pub fn write_failure(dir: &Path, label: &str, report: &CaseReport, replay: &str) -> std::io::Result<PathBuf> {
    let case_dir = dir.join(label.replace(' ', "-"));
    std::fs::create_dir_all(&case_dir)?;
    let mut readme = format!("replay: {replay}\n\n");
    if let Some(case) = &report.case {
        write_inputs(&case_dir, case)?;
        for (mode, outcome) in report.failures() {
            let _ = writeln!(readme, "mode {}: {}", mode.name(), mode.command(case));
            let _ = writeln!(readme, "  {outcome:?}\n");
        }
    }
    std::fs::write(case_dir.join("README.txt"), readme)?;
    Ok(case_dir)
}

fn write_inputs(dir: &Path, case: &Case) -> std::io::Result<()> {
    std::fs::write(dir.join(CASE_FILE), write_settings(case))?;
    for input in case.modules.iter().chain([&case.unrelated]) {
        std::fs::write(dir.join(format!("{}.wasm", input.name)), &input.wasm)?;
        let text = wasmprinter::print_bytes(&input.wasm).unwrap_or_else(|e| format!(";; cannot print: {e}\n"));
        std::fs::write(dir.join(format!("{}.wat", input.name)), text)?;
    }
    Ok(())
}

/// Reads a case back from `dir`, as [`write_failure`] writes it or as
/// written by hand while minimising: `a.wasm` (or `a.wat`), `b` if present,
/// `u` if present (else an empty module), `case.txt` if present (else the
/// order `a b`, no explicit exports, the runtime last). A case read back
/// always runs its `with-runtime` link.
pub fn read_case(dir: &Path) -> Result<Case, String> {
    let read = |name: &'static str| -> Result<Option<Input>, String> {
        let bin = dir.join(format!("{name}.wasm"));
        let text = dir.join(format!("{name}.wat"));
        let wasm = if bin.exists() {
            std::fs::read(&bin).map_err(|e| format!("{}: {e}", bin.display()))?
        } else if text.exists() {
            wat::parse_file(&text).map_err(|e| format!("{}: {e}", text.display()))?
        } else {
            return Ok(None);
        };
        Ok(Some(Input { name, wasm }))
    };
    let a = read("a")?.ok_or_else(|| format!("{} has no a.wasm or a.wat", dir.display()))?;
    let mut modules = vec![a];
    modules.extend(read("b")?);
    let unrelated = read("u")?.unwrap_or(Input { name: "u", wasm: wat::parse_str("(module)").expect("empty module") });
    let mut case = Case {
        modules,
        unrelated,
        importer_first: false,
        some_exports: Vec::new(),
        runtime_first: false,
        run_with_runtime: true,
        driver: crate::execute::Driver { external_src: 0, external_dst: 0, len: 0 },
    };
    let settings = dir.join(CASE_FILE);
    if settings.exists() {
        let text = std::fs::read_to_string(&settings).map_err(|e| format!("{}: {e}", settings.display()))?;
        read_settings(&mut case, &text).map_err(|e| format!("{}: {e}", settings.display()))?;
    }
    Ok(case)
}

/// The file beside the inputs that holds the rest of a case: the link
/// order and the kept exports (by index, as names may be any string).
const CASE_FILE: &str = "case.txt";

fn write_settings(case: &Case) -> String {
    let mut text = format!("link order: {}\n", case.link_order().iter().map(|m| m.name).collect::<Vec<_>>().join(" "));
    let _ = writeln!(text, "runtime: {}", if case.runtime_first { "first" } else { "last" });
    let d = &case.driver;
    let _ = writeln!(text, "driver: {} {} {}", d.external_src, d.external_dst, d.len);
    for m in &case.modules {
        let names = crate::generate::export_names(&m.wasm);
        for (i, name) in names.iter().enumerate() {
            if case.some_exports.iter().any(|(module, kept)| *module == m.name && kept == name) {
                let _ = writeln!(text, "keep export: {} {i}", m.name);
            }
        }
    }
    text
}

fn read_settings(case: &mut Case, text: &str) -> Result<(), String> {
    for line in text.lines() {
        if let Some(order) = line.strip_prefix("link order: ") {
            case.importer_first = order.trim() == "b a";
        } else if let Some(numbers) = line.strip_prefix("driver: ") {
            let n: Vec<u32> = numbers
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("bad line `{line}`: {e}"))?;
            let [external_src, external_dst, len] = n[..] else { return Err(format!("bad line `{line}`")) };
            case.driver = crate::execute::Driver { external_src, external_dst, len };
        } else if let Some(place) = line.strip_prefix("runtime: ") {
            case.runtime_first = place.trim() == "first";
        } else if let Some(keep) = line.strip_prefix("keep export: ") {
            let (module, index) = keep.split_once(' ').ok_or_else(|| format!("bad line `{line}`"))?;
            let index: usize = index.trim().parse().map_err(|e| format!("bad line `{line}`: {e}"))?;
            let input =
                case.modules.iter().find(|m| m.name == module).ok_or_else(|| format!("no module `{module}`"))?;
            let name = crate::generate::export_names(&input.wasm)
                .into_iter()
                .nth(index)
                .ok_or_else(|| format!("`{module}` has no export {index}"))?;
            case.some_exports.push((input.name, name));
        } else if !line.trim().is_empty() {
            return Err(format!("unknown line `{line}`"));
        }
    }
    Ok(())
}
