#!/usr/bin/env bash
# The single-memory benchmark (bench.js): the single-memory build against the
# multi-memory build of the same link on Node 24, and against a plain
# one-memory module in JavaScriptCore's shell (no multi-memory there), and the
# image example end to end on both builds in Node 24 (e2e.mjs). Writes
# the table into BENCHMARKS.md between the single-memory markers. Not a test.
# Usage: bench/single-memory/run.sh [ROUNDS]   (default 11)
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_node
setup_webkit
cd "$MULTIMEM_ROOT"
rounds="${1:-11}"
out="$CARGO_TARGET_DIR/bench-single-memory"
rm -rf "$out" && mkdir -p "$out/wat"
cp bench/single-memory/app.wat bench/single-memory/plain.wat "$out/wat/"
cargo run -q -p multimem-js-fixtures -- "$out/wat" "$out"
cargo run -q -p multimem-runtime-wasm -- --variant default "$out/runtime.wasm" >/dev/null
cargo build -q --release -p multimem-link
link="$CARGO_TARGET_DIR/release/multimem-link"
"$link" app="$out/app.wasm" multimem="$out/runtime.wasm" -o "$out/app.multi.wasm"
"$link" app="$out/app.wasm" multimem="$out/runtime.wasm" --single-memory -o "$out/app.single.wasm"
echo "== Node $("$MULTIMEM_NODE24" --version), $rounds rounds" >&2
"$MULTIMEM_NODE24" bench/single-memory/bench.js "$out" "$rounds" >"$out/node24.json"
echo "== jsc ($(dpkg-query -W -f '${Version}' libjavascriptcoregtk-4.0-bin)), $rounds rounds" >&2
/usr/bin/jsc -m bench/single-memory/bench.js -- "$out" "$rounds" >"$out/jsc.json"
sed -i "s/\"engine\":\"jsc\"/\"engine\":\"jsc $(dpkg-query -W -f '${Version}' libjavascriptcoregtk-4.0-bin)\"/" "$out/jsc.json"
echo "== the image example end to end (e2e.mjs), Node $("$MULTIMEM_NODE24" --version)" >&2
browser="$(examples/browser/build.sh | tail -n 1)"
"$MULTIMEM_NODE24" bench/single-memory/e2e.mjs "$browser" "$rounds" >"$out/e2e-node24.json"
"$MULTIMEM_NODE24" bench/single-memory/report.mjs BENCHMARKS.md "$rounds" "$out/node24.json" "$out/jsc.json" "$out/e2e-node24.json"
