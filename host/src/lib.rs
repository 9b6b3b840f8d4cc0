//! Host API for wasmtime embedders (filled in by issue 6).
