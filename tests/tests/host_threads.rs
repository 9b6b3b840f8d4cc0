//! Threads (issue 16, `docs/ABI.md` "Threads"): the runtime's shared builds
//! linked with `--import-shared-memory`, instantiated once per `std::thread`
//! by `multimem_host::SharedHeap` over one shared memory, in wasmtime.
//!
//! - the soak: N threads allocate, retain, release, fill and hand buffers to
//!   each other at random (by address, with their references: no copy);
//!   every received buffer holds exactly the bytes its model says and
//!   exactly the references that came with it; at a pause every counter
//!   equals the model's sums; at the end every counter is 0. It runs on the
//!   `shared` build and on `shared-checked` (the checked build's quarantine
//!   under the heap lock). `MULTIMEM_SOAK_SECS` sets the seconds of the
//!   first run (default 10; the checked run takes half);
//! - the shared builds' exports and memory against docs/ABI.md;
//! - per-instance `last_error` and release queues;
//! - `Runtime::new` without `buffer_release_batch` (a link that `--export`s
//!   it away) for apps that do not import `multimem:gc`.

use multimem_host::{Buffer, Instantiated, Options, Runtime, SharedHeap};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use wasmtime::{Engine, Memory, MemoryType, Module, Store};

/// Threads in the soak: twice this machine's 2 cores, so the heap lock is
/// contended and holders get descheduled (the case `memory.atomic.wait32`
/// is for).
const THREADS: usize = 4;

/// The runtime build `name` linked alone, its memory a shared import.
fn link_shared(name: &str) -> Vec<u8> {
    let runtime = multimem_runtime_wasm::variant(name).unwrap_or_else(|| panic!("no build {name}"));
    let mut l = multimem_linker::Linker::new(multimem_linker::Config::default().import_shared_memory(None));
    l.add_module("multimem", runtime).unwrap();
    l.link().unwrap_or_else(|e| panic!("linking {name}: {e}")).wasm
}

/// One thread's store and instance over the heap (a private 1-page
/// external memory as `env.memory`: nothing here copies through it).
fn instance(engine: &Engine, heap: &SharedHeap) -> (Store<()>, Instantiated) {
    let mut store = Store::new(engine, ());
    let mut linker = wasmtime::Linker::new(engine);
    let external = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    linker.define(&store, "env", "memory", external).unwrap();
    let inst = heap.instantiate(&mut store, &mut linker, None, &Options::default()).unwrap();
    (store, inst)
}

/// splitmix64: a small deterministic generator, one per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The bytes a buffer filled with `seed` holds.
fn pattern(seed: u64, len: u32) -> Vec<u8> {
    (0..len as u64).map(|i| (seed.wrapping_add(i.wrapping_mul(0x9E37)) >> (i % 7 * 8)) as u8 ^ i as u8).collect()
}

/// What a thread knows of a buffer it owns: its length, the seed of its
/// bytes, and the handles (one reference each) it holds.
struct Owned {
    len: u32,
    seed: u64,
    handles: Vec<Buffer>,
}

/// A buffer in flight: address, length, seed, references that come with it.
type Handoff = (u32, u32, u64, u32);

/// Sums over every thread's model: live buffers and their bytes.
#[derive(Default)]
struct Model {
    buffers: AtomicU64,
    bytes: AtomicU64,
}

struct Worker {
    id: usize,
    store: Store<()>,
    rt: Runtime,
    rng: Rng,
    owned: HashMap<u32, Owned>,
    inbox: Receiver<Handoff>,
    peers: Vec<Sender<Handoff>>,
    model: Arc<Model>,
    ops: u64,
}

impl Worker {
    fn check_bytes(&mut self, address: u32) {
        let o = &self.owned[&address];
        let mut got = vec![0u8; o.len as usize];
        self.rt.read_bytes(&self.store, &o.handles[0], 0, &mut got).unwrap();
        assert!(
            got == pattern(o.seed, o.len),
            "thread {}: buffer {address:#x} does not hold its model's bytes",
            self.id
        );
        let rc = self.rt.refcount(&mut self.store, &o.handles[0]).unwrap();
        assert_eq!(rc, o.handles.len() as u32, "thread {}: buffer {address:#x}: refcount", self.id);
    }

    fn allocate(&mut self) {
        // Mostly small, sometimes up to 64 KiB: the heap grows under the
        // other threads, and the map of buffer starts moves.
        let len = match self.rng.below(64) {
            0 => self.rng.below(65536),
            1..=12 => self.rng.below(4096),
            _ => self.rng.below(256),
        } as u32;
        let b = self.rt.buffer_new(&mut self.store, len).unwrap();
        let mut zero = vec![1u8; len as usize];
        self.rt.read_bytes(&self.store, &b, 0, &mut zero).unwrap();
        assert!(zero.iter().all(|&x| x == 0), "thread {}: a new buffer is not zero-filled", self.id);
        let seed = self.rng.next();
        self.rt.write_bytes(&mut self.store, &b, 0, &pattern(seed, len)).unwrap();
        self.model.buffers.fetch_add(1, Ordering::SeqCst);
        self.model.bytes.fetch_add(len as u64, Ordering::SeqCst);
        self.owned.insert(b.address(), Owned { len, seed, handles: vec![b] });
    }

    fn pick(&mut self) -> Option<u32> {
        if self.owned.is_empty() {
            return None;
        }
        let n = self.rng.below(self.owned.len() as u64) as usize;
        self.owned.keys().nth(n).copied()
    }

    /// Drops one handle; the last one frees the buffer (after checking it).
    fn release(&mut self, address: u32) {
        if self.owned[&address].handles.len() == 1 {
            self.check_bytes(address);
            let o = self.owned.remove(&address).unwrap();
            self.model.buffers.fetch_sub(1, Ordering::SeqCst);
            self.model.bytes.fetch_sub(o.len as u64, Ordering::SeqCst);
            let left = self.rt.release(&mut self.store, o.handles.into_iter().next().unwrap()).unwrap();
            assert_eq!(left, 0);
        } else {
            let h = self.owned.get_mut(&address).unwrap().handles.pop().unwrap();
            self.rt.release(&mut self.store, h).unwrap();
        }
    }

    fn step(&mut self) {
        self.receive();
        self.ops += 1;
        let Some(a) = self.pick() else {
            return self.allocate();
        };
        // At most 64 buffers per thread: past that, release.
        if self.owned.len() >= 64 {
            return self.release(a);
        }
        match self.rng.below(10) {
            0..=2 => self.allocate(),
            3 => {
                let h = self.rt.retain(&mut self.store, &self.owned[&a].handles[0]).unwrap();
                self.owned.get_mut(&a).unwrap().handles.push(h);
            }
            4..=5 => self.release(a),
            6 => {
                let seed = self.rng.next();
                let o = self.owned.get_mut(&a).unwrap();
                o.seed = seed;
                let (len, h) = (o.len, &o.handles[0]);
                self.rt.write_bytes(&mut self.store, h, 0, &pattern(seed, len)).unwrap();
            }
            7 => {
                let _ = self.rt.stats(&mut self.store).unwrap();
            }
            _ => self.hand_off(a),
        }
    }

    /// Gives the buffer, with every reference this thread holds, to another
    /// thread: the address travels, the bytes stay where they are.
    fn hand_off(&mut self, address: u32) {
        self.check_bytes(address);
        let o = self.owned.remove(&address).unwrap();
        let refs = o.handles.len() as u32;
        for h in o.handles {
            h.into_raw();
        }
        let to = (self.id + 1 + self.rng.below(THREADS as u64 - 1) as usize) % THREADS;
        self.peers[to].send((address, o.len, o.seed, refs)).unwrap();
    }

    fn receive(&mut self) {
        while let Ok((address, len, seed, refs)) = self.inbox.try_recv() {
            let handles: Vec<Buffer> = (0..refs).map(|_| self.rt.adopt(&mut self.store, address).unwrap()).collect();
            assert_eq!(handles[0].length_in_bytes(), len);
            self.owned.insert(address, Owned { len, seed, handles });
            self.check_bytes(address);
        }
    }
}

/// The soak on build `build` for `secs` seconds (see the module docs).
fn soak(build: &str, secs: u64) {
    let engine = Options::engine().unwrap();
    let module = Module::new(&engine, link_shared(build)).unwrap();
    let heap = SharedHeap::new(&engine, &module).unwrap();
    let model = Arc::new(Model::default());
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..THREADS).map(|_| channel::<Handoff>()).unzip();
    // Two pauses: every thread stopped sending and drained its inbox, so
    // the model is complete; then the counters are compared.
    let pause = Arc::new(Barrier::new(THREADS + 1));
    let end = Instant::now() + Duration::from_secs(secs);
    let threads: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(id, inbox)| {
            let (engine, heap, model, pause, peers) =
                (engine.clone(), heap.clone(), model.clone(), pause.clone(), senders.clone());
            std::thread::spawn(move || {
                let (store, inst) = instance(&engine, &heap);
                let rt = inst.runtime.clone();
                let rng = Rng(0x5EED_0000 + id as u64);
                let mut w = Worker { id, store, rt, rng, owned: HashMap::new(), inbox, peers, model, ops: 0 };
                while Instant::now() < end {
                    w.step();
                }
                pause.wait(); // nobody sends any more
                w.receive();
                pause.wait(); // every inbox drained
                pause.wait(); // the main thread compared the counters
                while let Some(a) = w.pick() {
                    w.release(a);
                }
                w.rt.drain(&mut w.store).unwrap();
                pause.wait(); // everything released
                w.ops
            })
        })
        .collect();
    drop(senders);
    pause.wait();
    pause.wait();
    // Mid-run counters, read from a fresh instance on this thread.
    let (mut store, inst) = instance(&engine, &heap);
    let stats = inst.runtime.stats(&mut store).unwrap();
    let (buffers, bytes) = (model.buffers.load(Ordering::SeqCst), model.bytes.load(Ordering::SeqCst));
    assert_eq!(
        (stats.live_buffers as u64, stats.live_bytes as u64),
        (buffers, bytes),
        "[{build}] counters at the pause"
    );
    assert!(buffers > 0, "[{build}] the pause found no live buffers: the soak did nothing");
    assert!(stats.heap_bytes as u64 >= bytes + 16 * buffers, "[{build}] heap bytes below the model's");
    pause.wait();
    pause.wait();
    let ops: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let end = inst.runtime.stats(&mut store).unwrap();
    assert_eq!((end.live_buffers, end.live_bytes, end.heap_bytes), (0, 0, 0), "[{build}] counters at the end");
    println!(
        "[{build}] {THREADS} threads, {secs} s: {ops} operations; at the pause {buffers} live buffers, {bytes} bytes; \
         {} pages at the end",
        end.pages
    );
    assert!(ops > 1000 * THREADS as u64, "[{build}] only {ops} operations in {secs} s");
}

fn soak_secs() -> u64 {
    std::env::var("MULTIMEM_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10)
}

#[test]
fn threads_allocate_retain_release_fill_and_hand_off_buffers_with_exact_counters() {
    soak("shared", soak_secs());
}

#[test]
fn the_same_soak_under_the_checked_builds_quarantine() {
    soak("shared-checked", soak_secs().div_ceil(2));
}

#[test]
fn the_shared_builds_have_the_abi_exports_and_a_shared_memory() {
    for (name, wasm) in multimem_runtime_wasm::SHARED_VARIANTS {
        let mut exports = Vec::new();
        let mut shared = None;
        for p in wasmparser::Parser::new(0).parse_all(wasm) {
            match p.unwrap() {
                wasmparser::Payload::ExportSection(r) => {
                    exports.extend(r.into_iter().map(|e| e.unwrap().name.to_string()))
                }
                wasmparser::Payload::MemorySection(r) => {
                    let m = r.into_iter().next().unwrap().unwrap();
                    shared = Some((m.shared, m.maximum));
                }
                wasmparser::Payload::ImportSection(r) => {
                    for i in r.into_imports() {
                        let i = i.unwrap();
                        assert_eq!(
                            i.module,
                            multimem_abi::INTRINSICS_MODULE,
                            "[{name}] import {}.{}",
                            i.module,
                            i.name
                        );
                    }
                }
                _ => {}
            }
        }
        exports.sort();
        let mut expected: Vec<String> = multimem_abi::EXPORTS
            .iter()
            .chain(multimem_abi::SHARED_EXPORTS)
            .map(|e| e.name.to_string())
            .chain([multimem_abi::MEMORY_EXPORT.to_string()])
            .collect();
        expected.sort();
        assert_eq!(exports, expected, "[{name}]");
        assert_eq!(shared, Some((true, Some(u64::from(multimem_abi::MAX_PAGES)))), "[{name}] a shared memory");
    }
}

#[test]
fn last_error_and_the_release_queue_are_per_instance() {
    let engine = Options::engine().unwrap();
    let module = Module::new(&engine, link_shared("shared")).unwrap();
    let heap = SharedHeap::new(&engine, &module).unwrap();
    let (mut s1, a) = instance(&engine, &heap);
    let (mut s2, b) = instance(&engine, &heap);
    let f = |inst: &Instantiated, s: &mut Store<()>, name: &str, arg: i32| -> wasmtime::Result<i32> {
        inst.app.get_typed_func::<i32, i32>(&mut *s, name).unwrap().call(&mut *s, arg)
    };
    let last = |inst: &Instantiated, s: &mut Store<()>| inst.runtime.last_error(&mut *s).unwrap();
    // Instance a traps with BAD_LENGTH, b with NOT_A_BUFFER: each reads its own.
    assert!(f(&a, &mut s1, "buffer_new", -1).is_err());
    assert!(f(&b, &mut s2, "buffer_length", 12345).is_err());
    assert_eq!(last(&a, &mut s1), Some(multimem_abi::ErrorCode::BadLength));
    assert_eq!(last(&b, &mut s2), Some(multimem_abi::ErrorCode::NotABuffer));
    // Two instances, two queues, neither a buffer; both see one heap.
    let (qa, qb) =
        (f(&a, &mut s1, "buffer_release_batch", 0).unwrap(), f(&b, &mut s2, "buffer_release_batch", 0).unwrap());
    assert_ne!(qa, qb);
    assert_eq!(f(&a, &mut s1, "buffer_release_batch", 0).unwrap(), qa, "the queue is taken once");
    for q in [qa, qb] {
        assert_ne!(f(&a, &mut s1, "buffer_check", q).unwrap(), 0, "a queue is not a buffer");
    }
    let buf = a.runtime.buffer_new(&mut s1, 100).unwrap();
    assert_eq!(b.runtime.stats(&mut s2).unwrap().live_buffers, 1);
    let raw = buf.into_raw();
    let adopted = b.runtime.adopt(&mut s2, raw).unwrap();
    b.runtime.release(&mut s2, adopted).unwrap();
    assert_eq!(a.runtime.check_no_leaks(&mut s1).unwrap().live_buffers, 0);
}

#[test]
fn runtime_new_needs_buffer_release_batch_only_for_apps_that_import_multimem_gc() {
    let engine = Options::engine().unwrap();
    // A link that keeps a few runtime exports and drops buffer_release_batch.
    let keep = ["memory", "last_error", "buffer_new", "buffer_retain", "buffer_release", "buffer_refcount"];
    let mut config = multimem_linker::Config::default();
    for e in keep.iter().chain(&["buffer_check", "view_check", "abi_version"]) {
        config = config.export("multimem", e, None);
    }
    for e in ["stats_live_buffers", "stats_live_bytes", "stats_heap_bytes", "stats_pages"] {
        config = config.export("multimem", e, None);
    }
    let link = |app: &str| {
        let mut l = multimem_linker::Linker::new(config.clone());
        l.add_module("app", &wat::parse_str(app).unwrap()).unwrap();
        l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM).unwrap();
        l.link().unwrap().wasm
    };
    let plain = Module::new(&engine, link("(module)")).unwrap();
    assert!(!plain.exports().any(|e| e.name() == "buffer_release_batch"));
    let mut store = Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    let external = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    linker.define(&store, "env", "memory", external).unwrap();
    let inst = multimem_host::instantiate(&mut store, &mut linker, &plain, None, &Options::default()).unwrap();
    let b = inst.runtime.buffer_new(&mut store, 8).unwrap();
    drop(b);
    assert_eq!(inst.runtime.check_no_leaks(&mut store).unwrap().live_buffers, 0);
    let direct = Runtime::new(&mut store, &inst.app, &Options::default()).unwrap();
    assert_eq!(direct.stats(&mut store).unwrap().live_buffers, 0);

    // An app that imports multimem:gc needs it, and is told so.
    let gc_app = r#"(module (import "multimem:gc" "own" (func (param i32) (result (ref extern)))))"#;
    let owning = Module::new(&engine, link(gc_app)).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    let external = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    linker.define(&store, "env", "memory", external).unwrap();
    let err = multimem_host::instantiate(&mut store, &mut linker, &owning, None, &Options::default()).err().unwrap();
    let msg = format!("{err:#}");
    assert!(msg.contains("buffer_release_batch") && msg.contains("multimem:gc"), "{msg}");
}
