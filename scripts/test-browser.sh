#!/usr/bin/env bash
# The browser examples' tests in Debian's Chromium and Firefox ESR. Phases, in order:
#   1. set-up: chromium and firefox-esr (apt-get, scripts/env.sh setup_chromium),
#      Node 24 and 26 (setup_node), playwright-core into examples/browser/node_modules
#      (npm ci; playwright-core never downloads a browser: the tests pass /usr/bin/chromium;
#      Firefox is driven over WebDriver BiDi by test/firefox.mjs);
#   2. imagelib's native unit tests (its own cargo workspace);
#   3. build: examples/browser/build.sh (runtime.wasm, imagelib.wasm, the three
#      linked WasmGC apps, the generated image, threads.wasm) into $CARGO_TARGET_DIR/browser-examples;
#   4. node:test: examples/browser/test/*.test.mjs drives headless Chromium
#      against the project's server (screenshots to artifacts/screenshots/, at
#      desktop and at 390 px phone width); web-apis.test.mjs runs the Web API
#      cases in Chromium, Firefox ESR and Node 26 (results: artifacts/web-apis.json);
#      firefox.test.mjs loads every page in Firefox ESR and runs threads.html
#      (4 Web Workers on one shared runtime heap), which threads.test.mjs runs
#      in Chromium.
source "$(dirname "$0")/env.sh"
setup_rust
setup_chromium
setup_node
cd "$MULTIMEM_ROOT"
ex=examples/browser

if [ ! -d "$ex/node_modules/playwright-core" ]; then
  (cd "$ex" && PATH="$(dirname "$MULTIMEM_NODE24"):$PATH" npm ci --no-audit --no-fund --silent)
fi

echo "== imagelib unit tests (native)"
cargo test -q --manifest-path "$ex/imagelib/Cargo.toml" --target-dir "$CARGO_TARGET_DIR/browser-examples/imagelib-target"

echo "== browser examples build"
build="${MULTIMEM_BROWSER_BUILD_READY:-$("$ex/build.sh" | tail -n 1)}"
export MULTIMEM_BROWSER_BUILD="$build"

echo "== browser tests (headless /usr/bin/chromium via playwright-core, /usr/bin/firefox-esr via WebDriver BiDi, Node 26)"
rm -rf "$MULTIMEM_ROOT/artifacts/screenshots"
"$MULTIMEM_NODE24" --test --test-reporter=spec "$ex"/test/*.test.mjs
echo "screenshots: $MULTIMEM_ROOT/artifacts/screenshots/"
