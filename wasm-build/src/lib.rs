//! Nested `cargo` builds of wasm32 crates from build scripts.
//!
//! `runtime/bundle` (runtime.wasm) and `examples/compiler` (extlib.wasm)
//! compile a workspace crate for `wasm32-unknown-unknown` from their build
//! scripts. A nested cargo must not inherit the outer build: the outer
//! rustflags are for the host, the outer target dir is locked, the
//! jobserver belongs to the outer cargo. And several checkouts may share
//! one target dir (CI clones next to a developer's tree), which share
//! this build script's unit because cargo hashes workspace crates by their
//! path relative to the workspace root. So each checkout gets its own
//! nested target dir, and rerun paths are package-relative so that cargo
//! checks them against the checkout being built.
//!
//! This crate owns only that plumbing; what to build and with which
//! features stays in each build script.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment of the outer build that must not reach the nested one.
const OUTER_ENV: &[&str] = &[
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
];

/// The calling build script's view of the workspace.
pub struct NestedBuild {
    /// The workspace root (the checkout).
    pub root: PathBuf,
    /// The calling package's directory.
    pub manifest_dir: PathBuf,
    /// The build script's `OUT_DIR`.
    pub out_dir: PathBuf,
}

impl NestedBuild {
    /// Reads `CARGO_MANIFEST_DIR` and `OUT_DIR`; `root` is the workspace
    /// root relative to the calling package (for example `"../.."`).
    pub fn from_env(root: &str) -> NestedBuild {
        let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
        let root = manifest_dir.join(root).canonicalize().expect("workspace root");
        let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
        NestedBuild { root, manifest_dir, out_dir }
    }

    /// Prints `cargo:rerun-if-changed` for each path (relative to the
    /// workspace root), written relative to the calling package.
    pub fn rerun_if_changed(&self, paths: &[&str]) {
        let rel = self.manifest_dir.strip_prefix(&self.root).expect("package inside the workspace");
        let up = "../".repeat(rel.components().count());
        for p in paths {
            println!("cargo:rerun-if-changed={up}{p}");
        }
    }

    /// A target dir for the nested build `name`, unique to this checkout,
    /// under the outer target dir (`OUT_DIR` is `<target>/<profile>/build/<pkg>-<hash>/out`).
    pub fn target_dir(&self, name: &str) -> PathBuf {
        let outer = self.out_dir.ancestors().nth(4).expect("OUT_DIR layout");
        outer.join(name).join(checkout_key(&self.root))
    }

    /// A `cargo` command run in the workspace root with the outer build's
    /// environment removed. `rustflags` (space-separated) become the nested
    /// build's `CARGO_ENCODED_RUSTFLAGS`.
    pub fn cargo(&self, rustflags: &str) -> Command {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&self.root);
        for var in OUTER_ENV {
            cmd.env_remove(var);
        }
        let encoded = rustflags.split_whitespace().collect::<Vec<_>>().join("\x1f");
        cmd.env("CARGO_ENCODED_RUSTFLAGS", encoded);
        cmd
    }
}

/// Runs `cmd`, panicking with `what` (build scripts report by panicking).
pub fn run(mut cmd: Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{what}: running cargo: {e}"));
    if !status.success() {
        panic!("{what} failed: {status}");
    }
}

/// A short, stable name for the checkout at `root` (FNV-1a of its path).
fn checkout_key(root: &Path) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in root.as_os_str().as_encoded_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
