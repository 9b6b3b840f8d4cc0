#!/usr/bin/env bash
# The JS glue's tests. Phases, in order:
#   1. set-up: Node 24 and Node 26 from npm, js-glue's dev dependencies (scripts/env.sh);
#   2. fixtures: runtime.wasm and the atomic-refcounts build (multimem-runtime-wasm), the WAT apps in
#      js-glue/test/fixtures compiled by multimem-js-fixtures, and app.wasm
#      linked with runtime.wasm by the real linker, into $CARGO_TARGET_DIR/js-fixtures;
#   3. tsc: type-checks js-glue/src/index.d.ts against test/types/usage.ts;
#   4. node:test suites on Node 24 (refresh view path) and Node 26
#      (memory.toResizableBuffer path), both with --expose-gc;
#   5. the system Node, if older than 22, must refuse with the multi-memory error.
source "$(dirname "$0")/env.sh"
setup_rust
setup_node
cd "$MULTIMEM_ROOT"

build_js_fixtures
out="$MULTIMEM_JS_FIXTURES"
cargo run -q -p multimem-runtime-wasm -- --variant atomic "$out/runtime-atomic.wasm"

echo "== tsc (js-glue declarations)"
"$MULTIMEM_NODE24" js-glue/node_modules/typescript/bin/tsc -p js-glue/tsconfig.json

# Both versions run even if the first fails, so one run shows both results.
failed=()
for node in "$MULTIMEM_NODE24" "$MULTIMEM_NODE26"; do
  version="$("$node" --version)"
  echo "== node:test on Node $version"
  "$node" --expose-gc --test --test-reporter=spec js-glue/test/*.test.js || failed+=("$version")
done

if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  echo "== system Node $(node --version) has no multi-memory: instantiate must say so"
  node js-glue/test/no-multimem.mjs
fi

if [ ${#failed[@]} -ne 0 ]; then
  echo "js-glue tests failed on Node ${failed[*]}" >&2
  exit 1
fi
