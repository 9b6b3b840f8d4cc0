//! Where the WebAssembly spec testsuite is (`../shared/testsuite`, or
//! `MULTIMEM_TESTSUITE`) and which of its files a test runs.

use std::path::{Path, PathBuf};

/// The suite's directory, or `None` after recording that `suite` (the
/// test's name for itself) did not run: listed at the end of `./test.sh`,
/// and a failure when `CI=true` (`multimem_test_harness::skip`).
pub fn dir(suite: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("MULTIMEM_TESTSUITE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite"),
    };
    if dir.join("multi-memory").is_dir() && dir.join("gc").is_dir() {
        return Some(dir);
    }
    multimem_test_harness::skip::not_run(
        suite,
        &format!("not found at {} (set MULTIMEM_TESTSUITE to a directory with multi-memory/ and gc/)", dir.display()),
    );
    None
}

/// The `.wast` files of `suite/sub`, sorted.
pub fn wast_files(suite: &Path, sub: &str) -> Vec<PathBuf> {
    let dir = suite.join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .wast files in {}", dir.display());
    files
}
