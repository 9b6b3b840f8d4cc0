/// Release size budget of [`RUNTIME_WASM`] in bytes (issue 2: 8 KiB).
/// One definition for the library and `build.rs` (which `include!`s this
/// file and fails the build above it).
pub const SIZE_BUDGET: usize = 8192;
