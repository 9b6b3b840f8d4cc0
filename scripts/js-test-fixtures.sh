#!/usr/bin/env bash
# Builds every fixture of js-glue's tests into $CARGO_TARGET_DIR/js-fixtures
# (used by scripts/test-js.sh for Node and scripts/test-webkit.sh for jsc):
#   1. build_js_fixtures (scripts/env.sh): runtime.wasm, the WAT fixtures, app.wasm
#      linked with the runtime in both builds (app.linked.wasm, app.linked.single.wasm);
#   2. the atomic-refcounts runtime; threads-app.wasm linked with the shared and
#      shared-checked runtimes (--import-shared-memory; threads.linked.wasm and
#      threads-checked.linked.wasm, each also .single.wasm); app.wasm linked twice more with `--export` (only
#      the app's `sum`; the app's exports plus the runtime exports the glue needs), each
#      also as a single-memory build (`--single-memory`, NAME.single.wasm);
#   3. lowered-ops (js-glue/test/lowered-ops.js: one function per row of the ABI's
#      lowered table) written, compiled and linked both ways, and the multi-memory
#      build's outcomes on Node recorded for jsc (lowered-ops.expected.json);
#   4. the example compiler's programs, their output in wasmtime, and their apps linked
#      both ways (compiler/).
source "$(dirname "$0")/env.sh"
setup_rust
setup_node
cd "$MULTIMEM_ROOT"

build_js_fixtures
out="$MULTIMEM_JS_FIXTURES"
cargo run -q -p multimem-runtime-wasm -- --variant atomic "$out/runtime-atomic.wasm"
# The thread tests' heap: threads-app.wat linked with the shared builds over an
# imported shared memory (threads.linked.wasm, threads-checked.linked.wasm), both ways.
for variant in shared shared-checked; do
  cargo run -q -p multimem-runtime-wasm -- --variant "$variant" "$out/runtime-$variant.wasm" >/dev/null
  name="threads${variant#shared}"
  for single in "" --single-memory; do
    cargo run -q --bin multimem-link -- app="$out/threads-app.wasm" multimem="$out/runtime-$variant.wasm" \
      --import-shared-memory $single -o "$out/$name.linked${single:+.single}.wasm"
  done
done
# The glue needs only these runtime exports (js-glue REQUIRED_EXPORTS) and the memory.
keep=()
for name in memory abi_version last_error buffer_new buffer_retain buffer_release buffer_length buffer_check; do
  keep+=(--export "multimem.$name")
done
for single in "" --single-memory; do
  suffix="${single:+.single}"
  cargo run -q --bin multimem-link -- app="$out/app.wasm" multimem="$out/runtime.wasm" \
    --export app.sum $single -o "$out/app.only-app$suffix.wasm"
  cargo run -q --bin multimem-link -- app="$out/app.wasm" multimem="$out/runtime.wasm" \
    --export app.sum --export app.make "${keep[@]}" $single -o "$out/app.minimal$suffix.wasm"
done
# Every lowered instruction, linked both ways; the native run's outcomes are what jsc must reproduce.
rm -rf "$out/gen" && mkdir -p "$out/gen"
"$MULTIMEM_NODE24" js-glue/test/lowered-ops-record.mjs wat "$out/gen/lowered-ops.wat"
cargo run -q -p multimem-js-fixtures -- "$out/gen" "$out"
cargo run -q --bin multimem-link -- app="$out/lowered-ops.wasm" -o "$out/lowered-ops.linked.wasm"
cargo run -q --bin multimem-link -- app="$out/lowered-ops.wasm" --single-memory --native-memory app.memory \
  -o "$out/lowered-ops.single.wasm"
"$MULTIMEM_NODE24" js-glue/test/lowered-ops-record.mjs expect "$out" "$out/lowered-ops.expected.json"

# The example compiler's programs (examples/compiler/programs, not the bench_*
# ones): each compiled to an app module and run once in wasmtime by
# multimem-compile, whose printed lines are what Node and jsc must print too
# (NAME.expected); the app linked with runtime.wasm both ways; the external
# library extlib built for wasm32. js-glue/test/compiler-programs.test.js uses them.
comp="$out/compiler"
rm -rf "$comp" && mkdir -p "$comp"
cargo build -q -p multimem-compiler --bin multimem-compile
cargo build -q -p multimem-extlib --lib --target wasm32-unknown-unknown --release
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/multimem_extlib.wasm" "$comp/extlib.wasm"
for program in examples/compiler/programs/*.mm; do
  name="$(basename "$program" .mm)"
  case "$name" in bench_*) continue ;; esac
  "$CARGO_TARGET_DIR/debug/multimem-compile" --emit-wasm "$comp/$name.wasm" "$program" >"$comp/$name.out"
  grep -v '^-- ' "$comp/$name.out" >"$comp/$name.expected" || true
  cargo run -q --bin multimem-link -- app="$comp/$name.wasm" multimem="$out/runtime.wasm" -o "$comp/$name.linked.wasm"
  cargo run -q --bin multimem-link -- app="$comp/$name.wasm" multimem="$out/runtime.wasm" --single-memory \
    -o "$comp/$name.linked.single.wasm"
  echo "$name" >>"$comp/programs.txt"
done
