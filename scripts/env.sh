# Sourced by run.sh, test.sh and .ci/run: one place for paths and set-up.
# Idempotent; safe to source repeatedly.
set -euo pipefail
MULTIMEM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MULTIMEM_ROOT
# One target dir outside the clone, so later runs (and CI on this machine) start warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/multimem/target}"
export MULTIMEM_CACHE="${MULTIMEM_CACHE:-$HOME/.cache/multimem}"
mkdir -p "$CARGO_TARGET_DIR" "$MULTIMEM_CACHE"

# rustup here does not install the targets rust-toolchain.toml lists.
setup_rust() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
  fi
}
