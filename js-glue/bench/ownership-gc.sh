#!/usr/bin/env bash
# Runs the ownership benchmark (ownership-gc.mjs, not a test) on Node 24:
# examples/compiler/programs/bench_alloc.mm compiled with the gc-array
# backend (plain WasmGC arrays), the multimem backend and
# --tokens-everywhere, run through js-glue; then the token-cost loops.
# Usage: js-glue/bench/ownership-gc.sh [RUNS]   (default 9; prints JSON, then Markdown tables)
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
cd "$MULTIMEM_ROOT"
out="$CARGO_TARGET_DIR/ownership-gc-bench"
mkdir -p "$out"
cargo build -q -p multimem-compiler --bin multimem-compile
compile="$CARGO_TARGET_DIR/debug/multimem-compile"
program=examples/compiler/programs/bench_alloc.mm
"$compile" --no-run --backend gc-array --emit-wasm "$out/arr.wasm" "$program"
"$compile" --no-run --emit-linked "$out/mm.wasm" "$program"
"$compile" --no-run --tokens-everywhere --emit-linked "$out/ev.wasm" "$program"
echo "== ownership bench on Node $("$MULTIMEM_NODE24" --version), commit $(git rev-parse --short HEAD)" >&2
"$MULTIMEM_NODE24" --expose-gc js-glue/bench/ownership-gc.mjs "$out" "${1:-9}"
