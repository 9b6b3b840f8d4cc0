#!/usr/bin/env bash
# The WebGPU helpers' benchmark (not a test): builds (build.sh), installs
# playwright-core and Chromium if needed, runs bench.mjs (arguments go there).
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
setup_chromium
cd "$MULTIMEM_ROOT"
if [ ! -d examples/harness/node_modules/playwright-core ]; then
  (cd examples/harness && PATH="$(dirname "$MULTIMEM_NODE24"):$PATH" npm ci --no-audit --no-fund --silent)
fi
export MULTIMEM_WEBGPU_BUILD="$(examples/webgpu/build.sh | tail -n 1)"
exec "$MULTIMEM_NODE24" examples/webgpu/bench.mjs "$@"
