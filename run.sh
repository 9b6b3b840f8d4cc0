#!/usr/bin/env bash
# The main job: compile example programs of the Dart-like typed-data language
# (examples/compiler) to WasmGC, link them with runtime.wasm, run them in
# wasmtime next to a wasm32 Rust library with its own memory, print their
# output and the runtime stats (live buffers must be 0 at exit).
source "$(dirname "$0")/scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
for program in typed_data image refcounts; do
  cargo run -q -p multimem-compiler --bin multimem-compile -- "examples/compiler/programs/$program.mm"
done
