//! The runtime allocator benchmark: multimem's allocator against talc (v5)
//! and Rust's dlmalloc, all three built into the same wasm harness
//! (`bench/alloc/harness`) and run in wasmtime in one process; and the
//! shipped `runtime.wasm` (opt-level z, simd128) called through its exports
//! next to talc and dlmalloc exporting the same interface.
//!
//! Phases:
//! 1. build the harness once per allocator (`cargo build --release
//!    --target wasm32-unknown-unknown --features <allocator>`, simd128, a
//!    64 KiB stack), each into its own target subdirectory, and the talc
//!    and dlmalloc harnesses once more with runtime.wasm's settings
//!    (`--profile shipped`: opt-level z), whose `buffer_new`,
//!    `buffer_retain` and `buffer_release` exports stand next to the
//!    shipped runtime.wasm's (`multimem_runtime_wasm::RUNTIME_WASM`);
//! 2. for each workload and run, for each allocator in turn (interleaved,
//!    so machine noise hits all three alike): a fresh instance, an untimed
//!    call that sets up the live blocks, then the timed call;
//! 3. the same for the export workloads, whose loop runs in the host and
//!    calls one export per operation;
//! 4. print the medians, ratios, module bytes and pages grown, and write
//!    them into BENCHMARKS.md between the `bench-alloc` markers.
//!
//! Usage: `bench-alloc [--runs N] [--benchmarks-md PATH] [--command TEXT]
//! [--only EXPORT,..] [--extra NAME=PATH].. [--extra-exports NAME=PATH]..`.
//! `--only` runs a subset of the workloads (no BENCHMARKS.md then; export
//! workloads are named `exports_small`, `exports_mixed`, `exports_retain`,
//! `exports_call`);
//! `--extra` adds a saved harness build (say, the multimem harness before a
//! change) to the interleaved runs, and `--extra-exports` a saved
//! runtime.wasm to the export runs, for A/B comparisons under the same
//! noise; their medians are printed, not written.
//! Not a test: it asserts nothing about speed; it reports.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use wasmtime::{Config, Engine, Instance, Linker, Module, Store, TypedFunc};

const ALLOCATORS: &[&str] = &["multimem", "talc", "dlmalloc"];

/// (export, ops per run, description, target ratio vs talc)
const WORKLOADS: &[(&str, u32, &str, Option<f64>)] = &[
    ("run_small", 1_000_000, "alloc+release pairs, 16-256 B (1024 blocks live)", Some(0.5)),
    ("run_mixed", 100_000, "mixed 16 B-64 KiB, 1024 blocks live (release one, alloc one)", Some(0.6)),
    ("run_retain", 2_000_000, "retain+release pairs on 1024 live blocks", None),
    ("run_fill", 100_000, "zero-fill alone of the mixed sizes, no allocator (baseline)", None),
    ("run_small_fill", 1_000_000, "zero-fill alone of the small sizes, no allocator (baseline)", None),
    (
        "run_small_raw",
        1_000_000,
        "small pairs, allocator alone: blocks without zero-fill or buffer header (diagnostic)",
        None,
    ),
    ("run_mixed_raw", 100_000, "mixed, allocator alone: blocks without zero-fill or buffer header (diagnostic)", None),
];
/// Indices in WORKLOADS: the allocator workloads and their allocator-alone diagnostics.
const SMALL: usize = 0;
const MIXED: usize = 1;
const SMALL_RAW: usize = 5;
const MIXED_RAW: usize = 6;

/// The export workloads: (name, ops per run, description). The loop runs in
/// the host, one export call per allocation, release or retain.
const EXPORT_WORKLOADS: &[(&str, u32, &str)] = &[
    ("exports_small", 300_000, "alloc+release pairs, 16-256 B (1024 blocks live)"),
    ("exports_mixed", 50_000, "mixed 16 B-64 KiB, 1024 blocks live (release one, alloc one)"),
    ("exports_retain", 300_000, "retain+release pairs on 1024 live blocks"),
    ("exports_call", 300_000, "two calls of an export that only reads the memory size (the call cost alone, baseline)"),
];
/// Blocks kept live by the export workloads (as the harness's `LIVE`).
const LIVE: usize = 1024;

/// What the table measures (fixed text; the figures above it are computed).
const NOTES: &str = "
How to read it: every allocation of all three returns zero-filled,
16-aligned memory. talc's `alloc_zeroed` is `alloc` plus a `memory.fill`
of the whole block; dlmalloc's `calloc` clears unless the chunk was
mmapped, which never happens on wasm32, so it always fills too. multimem's
`buffer::new` zeroes up to 256 bytes with sixteen inline 16-byte stores
(no branch on the size), larger buffers with one `memory.fill`, and skips
the part of a block carved from never-used memory (already zero from
`memory.grow`; tested in runtime/tests/buffers.rs and
tests/tests/runtime_wasm.rs). The set-up of the live
blocks (untimed) writes each block in full, for all three, so the timed
phase starts with every allocator's memory in use and faulted in. The
\"zero-fill alone\" rows time a `memory.fill` of the same size sequence
into one cache-warm area, no allocator; the \"allocator alone\" rows run
the same loop on blocks without zero-fill (multimem: `alloc::alloc`,
without the buffer header and counters). The ratio column is the median of
the per-run ratios (runs are interleaved, so noise shared by a run
cancels). For retain+release, talc and dlmalloc keep an `Rc`-style count
word in the block (one load, add and store each way, no validation);
multimem's `retain`/`release` also validate the address: alignment,
bounds, its bit in the map of buffer starts (one load; docs/ABI.md, \"Which
addresses are buffers\"), the tag and the refcount range. Every
`buffer::new` sets that bit (a load and a store). multimem's pages include
the map (1/128 of the memory, at its end), and multimem grows the memory by
at least 1/64 of its size at a time (so that moving the map stays cheap),
which can leave up to that much unused at the end of a run. Pages grown
are counted from the module's initial size, after the run. The harness
rows link the runtime as a Rust library at opt-level 3 (as talc and
dlmalloc), so they measure the allocator without a host-to-wasm call per
operation; the export rows measure what a host gets from the shipped
runtime.wasm, where that call dominates (see their baseline row). The
machine is a shared 2-core VM with other builds running: expect +-20%
between runs of the script.
";

const BEGIN: &str = "<!-- bench-alloc:begin -->";
const END: &str = "<!-- bench-alloc:end -->";

fn main() -> wasmtime::Result<()> {
    let mut runs = 7usize;
    let mut md: Option<PathBuf> = None;
    let mut command = "bench/alloc/run.sh".to_string();
    let mut only: Option<Vec<String>> = None;
    let mut extra: Vec<(String, PathBuf)> = vec![];
    let mut extra_exports: Vec<(String, PathBuf)> = vec![];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--benchmarks-md" => md = Some(args.next().expect("--benchmarks-md PATH").into()),
            "--command" => command = args.next().expect("--command TEXT"),
            "--only" => only = Some(args.next().expect("--only EXPORT,..").split(',').map(String::from).collect()),
            "--extra" | "--extra-exports" => {
                let v = args.next().unwrap_or_default();
                let (n, p) = v.split_once('=').ok_or_else(|| wasmtime::format_err!("{a} NAME=PATH"))?;
                let list = if a == "--extra" { &mut extra } else { &mut extra_exports };
                list.push((n.to_string(), p.into()));
            }
            other => wasmtime::bail!(
                "unknown argument `{other}` (usage: bench-alloc [--runs N] [--benchmarks-md PATH] [--command TEXT] [--only EXPORT,..] [--extra NAME=PATH].. [--extra-exports NAME=PATH]..)"
            ),
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));

    // Phase 1: one harness per allocator.
    let engine = Engine::new(&Config::new())?;
    let mut modules = vec![];
    for name in ALLOCATORS {
        let wasm = build_harness(&root, &target, name, "release")?;
        println!("harness ({name}): {} bytes", wasm.len());
        modules.push((name.to_string(), wasm.len(), Module::new(&engine, &wasm)?));
    }
    for (name, path) in &extra {
        let wasm = std::fs::read(path).map_err(|e| wasmtime::format_err!("reading {}: {e}", path.display()))?;
        println!("harness ({name}, extra): {} bytes", wasm.len());
        modules.push((name.clone(), wasm.len(), Module::new(&engine, &wasm)?));
    }
    // The export modules: the shipped runtime.wasm, talc and dlmalloc with its settings.
    let mut export_modules = vec![("multimem".to_string(), multimem_runtime_wasm::RUNTIME_WASM.to_vec())];
    for name in &ALLOCATORS[1..] {
        export_modules.push((name.to_string(), build_harness(&root, &target, name, "shipped")?));
    }
    for (name, path) in &extra_exports {
        let wasm = std::fs::read(path).map_err(|e| wasmtime::format_err!("reading {}: {e}", path.display()))?;
        export_modules.push((name.clone(), wasm));
    }
    let export_modules: Vec<(String, usize, Module)> = export_modules
        .into_iter()
        .map(|(n, w)| Ok((n, w.len(), Module::new(&engine, &w)?)))
        .collect::<wasmtime::Result<_>>()?;
    for (n, size, _) in &export_modules {
        println!("export module ({n}): {size} bytes");
    }
    let selected = |export: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == export));

    // Phase 2: interleaved runs.
    // results[workload][allocator] = (ns/op per run, pages grown)
    // results[workload][allocator] = (ns/op per run, pages grown per run)
    let mut results = vec![vec![(Vec::new(), Vec::new()); modules.len()]; WORKLOADS.len()];
    for run in 0..runs {
        for (w, (export, ops, _, _)) in WORKLOADS.iter().enumerate() {
            if !selected(export) {
                continue;
            }
            for (a, (_, _, module)) in modules.iter().enumerate() {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, module, &[])?;
                let f = instance.get_typed_func::<u32, u32>(&mut store, export)?;
                let pages = instance.get_typed_func::<(), u32>(&mut store, "pages")?;
                // Run `run` uses random sequence `run` for all allocators.
                instance.get_typed_func::<u32, ()>(&mut store, "set_seed")?.call(&mut store, run as u32)?;
                let p0 = pages.call(&mut store, ())?;
                f.call(&mut store, 0)?; // set up the live blocks, untimed
                let t = Instant::now();
                let sum = f.call(&mut store, *ops)?;
                let ns = t.elapsed().as_nanos() as f64 / *ops as f64;
                std::hint::black_box(sum);
                let grown = pages.call(&mut store, ())? - p0;
                results[w][a].0.push(ns);
                results[w][a].1.push(grown as f64);
            }
        }
        eprintln!("run {}/{runs} done", run + 1);
    }

    // Phase 3: the export workloads, interleaved the same way.
    // export_results[workload][module] = (ns/op per run, pages grown per run)
    let mut export_results = vec![vec![(Vec::new(), Vec::new()); export_modules.len()]; EXPORT_WORKLOADS.len()];
    for run in 0..runs {
        for (w, (name, ops, _)) in EXPORT_WORKLOADS.iter().enumerate() {
            if !selected(name) {
                continue;
            }
            for (m, (_, _, module)) in export_modules.iter().enumerate() {
                let (ns, grown) = run_exports(&engine, module, w, *ops, run as u32)?;
                export_results[w][m].0.push(ns);
                export_results[w][m].1.push(grown as f64);
            }
        }
        eprintln!("export run {}/{runs} done", run + 1);
    }

    // Phase 4: report.
    if only.is_some() || !extra.is_empty() || !extra_exports.is_empty() {
        for (w, (export, ..)) in WORKLOADS.iter().enumerate() {
            if selected(export) {
                let meds: Vec<String> = modules
                    .iter()
                    .enumerate()
                    .map(|(a, (n, ..))| {
                        format!("{n} {:.2} ({} pages)", median(&results[w][a].0), median(&results[w][a].1))
                    })
                    .collect();
                println!("{export}: median ns/op: {}", meds.join(", "));
                // Per-run ratios to talc (same run, so shared noise cancels).
                let ratios: Vec<String> = modules
                    .iter()
                    .enumerate()
                    .map(|(a, (n, ..))| {
                        let r: Vec<f64> = results[w][a].0.iter().zip(&results[w][1].0).map(|(x, t)| x / t).collect();
                        format!("{n} {:.3}", median(&r))
                    })
                    .collect();
                println!("{export}: median per-run ratio to talc: {}", ratios.join(", "));
            }
        }
        for (w, (name, ..)) in EXPORT_WORKLOADS.iter().enumerate() {
            if selected(name) {
                let meds: Vec<String> = export_modules
                    .iter()
                    .enumerate()
                    .map(|(m, (n, ..))| {
                        format!(
                            "{n} {:.2} ({} pages)",
                            median(&export_results[w][m].0),
                            median(&export_results[w][m].1)
                        )
                    })
                    .collect();
                println!("{name}: median ns/op: {}", meds.join(", "));
            }
        }
        if only.is_some() {
            return Ok(());
        }
    }
    let mut table = String::new();
    table.push_str(&format!(
        "Median of {runs} runs (run `i` uses random sequence `i`, the same for all three), wasmtime 48 (Cranelift), one process; ns per operation (one op = one pair).\n\n"
    ));
    table.push_str("| workload | multimem ns/op | talc ns/op | dlmalloc ns/op | multimem / talc | target | pages grown (multimem / talc / dlmalloc) |\n");
    table.push_str("|---|---|---|---|---|---|---|\n");
    // multimem / talc: the median of the per-run ratios (the runs are
    // interleaved, so noise shared by one run cancels).
    let ratio = |w: usize| {
        let r: Vec<f64> = results[w][0].0.iter().zip(&results[w][1].0).map(|(m, t)| m / t).collect();
        median(&r)
    };
    for (w, (_, _, desc, target)) in WORKLOADS.iter().enumerate() {
        let med: Vec<f64> = results[w].iter().map(|(v, _)| median(v)).collect();
        let ratio = ratio(w);
        let target = match target {
            Some(t) => format!("<= {t}x talc: {}", if ratio <= *t { "met" } else { "missed" }),
            None => "-".into(),
        };
        let pages: Vec<String> = results[w].iter().take(3).map(|(_, p)| median(p).to_string()).collect();
        table.push_str(&format!(
            "| {desc} | {:.1} | {:.1} | {:.1} | {ratio:.2}x | {target} | {} |\n",
            med[0],
            med[1],
            med[2],
            pages.join(" / ")
        ));
    }
    let med = |w: usize, a: usize| median(&results[w][a].0);
    for (name, w, raw) in [("small pairs", SMALL, SMALL_RAW), ("mixed", MIXED, MIXED_RAW)] {
        let net: Vec<f64> = (0..ALLOCATORS.len()).map(|a| med(w, a) - med(raw, a)).collect();
        table.push_str(&format!(
            "| {name} minus the allocator alone (= zero-fill, plus multimem's header and counters) | {:.1} | {:.1} | {:.1} | {:.2}x | - | - |\n",
            net[0],
            net[1],
            net[2],
            net[0] / net[1],
        ));
    }
    table.push_str("\nWhat stands in the way of the targets (computed from the rows above):\n\n");
    for (name, w, raw, target) in [("small pairs", SMALL, SMALL_RAW, 0.5), ("mixed", MIXED, MIXED_RAW, 0.6)] {
        let talc = med(w, 1);
        let fill = med(w, 0) - med(raw, 0);
        table.push_str(&format!(
            "- {name}: target {target}x talc = {:.1} ns; multimem's zero-fill with header and counters alone takes {fill:.1} ns \
             ({:.2}x talc's whole operation), leaving {:.1} ns for the rest, where multimem's allocator alone (with the \
             benchmark loop) measures {:.1} ns (talc's: {:.1} ns, {:.2}x).\n",
            target * talc,
            fill / talc,
            target * talc - fill,
            med(raw, 0),
            med(raw, 1),
            med(raw, 0) / med(raw, 1),
        ));
    }
    let pages = |w: usize, a: usize| median(&results[w][a].1);
    let pages_ok = [SMALL, MIXED].iter().all(|&w| pages(w, 0) <= pages(w, 2));
    let runs_ok = |w: usize| results[w][0].1.iter().zip(&results[w][2].1).filter(|(m, d)| m <= d).count();
    let range = |w: usize, a: usize| {
        let p = &results[w][a].1;
        (p.iter().cloned().fold(f64::MAX, f64::min), p.iter().cloned().fold(0.0, f64::max))
    };
    table.push_str(&format!(
        "\nPages target (multimem grows the memory by at most as many pages as dlmalloc, small and mixed; \
         median over the runs, each run its own random sequence): {}. Mixed, per run: multimem at most dlmalloc's \
         pages in {} of {runs} runs (multimem {:?}, dlmalloc {:?}, talc {:?} pages, min..max).\n",
        if pages_ok { "met" } else { "missed" },
        runs_ok(MIXED),
        range(MIXED, 0),
        range(MIXED, 2),
        range(MIXED, 1),
    ));
    table.push_str(&format!(
        "\nThrough the exports of the shipped builds: the host runs the loop and calls one export per operation \
         (`buffer_new`, `buffer_release`, `buffer_retain`), into runtime.wasm as it ships \
         (`multimem_runtime_wasm::RUNTIME_WASM`, {} bytes: opt-level z, simd128) and into talc and dlmalloc \
         modules exporting the same three functions, built with the same settings ({} and {} bytes). \
         Median of {runs} runs, ns per operation (one op = one pair), the host-to-wasm calls included.\n\n",
        export_modules[0].1, export_modules[1].1, export_modules[2].1
    ));
    table.push_str(
        "| workload, through exports | runtime.wasm ns/op | talc ns/op | dlmalloc ns/op | runtime.wasm / talc | pages grown (runtime.wasm / talc / dlmalloc) |\n",
    );
    table.push_str("|---|---|---|---|---|---|\n");
    for (w, (_, _, desc)) in EXPORT_WORKLOADS.iter().enumerate() {
        let r = &export_results[w];
        let ratio: Vec<f64> = r[0].0.iter().zip(&r[1].0).map(|(m, t)| m / t).collect();
        let pages: Vec<String> = r.iter().take(3).map(|(_, p)| median(p).to_string()).collect();
        table.push_str(&format!(
            "| {desc} | {:.1} | {:.1} | {:.1} | {:.2}x | {} |\n",
            median(&r[0].0),
            median(&r[1].0),
            median(&r[2].0),
            median(&ratio),
            pages.join(" / ")
        ));
    }
    table.push_str(NOTES);
    table.push_str("\nHarness module bytes (same driver code, allocator linked in): ");
    let sizes: Vec<String> = modules.iter().take(ALLOCATORS.len()).map(|(n, s, _)| format!("{n} {s}")).collect();
    table.push_str(&sizes.join(", "));
    table.push_str(".\n");
    println!("\n{table}");
    if let Some(md) = md {
        write_section(&md, &command, &table)?;
        println!("wrote {}", md.display());
    }
    Ok(())
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Builds the harness with one allocator feature and a profile of
/// `bench/alloc/harness/Cargo.toml` (`release` or `shipped`); returns the
/// module bytes.
fn build_harness(root: &Path, target: &Path, allocator: &str, profile: &str) -> wasmtime::Result<Vec<u8>> {
    let dir = target.join("bench-alloc").join(allocator);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root.join("bench/alloc/harness"))
        .args(["build", "-q", "--profile", profile, "--target", "wasm32-unknown-unknown", "--features", allocator])
        .arg("--target-dir")
        .arg(&dir);
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"] {
        cmd.env_remove(var);
    }
    cmd.env(
        "CARGO_ENCODED_RUSTFLAGS",
        ["-C", "target-feature=+simd128", "-C", "link-arg=-zstack-size=65536"].join("\x1f"),
    );
    let status = cmd.status()?;
    if !status.success() {
        wasmtime::bail!("building the {allocator} harness failed: {status}");
    }
    let wasm = dir.join(format!("wasm32-unknown-unknown/{profile}/multimem_bench_alloc_harness.wasm"));
    std::fs::read(&wasm).map_err(|e| wasmtime::format_err!("reading {}: {e}", wasm.display()))
}

/// Replaces (or appends) the section between the markers.
fn write_section(md: &Path, command: &str, table: &str) -> wasmtime::Result<()> {
    let text = std::fs::read_to_string(md).unwrap_or_default();
    let section = format!(
        "{BEGIN}\n## Runtime allocator (issue 2)\n\nCommand: `{command}` (source: `bench/alloc/`).\n\n{table}{END}"
    );
    let new = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{section}{}", &text[..b], &text[e + END.len()..]),
        _ => format!("{}\n{section}\n", text.trim_end()),
    };
    std::fs::write(md, new)?;
    Ok(())
}

/// The harness's random sequence (`Rng` in `harness/src/lib.rs`), so the
/// export workloads see the same sizes and slots as the harness ones.
struct Rng(u32);

impl Rng {
    fn new(stream: u32, seed: u32) -> Rng {
        Rng(stream ^ seed.wrapping_mul(0x9E37_79B9))
    }
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0 >> 8
    }
    fn below(&mut self, n: u32) -> u32 {
        ((self.next() as u64 * n as u64) >> 24) as u32
    }
    /// Log-uniform from 16 B to 64 KiB (the harness's `mixed_len`).
    fn mixed_len(&mut self) -> u32 {
        let base = 16u32 << self.below(13);
        base + self.below(base) / 2
    }
}

/// The three exports of a module with runtime.wasm's buffer interface.
struct Exports {
    new: TypedFunc<u32, u32>,
    retain: TypedFunc<u32, ()>,
    release: TypedFunc<u32, u32>,
    /// `stats_pages` (runtime.wasm) or `pages` (the harness): a call that
    /// does next to nothing.
    pages: TypedFunc<(), u32>,
}

/// One run of export workload `w` (an index in EXPORT_WORKLOADS) on a fresh
/// instance of `module`: sets up LIVE blocks (untimed, each written in full,
/// as the harness does), then times `ops` operations. Returns ns per
/// operation and pages grown.
fn run_exports(engine: &Engine, module: &Module, w: usize, ops: u32, seed: u32) -> wasmtime::Result<(f64, u32)> {
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    // runtime.wasm imports its intrinsics (never called here); the talc and
    // dlmalloc modules import nothing.
    multimem_host::intrinsics::define(&mut linker, None).map_err(wasmtime::Error::from_anyhow)?;
    let instance = linker.instantiate(&mut store, module)?;
    let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| wasmtime::format_err!("no memory export"))?;
    let f = Exports {
        new: instance.get_typed_func(&mut store, "buffer_new")?,
        retain: instance.get_typed_func(&mut store, "buffer_retain")?,
        release: instance.get_typed_func(&mut store, "buffer_release")?,
        pages: match instance.get_typed_func(&mut store, "stats_pages") {
            Ok(f) => f,
            Err(_) => instance.get_typed_func(&mut store, "pages")?,
        },
    };
    let p0 = memory.size(&store);
    // Streams 1, 2 and 3, as run_small, run_mixed and run_retain.
    let mut rng = Rng::new([1, 2, 3, 3][w], seed);
    let mut live = Vec::with_capacity(LIVE);
    for _ in 0..LIVE {
        let len = if w == 1 { rng.mixed_len() } else { 16 + rng.below(241) };
        let b = f.new.call(&mut store, len)?;
        memory.data_mut(&mut store)[b as usize..(b + len) as usize].fill(0x5A);
        live.push(b);
    }
    let t = Instant::now();
    let mut sum = 0u32;
    for _ in 0..ops {
        match w {
            0 => {
                let b = f.new.call(&mut store, 16 + rng.below(241))?;
                sum = sum.wrapping_add(f.release.call(&mut store, b)?);
            }
            1 => {
                let i = rng.below(LIVE as u32) as usize;
                f.release.call(&mut store, live[i])?;
                live[i] = f.new.call(&mut store, rng.mixed_len())?;
            }
            2 => {
                let b = live[rng.below(LIVE as u32) as usize];
                f.retain.call(&mut store, b)?;
                sum = sum.wrapping_add(f.release.call(&mut store, b)?);
            }
            _ => {
                let b = live[rng.below(LIVE as u32) as usize];
                sum = sum.wrapping_add(f.pages.call(&mut store, ())? ^ b);
                sum = sum.wrapping_add(f.pages.call(&mut store, ())?);
            }
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / ops as f64;
    std::hint::black_box(sum);
    Ok((ns, (memory.size(&store) - p0) as u32))
}
