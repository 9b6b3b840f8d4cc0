#!/usr/bin/env bash
# Safari-class engines: the single-memory build in WebKit. Phases, in order:
#   1. set-up: jsc, WebKitWebDriver and xvfb (apt-get, scripts/env.sh setup_webkit),
#      Node (setup_node, for the fixtures and the WebDriver client);
#   2. fixtures: scripts/js-test-fixtures.sh (both builds of every linked fixture, and
#      the outcomes the multi-memory lowered-ops module had natively on Node);
#   3. JavaScriptCore's shell (/usr/bin/jsc, WebKitGTK 2.50 = Safari 26's engine: no
#      multi-memory, no Symbol.dispose, no toResizableBuffer): js-glue's test files,
#      rewritten for jsc by js-glue/test/jsc/prepare.mjs, on the single-memory build,
#      plus js-glue/test/jsc/engine.js (the multi-memory build refused, every lowered
#      instruction against the recorded outcomes);
#   4. the browser examples in WebKitGTK's MiniBrowser, driven by WebKitWebDriver under
#      xvfb-run (examples/browser/test/webkit.test.mjs).
source "$(dirname "$0")/env.sh"
echo "== Safari-class engines: jsc and WebKitGTK, single-memory build (scripts/test-webkit.sh)"
setup_rust
setup_webkit
setup_node
cd "$MULTIMEM_ROOT"

# Built here unless the caller (test.sh) built them for every suite.
[ -n "${MULTIMEM_JS_FIXTURES_READY:-}" ] || scripts/js-test-fixtures.sh
fixtures="$CARGO_TARGET_DIR/js-fixtures"

echo "== js-glue tests in JavaScriptCore ($(dpkg-query -W -f '${Version}' libjavascriptcoregtk-4.0-bin 2>/dev/null || echo jsc)), single-memory build"
jsc_tests="$CARGO_TARGET_DIR/js-glue-jsc"
"$MULTIMEM_NODE24" js-glue/test/jsc/prepare.mjs "$jsc_tests"
/usr/bin/jsc -m "$jsc_tests/js-glue/test/jsc/run.js" -- "$fixtures" single-memory

echo "== browser examples in WebKitGTK (MiniBrowser $(dpkg-query -W -f '${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo '?'), WebKitWebDriver under xvfb-run)"
build="${MULTIMEM_BROWSER_BUILD_READY:-$(examples/browser/build.sh | tail -n 1)}"
export MULTIMEM_BROWSER_BUILD="$build"
mkdir -p "$MULTIMEM_ROOT/artifacts/screenshots"
"$MULTIMEM_NODE24" --test --test-reporter=spec examples/browser/test/webkit/pages.test.mjs
echo "screenshots: $MULTIMEM_ROOT/artifacts/screenshots/webkit-*.png"
