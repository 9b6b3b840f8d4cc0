#!/usr/bin/env bash
# Which tool lowers which multi-memory layout to a single memory correctly
# (issue 12, "Benchmark"): multimem-link --single-memory against binaryen's
# wasm-merge followed by wasm-opt --multi-memory-lowering, on five layouts.
# Not a test: writes its table into BENCHMARKS.md. Binaryen comes from npm
# (bench/link/fetch.sh), run by Node 24.
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
"$MULTIMEM_ROOT/bench/link/fetch.sh"
cd "$MULTIMEM_ROOT"
cargo run -q -p multimem-bench-lowering -- \
  --node "$MULTIMEM_NODE24" \
  --binaryen "$MULTIMEM_CACHE/npm/packages/binaryen-132.0.0/package/bin" \
  --benchmarks BENCHMARKS.md
