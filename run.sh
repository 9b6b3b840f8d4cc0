#!/usr/bin/env bash
# The main job: compile example programs of the Dart-like typed-data language
# (examples/compiler) to WasmGC, link them with runtime.wasm, run them in
# wasmtime next to a wasm32 Rust library with its own memory, print their
# output and the runtime stats (live buffers must be 0 at exit). Each runs
# in both builds of the link: multi-memory, then single-memory (what engines
# without multi-memory, such as Safari, load) in wasmtime with multi-memory
# off; the two must print the same and count the same stats.
source "$(dirname "$0")/scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
for program in typed_data image refcounts; do
  cargo run -q -p multimem-compiler --bin multimem-compile -- --both-builds "examples/compiler/programs/$program.mm"
done
