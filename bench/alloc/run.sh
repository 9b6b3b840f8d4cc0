#!/usr/bin/env bash
# The runtime allocator benchmark (issue 2): multimem vs talc vs dlmalloc in
# one wasm harness under wasmtime, and the shipped runtime.wasm through its
# exports next to talc and dlmalloc exporting the same interface (issue 13).
# Not part of ./test.sh.
# Usage: bench/alloc/run.sh [RUNS]. Writes its section of BENCHMARKS.md.
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
RUNS="${1:-7}"
cd "$MULTIMEM_ROOT"
# Dev profile: wasmtime's dependencies are optimised there already, and
# Cranelift's output does not depend on how Cranelift was built. The runner
# itself is optimised too: the export rows call wasm from its loop, through
# wasmtime's generic call path, which is compiled into the runner.
cargo run -j 2 -q -p multimem-bench-alloc --bin bench-alloc \
  --config 'profile.dev.package.multimem-bench-alloc.opt-level=3' -- \
  --runs "$RUNS" --benchmarks-md "$MULTIMEM_ROOT/BENCHMARKS.md" --command "bench/alloc/run.sh $RUNS"
