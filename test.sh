#!/usr/bin/env bash
# Every test: Rust (native + wasmtime), then the JS glue on Node 24 and 26,
# then the browser examples in Chromium. Installs what it needs.
source "$(dirname "$0")/scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
# Suites that cannot run here are listed at the end (CI=true fails on them).
export MULTIMEM_SKIP_LOG="$MULTIMEM_CACHE/not-run.$$.log"
: >"$MULTIMEM_SKIP_LOG"
trap report_skips EXIT
echo "== formatting and lints: cargo fmt --check, cargo clippy -D warnings"
setup_rust_lints
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
echo "== the library crates package for crates.io (cargo package; multimem-host unverified: verifying it builds wasmtime once more)"
# cargo verifies each crate against the others through a local registry, and
# treats a registry crate's name and version as immutable: it never
# re-extracts or rebuilds multimem-abi 0.1.0 once it has, so an earlier run's
# ABI.md would hide today's. Verify in a target dir of its own whose
# multimem crates are removed first (third-party crates stay cached).
package_target="$MULTIMEM_CACHE/package-target"
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/multimem-* "$package_target"/package \
  "$package_target"/debug/.fingerprint/multimem-* "$package_target"/debug/build/multimem-* \
  "$package_target"/debug/deps/*multimem*
CARGO_TARGET_DIR="$package_target" cargo package -q --allow-dirty -p multimem-abi -p multimem-runtime -p multimem-linker
# multimem-host packaged unverified (verifying builds wasmtime once more),
# together with the crates it depends on so cargo resolves them locally.
CARGO_TARGET_DIR="$package_target" cargo package -q --allow-dirty --no-verify \
  -p multimem-abi -p multimem-runtime -p multimem-linker -p multimem-host
echo "== cargo test --workspace"
cargo test --workspace
echo "== the linker's differential fuzzer: a fixed slice of 1000 seeds (fuzz/README.md)"
cargo run -q -p multimem-fuzz --bin fuzz-link -- --seeds 0..1000 --jobs 2
echo "== runtime natively in its checked + atomic-refcounts build"
cargo test -p multimem-runtime --features checked,atomic-refcounts
echo "== fixtures the JS, browser and WebKit suites share, built once (scripts/js-test-fixtures.sh, examples/browser/build.sh)"
setup_node
scripts/js-test-fixtures.sh
export MULTIMEM_JS_FIXTURES_READY="$CARGO_TARGET_DIR/js-fixtures"
MULTIMEM_BROWSER_BUILD_READY="$(examples/browser/build.sh | tail -n 1)"
export MULTIMEM_BROWSER_BUILD_READY
echo "== JS glue: node:test on Node 24 and Node 26, tsc (scripts/test-js.sh)"
scripts/test-js.sh
echo "== browser examples in Chromium (scripts/test-browser.sh)"
scripts/test-browser.sh
scripts/test-webkit.sh
scripts/test-data-paths.sh
