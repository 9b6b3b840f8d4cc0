// js-glue benchmark (not a test). Each comparison runs side by side in one
// process, interleaved, and reports medians and the ratio:
//   1. element loop over a glue view (list.view()) vs a raw Uint8Array on
//      memory.buffer (target: <= 1.05x the raw loop's time);
//      informational: the same loop through list.get(i);
//   2. wrappers created and released per second, by dispose() and by the
//      FinalizationRegistry (target: >= 1M/s);
//   3. readInto(response) vs response.arrayBuffer() + one set(): time, and
//      peak memory measured in separate child processes (target: at least as
//      fast, half the peak memory).
// Usage: node --expose-gc bench.js [--only part]   (MULTIMEM_JS_FIXTURES must point at
// the built fixtures; js-glue/bench/run.sh does all of it).
// Child mode: node --expose-gc bench.js --peak readInto|arrayBuffer <bytes>
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setImmediate as turn } from "node:timers/promises";
import { instantiate, Uint8List } from "../src/index.js";

const fixtures = process.env.MULTIMEM_JS_FIXTURES;
if (!fixtures) throw new Error("MULTIMEM_JS_FIXTURES is not set; use js-glue/bench/run.sh");

async function load(options = {}) {
  const lib = await WebAssembly.instantiate(readFileSync(join(fixtures, "lib.wasm")));
  return instantiate(
    readFileSync(join(fixtures, "app.linked.wasm")),
    { env: { memory: lib.instance }, host: { callback() {} } },
    options,
  );
}

const now = () => process.hrtime.bigint();
const ms = (t0, t1) => Number(t1 - t0) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---------------------------------------------------------------------------
// 1. Element loop

function sumLoop(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = (s + a[i]) | 0;
  return s;
}

function writeLoop(a) {
  for (let i = 0; i < a.length; i++) a[i] = (a[i] + i) & 0xff;
}

function getLoop(list) {
  let s = 0;
  const n = list.length;
  for (let i = 0; i < n; i++) s = (s + list.get(i)) | 0;
  return s;
}

async function elementLoop(runtime) {
  const N = 16 << 20;
  const list = Uint8List.create(runtime, N);
  for (let i = 0; i < N; i++) list.view()[i] = i * 31;
  const raw = () => new Uint8Array(runtime.memory.buffer, list.address, N);
  const glue = () => list.view();
  // Warm both paths up.
  for (let i = 0; i < 3; i++) {
    sumLoop(raw());
    sumLoop(glue());
    writeLoop(raw());
    writeLoop(glue());
  }
  const t = { raw: [], glue: [], get: [] };
  let check = 0;
  for (let r = 0; r < 15; r++) {
    // Alternate the order so drift hits both sides.
    const order = r % 2 ? ["glue", "raw"] : ["raw", "glue"];
    for (const which of order) {
      const t0 = now();
      const a = which === "raw" ? raw() : glue();
      check ^= sumLoop(a);
      writeLoop(a);
      t[which].push(ms(t0, now()));
    }
    if (r < 5) {
      const t0 = now();
      check ^= getLoop(list);
      t.get.push(ms(t0, now()));
    }
  }
  list.dispose();
  // On the resizable path, also time the raw loop over an ordinary
  // (non-resizable) memory.buffer of a second instance: V8 compiles loops
  // over resizable-buffer views differently, and this shows what that costs.
  let plainMs = null;
  if (runtime.viewPath === "resizable") {
    const { runtime: other } = await load({ viewPath: "refresh" });
    const l2 = Uint8List.create(other, N);
    const plain = () => new Uint8Array(other.memory.buffer, l2.address, N);
    // Own copies of the loops, so their type feedback is not shared with
    // the resizable-buffer loops above.
    const sumPlain = new Function(`return ${sumLoop.toString()}`)();
    const writePlain = new Function(`return ${writeLoop.toString()}`)();
    const tp = [];
    for (let r = 0; r < 18; r++) {
      const t0 = now();
      const a = plain();
      check ^= sumPlain(a);
      writePlain(a);
      if (r >= 3) tp.push(ms(t0, now()));
    }
    plainMs = median(tp);
    l2.dispose();
  }
  const raw_ = median(t.raw);
  const glue_ = median(t.glue);
  const get_ = median(t.get);
  return {
    elements: N,
    rawMs: raw_,
    glueMs: glue_,
    ratio: glue_ / raw_,
    getMs: get_,
    getRatio: get_ / raw_,
    plainMs,
    check,
  };
}

// ---------------------------------------------------------------------------
// 2. Wrapper churn

/**
 * GC until every registry entry but `keep` has run: disposed wrappers still
 * get a (no-op) finalizer callback, which belongs to their cost.
 */
async function settle(runtime, keep) {
  while (runtime.stats().registered > keep) {
    globalThis.gc();
    await turn();
  }
}

/** `make()` creates and disposes one wrapper; time until its registry entry has also run. */
async function churnExplicit(runtime, n, make) {
  const keep = runtime.stats().registered;
  const t0 = now();
  for (let b = 0; b < n / 10000; b++) {
    for (let i = 0; i < 10000; i++) make();
    await turn();
  }
  await settle(runtime, keep);
  return n / (ms(t0, now()) / 1e3);
}

async function churnFinalizer(runtime, n, shared) {
  const base = runtime.stats();
  const t0 = now();
  let sink = 0;
  for (let b = 0; b < n / 10000; b++) {
    for (let i = 0; i < 10000; i++) sink += Uint8List.view(shared, 0, 16).length;
    await turn();
  }
  // Until every dropped wrapper has been released by the finalizer.
  while (runtime.stats().finalized - base.finalized < n) {
    globalThis.gc();
    await turn();
  }
  const total = ms(t0, now());
  if (shared.refcount !== 1) throw new Error(`refcount ${shared.refcount} after finalizer churn`);
  if (sink !== n * 16) throw new Error("sink");
  return n / (total / 1e3);
}

async function churn(runtime) {
  const n = 1_000_000;
  const shared = runtime.allocate(64);
  const keep = runtime.stats().registered;
  const view = () => Uint8List.view(shared, 0, 16).dispose();
  const create = () => Uint8List.create(runtime, 16).dispose();
  await churnExplicit(runtime, 100_000, view); // warm-up
  await churnFinalizer(runtime, 100_000, shared);
  const r = { view: [], create: [], finalizer: [] };
  for (let round = 0; round < 5; round++) {
    await settle(runtime, keep);
    r.view.push(await churnExplicit(runtime, n, view));
    r.create.push(await churnExplicit(runtime, n, create));
    await settle(runtime, keep);
    r.finalizer.push(await churnFinalizer(runtime, n, shared));
  }
  shared.dispose();
  return {
    wrappers: n,
    explicitViewPerSec: median(r.view),
    explicitCreatePerSec: median(r.create),
    finalizerPerSec: median(r.finalizer),
  };
}

// ---------------------------------------------------------------------------
// 3. Streams

/** A Response streaming `size` bytes in 64 KiB chunks, with Content-Length. */
function response(size) {
  const block = new Uint8Array(1 << 16);
  for (let i = 0; i < block.length; i++) block[i] = i * 7;
  let pos = 0;
  const body = new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 1 << 16,
    pull(c) {
      const req = c.byobRequest;
      if (pos >= size) {
        c.close();
        req?.respond(0);
        return;
      }
      const view = req.view;
      const n = Math.min(view.byteLength, size - pos, block.length);
      new Uint8Array(view.buffer, view.byteOffset, n).set(block.subarray(0, n));
      pos += n;
      req.respond(n);
    },
  });
  return new Response(body, { headers: { "content-length": String(size) } });
}

const variants = {
  async readInto(runtime, size) {
    const list = await runtime.readInto(response(size));
    return list;
  },
  async arrayBuffer(runtime, size) {
    const ab = await response(size).arrayBuffer();
    const list = Uint8List.create(runtime, ab.byteLength);
    list.view().set(new Uint8Array(ab));
    return list;
  },
};

async function streams(runtime) {
  const size = 64 << 20;
  const t = { readInto: [], arrayBuffer: [] };
  for (const v of Object.keys(variants)) (await variants[v](runtime, size)).dispose();
  for (let r = 0; r < 9; r++) {
    for (const v of r % 2 ? ["arrayBuffer", "readInto"] : ["readInto", "arrayBuffer"]) {
      globalThis.gc();
      const t0 = now();
      const list = await variants[v](runtime, size);
      t[v].push(ms(t0, now()));
      if (list.length !== size || list.get(size - 1) !== (((size - 1) % (1 << 16)) * 7) % 256) throw new Error(`${v}: wrong bytes`);
      list.dispose();
    }
  }
  // Peak memory: one fresh process per variant, maxRSS above the set-up's RSS.
  const peak = {};
  for (const v of Object.keys(variants)) {
    const runs = [];
    for (let r = 0; r < 5; r++) {
      const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--peak", v, String(size)], {
        env: process.env,
        encoding: "utf8",
      });
      runs.push(JSON.parse(out).peakMiB);
    }
    peak[v] = median(runs);
  }
  const ri = median(t.readInto);
  const ab = median(t.arrayBuffer);
  return {
    bytes: size,
    readIntoMs: ri,
    arrayBufferMs: ab,
    readIntoMiBps: size / 2 ** 20 / (ri / 1e3),
    arrayBufferMiBps: size / 2 ** 20 / (ab / 1e3),
    timeRatio: ri / ab,
    readIntoPeakMiB: peak.readInto,
    arrayBufferPeakMiB: peak.arrayBuffer,
    peakRatio: peak.readInto / peak.arrayBuffer,
  };
}

/** VmHWM (peak RSS) of this process in bytes, from /proc (Linux). */
function highWaterMark() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m[1]) * 1024;
}

async function peakChild(variant, size) {
  const { runtime } = await load();
  // The peak counts everything the operation needs: the target buffer in
  // runtime memory (both variants) plus whatever JS memory it holds on the way.
  globalThis.gc();
  // Reset the peak to the current RSS ("5" > clear_refs). getrusage's
  // maxRSS would not do: it survives fork+exec, so a child of a big parent
  // starts with the parent's peak.
  writeFileSync("/proc/self/clear_refs", "5");
  const before = highWaterMark();
  const list = await variants[variant](runtime, size);
  const peak = highWaterMark();
  if (list.length !== size) throw new Error("short read");
  process.stdout.write(JSON.stringify({ peakMiB: (peak - before) / 2 ** 20 }));
}

// ---------------------------------------------------------------------------

if (process.argv[2] === "--peak") {
  await peakChild(process.argv[3], Number(process.argv[4]));
} else {
  if (typeof globalThis.gc !== "function") throw new Error("run with --expose-gc");
  // `--only elementLoop|churn|streams` runs one part (for working on it).
  const only = process.argv[2] === "--only" ? process.argv[3] : null;
  const parts = { elementLoop, churn, streams };
  const { runtime } = await load();
  const result = { node: process.version, viewPath: runtime.viewPath };
  for (const [name, run] of Object.entries(parts)) if (only === null || only === name) result[name] = await run(runtime);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
