#!/usr/bin/env bash
# Downloads the link benchmark's inputs and binaryen into the cache (never
# into the repository): real compiler outputs from the npm registry, pinned.
# Idempotent. Prints nothing but progress; paths are fixed (see run.sh).
source "$(dirname "$0")/../../scripts/env.sh"
NPM_CACHE="$MULTIMEM_CACHE/npm"
mkdir -p "$NPM_CACHE/packages"
# package@version  (what is inside)
PACKAGES=(
  "esbuild-wasm@0.28.2"        # esbuild.wasm: Go 1.x compiler output, 14.0 MB
  "@swc/wasm@1.16.18"          # wasm_bg.wasm: Rust (wasm-bindgen), 18.0 MB
  "lightningcss-wasm@1.33.0"   # lightningcss_node.wasm: Rust (wasm-bindgen), 15.8 MB
  "binaryen@132.0.0"           # bin/wasm-merge (emscripten build, runs on Node)
)
for spec in "${PACKAGES[@]}"; do
  # npm pack names the tarball @scope/name@v -> scope-name-v.tgz
  tgz="$(echo "${spec#@}" | sed 's#/#-#; s#@#-#').tgz"
  dir="$NPM_CACHE/packages/${tgz%.tgz}"
  if [ ! -d "$dir/package" ]; then
    echo "fetching $spec" >&2
    (cd "$NPM_CACHE" && npm pack --silent "$spec" >/dev/null 2>&1)
    mkdir -p "$dir"
    tar xzf "$NPM_CACHE/$tgz" -C "$dir"
  fi
done
