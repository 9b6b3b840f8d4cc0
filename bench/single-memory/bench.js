// The single-memory build against the multi-memory build of the same link, on
// the same engine; run by run.sh in Node and in JavaScriptCore's shell (which
// has no multi-memory: there the single-memory build is compared with a plain
// one-memory module doing the same work, plain.wat). Not a test.
//
//   node bench.js DIR ROUNDS        (Node: multi, single and plain)
//   jsc -m bench.js -- DIR ROUNDS   (jsc: single and plain)
//
// DIR holds app.multi.wasm, app.single.wasm and plain.wasm. Prints one JSON
// object: per row, the median over ROUNDS of each variant's time, the
// variants measured in turn within each round.
//
// Rows:
//   - wasm loops over runtime lists: sum_i32 over an Int32List of 2^20
//     elements and scale_f64 over a Float64List of 2^19, both plain loads and
//     stores on the runtime's memory, native in both builds (ns per element,
//     16 passes per sample);
//   - JS loops over the same lists: list.view() indexed, and list.get(i) (the
//     glue's views of the runtime memory, the same in both builds);
//   - cross-memory copies, env.memory to the runtime's memory (copy_in) and
//     back (copy_out), 64 B to 16 MiB, one memory.copy each: an instruction in
//     the multi-memory build, a call into js-glue's multimem:memory (one
//     TypedArray.set) in the single-memory build; in `plain`, memory.copy
//     within one memory (the engine's native memory.copy).
import { Float64List, Int32List, instantiate } from "../../js-glue/src/index.js";

const jsc = typeof readFile === "function" && typeof process === "undefined";
const args = jsc ? [...globalThis.arguments] : process.argv.slice(2);
const [dir, roundsArg] = args;
const ROUNDS = Number(roundsArg ?? 7);
const read = jsc ? (p) => new Uint8Array(readFile(p, "binary")) : (await import("node:fs")).readFileSync;
const now = jsc ? () => preciseTime() * 1000 : () => performance.now();
const out = (s) => (jsc ? print(s) : console.log(s));
const engine = jsc ? "jsc" : `Node ${process.version}`;

const SIZES = [64, 256, 1024, 4096, 16384, 65536, 262144, 1 << 20, 4 << 20, 16 << 20];
const MAX = 16 << 20;
const N32 = 1 << 20;
const N64 = 1 << 19;

/** A variant: its exports and the addresses the rows use. */
async function variant(name, file, build) {
  const bytes = read(`${dir}/${file}`);
  if (build === "plain") {
    const { instance } = await WebAssembly.instantiate(bytes);
    const x = instance.exports;
    // [0, MAX) copy source, [MAX, 2 MAX) copy target, then the two lists.
    const i32 = 2 * MAX;
    const f64 = i32 + N32 * 4;
    x.memory.grow(((f64 + N64 * 8) >>> 16) + 1);
    const u8 = new Uint8Array(x.memory.buffer);
    for (let i = 0; i < MAX; i++) u8[i] = i * 7;
    new Int32Array(x.memory.buffer, i32, N32).fill(3);
    new Float64Array(x.memory.buffer, f64, N64).fill(1);
    return {
      name,
      copyIn: (size, reps) => x.copy(MAX, 0, size, reps), // memory.copy within the one memory
      copyOut: (size, reps) => x.copy(0, MAX, size, reps),
      sum: () => x.sum_i32(i32, N32),
      scale: () => x.scale_f64(f64, N64, 1.0000001),
    };
  }
  const ext = new WebAssembly.Memory({ initial: (MAX >>> 16) + 1 });
  const e8 = new Uint8Array(ext.buffer);
  for (let i = 0; i < MAX; i++) e8[i] = i * 7;
  const { runtime, exports: x } = await instantiate(bytes, { env: { memory: ext } }, { build, viewPath: "refresh" });
  const dst = runtime.allocate(MAX);
  const ints = Int32List.create(runtime, N32).fill(3);
  const floats = Float64List.create(runtime, N64).fill(1);
  return {
    name,
    runtime,
    copyIn: (size, reps) => x.copy_in(dst.address, 0, size, reps),
    copyOut: (size, reps) => x.copy_out(0, dst.address, size, reps),
    sum: () => x.sum_i32(ints.address, N32),
    scale: () => x.scale_f64(floats.address, N64, 1.0000001),
    jsView: () => {
      const v = ints.view();
      let s = 0;
      for (let i = 0; i < v.length; i++) s = (s + v[i]) | 0;
      return s;
    },
    jsGet: () => {
      let s = 0;
      for (let i = 0; i < N32; i++) s = (s + ints.get(i)) | 0;
      return s;
    },
  };
}

const variants = [];
if (!jsc) variants.push(await variant("multi", "app.multi.wasm", "multi-memory"));
variants.push(await variant("single", "app.single.wasm", "single-memory"));
variants.push(await variant("plain", "plain.wasm", "plain"));

/** Milliseconds for one call of `f`. */
function time(f) {
  const t = now();
  f();
  return now() - t;
}

const rows = [];
const row = (kind, label, unit, perSample, fn) => rows.push({ kind, label, unit, perSample, fn, samples: Object.fromEntries(variants.map((v) => [v.name, []])) });
// Each loop sample runs the loop LOOPS times (tens of ms per sample).
const LOOPS = 16;
const repeat = (f) => f && (() => {
  for (let i = 0; i < LOOPS; i++) f();
});
row("loop", "wasm sum_i32 over an Int32List (2^20)", "ns/element", N32 * LOOPS, (v) => repeat(v.sum));
row("loop", "wasm scale_f64 over a Float64List (2^19)", "ns/element", N64 * LOOPS, (v) => repeat(v.scale));
row("loop", "JS list.view() loop over the Int32List", "ns/element", N32 * LOOPS, (v) => repeat(v.jsView));
row("loop", "JS list.get(i) loop over the Int32List", "ns/element", N32 * LOOPS, (v) => repeat(v.jsGet));
// Copies: at least 64 MiB and 8 copies per sample, at most 200,000 copies.
for (const size of SIZES) {
  const reps = Math.max(8, Math.min(200_000, Math.floor((64 << 20) / size)));
  row("copy-in", `${size}`, "GB/s", size * reps, (v) => () => v.copyIn(size, reps));
  row("copy-out", `${size}`, "GB/s", size * reps, (v) => () => v.copyOut(size, reps));
}

// One warm-up round, then ROUNDS rounds; within a round every row, every variant in turn.
for (let round = 0; round <= ROUNDS; round++) {
  for (const r of rows) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const f = r.fn(v);
      if (f === undefined) continue;
      const ms = time(f);
      if (round > 0) r.samples[v.name].push(ms);
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
out(JSON.stringify({
  engine,
  rounds: ROUNDS,
  rows: rows.map((r) => {
    const m = Object.fromEntries(Object.entries(r.samples).filter(([, xs]) => xs.length).map(([k, xs]) => [k, median(xs)]));
    const value = (ms) => (r.unit === "GB/s" ? r.perSample / (ms * 1e6) : (ms * 1e6) / r.perSample);
    return { kind: r.kind, label: r.label, unit: r.unit, medianMs: m, value: Object.fromEntries(Object.entries(m).map(([k, ms]) => [k, value(ms)])) };
  }),
}));
