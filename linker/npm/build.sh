#!/usr/bin/env bash
# Builds multimem-link.wasm for this package: the multimem-link CLI crate
# (linker/cli, with its default feature `with-runtime`, so the bundled
# runtime builds are inside) for wasm32-wasip1, release profile. Prints the
# path of the copied file on its last line. `npm pack` here refuses to run
# without it.
source "$(dirname "$0")/../../scripts/env.sh"
cd "$MULTIMEM_ROOT"
if ! rustup target list --installed | grep -qx wasm32-wasip1; then
  rustup target add wasm32-wasip1
fi
cargo build -q --release -p multimem-link --target wasm32-wasip1
cp "$CARGO_TARGET_DIR/wasm32-wasip1/release/multimem-link.wasm" linker/npm/multimem-link.wasm
echo "$MULTIMEM_ROOT/linker/npm/multimem-link.wasm"
