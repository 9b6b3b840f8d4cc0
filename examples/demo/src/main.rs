//! The main job for now: build `runtime.wasm` (the `multimem-runtime-wasm`
//! crate's build script does that), instantiate it in wasmtime next to an
//! "external library" memory, allocate a buffer, view it as a
//! `Float64List`, write and read through the runtime and zero-copy through
//! the memory, copy bytes in from the external memory, release everything
//! and show that the counters are back to zero. Finally it shows what
//! misuse gets: a double release traps and is decoded to `FREED`.
//!
//! Phases: build/load -> instantiate -> allocate -> view -> copy -> release
//! -> misuse -> stats.

use multimem_abi::{ErrorCode, Kind};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Instance, Linker, Memory, MemoryType, Module, Store, WasmParams, WasmResults};
use wasmtime::{Result, bail};

struct Runtime {
    store: Store<()>,
    instance: Instance,
    own: Memory,
}

impl Runtime {
    fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> Result<R> {
        let f =
            self.instance.get_typed_func::<P, R>(&mut self.store, name).with_context(|| format!("export `{name}`"))?;
        match f.call(&mut self.store, params) {
            Ok(r) => Ok(r),
            Err(trap) => {
                let code: u32 = self
                    .instance
                    .get_typed_func::<(), u32>(&mut self.store, "last_error")?
                    .call(&mut self.store, ())?;
                match ErrorCode::from_code(code) {
                    Some(c) if c != ErrorCode::Ok => bail!("{name} failed: {} ({})", c.name(), c.meaning()),
                    _ => Err(trap.context(format!("calling {name}"))),
                }
            }
        }
    }

    fn stats(&mut self) -> Result<String> {
        let buffers: u32 = self.call("stats_live_buffers", ())?;
        let bytes: u32 = self.call("stats_live_bytes", ())?;
        let heap: u32 = self.call("stats_heap_bytes", ())?;
        let pages: u32 = self.call("stats_pages", ())?;
        Ok(format!("live buffers {buffers}, live bytes {bytes}, heap bytes {heap}, pages {pages}"))
    }
}

fn main() -> Result<()> {
    let wasm = multimem_runtime_wasm::RUNTIME_WASM;
    println!("runtime.wasm: {} bytes (budget {})", wasm.len(), multimem_runtime_wasm::SIZE_BUDGET);

    let mut config = Config::new();
    config.wasm_multi_memory(true).wasm_gc(true).wasm_function_references(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, wasm).context("compiling runtime.wasm")?;
    let mut store = Store::new(&engine, ());
    // The external library's memory, with some bytes in it.
    let external = Memory::new(&mut store, MemoryType::new(1, None))?;
    let message = b"bytes from the external library";
    external.data_mut(&mut store)[1024..1024 + message.len()].copy_from_slice(message);
    let mut linker = Linker::new(&engine);
    multimem_host::intrinsics::define(&mut linker, Some(external)).map_err(wasmtime::Error::from_anyhow)?;
    let instance = linker.instantiate(&mut store, &module).context("instantiating runtime.wasm")?;
    let own = instance.get_memory(&mut store, multimem_abi::MEMORY_EXPORT).context("runtime.wasm exports no memory")?;
    let mut rt = Runtime { store, instance, own };
    let version: u32 = rt.call("abi_version", ())?;
    println!("ABI version {version}; {}", rt.stats()?);

    // A 64-byte buffer, viewed as a Float64List of 8 elements.
    let buffer: u32 = rt.call("buffer_new", 64)?;
    println!("buffer_new(64) -> {buffer:#x}; {}", rt.stats()?);
    let f64s = Kind::Float64List as u32;
    for i in 0..8u32 {
        rt.call::<_, ()>("list_set_f64", (f64s, buffer, 0, 8, i, i as f64 * 1.5))?;
    }
    // sublistView(list, 2, 6): the same bytes, offsetInBytes 16.
    let mut sub = vec![];
    for i in 0..4u32 {
        sub.push(rt.call::<_, f64>("list_get_f64", (f64s, buffer, 16, 4, i))?);
    }
    println!("Float64List view [0..8) = {:?}", (0..8).map(|i| i as f64 * 1.5).collect::<Vec<_>>());
    println!("sublistView(2, 6) read through the runtime = {sub:?}");
    // Zero-copy: the host reads the same bytes straight from the own memory.
    let raw = &rt.own.data(&rt.store)[buffer as usize + 16..buffer as usize + 48];
    let direct: Vec<f64> = raw.chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
    println!("the same elements read zero-copy from the memory = {direct:?}");
    if direct != sub {
        bail!("the runtime and the memory disagree");
    }

    // Bytes from the external memory into a second buffer (one memory.copy).
    let text: u32 = rt.call("buffer_new", message.len() as u32)?;
    rt.call::<_, ()>("external_copy_in", (text, 0, 1024, message.len() as u32))?;
    let copied =
        String::from_utf8_lossy(&rt.own.data(&rt.store)[text as usize..text as usize + message.len()]).into_owned();
    println!("external_copy_in -> {copied:?}; {}", rt.stats()?);

    // Release: refcounts go to zero and the blocks are freed.
    rt.call::<_, ()>("buffer_retain", buffer)?;
    let left: u32 = rt.call("buffer_release", buffer)?;
    println!("retain + release -> refcount {left}");
    rt.call::<_, u32>("buffer_release", buffer)?;
    rt.call::<_, u32>("buffer_release", text)?;

    // What misuse gets: a documented error code, never silent corruption.
    match rt.call::<_, u32>("buffer_release", buffer) {
        Err(e) => println!("double release -> {e}"),
        Ok(_) => bail!("a double release was accepted"),
    }
    let stats = rt.stats()?;
    println!("after release: {stats}");
    let live: u32 = rt.call("stats_live_buffers", ())?;
    if live != 0 {
        bail!("{live} buffers leaked");
    }
    Ok(())
}
