#!/usr/bin/env bash
# The main job: build runtime.wasm, run it in wasmtime, print what happened.
source "$(dirname "$0")/scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
cargo run -q -p multimem-demo
