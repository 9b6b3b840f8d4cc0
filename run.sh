#!/usr/bin/env bash
# The main job: compile example programs of the Dart-like typed-data language
# (examples/compiler: functions, lists of lists, globals, a loop allocating a
# million lists) to WasmGC, link them with runtime.wasm, run them in wasmtime
# next to a wasm32 Rust library with its own memory, and print their output,
# the runtime stats and the ownership check: buffers are owned by the
# program's GC objects (multimem:gc.own tokens), so after main and a forced
# GC the live buffers must be exactly the ones the globals still reach, and
# 0 once the globals are dropped and the GC runs again. Each runs in both
# builds of the link: multi-memory, then single-memory (what engines without
# multi-memory, such as Safari, load) in wasmtime with multi-memory off; the
# two must print the same and count the same.
source "$(dirname "$0")/scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
for program in typed_data image refcounts functions lists globals churn; do
  cargo run -q -p multimem-compiler --bin multimem-compile -- --both-builds "examples/compiler/programs/$program.mm"
done
