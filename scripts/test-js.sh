#!/usr/bin/env bash
# The JS glue's tests. Phases, in order:
#   1. set-up: Node 22, 24 and 26 from npm, js-glue's dev dependencies (scripts/env.sh);
#   2. fixtures (scripts/js-test-fixtures.sh): runtime.wasm and the atomic-refcounts build (multimem-runtime-wasm), the WAT apps in
#      js-glue/test/fixtures compiled by multimem-js-fixtures, app.wasm linked with
#      runtime.wasm by the real linker, and twice more with `--export` (only the app's
#      `sum`; the app's exports plus the runtime exports the glue needs), each link
#      also as a single-memory build (`--single-memory`, NAME.single.wasm); the
#      lowered-ops module (one function per row of the ABI's lowered table, written by
#      test/lowered-ops-record.mjs) linked both ways, and its multi-memory outcomes
#      recorded for jsc (lowered-ops.expected.json); into $CARGO_TARGET_DIR/js-fixtures;
#   3. tsc: type-checks js-glue/src/index.d.ts against test/types/usage.ts (whose
#      `@ts-expect-error` lines must fail to compile);
#   4. node:test suites on Node 24 (refresh view path) and Node 26
#      (memory.toResizableBuffer path), both with --expose-gc; then on Node 22, from a
#      copy of the tests with `using` compiled away (test/without-using.mjs); each
#      twice: on the multi-memory builds of the linked fixtures, and on their
#      single-memory builds (MULTIMEM_JS_BUILD=single-memory);
#   5. the npm linker (linker/npm): multimem-link built for wasm32-wasip1 (linker/npm/build.sh),
#      compared with the native CLI (same bytes, messages, exit codes) and its JS API tested,
#      then both npm packages packed, installed from the tarballs into a fresh directory
#      and the README's quick starts run there; on Node 22 and Node 26;
#   6. the system Node, if older than 22, must refuse with the multi-memory error.
source "$(dirname "$0")/env.sh"
setup_rust
setup_node
cd "$MULTIMEM_ROOT"

# Built here unless the caller (test.sh) built them for every suite.
[ -n "${MULTIMEM_JS_FIXTURES_READY:-}" ] || scripts/js-test-fixtures.sh
export MULTIMEM_JS_FIXTURES="$CARGO_TARGET_DIR/js-fixtures"

echo "== tsc (js-glue declarations)"
"$MULTIMEM_NODE24" js-glue/node_modules/typescript/bin/tsc -p js-glue/tsconfig.json

# Every version runs even if one fails, so one run shows all results.
failed=()
node22_tests="$CARGO_TARGET_DIR/js-glue-node22"
"$MULTIMEM_NODE24" js-glue/test/without-using.mjs "$node22_tests"
for build in multi-memory single-memory; do
  export MULTIMEM_JS_BUILD="$build"
  for node in "$MULTIMEM_NODE24" "$MULTIMEM_NODE26"; do
    version="$("$node" --version)"
    echo "== node:test on Node $version, $build build"
    "$node" --expose-gc --test --test-reporter=spec js-glue/test/*.test.js || failed+=("$version ($build)")
  done
  version="$("$MULTIMEM_NODE22" --version)"
  echo "== node:test on Node $version, $build build (tests with \`using\` compiled away)"
  (cd "$node22_tests/js-glue" && "$MULTIMEM_NODE22" --expose-gc --test --test-reporter=spec test/*.test.js) || failed+=("$version ($build)")
done
unset MULTIMEM_JS_BUILD

echo "== npm linker: wasm32-wasip1 build, native CLI for comparison"
linker/npm/build.sh >/dev/null
cargo build -q -p multimem-link
export MULTIMEM_LINK_NATIVE="$CARGO_TARGET_DIR/debug/multimem-link"
for node in "$MULTIMEM_NODE22" "$MULTIMEM_NODE26"; do
  version="$("$node" --version)"
  echo "== npm linker and npm install of both packages on Node $version"
  "$node" --test --test-reporter=spec linker/npm/test/*.test.mjs || failed+=("$version (npm)")
done

if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  echo "== system Node $(node --version) has no multi-memory: instantiate must say so"
  node js-glue/test/no-multimem.mjs
fi

if [ ${#failed[@]} -ne 0 ]; then
  echo "js-glue tests failed on Node ${failed[*]}" >&2
  exit 1
fi
