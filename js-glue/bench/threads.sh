#!/usr/bin/env bash
# Runs the JS shared-heap benchmark (threads.mjs, not a test) on Node 24 and
# Node 26: allocation throughput through the runtime's exports with 1, 2 and
# 4 worker_threads on one heap (the shared build, --import-shared-memory)
# against the default build in one worker, and against the default build
# with a private heap per worker (nothing shared: the ceiling).
# Usage: js-glue/bench/threads.sh [RUNS]   (default 5; prints Markdown tables)
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
cd "$MULTIMEM_ROOT"
out="$CARGO_TARGET_DIR/js-threads-bench"
mkdir -p "$out"
cargo build -q -p multimem-link
cargo run -q -p multimem-runtime-wasm -- --variant default "$out/runtime.wasm" >/dev/null
cargo run -q -p multimem-runtime-wasm -- --variant shared "$out/runtime-shared.wasm" >/dev/null
# The runtime alone, linked (no app: the benchmark calls its exports from JS).
# The linker warns that nothing imports env.memory; nothing here touches it.
"$CARGO_TARGET_DIR/debug/multimem-link" multimem="$out/runtime.wasm" -o "$out/default.wasm" 2>/dev/null
"$CARGO_TARGET_DIR/debug/multimem-link" multimem="$out/runtime-shared.wasm" --import-shared-memory -o "$out/shared.wasm" 2>/dev/null
for node in "$MULTIMEM_NODE24" "$MULTIMEM_NODE26"; do
  echo "== JS threads bench on Node $("$node" --version), commit $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$node" js-glue/bench/threads.mjs "$out" "${1:-5}"
done
