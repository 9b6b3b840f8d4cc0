#!/usr/bin/env bash
# The link benchmark (issue 3, "Performance"): multimem-link (native, and the
# npm package's wasm32-wasip1 build on Node 26) vs binaryen's wasm-merge on
# 14-18 MB real compiler outputs from npm, each linked with the bundled
# runtime.wasm. Not part of ./test.sh. Usage: bench/link/run.sh [RUNS]
# Writes its section of BENCHMARKS.md.
source "$(dirname "$0")/../../scripts/env.sh"
RUNS="${1:-7}"
setup_node
"$MULTIMEM_ROOT/bench/link/fetch.sh"
P="$MULTIMEM_CACHE/npm/packages"
cd "$MULTIMEM_ROOT"
cargo build -j 2 --release -q -p multimem-link
cargo build -j 2 --release -q -p multimem-bench-link --bin bench-link
linker/npm/build.sh >/dev/null
"$CARGO_TARGET_DIR/release/bench-link" \
  --runs "$RUNS" \
  --multimem-link "$CARGO_TARGET_DIR/release/multimem-link" \
  --multimem-link-npm "$MULTIMEM_ROOT/linker/npm/bin/multimem-link.js" \
  --node "$MULTIMEM_NODE26" \
  --wasm-merge "$P/binaryen-132.0.0/package/bin/wasm-merge" \
  --work "$MULTIMEM_CACHE/bench-link" \
  --benchmarks-md "$MULTIMEM_ROOT/BENCHMARKS.md" \
  --command "bench/link/run.sh $RUNS" \
  "esbuild-go=$P/esbuild-wasm-0.28.2/package/esbuild.wasm" \
  "swc-rust=$P/swc-wasm-1.16.18/package/wasm_bg.wasm" \
  "lightningcss-rust=$P/lightningcss-wasm-1.33.0/package/lightningcss_node.wasm"
