#!/usr/bin/env bash
# The data-path examples of issue 15 (examples/image-pipeline, examples/webgpu,
# js-glue/src/webgpu.js), one stage of ./test.sh. Phases, in order:
#   1. set-up: Rust targets, Node 24/26, chromium (scripts/env.sh), wasm-bindgen-cli
#      (setup_wasm_bindgen, pinned to the codec's wasm-bindgen version),
#      playwright-core into examples/harness/node_modules (npm ci; never a browser download);
#   2. native unit tests of the codec and of the plain-Rust app (their own cargo workspaces);
#   3. builds: examples/image-pipeline/build.sh (codec through wasm-bindgen, the three
#      app variants, the one-module link, the images), examples/webgpu/build.sh, and the
#      wasmtime runner (multimem-example-image-pipeline);
#   4. tsc: js-glue/src/webgpu.d.ts against examples/webgpu/test/types/usage.ts;
#   5. node:test: the pipeline on Node 24 and 26 (+ wasmtime, from the same test file),
#      the pipeline page and the WebGPU page in headless Chromium.
source "$(dirname "$0")/env.sh"
setup_rust
setup_node
setup_chromium
setup_wasm_bindgen
cd "$MULTIMEM_ROOT"
echo "== data-path examples (scripts/test-data-paths.sh)"

if [ ! -d examples/harness/node_modules/playwright-core ]; then
  (cd examples/harness && PATH="$(dirname "$MULTIMEM_NODE24"):$PATH" npm ci --no-audit --no-fund --silent)
fi

echo "== codec and rust-app unit tests (native)"
cargo test -q --manifest-path examples/codec/Cargo.toml --target-dir "$CARGO_TARGET_DIR/data-paths/codec-native"
cargo test -q --manifest-path examples/image-pipeline/rust-app/Cargo.toml --target-dir "$CARGO_TARGET_DIR/data-paths/rust-app-native"

echo "== builds"
export MULTIMEM_IMAGE_PIPELINE_BUILD="$(examples/image-pipeline/build.sh | tail -n 1)"
export MULTIMEM_WEBGPU_BUILD="$(examples/webgpu/build.sh | tail -n 1)"
cargo build -q -p multimem-example-image-pipeline
export MULTIMEM_IMAGE_PIPELINE_WASMTIME="$CARGO_TARGET_DIR/debug/image-pipeline-wasmtime"

echo "== tsc (js-glue/src/webgpu.d.ts)"
"$MULTIMEM_NODE24" js-glue/node_modules/typescript/bin/tsc -p examples/webgpu/test/types/tsconfig.json

failed=()
for node in "$MULTIMEM_NODE24" "$MULTIMEM_NODE26"; do
  echo "== image pipeline on Node $("$node" --version) and wasmtime"
  "$node" --test --test-reporter=spec examples/image-pipeline/test/pipeline.test.mjs || failed+=("pipeline on $("$node" --version)")
done
echo "== image pipeline page and WebGPU page in Chromium (playwright-core + /usr/bin/chromium, headless)"
"$MULTIMEM_NODE24" --test --test-reporter=spec examples/image-pipeline/test/page.test.mjs examples/webgpu/test/webgpu.test.mjs \
  || failed+=("Chromium pages")
if [ ${#failed[@]} -ne 0 ]; then
  echo "data-path tests failed: ${failed[*]}" >&2
  exit 1
fi
