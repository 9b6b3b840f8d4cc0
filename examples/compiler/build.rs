//! Builds the external library (`examples/extlib`) for wasm32 and puts
//! `extlib.wasm` in `OUT_DIR`.
//!
//! Phases:
//! 1. run a nested `cargo build -p multimem-extlib --lib --target
//!    wasm32-unknown-unknown --release` into its own directory under the
//!    outer target dir (`extlib-wasm/`), so it never waits on the outer
//!    build's lock;
//! 2. copy `multimem_extlib.wasm` to `OUT_DIR/extlib.wasm`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..").canonicalize().unwrap();
    for p in ["examples/extlib/src", "examples/extlib/Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    // OUT_DIR = <target>/<profile>/build/<pkg>-<hash>/out
    let dir = out.ancestors().nth(4).unwrap().join("extlib-wasm");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&root)
        .args(["build", "-p", "multimem-extlib", "--lib", "--target", "wasm32-unknown-unknown", "--release"])
        .arg("--target-dir")
        .arg(&dir);
    // The outer build's settings are for the host and its lock and
    // jobserver belong to the outer cargo.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_PKG_NAME",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("running {cargo}: {e}"));
    if !status.success() {
        panic!("building extlib.wasm failed: {status}");
    }
    let wasm = dir.join("wasm32-unknown-unknown/release/multimem_extlib.wasm");
    std::fs::copy(&wasm, out.join("extlib.wasm")).unwrap_or_else(|e| panic!("copying {}: {e}", wasm.display()));
}
