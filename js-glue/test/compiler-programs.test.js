// The example compiler's programs (examples/compiler/programs) in this
// engine, on the build under test (BUILD): each must print exactly what it
// printed in wasmtime (multimem-compile, run by scripts/js-test-fixtures.sh),
// and its buffers must end as the wasmtime driver saw them after a GC. So
// the multi-memory and the single-memory builds print the same in Node (and
// the single-memory build in jsc).
//
// The host here uses only the compiler's documented host-import contract
// (examples/compiler/README.md, "The host-import contract"): env.memory and
// lib.* from the external library, host.print_i64 / print_f64 / gc, and
// multimem:gc.own, which takes over one reference and returns a token whose
// collection releases it (a FinalizationRegistry; released one by one with
// buffer_release, which the contract allows instead of buffer_release_batch).
// The compiler is being changed (issue 11); when its contract changes, this
// file follows the README.
import assert from "node:assert/strict";
import { test } from "node:test";
import { instantiate } from "../src/index.js";
import { BUILD, fixture, gcUntil } from "./helpers.js";

const text = (name) => new TextDecoder().decode(fixture(`compiler/${name}`));
const PROGRAMS = text("programs.txt").split("\n").filter(Boolean);

/** Rust's `{:?}` for f64, as the contract specifies print_f64's text. */
export function debugF64(x) {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e16) {
    const s = String(x); // shortest round-trip digits, plain notation in this range
    return Number.isInteger(x) ? `${s}.0` : s;
  }
  return x.toExponential().replace("e+", "e"); // shortest digits, Rust's exponent form
}

test("print_f64 formats as Rust's {:?} (the contract's examples)", () => {
  const cases = [[0, "0.0"], [45.5, "45.5"], [-2, "-2.0"], [1e16, "1e16"], [1e-5, "1e-5"], [1.5e-7, "1.5e-7"], [-0, "-0.0"], [NaN, "NaN"], [Infinity, "inf"], [-Infinity, "-inf"], [0.1, "0.1"], [1e-4, "0.0001"], [123456789012345, "123456789012345.0"]];
  for (const [x, want] of cases) assert.equal(debugF64(x), want, String(x));
});

async function runProgram(name) {
  const lib = new WebAssembly.Instance(new WebAssembly.Module(fixture("compiler/extlib.wasm")));
  const lines = [];
  let tokens = 0;
  let rt = null;
  const registry = new FinalizationRegistry((address) => rt.exports.buffer_release(address));
  const imports = {
    env: { memory: lib },
    lib: lib.exports,
    host: {
      print_i64: (v) => lines.push(String(v)),
      print_f64: (v) => lines.push(debugF64(v)),
      gc: () => globalThis.gc?.(),
    },
    "multimem:gc": {
      own(address) {
        const token = {};
        registry.register(token, address);
        tokens++;
        return token;
      },
    },
  };
  const file = `compiler/${name}.${BUILD === "single-memory" ? "linked.single" : "linked"}.wasm`;
  const { runtime, exports, build } = await instantiate(fixture(file), imports);
  rt = runtime;
  assert.equal(build, BUILD);
  exports.main();
  return { lines, tokens: () => tokens, runtime };
}

for (const name of PROGRAMS) {
  test(`${name}.mm prints what it printed in wasmtime (${BUILD} build), and its buffers end as there`, async () => {
    const { lines, tokens, runtime } = await runProgram(name);
    const expected = text(`${name}.expected`).split("\n").filter((l) => l !== "");
    assert.deepEqual(lines, expected);
    // The wasmtime driver's line after main and a GC (run.rs): what must be live then.
    const out = text(`${name}.out`);
    const m = /^-- after a GC: (\d+) live buffer\(s\).*tokens made (\d+)/m.exec(out);
    assert.ok(m, `the driver's "after a GC" line (examples/compiler/src/run.rs) changed; update this test:\n${out}`);
    const [live, made] = [Number(m[1]), Number(m[2])];
    assert.equal(tokens(), made, "tokens made");
    const settled = await gcUntil(() => runtime.stats().liveBuffers === live, 200);
    assert.ok(settled, `live buffers after GC: ${runtime.stats().liveBuffers}, wasmtime had ${live}`);
  });
}
