#!/usr/bin/env bash
# Threads benchmark (issue 16): allocation throughput of the runtime's shared
# build with 1, 2 and 4 threads against the default build in one thread and
# against private heaps per thread. Not part of ./test.sh.
# Usage: bench/alloc/threads.sh [RUNS] (median of RUNS per row; default 5).
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
cargo run -j 2 -q -p multimem-bench-alloc --bin bench-threads \
  --config 'profile.dev.package.multimem-bench-alloc.opt-level=3' -- "${1:-5}"
