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
# two must print the same and count the same. Then the same linked modules
# run in Node 24 through js-glue (examples/compiler/node/run.mjs), which
# must print what wasmtime printed and end with the same live buffers.
source "$(dirname "$0")/scripts/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
programs=(typed_data image refcounts functions lists globals churn)
out="$CARGO_TARGET_DIR/main-job"
mkdir -p "$out"
cargo build -q -p multimem-compiler --bin multimem-compile
compile="$CARGO_TARGET_DIR/debug/multimem-compile"
for program in "${programs[@]}"; do
  src="examples/compiler/programs/$program.mm"
  "$compile" --both-builds --emit-linked "$out/$program.linked.wasm" "$src" | tee "$out/$program.out"
  "$compile" --single-memory --no-run --emit-linked "$out/$program.linked.single.wasm" "$src"
done

setup_node
cargo build -q -p multimem-extlib --lib --target wasm32-unknown-unknown --release
extlib="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/multimem_extlib.wasm"
echo
echo "== the same linked modules in Node $("$MULTIMEM_NODE24" --version) through js-glue, both builds"
for program in "${programs[@]}"; do
  echo "-- examples/compiler/programs/$program.mm"
  "$MULTIMEM_NODE24" --expose-gc examples/compiler/node/run.mjs --extlib "$extlib" \
    --wasmtime-output "$out/$program.out" "$out/$program.linked.wasm" "$out/$program.linked.single.wasm"
done
