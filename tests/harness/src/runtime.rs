//! One instance of one build of `runtime.wasm` in wasmtime, unlinked: the
//! intrinsics are `multimem_host`'s host functions (as an unlinked embedder
//! would use them) over an optional second wasmtime memory that plays the
//! external library's memory.
//!
//! The shared builds (`docs/ABI.md`, "Threads") define a *shared* own
//! memory: [`Rt`] then holds a wasmtime `SharedMemory` and runs one
//! instance over it on the test's thread, so the same suites run on every
//! build. Bytes are read and written through the memory's `data()` cells
//! with plain copies: no other thread uses the memory, and no wasm runs
//! while the test reads it.
//!
//! Calls check the ABI's trap protocol on every failure: an export that
//! fails must trap with `unreachable` and leave a nonzero code in
//! `last_error`; anything else (another trap, a host error, an unknown code)
//! panics the test.

use anyhow::Result;
use multimem_abi::{ErrorCode, Kind, MEMORY_EXPORT};
use multimem_host::RuntimeMemory;
use std::sync::atomic::{AtomicU32, Ordering};
use wasmtime::error::Context as _;
use wasmtime::{
    Engine, Extern, Instance, Linker, Memory, MemoryType, Module, ResourceLimiter, Store, Trap, WasmParams, WasmResults,
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

    /// Caps the own memory at `bytes` (a multiple of 64 KiB): a
    /// `memory.grow` beyond fails, so allocation reaches `OUT_OF_MEMORY`.
    ///
    /// An unshared memory is capped by the store's [`ResourceLimiter`]. A
    /// shared one (the shared builds) grows without asking any store, so it
    /// is capped by its engine instead: [`Rt::new`] compiles the build in
    /// [`crate::engine::runtime_reserving`]`(bytes)`, whose memory
    /// reservation is `bytes`; a shared memory never moves, so it cannot
    /// grow past its reservation.
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
    /// The build's name (`multimem_runtime_wasm::VARIANTS` or
    /// `SHARED_VARIANTS`), for messages.
    pub variant: &'static str,
    /// The store the instance lives in.
    pub store: Store<Limits>,
    /// The runtime instance.
    pub instance: Instance,
    /// The runtime's own memory (its `memory` export): shared in the shared
    /// builds. Read and write it through [`Rt::read`] and [`Rt::write`],
    /// which serve both.
    pub own: RuntimeMemory,
    /// The external memory given to the intrinsics, if any.
    pub external: Option<Memory>,
}

impl Rt {
    /// Instantiates `wasm` (the build named `variant`) in `engine`; a build
    /// with a shared own memory and a capped [`Setup::max_own_bytes`] in
    /// the engine that enforces the cap instead (see there). In a shared
    /// build the instance is then told it may block on the heap lock
    /// (`instance_may_wait(1)`), as a loader does on a wasmtime thread
    /// (docs/ABI.md, "What a loader does").
    pub fn new(engine: &Engine, variant: &'static str, wasm: &[u8], setup: &Setup) -> Result<Rt> {
        // Which engine compiles it depends on whether its own memory is
        // shared: decided from the build's row in docs/ABI.md (checked
        // against the instance below), so the build is compiled once.
        let Some(build) = multimem_abi::build(variant) else {
            anyhow::bail!("{variant} is not a build of docs/ABI.md's builds table")
        };
        let shared = build.is_shared();
        let module = if shared && setup.max_own_bytes != usize::MAX {
            Module::new(&crate::engine::runtime_reserving(setup.max_own_bytes), wasm)?
        } else {
            Module::new(engine, wasm)?
        };
        let mut store = Store::new(module.engine(), Limits { max_own_bytes: setup.max_own_bytes });
        store.limiter(|l| l);
        let external = match setup.external {
            Some((min, max)) => Some(Memory::new(&mut store, MemoryType::new(min, max))?),
            None => None,
        };
        let mut linker = Linker::new(module.engine());
        multimem_host::intrinsics::define(&mut linker, external)?;
        let instance = linker.instantiate(&mut store, &module)?;
        let own = match instance.get_export(&mut store, MEMORY_EXPORT) {
            Some(Extern::Memory(m)) if !shared => RuntimeMemory::Unshared(m),
            Some(Extern::SharedMemory(m)) if shared => RuntimeMemory::Shared(m),
            _ => anyhow::bail!(
                "[{variant}] runtime.wasm exports no {} memory `{MEMORY_EXPORT}`",
                if shared { "shared" } else { "unshared" }
            ),
        };
        let mut rt = Rt { variant, store, instance, own, external };
        if shared {
            rt.instance
                .get_typed_func::<u32, ()>(&mut rt.store, "instance_may_wait")
                .and_then(|f| f.call(&mut rt.store, 1))
                .with_context(|| format!("[{variant}] instance_may_wait(1)"))?;
        }
        Ok(rt)
    }

    /// One fresh instance of every build, the shared ones included (each
    /// alone over its shared memory, on this thread), in
    /// [`crate::engine::runtime`].
    pub fn all(setup: &Setup) -> Vec<Rt> {
        let engine = crate::engine::runtime();
        multimem_runtime_wasm::VARIANTS
            .iter()
            .chain(multimem_runtime_wasm::SHARED_VARIANTS)
            .map(|(name, wasm)| Rt::new(&engine, name, wasm, setup).unwrap_or_else(|e| panic!("[{name}] {e:?}")))
            .collect()
    }

    /// Runs `f` on a fresh instance of every build (default [`Setup`]).
    pub fn each(mut f: impl FnMut(&mut Rt)) {
        for mut rt in Rt::all(&Setup::default()) {
            f(&mut rt);
        }
    }

    /// Whether this build's own memory is shared (a shared build,
    /// docs/ABI.md "Threads").
    pub fn is_shared(&self) -> bool {
        matches!(self.own, RuntimeMemory::Shared(_))
    }

    /// Whether this build (docs/ABI.md, builds) has the cargo feature
    /// `feature` (`checked`, `atomic-refcounts`, `shared`, ...).
    pub fn has_feature(&self, feature: &str) -> bool {
        multimem_abi::build(self.variant)
            .unwrap_or_else(|| panic!("{} is not a build of docs/ABI.md", self.variant))
            .cargo_features
            .contains(&feature)
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

    /// The size of the own memory in bytes now.
    pub fn own_size(&self) -> usize {
        self.own.data_size(&self.store)
    }

    /// `len` bytes of the own memory at `at`; panics (failing the test) if
    /// they do not all lie inside.
    pub fn read(&self, at: u32, len: u32) -> Vec<u8> {
        let range = at as usize..at as usize + len as usize;
        match &self.own {
            RuntimeMemory::Unshared(m) => m.data(&self.store)[range].to_vec(),
            RuntimeMemory::Shared(m) => {
                let cells = &m.data()[range];
                let mut out = vec![0u8; cells.len()];
                // SAFETY: the cells lie inside the memory, which `m` keeps
                // alive; only this thread uses it, and no wasm runs now.
                unsafe { std::ptr::copy_nonoverlapping(cells.as_ptr() as *const u8, out.as_mut_ptr(), out.len()) };
                out
            }
        }
    }

    /// Writes `data` into the own memory at `at`; panics (failing the test)
    /// if it does not all lie inside.
    pub fn write(&mut self, at: u32, data: &[u8]) {
        let range = at as usize..at as usize + data.len();
        match &self.own {
            RuntimeMemory::Unshared(m) => m.data_mut(&mut self.store)[range].copy_from_slice(data),
            RuntimeMemory::Shared(m) => {
                let cells = &m.data()[range];
                // SAFETY: as in `read`.
                unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), cells.as_ptr() as *mut u8, data.len()) };
            }
        }
    }

    /// Sets `len` bytes of the own memory at `at` to `byte`.
    pub fn fill(&mut self, at: u32, len: u32, byte: u8) {
        self.write(at, &vec![byte; len as usize]);
    }

    /// The little-endian `u32` of the own memory at `at`.
    pub fn read32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    /// Writes a little-endian `u32` into the own memory at `at`.
    pub fn write32(&mut self, at: u32, v: u32) {
        self.write(at, &v.to_le_bytes());
    }

    /// `i32.atomic.rmw.add` of `v` at the 4-aligned address `at` of a
    /// shared own memory, as code compiled against a shared build inlines
    /// the retain (docs/ABI.md, "Threads", Refcounts); returns the old
    /// value. Panics on an unshared memory, where that code does a load,
    /// an add and a store ([`Rt::read32`], [`Rt::write32`]).
    pub fn atomic_add32(&mut self, at: u32, v: u32) -> u32 {
        let RuntimeMemory::Shared(m) = &self.own else {
            panic!("[{}] atomic_add32 on an unshared memory", self.variant)
        };
        assert!(at.is_multiple_of(4), "[{}] atomic_add32 at the misaligned {at:#x}", self.variant);
        let cell = &m.data()[at as usize..at as usize + 4];
        // SAFETY: an aligned word inside the memory, which `m` keeps alive.
        unsafe { AtomicU32::from_ptr(cell.as_ptr() as *mut u32) }.fetch_add(v, Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Rt::all`] runs every build of docs/ABI.md's builds table, in its
    /// order, and exactly the shared ones over a shared memory.
    #[test]
    fn all_is_every_build_with_its_memory() {
        let all = Rt::all(&Setup::new());
        let names: Vec<&str> = all.iter().map(|rt| rt.variant).collect();
        let mut builds: Vec<&str> = multimem_abi::BUILDS.iter().filter(|b| !b.is_shared()).map(|b| b.name).collect();
        builds.extend(multimem_abi::BUILDS.iter().filter(|b| b.is_shared()).map(|b| b.name));
        assert_eq!(names, builds);
        for rt in &all {
            assert_eq!(rt.is_shared(), rt.has_feature("shared"), "[{}]", rt.variant);
        }
        assert!(all.iter().any(Rt::is_shared));
    }

    /// A capped shared memory stops growing at the cap: `buffer_new` then
    /// fails with `OUT_OF_MEMORY`, as with an unshared one.
    #[test]
    fn max_own_bytes_caps_shared_and_unshared_memories() {
        let cap = 2 << 20;
        for mut rt in Rt::all(&Setup::new().max_own_bytes(cap)) {
            let mut n = 0;
            let err = loop {
                match rt.call::<u32, u32>("buffer_new", 100_000) {
                    Ok(_) => n += 1,
                    Err(e) => break e,
                }
                assert!(n < 100, "[{}] {n} buffers of 100 kB in {cap} bytes", rt.variant);
            };
            assert_eq!(err, ErrorCode::OutOfMemory, "[{}]", rt.variant);
            assert!(rt.own_size() <= cap && n >= 10, "[{}] {} bytes, {n} buffers", rt.variant, rt.own_size());
        }
    }
}
