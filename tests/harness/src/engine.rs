//! The wasmtime engines of the tests. Each is built once per test process
//! and shared (an `Engine` is a cheap, thread-safe handle).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use wasmtime::{Config, Engine};

/// The configuration of [`runtime`]: `multimem_host`'s
/// [`engine_config`](multimem_host::Options::engine_config) (what an
/// embedder gets), without trap backtraces, which the tests never read and
/// which would slow their thousands of deliberate traps.
fn runtime_config() -> Config {
    let mut config = multimem_host::Options::engine_config();
    config.wasm_backtrace_max_frames(None);
    config
}

/// The engine for `runtime.wasm` on its own ([`runtime_config`]).
pub fn runtime() -> Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&runtime_config()).expect("creating the runtime test engine")).clone()
}

/// [`runtime`]'s configuration with a memory reservation of `bytes`: a
/// memory that cannot move (every shared memory) cannot grow past `bytes`,
/// there `memory.grow` fails. This is how [`crate::Setup::max_own_bytes`]
/// caps a shared own memory, whose growth wasmtime does not submit to any
/// store's `ResourceLimiter`. One engine per `bytes`, built once.
pub fn runtime_reserving(bytes: usize) -> Engine {
    static ENGINES: OnceLock<Mutex<HashMap<usize, Engine>>> = OnceLock::new();
    let mut engines = ENGINES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    engines
        .entry(bytes)
        .or_insert_with(|| {
            let mut config = runtime_config();
            config.memory_reservation(bytes as u64);
            Engine::new(&config).expect("creating a runtime test engine with a memory reservation")
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
