//! `multimem-ownership-bench`: allocation-heavy *compiled* code,
//! `programs/bench_alloc.mm` compiled three ways and run in wasmtime in the
//! same process and run:
//! - **multimem**: the real backend; buffers that may escape are owned by
//!   `multimem:gc.own` tokens (`docs/ABI.md`, "Ownership by GC objects"),
//!   the ones that provably do not are released by their scope;
//! - **multimem, tokens everywhere** (`Options::tokens_everywhere`): every
//!   buffer owned by a token, the protocol's cost alone;
//! - **WasmGC arrays** (`Backend::GcArray`): the same program with lists as
//!   plain WasmGC arrays, the baseline.
//!
//! Each case is one exported function (`temporaries`, `factory`, `ring`)
//! called with `n` lists of `len` bytes; every variant of a case runs in a
//! fresh store, interleaved with the others, and must return the same
//! value. Reported: the median time of one call, the ratios, the runtime
//! memory's size after the runs (it never shrinks, so it is the peak) and
//! wasmtime's GC heap capacity after the runs (`Store::gc_heap_capacity`,
//! also a peak), and the tokens made.
//!
//! `--token-cost` instead measures what one token costs, piece by piece,
//! with hand-written loops (see [`token_cost`]; `--only LOOP` runs one);
//! `--perf-token-cost` does the same in an engine that writes
//! `/tmp/perf-PID.map`, so `perf record` can name the compiled wasm code.
//! `--gc-heap-initial BYTES` sets wasmtime's `gc_heap_initial_size` for
//! every variant (default: wasmtime's, 0: the heap grows on demand). The
//! host's options are the defaults, so `own` forces a collection whenever
//! the bytes behind uncollected tokens pass `owned_bytes_budget` (8 MiB,
//! adaptive); the last column counts those collections.
//!
//! Usage: `multimem-ownership-bench [--runs N] [--gc-heap-initial BYTES]
//! [--token-cost | --perf-token-cost [--only LOOP]]`

use anyhow::{Context as _, Result, bail};
use multimem_compiler::run::{Build, HostState, Mode, Prepared, host_imports, prepare_in};
use multimem_compiler::{Backend, Options, compile};
use std::time::{Duration, Instant};
use wasmtime::{Instance, Module, Store, TypedFunc};

/// (export, lists per call, bytes per list)
const CASES: &[(&str, i64, i64)] = &[
    ("temporaries", 200_000, 16),
    ("temporaries", 20_000, 4096),
    ("factory", 200_000, 16),
    ("factory", 200_000, 64),
    ("factory", 20_000, 4096),
    ("ring", 200_000, 16),
    ("ring", 200_000, 64),
    ("ring", 100_000, 256),
    ("ring", 20_000, 4096),
];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// One variant of a case, ready to call.
enum Runner {
    Multimem(Box<Prepared>, TypedFunc<(i64, i64), i64>),
    GcArray(Store<HostState>, TypedFunc<(i64, i64), i64>),
}

impl Runner {
    fn multimem(engine: &wasmtime::Engine, app: &[u8], export: &str) -> Result<Runner> {
        let mut p = prepare_in(engine, app, Mode::Linked, Build::MultiMemory)?;
        let f = p.instance.app.get_typed_func(&mut p.store, export).map_err(anyhow::Error::from)?;
        Ok(Runner::Multimem(Box::new(p), f))
    }

    fn gc_array(engine: &wasmtime::Engine, module: &Module, export: &str) -> Result<Runner> {
        let mut store = Store::new(engine, HostState::default());
        let mut linker = wasmtime::Linker::new(engine);
        host_imports(&mut linker)?;
        let inst: Instance = linker.instantiate(&mut store, module).map_err(anyhow::Error::from)?;
        let f = inst.get_typed_func(&mut store, export).map_err(anyhow::Error::from)?;
        Ok(Runner::GcArray(store, f))
    }

    fn call(&mut self, n: i64, len: i64) -> Result<(i64, Duration)> {
        let t = Instant::now();
        let r = match self {
            Runner::Multimem(p, f) => f.call(&mut p.store, (n, len)),
            Runner::GcArray(s, f) => f.call(&mut *s, (n, len)),
        }
        .map_err(anyhow::Error::from)?;
        Ok((r, t.elapsed()))
    }

    /// (runtime pages, GC heap capacity in bytes, tokens made, collections
    /// `own` forced), after a final GC that must leave no buffer live.
    fn memory(&mut self) -> Result<(u32, usize, u64, u64)> {
        match self {
            Runner::Multimem(p, _) => {
                p.instance.runtime.collect(&mut p.store)?;
                let stats = p.instance.runtime.check_no_leaks(&mut p.store)?;
                let tokens = p.instance.runtime.token_stats();
                Ok((stats.pages, p.store.gc_heap_capacity(), tokens.made, tokens.forced_collections))
            }
            Runner::GcArray(s, _) => Ok((0, s.gc_heap_capacity(), 0, 0)),
        }
    }
}

fn main() -> Result<()> {
    let mut runs = 7;
    let mut gc_heap = None;
    let mut token_cost = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().context("--runs needs a number")?.parse()?,
            "--gc-heap-initial" => gc_heap = Some(args.next().context("--gc-heap-initial needs bytes")?.parse()?),
            "--token-cost" => token_cost = Some(false),
            "--perf-token-cost" => token_cost = Some(true),
            "--only" if token_cost.is_some() => {
                let only = args.next().context("--only needs a loop name")?;
                return token_cost::run(Some(&only), token_cost == Some(true), gc_heap);
            }
            _ => bail!(
                "usage: multimem-ownership-bench [--runs N] [--gc-heap-initial BYTES] [--token-cost|--perf-token-cost [--only LOOP]]"
            ),
        }
    }
    if let Some(perf_map) = token_cost {
        return token_cost::run(None, perf_map, gc_heap);
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs/bench_alloc.mm");
    let src = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let real = compile(&src, &Options::default())?;
    let tokens = compile(&src, &Options { tokens_everywhere: true, ..Default::default() })?;
    let base = compile(&src, &Options { backend: Backend::GcArray, ..Default::default() })?;
    let mut config = multimem_host::Options::engine_config();
    if let Some(bytes) = gc_heap {
        config.gc_heap_initial_size(bytes);
    }
    let engine = wasmtime::Engine::new(&config).map_err(anyhow::Error::from)?;
    let base_module = Module::new(&engine, &base).map_err(anyhow::Error::from)?;

    println!("allocation-heavy compiled code (programs/bench_alloc.mm): multimem vs plain WasmGC arrays, wasmtime");
    match gc_heap {
        Some(b) => println!("engine: multimem_host::Options::engine_config() + gc_heap_initial_size({b})"),
        None => println!("engine: multimem_host::Options::engine_config() (wasmtime's default GC heap sizing)"),
    }
    println!("{runs} runs each, variants interleaved, each in its own store; medians of one call\n");
    println!(
        "| case | WasmGC array | multimem | ratio | multimem, tokens everywhere | ratio | \
         runtime memory (multimem / tokens) | GC heap (array / multimem / tokens) | tokens per call (multimem / everywhere) | \
         forced collections per call (multimem / everywhere) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &(export, n, len) in CASES {
        let mut variants = [
            Runner::gc_array(&engine, &base_module, export)?,
            Runner::multimem(&engine, &real, export)?,
            Runner::multimem(&engine, &tokens, export)?,
        ];
        let mut times: [Vec<Duration>; 3] = Default::default();
        for _ in 0..runs {
            let mut answers = Vec::new();
            for (v, t) in variants.iter_mut().zip(times.iter_mut()) {
                let (r, d) = v.call(n, len)?;
                answers.push(r);
                t.push(d);
            }
            if answers.iter().any(|a| *a != answers[0]) {
                bail!("{export}({n}, {len}): the variants disagree: {answers:?}");
            }
        }
        let [b, m, t] = times.map(median);
        let mem: Vec<(u32, usize, u64, u64)> = variants.iter_mut().map(|v| v.memory()).collect::<Result<_>>()?;
        let kib = |b: usize| format!("{} KiB", b / 1024);
        println!(
            "| `{export}` {n} x {len} B | {} | {} | {:.2}x | {} | {:.2}x | {} / {} pages | {} / {} / {} | {} / {} | {:.1} / {:.1} |",
            ms(b),
            ms(m),
            m.as_secs_f64() / b.as_secs_f64(),
            ms(t),
            t.as_secs_f64() / b.as_secs_f64(),
            mem[1].0,
            mem[2].0,
            kib(mem[0].1),
            kib(mem[1].1),
            kib(mem[2].1),
            mem[1].2 / runs as u64,
            mem[2].2 / runs as u64,
            mem[1].3 as f64 / runs as f64,
            mem[2].3 as f64 / runs as f64,
        );
    }
    Ok(())
}

/// What one ownership token costs, piece by piece: hand-written loops in
/// wasmtime, each making `N` objects (and nothing else), medians of
/// `RUNS` calls.
mod token_cost {
    use super::median;
    use anyhow::Result;
    use multimem_host::{Options, instantiate_wasm};
    use std::time::Instant;
    use wasmtime::{Caller, ExternRef, Linker, Rooted, Store};

    const N: i32 = 200_000;
    const RUNS: usize = 9;

    /// Loops over one import or instruction per iteration. `$f` is the
    /// import under test, `$new`/`$release` the runtime's.
    const LOOPS: &str = r#"(module
      (import "multimem" "memory" (memory $own 0))
      (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
      (import "multimem" "buffer_release" (func $release (param i32) (result i32)))
      (import "multimem:gc" "own" (func $own (param i32) (result (ref extern))))
      (import "probe" "nop" (func $nop (param i32) (result i32)))
      (import "probe" "externref" (func $externref (param i32) (result (ref extern))))
      (type $list (struct (field i32) (field i32) (field i32) (field (ref null extern))))
      (global $sink (mut (ref null $list)) (ref.null $list))
      (func (export "clear") (global.set $sink (ref.null $list)))
      (func (export "structs") (param $n i32)
        (local $i i32)
        (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
          (global.set $sink (struct.new $list (local.get $i) (i32.const 0) (i32.const 16) (ref.null extern)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br 0))))
      (func (export "alloc_release") (param $n i32)
        (local $i i32)
        (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
          (drop (call $release (call $new (i32.const 16))))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br 0))))
      (func (export "host_call") (param $n i32)
        (local $i i32)
        (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
          (drop (call $nop (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br 0))))
      (func (export "externrefs") (param $n i32)
        (local $i i32)
        (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
          (global.set $sink (struct.new $list (local.get $i) (i32.const 0) (i32.const 16) (call $externref (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br 0))))
      (func (export "owned") (param $n i32)
        (local $i i32) (local $b i32)
        (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $b (call $new (i32.const 16)))
          (global.set $sink (struct.new $list (local.get $b) (i32.const 0) (i32.const 16) (call $own (local.get $b))))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br 0)))))"#;

    /// Host data like a token's, but whose drop does nothing.
    struct Inert(#[allow(dead_code)] u32);

    /// Runs every loop, or only `only`; `perf_map`: name the JIT code for perf.
    pub fn run(only: Option<&str>, perf_map: bool, gc_heap: Option<u64>) -> Result<()> {
        let mut config = Options::engine_config();
        if perf_map {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        if let Some(bytes) = gc_heap {
            config.gc_heap_initial_size(bytes);
        }
        let engine = wasmtime::Engine::new(&config).map_err(anyhow::Error::from)?;
        let mut l = multimem_linker::Linker::new(multimem_linker::Config::default());
        l.add_module("app", &wat::parse_str(LOOPS)?)?;
        l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM)?;
        let linked = l.link()?.wasm;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker.func_wrap("probe", "nop", |v: i32| v).map_err(anyhow::Error::from)?;
        linker
            .func_wrap("probe", "externref", |mut c: Caller<'_, ()>, v: i32| -> wasmtime::Result<Rooted<ExternRef>> {
                ExternRef::new(&mut c, Inert(v as u32))
            })
            .map_err(anyhow::Error::from)?;
        let inst = instantiate_wasm(&mut store, &mut linker, &linked, None, &Options::default())?;
        println!("what one object costs in wasmtime: {N} per call, medians of {RUNS} calls (ns per object)\n");
        println!("| loop body | ns per object |");
        println!("|---|---|");
        for (name, what) in [
            ("structs", "`struct.new` of the 4-field list struct (no token)"),
            ("alloc_release", "`buffer_new(16)` + `buffer_release` (the runtime alone)"),
            ("host_call", "a call to a host function `(i32) -> i32` that does nothing"),
            ("externrefs", "`struct.new` with a host `ExternRef::new` (inert host data), collected by wasmtime's GC"),
            (
                "owned",
                "`buffer_new` + `multimem:gc.own` + `struct.new`: a full token, collected and released in batches",
            ),
        ] {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let f = inst.app.get_typed_func::<i32, ()>(&mut store, name).map_err(anyhow::Error::from)?;
            let mut times = Vec::new();
            for _ in 0..RUNS {
                let t = Instant::now();
                f.call(&mut store, N).map_err(anyhow::Error::from)?;
                times.push(t.elapsed());
                inst.runtime.collect(&mut store)?;
            }
            let m = median(times);
            println!("| {what} | {:.0} |", m.as_secs_f64() * 1e9 / N as f64);
        }
        inst.call::<(), ()>(&mut store, "clear", ())?;
        inst.runtime.collect(&mut store)?;
        inst.runtime.check_no_leaks(&mut store)?;
        Ok(())
    }
}
