//! `bench-threads`: allocation throughput of the runtime's shared build with
//! 1, 2 and 4 threads (one instance per thread over one shared memory,
//! `multimem_host::SharedHeap`), against the same workload on the default
//! single-threaded build in one thread, and against N default-build
//! instances with N private heaps (no sharing at all: what the hardware
//! gives N independent threads, the ceiling of any scaling). Not a test;
//! `bench/alloc/threads.sh` runs it and prints the table for BENCHMARKS.md.
//!
//! The workload runs inside wasm, so no host call is timed: an app linked
//! with the runtime loops `ITERS` times over `buffer_new` of two buffers of
//! 16-256 bytes (pseudo-random sizes) and `buffer_release` of both.

use multimem_host::{Options, SharedHeap};
use std::sync::{Arc, Barrier};
use std::time::Instant;
use wasmtime::{Engine, Memory, MemoryType, Module, Store};

const APP: &str = r#"(module
  (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
  (import "multimem" "buffer_release" (func $release (param i32) (result i32)))
  (func (export "churn") (param $n i32) (param $x i32)
    (local $a i32)
    (loop $l
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (local.set $a (call $new (i32.add (i32.const 16) (i32.and (local.get $x) (i32.const 240)))))
      (drop (call $release
        (call $new (i32.add (i32.const 16) (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 240))))))
      (drop (call $release (local.get $a)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

/// Loop iterations per thread per run (2 allocations each).
const ITERS: i32 = 2_000_000;

fn link(build: &str, shared: bool) -> Vec<u8> {
    let mut config = multimem_linker::Config::default();
    if shared {
        config = config.import_shared_memory(None);
    }
    let mut l = multimem_linker::Linker::new(config);
    l.add_module("app", &wat::parse_str(APP).unwrap()).unwrap();
    l.add_module("multimem", multimem_runtime_wasm::variant(build).unwrap()).unwrap();
    l.link().unwrap().wasm
}

fn linker_with_external(engine: &Engine, store: &mut Store<()>) -> wasmtime::Linker<()> {
    let mut linker = wasmtime::Linker::new(engine);
    let external = Memory::new(&mut *store, MemoryType::new(1, None)).unwrap();
    linker.define(&*store, "env", "memory", external).unwrap();
    linker
}

/// Seconds for `threads` threads to run `churn(ITERS)` each, from a common
/// start; `heap` shares one memory, `None` gives each its own instance of
/// the default build.
fn run(engine: &Engine, threads: usize, heap: Option<&SharedHeap>, plain: &Module) -> f64 {
    let start = Arc::new(Barrier::new(threads + 1));
    let done = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, heap, plain, start, done) =
                (engine.clone(), heap.cloned(), plain.clone(), start.clone(), done.clone());
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let mut linker = linker_with_external(&engine, &mut store);
                let inst = match &heap {
                    Some(h) => h.instantiate(&mut store, &mut linker, None, &Options::default()).unwrap(),
                    None => {
                        multimem_host::instantiate(&mut store, &mut linker, &plain, None, &Options::default()).unwrap()
                    }
                };
                let churn = inst.app.get_typed_func::<(i32, i32), ()>(&mut store, "churn").unwrap();
                churn.call(&mut store, (1000, 7 + t as i32)).unwrap(); // warm up
                start.wait();
                churn.call(&mut store, (ITERS, 0x1234_5677 + t as i32)).unwrap();
                done.wait();
                assert_eq!(inst.runtime.check_no_leaks(&mut store).unwrap().live_buffers, 0);
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    done.wait();
    let secs = t0.elapsed().as_secs_f64();
    handles.into_iter().for_each(|h| h.join().unwrap());
    secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let engine = Options::engine().unwrap();
    let plain = Module::new(&engine, link("default", false)).unwrap();
    let shared = Module::new(&engine, link("shared", true)).unwrap();
    let rate = |threads: usize, secs: f64| 2.0 * ITERS as f64 * threads as f64 / secs / 1e6;
    let base = median((0..runs).map(|_| run(&engine, 1, None, &plain)).collect());
    let base_rate = rate(1, base);
    println!("| build | threads | allocations/s (M, all threads) | vs default build, 1 thread |");
    println!("|---|---|---|---|");
    println!("| default (single-threaded) | 1 | {base_rate:.1} | 1.00 |");
    for threads in [1, 2, 4] {
        // A fresh heap per measurement, so every run starts from one page.
        let secs = median(
            (0..runs)
                .map(|_| {
                    let heap = SharedHeap::new(&engine, &shared).unwrap();
                    run(&engine, threads, Some(&heap), &plain)
                })
                .collect(),
        );
        let r = rate(threads, secs);
        println!("| shared, one heap | {threads} | {r:.1} | {:.2} |", r / base_rate);
    }
    for threads in [2, 4] {
        let secs = median((0..runs).map(|_| run(&engine, threads, None, &plain)).collect());
        let r = rate(threads, secs);
        println!("| default, a private heap per thread (ceiling) | {threads} | {r:.1} | {:.2} |", r / base_rate);
    }
}
