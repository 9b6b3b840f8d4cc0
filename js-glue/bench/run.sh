#!/usr/bin/env bash
# Runs the js-glue benchmark (bench.js) on Node 24 and Node 26 and writes the
# results into BENCHMARKS.md between the js-glue markers. Not a test.
# Usage: js-glue/bench/run.sh            (builds the fixtures as the tests do)
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
cd "$MULTIMEM_ROOT"
build_js_fixtures >&2
out="$MULTIMEM_JS_FIXTURES"
results=()
for node in "$MULTIMEM_NODE24" "$MULTIMEM_NODE26"; do
  echo "== bench on Node $("$node" --version)" >&2
  json="$out/bench-$("$node" --version).json"
  "$node" --expose-gc js-glue/bench/bench.js > "$json"
  cat "$json" >&2
  results+=("$json")
done
"$MULTIMEM_NODE24" js-glue/bench/report.js BENCHMARKS.md "${results[@]}"
