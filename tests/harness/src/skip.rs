//! Suites that cannot run where they are: never a silent pass.
//!
//! A test whose suite is missing (say, the spec testsuite, which lives
//! outside the repository) calls [`not_run`] and returns. Under `CI=true`
//! that panics instead: CI runs everything or fails. Elsewhere it prints
//! `NOT RUN: SUITE: REASON` straight to the terminal (past libtest's output
//! capture, which would hide an `eprintln!` of a passing test) and appends
//! `SUITE: REASON` to the file named by `$MULTIMEM_SKIP_LOG`, one line per
//! test, which `./test.sh` sets and lists at its very end.

use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;

/// Records that `suite` did not run because of `reason`; panics when the
/// environment says CI (`CI=true`).
pub fn not_run(suite: &str, reason: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let log = std::env::var_os("MULTIMEM_SKIP_LOG");
    if let Err(message) = record(ci, log.as_deref().map(Path::new), suite, reason) {
        panic!("{message}");
    }
}

/// [`not_run`] with its environment as arguments: `Err` (the panic
/// message) under CI, else the line printed and appended to `log`.
fn record(ci: bool, log: Option<&Path>, suite: &str, reason: &str) -> Result<(), String> {
    let line = format!("{suite}: {reason}");
    if ci {
        return Err(format!("{line}; CI=true, so a suite that cannot run is a failure, not a skip"));
    }
    // Straight to the file descriptor (libtest captures only the print
    // macros), once per suite and process.
    static PRINTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut printed = PRINTED.lock().unwrap_or_else(|e| e.into_inner());
    if !printed.contains(&line) {
        let _ = writeln!(std::io::stderr(), "\nNOT RUN: {line}\n");
        printed.push(line.clone());
    }
    drop(printed);
    if let Some(log) = log {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{line}; and recording that in {} failed: {e}", log.display()))?;
        // One write per line, so lines of parallel tests do not interleave.
        file.write_all(format!("{line}\n").as_bytes())
            .map_err(|e| format!("{line}; and recording that in {} failed: {e}", log.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::record;

    #[test]
    fn ci_fails_and_elsewhere_the_line_is_logged() {
        let log = std::env::temp_dir().join(format!("multimem-skip-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let e = record(true, Some(&log), "suite A", "missing").unwrap_err();
        assert!(e.starts_with("suite A: missing; CI=true"), "{e}");
        assert!(!log.exists(), "CI writes no log line, it fails");
        record(false, Some(&log), "suite A", "missing").unwrap();
        record(false, Some(&log), "suite B", "no engine").unwrap();
        record(false, None, "suite C", "not logged").unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "suite A: missing\nsuite B: no engine\n");
        std::fs::remove_file(&log).unwrap();
    }
}
