//! Builds the external library (`examples/extlib`) for wasm32 and puts
//! `extlib.wasm` in `OUT_DIR`.
//!
//! Phases:
//! 1. run a nested `cargo build -p multimem-extlib --lib --target
//!    wasm32-unknown-unknown --release` into its own directory under the
//!    outer target dir (`extlib-wasm/<checkout>/`, see `multimem-wasm-build`),
//!    so it never waits on the outer build's lock;
//! 2. copy `multimem_extlib.wasm` to `OUT_DIR/extlib.wasm`.

use multimem_wasm_build::NestedBuild;

fn main() {
    let nested = NestedBuild::from_env("../..");
    nested.rerun_if_changed(&["examples/extlib/src", "examples/extlib/Cargo.toml"]);
    let dir = nested.target_dir("extlib-wasm");
    let mut cmd = nested.cargo("");
    cmd.args(["build", "-p", "multimem-extlib", "--lib", "--target", "wasm32-unknown-unknown", "--release"])
        .arg("--target-dir")
        .arg(&dir);
    multimem_wasm_build::run(cmd, "building extlib.wasm");
    let wasm = dir.join("wasm32-unknown-unknown/release/multimem_extlib.wasm");
    let dest = nested.out_dir.join("extlib.wasm");
    std::fs::copy(&wasm, dest).unwrap_or_else(|e| panic!("copying {}: {e}", wasm.display()));
}
