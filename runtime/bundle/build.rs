//! Builds `runtime.wasm` in its four variants and puts them in `OUT_DIR`.
//!
//! Phases:
//! 1. for each variant (default, scalar, checked, atomic), run a nested
//!    `cargo rustc -p multimem-runtime --crate-type cdylib --target
//!    wasm32-unknown-unknown --profile wasm-runtime` with that variant's
//!    features and rustflags, into its own directory under the outer target
//!    dir, one per checkout (so variants never evict each other, and the
//!    nested build never waits on the outer build's lock; see
//!    `multimem-wasm-build`);
//! 2. tidy each `multimem_runtime.wasm` into `OUT_DIR/runtime-<variant>.wasm`:
//!    drop the `__heap_base`/`__data_end` global exports rustc always adds
//!    for wasm32 cdylibs (the ABI's export list is exact) and any custom
//!    sections;
//! 3. print the sizes and fail the build if the default variant exceeds the
//!    budget (`SIZE_BUDGET` in `src/size_budget.rs`, tested in `src/lib.rs` too).

use multimem_wasm_build::NestedBuild;
use std::path::{Path, PathBuf};

/// (name, features, rustflags)
const VARIANTS: &[(&str, &str, &str)] = &[
    ("default", "simd", "-C target-feature=+simd128"),
    ("scalar", "", ""),
    ("checked", "simd checked", "-C target-feature=+simd128"),
    ("atomic", "simd atomic-refcounts", "-C target-feature=+simd128"),
];

/// Link arguments shared by all variants: a 64 KiB shadow stack (the
/// runtime recurses nowhere) instead of wasm-ld's 1 MiB, so a fresh
/// instance starts with 2 pages instead of 17; and a declared maximum of
/// all 4 GiB (`MAX_PAGES` in docs/ABI.md), which limits nothing but lets JS
/// engines offer `toResizableBuffer()` on the memory.
const LINK_FLAGS: &str = "-C link-arg=-zstack-size=65536 -C link-arg=--max-memory=4294967296";

// `SIZE_BUDGET`, shared with the library.
include!("src/size_budget.rs");

fn main() {
    let nested = NestedBuild::from_env("../..");
    nested.rerun_if_changed(&["runtime/src", "runtime/Cargo.toml", "abi", "docs/ABI.md", "Cargo.toml", "Cargo.lock"]);
    for (name, features, rustflags) in VARIANTS {
        let dir = nested.target_dir("runtime-wasm").join(name);
        let wasm = build(&nested, &dir, features, rustflags);
        let dest = nested.out_dir.join(format!("runtime-{name}.wasm"));
        let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()));
        let tidied = tidy(&bytes);
        std::fs::write(&dest, &tidied).unwrap();
        let size = tidied.len();
        println!("cargo:warning=runtime.wasm ({name}): {size} bytes");
        if *name == "default" && size > SIZE_BUDGET {
            panic!("runtime.wasm (default) is {size} bytes, over the {SIZE_BUDGET}-byte budget");
        }
    }
}

fn build(nested: &NestedBuild, dir: &Path, features: &str, rustflags: &str) -> PathBuf {
    let mut cmd = nested.cargo(&format!("{rustflags} {LINK_FLAGS}"));
    cmd.args(["rustc", "-p", "multimem-runtime", "--lib", "--crate-type", "cdylib"])
        .args(["--target", "wasm32-unknown-unknown"])
        .args(["--profile", "wasm-runtime", "--target-dir"])
        .arg(dir);
    if !features.is_empty() {
        cmd.args(["--features", features]);
    }
    multimem_wasm_build::run(cmd, &format!("building runtime.wasm (features `{features}`)"));
    dir.join("wasm32-unknown-unknown/wasm-runtime/multimem_runtime.wasm")
}

/// Rewrites a module without custom sections and without global exports.
/// A tiny section walker rather than a dependency: the module is our own
/// linker output and only these two edits are needed.
fn tidy(wasm: &[u8]) -> Vec<u8> {
    assert_eq!(&wasm[..8], b"\0asm\x01\0\0\0", "not a wasm module");
    let mut out = wasm[..8].to_vec();
    let mut i = 8;
    while i < wasm.len() {
        let id = wasm[i];
        let (len, body_start) = leb(wasm, i + 1);
        let body = &wasm[body_start..body_start + len as usize];
        i = body_start + len as usize;
        match id {
            0 => continue,
            7 => {
                let (count, mut j) = leb(body, 0);
                let mut kept = Vec::new();
                let mut n = 0u32;
                for _ in 0..count {
                    let start = j;
                    let (name_len, k) = leb(body, j);
                    let kind = body[k + name_len as usize];
                    let (_, end) = leb(body, k + name_len as usize + 1);
                    j = end;
                    if kind != 3 {
                        kept.extend_from_slice(&body[start..end]);
                        n += 1;
                    }
                }
                let mut section = Vec::new();
                put_leb(&mut section, n);
                section.extend_from_slice(&kept);
                out.push(7);
                put_leb(&mut out, section.len() as u32);
                out.extend_from_slice(&section);
            }
            _ => {
                out.push(id);
                put_leb(&mut out, len);
                out.extend_from_slice(body);
            }
        }
    }
    out
}

fn leb(b: &[u8], mut i: usize) -> (u32, usize) {
    let (mut v, mut shift) = (0u32, 0);
    loop {
        let x = b[i];
        i += 1;
        v |= ((x & 0x7f) as u32) << shift;
        shift += 7;
        if x < 0x80 {
            return (v, i);
        }
    }
}

fn put_leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let x = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(x);
            return;
        }
        out.push(x | 0x80);
    }
}
