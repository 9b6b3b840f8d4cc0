// Benchmark (not a test): the JS host's side of "Ownership by GC objects"
// (src/ownership.js) on Node, run by js-glue/bench/ownership-gc.sh.
//
// Phases, in order:
//   1. compiled programs: examples/compiler/programs/bench_alloc.mm compiled
//      three ways (ARGV: DIR holding arr.wasm = `--backend gc-array`, plain
//      WasmGC arrays; mm.wasm = the multimem backend linked with the
//      runtime, tokens only for escaping lists; ev.wasm = the same with
//      `--tokens-everywhere`), each case in a fresh instance per variant,
//      variants interleaved; per call two times: the call alone, and the
//      call + a forced GC + the finalizers and batched releases it lets run
//      (the same forced GC for every variant); results compared (equal);
//   2. token cost: hand-written JS loops of 200,000 buffers, ns per buffer,
//      each followed by a forced GC and a wait for its releases:
//      scope-based release (buffer_new + buffer_release), the glue's token
//      (own + finalize + batched release), an unbatched token (the same
//      Token in a FinalizationRegistry whose callback calls buffer_release
//      per token, as a host without buffer_release_batch would), and a
//      FinalizationRegistry of Tokens with no buffer at all;
//   3. print a JSON report and a Markdown table.
// Limits: medians of RUNS; the machine is shared (2 cores, other builds):
// absolute times vary by ±20%, ratios less.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { Token, instantiate } from "../src/index.js";

const dir = process.argv[2];
const RUNS = Number(process.argv[3] ?? 9);
if (!dir || typeof globalThis.gc !== "function") {
  console.error("usage: node --expose-gc js-glue/bench/ownership-gc.mjs DIR [RUNS]  (see ownership-gc.sh)");
  process.exit(2);
}
const bytes = (f) => readFileSync(join(dir, f));

const host = { print_i64() {}, print_f64() {} };

/** A fresh instance of variant `v`: { fn(name), pages(), own }. */
async function load(v) {
  if (v === "array") {
    const { instance } = await WebAssembly.instantiate(bytes("arr.wasm"), { host });
    return { x: instance.exports, pages: () => 0, own: null };
  }
  const lib = new WebAssembly.Memory({ initial: 1 });
  const { exports, runtime } = await instantiate(bytes(v === "multimem" ? "mm.wasm" : "ev.wasm"), { env: { memory: lib }, host });
  return { x: exports, pages: () => exports.stats_pages(), own: runtime.ownership, runtime };
}

/** Forced GC, then event-loop turns until every token made is released (at most 2 s). */
async function settle(inst) {
  globalThis.gc();
  await turn();
  if (inst.own === null) return;
  const deadline = performance.now() + 2000;
  while (performance.now() < deadline) {
    const s = inst.own.stats();
    if (s.queued === 0 && s.collected === s.tokensMade) return;
    globalThis.gc();
    await turn();
  }
  throw new Error(`releases did not settle: ${JSON.stringify(inst.own.stats())}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const CASES = [
  ["temporaries", 200000, 16],
  ["factory", 200000, 16],
  ["ring", 200000, 16],
  ["ring", 200000, 64],
  ["ring", 100000, 256],
  ["ring", 20000, 4096],
];
const VARIANTS = ["array", "multimem", "everywhere"];

async function programs() {
  const rows = [];
  for (const [fn, n, len] of CASES) {
    const insts = {};
    for (const v of VARIANTS) insts[v] = await load(v);
    const call = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    const total = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    const results = {};
    for (let r = 0; r < RUNS + 1; r++) {
      for (const v of VARIANTS) {
        const inst = insts[v];
        const t0 = performance.now();
        const out = inst.x[fn](BigInt(n), BigInt(len));
        const t1 = performance.now();
        await settle(inst);
        const t2 = performance.now();
        results[v] ??= out;
        if (results[v] !== out) throw new Error(`${fn}: ${v} returned ${out}, before ${results[v]}`);
        if (r === 0) continue; // warm-up
        call[v].push(t1 - t0);
        total[v].push(t2 - t0);
      }
    }
    if (results.array !== results.multimem || results.array !== results.everywhere) {
      throw new Error(`${fn}: results differ: ${JSON.stringify(results, (_, x) => (typeof x === "bigint" ? String(x) : x))}`);
    }
    const row = { case: `${fn} ${n} x ${len} B` };
    for (const v of VARIANTS) {
      const inst = insts[v];
      row[v] = {
        callMs: median(call[v]),
        totalMs: median(total[v]),
        pages: inst.pages(),
        tokensPerCall: inst.own ? inst.own.stats().tokensMade / (RUNS + 1) : 0,
        batchCallsPerCall: inst.own ? inst.own.stats().batchCalls / (RUNS + 1) : 0,
      };
      if (inst.own) {
        if (inst.own.stats().refused !== 0) throw new Error("refused slots");
        if (inst.runtime.stats().liveBuffers !== 0) throw new Error(`${v}: ${inst.runtime.stats().liveBuffers} buffers leaked`);
      }
    }
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  return rows;
}

const N = 200000;

/**
 * ns per buffer of `body` over N buffers, then of a forced GC and the
 * releases it lets run (`done()` true once they are in): medians of
 * { body, settle, total }.
 */
async function loopCost(setup) {
  const body = [];
  const settle = [];
  const total = [];
  for (let r = 0; r < RUNS + 1; r++) {
    const s = await setup();
    const t0 = performance.now();
    s.body();
    const t1 = performance.now();
    globalThis.gc();
    await turn();
    const deadline = performance.now() + 2000;
    while (!s.done()) {
      if (performance.now() > deadline) throw new Error("releases did not settle");
      globalThis.gc();
      await turn();
    }
    const t2 = performance.now();
    s.check();
    if (r === 0) continue;
    body.push(((t1 - t0) * 1e6) / N);
    settle.push(((t2 - t1) * 1e6) / N);
    total.push(((t2 - t0) * 1e6) / N);
  }
  return { body: median(body), settle: median(settle), total: median(total) };
}

async function tokenCosts() {
  const base = async () => {
    const { exports, runtime } = await instantiate(bytes("mm.wasm"), { env: { memory: new WebAssembly.Memory({ initial: 1 }) }, host });
    const noLeak = () => {
      if (exports.stats_live_buffers() !== 0) throw new Error(`${exports.stats_live_buffers()} buffers leaked`);
    };
    return { x: exports, own: runtime.ownership, noLeak };
  };
  const out = {};
  out.scoped = await loopCost(async () => {
    const { x, noLeak } = await base();
    return {
      body() {
        for (let i = 0; i < N; i++) x.buffer_release(x.buffer_new(16));
      },
      done: () => true,
      check: noLeak,
    };
  });
  out.glueToken = await loopCost(async () => {
    const { x, own, noLeak } = await base();
    return {
      body() {
        for (let i = 0; i < N; i++) own.own(x.buffer_new(16));
      },
      done: () => own.stats().released === N,
      check: noLeak,
    };
  });
  out.unbatchedToken = await loopCost(async () => {
    const { x, noLeak } = await base();
    let released = 0;
    const registry = new FinalizationRegistry((a) => {
      x.buffer_release(a);
      released++;
    });
    return {
      body() {
        for (let i = 0; i < N; i++) registry.register(new Token(), x.buffer_new(16));
      },
      done: () => released === N,
      check: noLeak,
    };
  });
  out.registryOnly = await loopCost(async () => {
    let collected = 0;
    const registry = new FinalizationRegistry(() => collected++);
    return {
      body() {
        for (let i = 0; i < N; i++) registry.register(new Token(), i);
      },
      done: () => collected === N,
      check() {},
    };
  });
  console.error(JSON.stringify(out));
  return out;
}

const report = { node: process.version, runs: RUNS, programs: await programs(), tokenCost: await tokenCosts() };
console.log(JSON.stringify(report, null, 2));

const f = (ms) => `${ms.toFixed(1)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
console.log(`\n| case | WasmGC array: call / + GC | multimem: call / + GC | ratio (+ GC) | tokens everywhere: call / + GC | ratio (+ GC) | runtime pages (multimem / everywhere) | tokens per call (multimem / everywhere) |`);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of report.programs) {
  const { array: a, multimem: m, everywhere: e } = r;
  console.log(`| \`${r.case}\` | ${f(a.callMs)} / ${f(a.totalMs)} | ${f(m.callMs)} / ${f(m.totalMs)} | ${ratio(m.totalMs, a.totalMs)} | ${f(e.callMs)} / ${f(e.totalMs)} | ${ratio(e.totalMs, a.totalMs)} | ${m.pages} / ${e.pages} | ${m.tokensPerCall} / ${e.tokensPerCall} |`);
}
const c = report.tokenCost;
console.log(`\n| loop body (${N} buffers; then a forced GC and the releases it lets run) | loop, ns per buffer | GC + releases, ns per buffer | total | vs scope-based |`);
console.log("|---|---|---|---|---|");
for (const [k, label] of [
  ["scoped", "`buffer_new(16)` + `buffer_release` (scope-based release)"],
  ["glueToken", "`buffer_new(16)` + the glue's `own` (token, finalizer, batched release)"],
  ["unbatchedToken", "`buffer_new(16)` + a token whose finalizer calls `buffer_release` (unbatched)"],
  ["registryOnly", "an empty object in a `FinalizationRegistry`, no buffer"],
]) {
  console.log(`| ${label} | ${c[k].body.toFixed(0)} | ${c[k].settle.toFixed(0)} | ${c[k].total.toFixed(0)} | ${ratio(c[k].total, c.scoped.total)} |`);
}
