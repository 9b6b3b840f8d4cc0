//! `multimem-runtime-wasm`: `runtime.wasm` as bytes, for Rust users.
//!
//! The build script compiles `multimem-runtime` for wasm32 once per row of
//! the builds table in `docs/ABI.md` ("Builds of the runtime", read through
//! `multimem_abi::BUILDS`), and generates the constants below from that
//! table: [`RUNTIME_WASM`] (the default build), one `RUNTIME_WASM_<BUILD>`
//! per other build, [`VARIANTS`] (every build one instance runs on its
//! own), [`SHARED_VARIANTS`] (the shared builds, which hosts instantiate once
//! per thread over one shared memory: docs/ABI.md, "Threads"),
//! [`DEFAULT_VARIANT`] and [`SIZE_BUDGET`].
//! It owns no runtime code and no list of builds, only the build of them.
//!
//! A tool that offers a choice of build (`--variant`, `--runtime-variant`)
//! takes the names from [`VARIANTS`] (or `multimem_abi::BUILDS`, which needs
//! no runtime build) and the bytes from [`variant`].

include!(concat!(env!("OUT_DIR"), "/variants.rs"));

/// The bytes of a build by name (one of [`VARIANTS`] or [`SHARED_VARIANTS`]).
pub fn variant(name: &str) -> Option<&'static [u8]> {
    VARIANTS.iter().chain(SHARED_VARIANTS).find(|(n, _)| *n == name).map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variants_are_the_builds_of_abi_md_in_order() {
        let names: Vec<&str> = VARIANTS.iter().map(|(n, _)| *n).collect();
        let builds: Vec<&str> = multimem_abi::BUILDS.iter().filter(|b| !b.is_shared()).map(|b| b.name).collect();
        assert_eq!(names, builds);
        let names: Vec<&str> = SHARED_VARIANTS.iter().map(|(n, _)| *n).collect();
        let builds: Vec<&str> = multimem_abi::BUILDS.iter().filter(|b| b.is_shared()).map(|b| b.name).collect();
        assert_eq!(names, builds);
        assert!(!SHARED_VARIANTS.is_empty());
        for (name, bytes) in SHARED_VARIANTS {
            assert_eq!(variant(name), Some(*bytes));
        }
        assert_eq!(DEFAULT_VARIANT, multimem_abi::DEFAULT_BUILD.name);
        assert_eq!(variant(DEFAULT_VARIANT), Some(RUNTIME_WASM));
        assert_eq!(variant("no-such-build"), None);
    }

    #[test]
    fn every_variant_fits_its_size_budget() {
        assert_eq!(Some(SIZE_BUDGET as u32), multimem_abi::DEFAULT_BUILD.size_budget);
        for (name, bytes) in VARIANTS.iter().chain(SHARED_VARIANTS) {
            let budget = multimem_abi::build(name).unwrap().size_budget;
            println!("runtime.wasm ({name}): {} bytes, budget {budget:?}", bytes.len());
            if let Some(budget) = budget {
                assert!(bytes.len() <= budget as usize, "{name}: {} > {budget}", bytes.len());
            }
        }
    }

    /// A build compiled with `simd128` uses SIMD instructions (it does not
    /// validate with the proposal off); a build without validates without it.
    #[test]
    fn each_variant_uses_simd_exactly_when_its_target_features_say() {
        let mut no_simd = wasmparser::WasmFeatures::default();
        no_simd.remove(wasmparser::WasmFeatures::SIMD | wasmparser::WasmFeatures::RELAXED_SIMD);
        for (name, bytes) in VARIANTS.iter().chain(SHARED_VARIANTS) {
            assert_eq!(&bytes[..4], b"\0asm", "{name}");
            wasmparser::Validator::new().validate_all(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let simd = multimem_abi::build(name).unwrap().target_features.contains(&"simd128");
            let without = wasmparser::Validator::new_with_features(no_simd).validate_all(bytes).map(|_| ());
            assert_eq!(without.is_err(), simd, "{name}: simd128 in target features = {simd}, but {without:?}");
        }
    }
}
