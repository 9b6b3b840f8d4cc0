// Every row of the ABI's lowered table, end to end: a multi-memory module
// with one exported function per instruction on a lowered memory (wat()),
// and a fixed sequence of calls (run()) whose outcomes (results, traps and
// the bytes of every memory after each call) must be the same for the
// multi-memory build, run natively by the engine, and the single-memory
// build, whose instructions call the glue's `multimem:memory` (src/lowered.js).
//
// scripts/test-js.sh writes the WAT (test/lowered-ops-record.mjs wat OUT),
// compiles it and links it both ways: `multimem-link app=lowered-ops.wasm`
// and `... --single-memory --native-memory app.memory`. Node compares the two
// builds live (lowered-ops.test.js); the multi-memory build's outcomes,
// recorded on Node (lowered-ops-record.mjs expect), are what jsc (no
// multi-memory) must reproduce with the single-memory build
// (scripts/test-webkit.sh). No Node API here: jsc loads this file too.
//
// Memories (indices as in the multi-memory build):
//   0 $ext   imported env.memory, 1 page, max 4     (lowered, imported)
//   1 $nat   exported "memory", 1 page                (the native one)
//   2 $data  exported "data", 1 page, max 3            (lowered, defined, one active segment)
//   3 $sh    exported "shared", 1 page, max 2, shared (lowered, defined)
import { LOWERED } from "../src/abi.js";

const PAGE = 65536;
const OFFSET = 8; // the memarg offset of every load and store

const TYPE = { i32: "i32", i64: "i64" };

/** The exported functions: name -> { wat body, params }. */
function functions() {
  const fns = [];
  const add = (name, params, results, body) => fns.push({ name, params, results, body });
  const local = (i) => `(local.get ${i})`;
  for (const [instruction, row] of Object.entries(LOWERED)) {
    const params = row.params.slice(0, -1); // the last param is the memarg offset
    switch (row.kind) {
      case "load":
        for (const mem of instruction === "i32.load" ? ["$data", "$ext", "$sh"] : ["$data"]) {
          add(`${instruction} ${mem}`, ["i32"], row.results, `(${instruction} ${mem} offset=${OFFSET} ${local(0)})`);
        }
        break;
      case "store":
        for (const mem of instruction === "i32.store" ? ["$data", "$ext", "$sh"] : ["$data"]) {
          add(`${instruction} ${mem}`, params, [], `(${instruction} ${mem} offset=${OFFSET} ${local(0)} ${local(1)})`);
        }
        break;
      case "atomic_load":
      case "atomic_store":
      case "atomic_rmw":
      case "atomic_cmpxchg":
      case "atomic_notify":
      case "atomic_wait":
        for (const mem of ["$data", "$sh"]) {
          const args = params.map((_, i) => local(i)).join(" ");
          add(`${instruction} ${mem}`, params, row.results, `(${instruction} ${mem} offset=${OFFSET} ${args})`);
        }
        break;
      case "size":
        for (const mem of ["$data", "$ext", "$sh"]) add(`memory.size ${mem}`, [], ["i32"], `(memory.size ${mem})`);
        break;
      case "grow":
        for (const mem of ["$data", "$ext", "$sh"]) add(`memory.grow ${mem}`, ["i32"], ["i32"], `(memory.grow ${mem} ${local(0)})`);
        break;
      case "fill":
        for (const mem of ["$data", "$ext"]) add(`memory.fill ${mem}`, ["i32", "i32", "i32"], [], `(memory.fill ${mem} ${local(0)} ${local(1)} ${local(2)})`);
        break;
      case "copy":
        for (const [d, s] of [["$data", "$ext"], ["$ext", "$data"], ["$nat", "$data"], ["$data", "$nat"], ["$data", "$data"], ["$sh", "$ext"]]) {
          add(`memory.copy ${d} ${s}`, ["i32", "i32", "i32"], [], `(memory.copy ${d} ${s} ${local(0)} ${local(1)} ${local(2)})`);
        }
        break;
      case "init":
        add("memory.init $data $p", ["i32", "i32", "i32"], [], `(memory.init $data $p ${local(0)} ${local(1)} ${local(2)})`);
        break;
      case "drop":
        add("data.drop $p", [], [], "(data.drop $p)");
        break;
      case "active":
        break; // the linker's start function calls it for the active segment on $data
      default:
        throw new Error(`lowered-ops: no case for kind ${row.kind} (${instruction})`);
    }
  }
  // What the linker rebuilds from the integer rows: floats (bits through
  // reinterpret, so no NaN crosses into JS) and v128 (two i64 halves).
  add("f32.load $data", ["i32"], ["i32"], `(i32.reinterpret_f32 (f32.load $data offset=${OFFSET} ${local(0)}))`);
  add("f64.load $data", ["i32"], ["i64"], `(i64.reinterpret_f64 (f64.load $data offset=${OFFSET} ${local(0)}))`);
  add("f32.store $data", ["i32", "i32"], [], `(f32.store $data offset=${OFFSET} ${local(0)} (f32.reinterpret_i32 ${local(1)}))`);
  add("f64.store $data", ["i32", "i64"], [], `(f64.store $data offset=${OFFSET} ${local(0)} (f64.reinterpret_i64 ${local(1)}))`);
  add("v128.load $data", ["i32"], ["i64", "i64"], `(i64x2.extract_lane 0 (v128.load $data offset=${OFFSET} ${local(0)})) (i64x2.extract_lane 1 (v128.load $data offset=${OFFSET} ${local(0)}))`);
  add("v128.store $data", ["i32", "i64", "i64"], [], `(v128.store $data offset=${OFFSET} ${local(0)} (i64x2.replace_lane 1 (i64x2.splat ${local(1)}) ${local(2)}))`);
  // A trap on a lowered memory is a real trap: catch_all does not catch it
  // (it would catch an exception that JS threw).
  add("catch_all i32.load $data", ["i32"], ["i32"], `try (result i32) (drop (i32.load $data ${local(0)})) (i32.const 0) catch_all (i32.const 1) end`);
  add("catch_all memory.copy $data $ext", ["i32"], ["i32"], `try (result i32) (memory.copy $data $ext ${local(0)} (i32.const 0) (i32.const 16)) (i32.const 0) catch_all (i32.const 1) end`);
  return fns;
}

/** The multi-memory module's text. */
export function wat() {
  const lines = [
    ";; Generated by js-glue/test/lowered-ops.js from the ABI's lowered table. Do not edit.",
    "(module",
    '  (import "env" "memory" (memory $ext 1 4))',
    '  (memory $nat (export "memory") 1)',
    '  (memory $data (export "data") 1 3)',
    '  (memory $sh (export "shared") 1 2 shared)',
    '  (data (memory $data) (i32.const 16) "active segment of a lowered memory")',
    '  (data $p "passive segment: 0123456789abcdef")',
    '  (data (memory $nat) (i32.const 8) "native segment")',
  ];
  for (const f of functions()) {
    const params = f.params.map((t) => ` (param ${TYPE[t]})`).join("");
    const results = f.results.length ? ` (result ${f.results.map((t) => TYPE[t]).join(" ")})` : "";
    lines.push(`  (func (export ${JSON.stringify(f.name)})${params}${results}\n    ${f.body})`);
  }
  lines.push(")");
  return lines.join("\n") + "\n";
}

const ADDRESSES = [0, 3, 8, 4096, PAGE - 24, PAGE - 17, PAGE - 16, PAGE - 12, PAGE - 9, PAGE - 8, PAGE - 1, PAGE, 0x7ffffff8, -8, -1];
const I32 = [0x12345678, -2, 0x1ff];
const I64 = [0x0123456789abcdefn, -2n, 0x1ffn];

/** Arguments for one call of `f`, by its parameter types: every address, then other values at a few. */
function argsFor(f) {
  const vals = (t) => (t === "i64" ? I64 : I32);
  if (f.name.startsWith("memory.atomic.wait")) {
    // Timeouts of 0 only: never block. Expected values equal or not to the memory's.
    const t = f.params[1];
    return ADDRESSES.flatMap((a) => [[a, t === "i64" ? 0n : 0, 0n], [a, vals(t)[0], 0n]]);
  }
  if (f.params.length === 0) return [[]];
  const out = [];
  for (const a of ADDRESSES) out.push([a, ...f.params.slice(1).map((t) => vals(t)[0])]);
  for (const a of [0, 16, PAGE - 24]) {
    for (let k = 1; k < 3; k++) out.push([a, ...f.params.slice(1).map((t) => vals(t)[k])]);
  }
  return out;
}

const RANGES = [
  [0, 0, 0], [100, 0x1ab, 10], [PAGE - 10, 7, 10], [PAGE - 10, 7, 11], [PAGE, 1, 0], [PAGE + 1, 1, 0], [-1, 5, 1], [5, 5, 0x10000], [0, 9, -1],
];
const COPIES = [[0, 16, 40], [50, 10, 30], [PAGE - 6, 0, 6], [PAGE - 6, 0, 7], [0, PAGE - 6, 7], [PAGE, PAGE, 0], [PAGE + 1, 0, 0], [-1, 0, 1], [16, 20, 100]];
const INITS = [[0, 0, 10], [200, 5, 27], [200, 5, 28], [PAGE - 4, 0, 4], [PAGE - 4, 0, 5], [0, 32, 0], [0, 33, 0], [-1, 0, 1]];

/** The calls, in order: accesses, then growth, then the same accesses over the grown memories. */
export function calls() {
  const fns = functions();
  const by = (pred) => fns.filter(pred);
  const access = [];
  for (const f of by((f) => f.params[0] === "i32" && !/^(memory\.(fill|copy|init|grow)|catch_all)/.test(f.name))) {
    for (const args of argsFor(f)) access.push([f.name, args]);
  }
  for (const f of by((f) => f.name.startsWith("memory.fill"))) for (const r of RANGES) access.push([f.name, r]);
  for (const f of by((f) => f.name.startsWith("memory.copy"))) for (const r of COPIES) access.push([f.name, r]);
  for (const a of [0, PAGE - 4, PAGE - 3, -1]) {
    access.push(["catch_all i32.load $data", [a]]);
    access.push(["catch_all memory.copy $data $ext", [a]]);
  }
  const sizes = by((f) => f.name.startsWith("memory.size")).map((f) => [f.name, []]);
  const out = [...sizes];
  for (const r of INITS) out.push(["memory.init $data $p", r]);
  out.push(...access);
  out.push(["data.drop $p", []], ["memory.init $data $p", [0, 0, 0]], ["memory.init $data $p", [0, 0, 1]], ["data.drop $p", []]);
  for (const [mem, deltas] of [["$data", [0, 1, 1, 1, -1]], ["$ext", [1, 5]], ["$sh", [1, 1]]]) {
    for (const d of deltas) out.push([`memory.grow ${mem}`, [d]], ...sizes);
  }
  // Growth moved the ends: every access again at the old ends and the new ones.
  for (const [name, args] of access) {
    if (args[0] !== PAGE - 8 || !(name.includes(" $data") || name.includes(" $sh"))) continue;
    for (const a of [PAGE - 8, 2 * PAGE - 16, 2 * PAGE - 8, 3 * PAGE - 16, 3 * PAGE - 8, 4 * PAGE]) out.push([name, [a, ...args.slice(1)]]);
  }
  return out;
}

/** A hash of a memory's bytes (FNV-1a over 32-bit words) and its length. */
function digest(memory) {
  const b = memory.buffer;
  const w = new Int32Array(b, 0, b.byteLength >>> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 16777619);
  return `${b.byteLength}:${(h >>> 0).toString(16)}`;
}

const show = (v) => (typeof v === "bigint" ? `${v}n` : Array.isArray(v) ? v.map(show) : v);

/**
 * Runs calls() on `exports` (the module's functions) with `memories` (the
 * Memory objects by name: ext, memory, data, shared). Returns one outcome per
 * call: `{ call, result, trap, memories }` (trap: the RuntimeError's message,
 * or null), JSON-serialisable. Anything but a RuntimeError is thrown.
 */
export function run(exports, memories) {
  const out = [];
  for (const [name, args] of calls()) {
    const f = exports[name];
    if (typeof f !== "function") throw new Error(`lowered-ops: the module exports no function ${JSON.stringify(name)}`);
    let result = null;
    let trap = null;
    try {
      result = show(f(...args));
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      trap = e.message;
    }
    out.push({
      call: `${name}(${args.map(show).join(", ")})`,
      result: result === undefined ? null : result,
      trap,
      // Loads cannot write (in either build): only the other calls pay for hashing.
      memories: /^(\S+\.load\S* |memory\.size |catch_all i32\.load )/.test(name) ? null : ["ext", "memory", "data", "shared"].map((m) => digest(memories[m])),
    });
  }
  return out;
}
