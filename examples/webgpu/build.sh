#!/usr/bin/env bash
# Builds what the WebGPU example serves into $CARGO_TARGET_DIR/webgpu:
#   runtime.linked.wasm   the multimem runtime (default build: simd128 list_mul),
#                         run through multimem-link on its own, so the page uses
#                         js-glue's instantiate() on a linked module as an app would.
# Prints the build directory on its last line.
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
out="$CARGO_TARGET_DIR/webgpu"
mkdir -p "$out"
cargo run -q -p multimem-runtime-wasm -- --variant default "$out/runtime.wasm" >/dev/null
cargo build -q --bin multimem-link
"$CARGO_TARGET_DIR/debug/multimem-link" multimem="$out/runtime.wasm" -o "$out/runtime.linked.wasm"
echo "$out"
