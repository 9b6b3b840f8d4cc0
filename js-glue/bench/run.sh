#!/usr/bin/env bash
# Runs the js-glue benchmark (bench.js) on Node 24 and Node 26 and writes the
# results into BENCHMARKS.md between the js-glue markers. Not a test.
# Usage: js-glue/bench/run.sh            (builds the fixtures via scripts/test-js.sh's steps)
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
cd "$MULTIMEM_ROOT"
out="$CARGO_TARGET_DIR/js-fixtures"
mkdir -p "$out"
cargo run -q -p multimem-runtime-wasm -- --variant default "$out/runtime.wasm"
cargo run -q -p multimem-js-fixtures -- js-glue/test/fixtures "$out"
cargo run -q -p multimem-linker --bin multimem-link -- \
  app="$out/app.wasm" multimem="$out/runtime.wasm" -o "$out/app.linked.wasm"
export MULTIMEM_JS_FIXTURES="$out"
results=()
for node in "$MULTIMEM_NODE24" "$MULTIMEM_NODE26"; do
  echo "== bench on Node $("$node" --version)" >&2
  json="$out/bench-$("$node" --version).json"
  "$node" --expose-gc js-glue/bench/bench.js > "$json"
  cat "$json" >&2
  results+=("$json")
done
"$MULTIMEM_NODE24" js-glue/bench/report.js BENCHMARKS.md "${results[@]}"
