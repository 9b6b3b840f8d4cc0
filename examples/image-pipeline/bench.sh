#!/usr/bin/env bash
# The image pipeline benchmark (not a test): builds (build.sh, the wasmtime
# runner), installs playwright-core and Chromium if needed, then runs
# bench.mjs; arguments go to bench.mjs (default: --runs 5 --images 3).
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
setup_chromium
cd "$MULTIMEM_ROOT"
if [ ! -d examples/harness/node_modules/playwright-core ]; then
  (cd examples/harness && PATH="$(dirname "$MULTIMEM_NODE24"):$PATH" npm ci --no-audit --no-fund --silent)
fi
export MULTIMEM_IMAGE_PIPELINE_BUILD="$(examples/image-pipeline/build.sh | tail -n 1)"
cargo build -q -p multimem-example-image-pipeline
export MULTIMEM_IMAGE_PIPELINE_WASMTIME="$CARGO_TARGET_DIR/debug/image-pipeline-wasmtime"
exec "$MULTIMEM_NODE24" examples/image-pipeline/bench.mjs "$@"
