// The example compiler's programs (examples/compiler/programs) in this
// engine, on the build under test (BUILD): each must print exactly what it
// printed in wasmtime (multimem-compile, run by scripts/js-test-fixtures.sh),
// and its buffers must end as the wasmtime driver saw them after a GC. So
// the multi-memory and the single-memory builds print the same in Node (and
// the single-memory build in jsc).
//
// The host here uses the compiler's documented host-import contract
// (examples/compiler/README.md, "The host-import contract"): env.memory and
// lib.* from the external library, host.print_i64 / print_f64 / gc; and
// multimem:gc.own comes from the glue itself (src/ownership.js: tokens in a
// FinalizationRegistry, released in batches through buffer_release_batch).
// ownership-gc.test.js checks the protocol's counts on these programs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILD, gcUntil } from "./helpers.js";
import { PROGRAMS, debugF64, driverAfterGc, loadProgram, text } from "./ownership-gc-programs.js";

test("print_f64 formats as Rust's {:?} (the contract's examples)", () => {
  const cases = [[0, "0.0"], [45.5, "45.5"], [-2, "-2.0"], [1e16, "1e16"], [1e-5, "1e-5"], [1.5e-7, "1.5e-7"], [-0, "-0.0"], [NaN, "NaN"], [Infinity, "inf"], [-Infinity, "-inf"], [0.1, "0.1"], [1e-4, "0.0001"], [123456789012345, "123456789012345.0"]];
  for (const [x, want] of cases) assert.equal(debugF64(x), want, String(x));
});

async function runProgram(name) {
  const p = await loadProgram(name);
  assert.equal(p.runtime.build, BUILD);
  p.exports.main();
  return p;
}

for (const name of PROGRAMS) {
  test(`${name}.mm prints what it printed in wasmtime (${BUILD} build), and its buffers end as there`, async () => {
    const { lines, runtime } = await runProgram(name);
    const expected = text(`${name}.expected`).split("\n").filter((l) => l !== "");
    assert.deepEqual(lines, expected);
    const { live, made } = driverAfterGc(name);
    assert.equal(runtime.ownership.stats().tokensMade, made, "tokens made");
    const settled = await gcUntil(() => runtime.stats().liveBuffers === live, 200);
    assert.ok(settled, `live buffers after GC: ${runtime.stats().liveBuffers}, wasmtime had ${live}`);
    assert.equal(runtime.ownership.stats().refused, 0);
  });
}
