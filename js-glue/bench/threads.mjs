// The JS shared-heap benchmark (js-glue/bench/threads.sh runs it; not a
// test). Each worker_threads worker instantiates the linked runtime and, from
// JS, calls buffer_new twice (16-256 bytes) and buffer_release twice per
// iteration, ITERATIONS times; the figure is allocations per second of all
// workers together, from the moment all are released (one Atomics.notify)
// until the last one ends. Rows, each the median of RUNS runs:
//   - default build, 1 worker: the single-threaded baseline;
//   - shared build, one heap (--import-shared-memory, instance_may_wait(1)):
//     1, 2, 4 workers over one shared memory;
//   - default build, a private heap per worker: 2, 4 workers, nothing shared
//     (the most any scaling could reach on this machine).
// After each shared run an instance on the main thread checks that the heap
// is empty (stats_live_buffers 0) and counted every allocation's release.
// Usage: node threads.mjs DIR [RUNS]   (DIR: default.wasm and shared.wasm)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const ITERATIONS = 1_000_000;

function loop(x) {
  let size = 16;
  for (let i = 0; i < ITERATIONS; i++) {
    const a = x.buffer_new(size);
    size = size >= 256 ? 16 : size + 16;
    const b = x.buffer_new(size);
    size = size >= 256 ? 16 : size + 16;
    if (a === 0 || b === 0) throw new Error("buffer_new returned 0");
    x.buffer_release(a);
    x.buffer_release(b);
  }
}

if (!isMainThread) {
  const { module, memory, control } = workerData;
  const imports = memory ? { multimem: { memory } } : {};
  const { exports: x } = new WebAssembly.Instance(module, imports);
  if (memory) x.instance_may_wait(1);
  const flags = new Int32Array(control);
  Atomics.add(flags, 0, 1);
  Atomics.notify(flags, 0);
  Atomics.wait(flags, 1, 0);
  loop(x);
  parentPort.postMessage({ end: performance.timeOrigin + performance.now() });
} else {
  const [dir, runsArg] = process.argv.slice(2);
  if (!dir) throw new Error("usage: node threads.mjs DIR [RUNS]");
  const runs = Number(runsArg ?? 5);
  const modules = {
    default: await WebAssembly.compile(readFileSync(join(dir, "default.wasm"))),
    shared: await WebAssembly.compile(readFileSync(join(dir, "shared.wasm"))),
  };

  async function once(build, workers) {
    const shared = build === "shared";
    const memory = shared ? new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }) : null;
    const control = new SharedArrayBuffer(8);
    const flags = new Int32Array(control);
    const ends = [];
    const done = [];
    for (let i = 0; i < workers; i++) {
      const w = new Worker(new URL(import.meta.url), { workerData: { module: modules[build], memory, control } });
      done.push(new Promise((resolve, reject) => {
        w.once("message", (m) => { ends.push(m.end); resolve(w.terminate()); });
        w.once("error", reject);
      }));
    }
    while (Atomics.load(flags, 0) < workers) await new Promise((r) => setTimeout(r, 1));
    const start = performance.timeOrigin + performance.now();
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    await Promise.all(done);
    const seconds = (Math.max(...ends) - start) / 1000;
    if (shared) {
      const { exports: x } = new WebAssembly.Instance(modules.shared, { multimem: { memory } });
      if (x.stats_live_buffers() !== 0) throw new Error(`shared heap: ${x.stats_live_buffers()} live buffers after the run`);
    }
    return (2 * ITERATIONS * workers) / seconds / 1e6;
  }

  const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };
  const rows = [
    ["default (single-threaded)", "default", 1],
    ["shared, one heap", "shared", 1],
    ["shared, one heap", "shared", 2],
    ["shared, one heap", "shared", 4],
    ["default, a private heap per worker (ceiling)", "default", 2],
    ["default, a private heap per worker (ceiling)", "default", 4],
  ];
  const results = [];
  for (const [name, build, workers] of rows) {
    const rates = [];
    for (let r = 0; r < runs; r++) rates.push(await once(build, workers));
    results.push({ name, workers, rate: median(rates), rates });
  }
  const base = results[0].rate;
  console.log(`Node ${process.version}, ${ITERATIONS} iterations (2 allocations + 2 releases) per worker, median of ${runs}`);
  console.log("");
  console.log("| build | workers | allocations/s (M, all workers) | vs default build, 1 worker |");
  console.log("|---|---|---|---|");
  for (const r of results) console.log(`| ${r.name} | ${r.workers} | ${r.rate.toFixed(1)} | ${(r.rate / base).toFixed(2)} |`);
  console.log("");
  console.log(`runs (M/s): ${results.map((r) => `${r.name} x${r.workers}: ${r.rates.map((v) => v.toFixed(1)).join(" ")}`).join("; ")}`);
}
