//! libFuzzer entry for the linker's differential fuzzer: the fuzz input
//! configures wasm-smith, the case is linked in four modes and each linked
//! module is run against the originals (`multimem_fuzz::run_case`). A link
//! failure on valid inputs or a divergence panics, which libFuzzer records
//! as a crash; `fuzz-link --input <crash file>` replays it on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| multimem_fuzz::check(data));
