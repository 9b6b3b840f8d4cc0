//! The wasmtime engines of the tests. Each is built once per test process
//! and shared (an `Engine` is a cheap, thread-safe handle).

use std::sync::OnceLock;
use wasmtime::{Config, Engine};

/// The engine for `runtime.wasm` on its own: `multimem_host`'s
/// [`engine_config`](multimem_host::Options::engine_config) (what an
/// embedder gets), without trap backtraces, which the tests never read and
/// which would slow their thousands of deliberate traps.
pub fn runtime() -> Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = multimem_host::Options::engine_config();
            config.wasm_backtrace_max_frames(None);
            Engine::new(&config).expect("creating the runtime test engine")
        })
        .clone()
}

/// The configuration of [`full`]: multi-memory, memory64, GC, function
/// references, reference types, SIMD and relaxed SIMD, tail calls,
/// exceptions, threads and shared memory. It is also the configuration of
/// the spec-testsuite reference run (`../shared/testsuite/README.md`).
pub fn full_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_multi_memory(true)
        .wasm_memory64(true)
        .wasm_gc(true)
        .wasm_function_references(true)
        .wasm_reference_types(true)
        .wasm_simd(true)
        .wasm_relaxed_simd(true)
        .wasm_tail_call(true)
        .wasm_exceptions(true)
        .wasm_threads(true)
        .shared_memory(true);
    config
}

/// The engine for linked modules: every proposal the linker accepts is on
/// ([`full_config`]).
pub fn full() -> Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&full_config()).expect("creating the full-featured test engine")).clone()
}
