//! One instance of one build of `runtime.wasm` in wasmtime, unlinked: the
//! intrinsics are `multimem_host`'s host functions (as an unlinked embedder
//! would use them) over an optional second wasmtime memory that plays the
//! external library's memory.
//!
//! Calls check the ABI's trap protocol on every failure: an export that
//! fails must trap with `unreachable` and leave a nonzero code in
//! `last_error`; anything else (another trap, a host error, an unknown code)
//! panics the test.

use anyhow::Result;
use multimem_abi::{ErrorCode, Kind, MEMORY_EXPORT};
use wasmtime::{
    Engine, Instance, Linker, Memory, MemoryType, Module, ResourceLimiter, Store, Trap, WasmParams, WasmResults,
};

/// The result of an export: its value, or the error code it trapped with.
pub type Outcome<R> = std::result::Result<R, ErrorCode>;

/// How [`Rt`] instantiates the runtime. The default has no external memory
/// (an intrinsic that needs one fails the call, and so the test) and no
/// limit on the own memory.
#[derive(Clone, Debug)]
pub struct Setup {
    max_own_bytes: usize,
    external: Option<(u32, Option<u32>)>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup { max_own_bytes: usize::MAX, external: None }
    }
}

impl Setup {
    /// No external memory, no limit (the default).
    pub fn new() -> Setup {
        Setup::default()
    }

    /// Gives the intrinsics an external memory of `min` pages, growable to
    /// `max` (as `env.memory` of an external library).
    pub fn external_memory(mut self, min: u32, max: Option<u32>) -> Setup {
        self.external = Some((min, max));
        self
    }

    /// Caps the own memory at `bytes`: a `memory.grow` beyond fails, so
    /// allocation reaches `OUT_OF_MEMORY`.
    pub fn max_own_bytes(mut self, bytes: usize) -> Setup {
        self.max_own_bytes = bytes;
        self
    }
}

/// The store's data: the own-memory cap of [`Setup::max_own_bytes`].
pub struct Limits {
    max_own_bytes: usize,
}

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_own_bytes)
    }
    fn table_growing(&mut self, _current: usize, _desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// One instance of one build of `runtime.wasm`.
pub struct Rt {
    /// The build's name (`multimem_runtime_wasm::VARIANTS`), for messages.
    pub variant: &'static str,
    /// The store the instance lives in.
    pub store: Store<Limits>,
    /// The runtime instance.
    pub instance: Instance,
    /// The runtime's own memory (its `memory` export).
    pub own: Memory,
    /// The external memory given to the intrinsics, if any.
    pub external: Option<Memory>,
}

impl Rt {
    /// Instantiates `wasm` (the build named `variant`) in `engine`.
    pub fn new(engine: &Engine, variant: &'static str, wasm: &[u8], setup: &Setup) -> Result<Rt> {
        let module = Module::new(engine, wasm)?;
        let mut store = Store::new(engine, Limits { max_own_bytes: setup.max_own_bytes });
        store.limiter(|l| l);
        let external = match setup.external {
            Some((min, max)) => Some(Memory::new(&mut store, MemoryType::new(min, max))?),
            None => None,
        };
        let mut linker = Linker::new(engine);
        multimem_host::intrinsics::define(&mut linker, external)?;
        let instance = linker.instantiate(&mut store, &module)?;
        let own = instance.get_memory(&mut store, MEMORY_EXPORT).expect("runtime.wasm exports its memory");
        Ok(Rt { variant, store, instance, own, external })
    }

    /// One fresh instance of every build, in [`crate::engine::runtime`].
    pub fn all(setup: &Setup) -> Vec<Rt> {
        let engine = crate::engine::runtime();
        multimem_runtime_wasm::VARIANTS
            .iter()
            .map(|(name, wasm)| Rt::new(&engine, name, wasm, setup).unwrap_or_else(|e| panic!("[{name}] {e:?}")))
            .collect()
    }

    /// Runs `f` on a fresh instance of every build (default [`Setup`]).
    pub fn each(mut f: impl FnMut(&mut Rt)) {
        for mut rt in Rt::all(&Setup::default()) {
            f(&mut rt);
        }
    }

    /// The external memory; panics when the [`Setup`] gave none.
    pub fn external(&self) -> Memory {
        self.external.expect("this Rt was set up without an external memory")
    }

    /// Calls an export. A failure must be the ABI's trap (`unreachable`
    /// with a nonzero `last_error`): it becomes that code; any other
    /// failure panics.
    pub fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> Outcome<R> {
        let variant = self.variant;
        let f = self
            .instance
            .get_typed_func::<P, R>(&mut self.store, name)
            .unwrap_or_else(|e| panic!("[{variant}] {name}: {e}"));
        match f.call(&mut self.store, params) {
            Ok(r) => Ok(r),
            Err(e) => {
                assert_eq!(e.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached), "[{variant}] {name}: {e:?}");
                let code: u32 = self.ok("last_error", ());
                match ErrorCode::from_code(code) {
                    Some(c) if c != ErrorCode::Ok => Err(c),
                    _ => panic!("[{variant}] {name} trapped with last_error = {code}"),
                }
            }
        }
    }

    /// Calls an export that must succeed.
    pub fn ok<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> R {
        let variant = self.variant;
        self.call(name, params).unwrap_or_else(|e| panic!("[{variant}] {name} failed with {}", e.name()))
    }

    /// `buffer_new(len)`, which must succeed.
    pub fn new_buffer(&mut self, len: u32) -> u32 {
        self.ok("buffer_new", len)
    }

    /// A new buffer holding `data`.
    pub fn buffer(&mut self, data: &[u8]) -> u32 {
        let b = self.new_buffer(data.len() as u32);
        self.write(b, data);
        b
    }

    /// `buffer_release(b)`, which must succeed; returns the remaining count.
    pub fn release(&mut self, b: u32) -> u32 {
        self.ok("buffer_release", b)
    }

    /// A `stats_*` export by name.
    pub fn stat(&mut self, name: &str) -> u32 {
        self.ok(name, ())
    }

    /// `(stats_live_buffers, stats_live_bytes, stats_heap_bytes)`.
    pub fn stats(&mut self) -> (u32, u32, u32) {
        (self.stat("stats_live_buffers"), self.stat("stats_live_bytes"), self.stat("stats_heap_bytes"))
    }

    /// The header field at byte offset `field` (one of
    /// `multimem_abi::header`, negative) of `buffer`.
    pub fn header(&self, buffer: u32, field: i32) -> u32 {
        self.read32(buffer.wrapping_add_signed(field))
    }

    /// Writes the header field at byte offset `field` of `buffer`, as a
    /// compiler's inlined code (or a forger) would.
    pub fn set_header(&mut self, buffer: u32, field: i32, v: u32) {
        self.write32(buffer.wrapping_add_signed(field), v)
    }

    /// `list_get_i64(kind, buffer, offsetInBytes, length, index)`.
    pub fn get_i64(&mut self, kind: Kind, b: u32, off: u32, len: u32, i: u32) -> Outcome<i64> {
        self.call("list_get_i64", (kind as u32, b, off, len, i))
    }

    /// `list_set_i64(kind, buffer, offsetInBytes, length, index, value)`.
    pub fn set_i64(&mut self, kind: Kind, b: u32, off: u32, len: u32, i: u32, v: i64) -> Outcome<()> {
        self.call("list_set_i64", (kind as u32, b, off, len, i, v))
    }

    /// `list_get_f64(kind, buffer, offsetInBytes, length, index)`.
    pub fn get_f64(&mut self, kind: Kind, b: u32, off: u32, len: u32, i: u32) -> Outcome<f64> {
        self.call("list_get_f64", (kind as u32, b, off, len, i))
    }

    /// `list_set_f64(kind, buffer, offsetInBytes, length, index, value)`.
    pub fn set_f64(&mut self, kind: Kind, b: u32, off: u32, len: u32, i: u32, v: f64) -> Outcome<()> {
        self.call("list_set_f64", (kind as u32, b, off, len, i, v))
    }

    /// `view_check(kind, buffer, offsetInBytes, length)` (never traps); the
    /// kind is a raw code so that invalid ones can be tried.
    pub fn view_check(&mut self, kind: u32, b: u32, off: u32, len: u32) -> u32 {
        self.ok("view_check", (kind, b, off, len))
    }

    /// `len` bytes of the own memory at `at`.
    pub fn read(&self, at: u32, len: u32) -> Vec<u8> {
        self.own.data(&self.store)[at as usize..at as usize + len as usize].to_vec()
    }

    /// Writes `data` into the own memory at `at`.
    pub fn write(&mut self, at: u32, data: &[u8]) {
        self.own.data_mut(&mut self.store)[at as usize..at as usize + data.len()].copy_from_slice(data);
    }

    /// The little-endian `u32` of the own memory at `at`.
    pub fn read32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    /// Writes a little-endian `u32` into the own memory at `at`.
    pub fn write32(&mut self, at: u32, v: u32) {
        self.write(at, &v.to_le_bytes());
    }
}
