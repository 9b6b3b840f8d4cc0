#!/usr/bin/env bash
# Builds everything the image pipeline runs into $CARGO_TARGET_DIR/image-pipeline
# (never into the source tree). Phases, in order:
#   1. codec/: examples/codec for wasm32 (release), then `wasm-bindgen --target web`:
#              codec.js (the generated glue), codec_bg.wasm, codec.d.ts;
#   2. rust-app.wasm   variant (c): rust-app/ (plain Rust calling the codec) for wasm32;
#   3. runtime.wasm    the multimem runtime (default build);
#   4. gc-array.wasm   variant (a): apps/gc-array.wat (its own instance next to the codec's);
#   5. multimem.wasm   variant (b): apps/multimem.wat + runtime.wasm + codec_bg.wasm linked
#                      into ONE module by multimem-link; the codec's exports keep their
#                      names (so codec.js works on it), the runtime's are exported as
#                      `multimem.<name>`, the app's as they are;
#   6. images/         the input JPEGs, written by tools/make-images.mjs (deterministic).
# Prints the build directory on its last line. Needs Node (MULTIMEM_NODE24 or node).
source "$(dirname "$0")/../../scripts/env.sh"
setup_rust
setup_wasm_bindgen
cd "$MULTIMEM_ROOT"
ex=examples/image-pipeline
out="$CARGO_TARGET_DIR/image-pipeline"
node="${MULTIMEM_NODE24:-node}"
mkdir -p "$out/codec" "$out/images"

echo "== codec (wasm32 + wasm-bindgen)" >&2
cargo build -q --manifest-path examples/codec/Cargo.toml --release --target wasm32-unknown-unknown \
  --target-dir "$CARGO_TARGET_DIR/data-paths/codec-target"
"$MULTIMEM_WASM_BINDGEN" --target web --out-dir "$out/codec" --out-name codec \
  "$CARGO_TARGET_DIR/data-paths/codec-target/wasm32-unknown-unknown/release/codec.wasm"

echo "== rust-app (variant c)" >&2
cargo build -q --manifest-path "$ex/rust-app/Cargo.toml" --release --target wasm32-unknown-unknown \
  --target-dir "$CARGO_TARGET_DIR/data-paths/rust-app-target"
cp "$CARGO_TARGET_DIR/data-paths/rust-app-target/wasm32-unknown-unknown/release/multimem_example_rust_app.wasm" \
  "$out/rust-app.wasm"

echo "== runtime.wasm, multimem-link" >&2
cargo run -q -p multimem-runtime-wasm -- --variant default "$out/runtime.wasm" >/dev/null
cargo build -q --bin multimem-link
link="$CARGO_TARGET_DIR/debug/multimem-link"

echo "== gc-array.wasm (variant a)" >&2
# One input: the linker only turns the text into a validated module; the
# external role names the app's own import so that nothing is added.
"$link" app="$ex/apps/gc-array.wat" --external-memory codec.memory -o "$out/gc-array.wasm"

echo "== multimem.wasm (variant b: app + runtime + codec in one module)" >&2
exports=()
while IFS= read -r line; do exports+=("$line"); done < <("$node" "$ex/tools/link-exports.mjs" \
  "$out/codec/codec_bg.wasm" "$out/runtime.wasm")
"$link" codec="$out/codec/codec_bg.wasm" app="$ex/apps/multimem.wat" multimem="$out/runtime.wasm" \
  --external-memory codec.memory "${exports[@]}" -o "$out/multimem.wasm"

echo "== images" >&2
"$node" "$ex/tools/make-images.mjs" --out "$out/images" --codec "$out/codec/codec.js" >&2
echo "$out"
