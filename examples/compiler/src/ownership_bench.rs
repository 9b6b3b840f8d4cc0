//! `multimem-ownership-bench`: allocation-heavy code with buffers owned by
//! the program's GC objects (`docs/ABI.md`, "Ownership by GC objects":
//! `buffer_new`, a `multimem:gc.own` token in the list struct, released in
//! batches when wasmtime's GC collects it) against the same loop on plain
//! WasmGC byte arrays, in the same process and the same run, in wasmtime.
//!
//! Each list is made, every byte written and summed (plain stores and
//! loads: on the runtime memory for multimem, `array.set`/`array.get_u`
//! for WasmGC), then dropped. Reported: the median time of one call, the
//! ratio, and the runtime memory's size after all runs (it never shrinks,
//! so it is the peak). WasmGC arrays live in wasmtime's GC heap, whose
//! size this does not measure.
//!
//! Usage: `multimem-ownership-bench [--runs N]`

use anyhow::{Context as _, Result, bail};
use multimem_host::{Options, instantiate_wasm};
use std::time::{Duration, Instant};
use wasmtime::{Module, Store};

const MULTIMEM: &str = r#"(module
  (import "multimem" "memory" (memory $own 0))
  (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
  (import "multimem:gc" "own" (func $own (param i32) (result (ref extern))))
  (type $list (struct (field $base i32) (field $len i32) (field $token (ref extern))))
  (func (export "churn") (param $n i32) (param $len i32) (result i64)
    (local $i i32) (local $j i32) (local $b i32) (local $l (ref null $list)) (local $sum i64)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $b (call $new (local.get $len)))
      (local.set $l (struct.new $list (local.get $b) (local.get $len) (call $own (local.get $b))))
      (local.set $j (i32.const 0))
      (block (loop
        (br_if 1 (i32.ge_u (local.get $j) (struct.get $list $len (local.get $l))))
        (i32.store8 $own (i32.add (struct.get $list $base (local.get $l)) (local.get $j)) (i32.add (local.get $i) (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br 0)))
      (local.set $j (i32.const 0))
      (block (loop
        (br_if 1 (i32.ge_u (local.get $j) (struct.get $list $len (local.get $l))))
        (local.set $sum (i64.add (local.get $sum)
          (i64.load8_u $own (i32.add (struct.get $list $base (local.get $l)) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $sum)))"#;

const GC_ARRAY: &str = r#"(module
  (type $bytes (array (mut i8)))
  (func (export "churn") (param $n i32) (param $len i32) (result i64)
    (local $i i32) (local $j i32) (local $l (ref null $bytes)) (local $sum i64)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $l (array.new_default $bytes (local.get $len)))
      (local.set $j (i32.const 0))
      (block (loop
        (br_if 1 (i32.ge_u (local.get $j) (array.len (local.get $l))))
        (array.set $bytes (local.get $l) (local.get $j) (i32.add (local.get $i) (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br 0)))
      (local.set $j (i32.const 0))
      (block (loop
        (br_if 1 (i32.ge_u (local.get $j) (array.len (local.get $l))))
        (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (array.get_u $bytes (local.get $l) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $sum)))"#;

/// (lists per call, bytes per list)
const CASES: &[(i32, i32)] = &[(200_000, 16), (200_000, 64), (100_000, 256), (20_000, 4096)];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let mut runs = 11;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().context("--runs needs a number")?.parse()?,
            _ => bail!("usage: multimem-ownership-bench [--runs N]"),
        }
    }
    let engine = Options::engine()?;
    // multimem: the app linked with runtime.wasm, run through multimem-host.
    let mut linker = multimem_linker::Linker::new(multimem_linker::Config::default());
    linker.add_module("app", &wat::parse_str(MULTIMEM)?)?;
    linker.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM)?;
    let linked = linker.link()?.wasm;
    let mut mstore = Store::new(&engine, ());
    let mut l = wasmtime::Linker::new(&engine);
    let inst = instantiate_wasm(&mut mstore, &mut l, &linked, None, &Options::default())?;
    let mchurn = inst.app.get_typed_func::<(i32, i32), i64>(&mut mstore, "churn").map_err(anyhow::Error::from)?;
    // WasmGC arrays.
    let mut bstore = Store::new(&engine, ());
    let bmodule = Module::new(&engine, GC_ARRAY).map_err(anyhow::Error::from)?;
    let binst = wasmtime::Instance::new(&mut bstore, &bmodule, &[]).map_err(anyhow::Error::from)?;
    let bchurn = binst.get_typed_func::<(i32, i32), i64>(&mut bstore, "churn").map_err(anyhow::Error::from)?;

    println!(
        "allocation-heavy loops: lists owned by GC objects (multimem tokens) vs plain WasmGC byte arrays, wasmtime"
    );
    println!(
        "{runs} runs each, interleaved; medians of one call (each list: made, every byte written and read, dropped)\n"
    );
    println!("| lists x bytes | WasmGC array | multimem (GC-owned) | ratio | runtime memory after all runs |");
    println!("|---|---|---|---|---|");
    for &(n, len) in CASES {
        let (mut tm, mut tb) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            let a = mchurn.call(&mut mstore, (n, len)).map_err(anyhow::Error::from)?;
            tm.push(t.elapsed());
            let t = Instant::now();
            let b = bchurn.call(&mut bstore, (n, len)).map_err(anyhow::Error::from)?;
            tb.push(t.elapsed());
            if a != b {
                bail!("{n} x {len}: the two programs disagree: {a} vs {b}");
            }
        }
        inst.runtime.collect(&mut mstore)?;
        let stats = inst.runtime.check_no_leaks(&mut mstore)?;
        let (m, b) = (median(tm), median(tb));
        println!(
            "| {n} x {len} B | {:.1} ms | {:.1} ms | {:.2}x | {} pages ({} KiB) |",
            b.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / b.as_secs_f64(),
            stats.pages,
            stats.pages * 64
        );
    }
    let t = inst.runtime.token_stats();
    println!("\ntokens: {} made, {} released in {} batches", t.made, t.released, t.batches);
    Ok(())
}
