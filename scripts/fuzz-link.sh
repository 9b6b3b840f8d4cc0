#!/usr/bin/env bash
# The linker's differential fuzzer for long runs (fuzz/README.md).
#
#   scripts/fuzz-link.sh                          # seeds 0..1000000 on every core
#   scripts/fuzz-link.sh --seeds 0..200000 --time 14400 --quiet
#   scripts/fuzz-link.sh --seed 1234              # replay one seed
#
# Builds fuzz-link in the `fuzz` profile (release optimisation and no debug
# assertions, but without release's fat LTO, which would add ~15 minutes of
# build for ~10% of speed), defined here on the command line so the
# workspace's profiles stay as they are; its output goes to
# $CARGO_TARGET_DIR/fuzz. Arguments go to fuzz-link; with none, the
# million-seed run.
source "$(dirname "$0")/env.sh"
setup_rust
cd "$MULTIMEM_ROOT"
cargo build --profile fuzz \
  --config 'profile.fuzz.inherits="release"' \
  --config 'profile.fuzz.lto=false' \
  --config 'profile.fuzz.codegen-units=16' \
  -p multimem-fuzz --bin fuzz-link
if [ "$#" -eq 0 ]; then
  set -- --seeds 0..1000000 --quiet
fi
exec "$CARGO_TARGET_DIR/fuzz/fuzz-link" "$@"
