//! `multimem-runtime-wasm`: `runtime.wasm` as bytes, for Rust users.
//!
//! The build script compiles `multimem-runtime` for wasm32 in four variants
//! (see "Builds of the runtime" in `docs/ABI.md`) and this crate embeds
//! them. It owns no runtime code, only the build of it.

/// The default build (`simd`): what hosts and the linker use.
pub const RUNTIME_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runtime-default.wasm"));
/// The scalar build (no simd128), for engines without SIMD.
pub const RUNTIME_WASM_SCALAR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runtime-scalar.wasm"));
/// The `checked` build: exact use-after-free and double-release detection.
pub const RUNTIME_WASM_CHECKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runtime-checked.wasm"));
/// The `atomic-refcounts` build.
pub const RUNTIME_WASM_ATOMIC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/runtime-atomic.wasm"));

include!("size_budget.rs");

/// Every variant by name: `default`, `scalar`, `checked`, `atomic`.
pub const VARIANTS: &[(&str, &[u8])] = &[
    ("default", RUNTIME_WASM),
    ("scalar", RUNTIME_WASM_SCALAR),
    ("checked", RUNTIME_WASM_CHECKED),
    ("atomic", RUNTIME_WASM_ATOMIC),
];

/// The bytes of a variant by name.
pub fn variant(name: &str) -> Option<&'static [u8]> {
    VARIANTS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_build_fits_the_size_budget() {
        println!("runtime.wasm (default): {} bytes", RUNTIME_WASM.len());
        assert!(RUNTIME_WASM.len() <= SIZE_BUDGET, "{} > {SIZE_BUDGET}", RUNTIME_WASM.len());
    }

    #[test]
    fn every_variant_is_a_wasm_module() {
        for (name, bytes) in VARIANTS {
            assert_eq!(&bytes[..4], b"\0asm", "{name}");
        }
    }
}
