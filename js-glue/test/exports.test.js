// Modules linked with `--export`: instantiate needs only the runtime exports
// the glue uses (REQUIRED_EXPORTS and the memory); a missing one is named in
// the error with the `--export` flag that keeps it; a method that needs an
// optional export names it when called. Fixtures: app.wasm linked by
// scripts/test-js.sh with `--export app.sum` (app.only-app.wasm) and with
// the required exports kept (app.minimal.wasm).
import assert from "node:assert/strict";
import { test } from "node:test";
import { KIND, OPTIONAL_EXPORTS, REQUIRED_EXPORTS, Uint8List, instantiate } from "../src/index.js";
import { EXPORTS, MEMORY_EXPORT } from "../src/abi.js";
import { fixture, loadLib } from "./helpers.js";

const imports = async () => ({ env: { memory: await loadLib() }, host: { callback() {} } });

test("the glue's export lists are names from the ABI's export table", () => {
  for (const n of [...REQUIRED_EXPORTS, ...Object.keys(OPTIONAL_EXPORTS)]) assert.ok(n in EXPORTS, n);
  assert.equal(new Set([...REQUIRED_EXPORTS, ...Object.keys(OPTIONAL_EXPORTS)]).size, REQUIRED_EXPORTS.length + Object.keys(OPTIONAL_EXPORTS).length);
});

test("linked with --export app.sum only: instantiate names every missing export and the flags", async () => {
  await assert.rejects(instantiate(fixture("app.only-app.wasm"), await imports()), (e) => {
    assert.equal(e.name, "TypeError");
    assert.match(e.message, /^instance: exports no abi_version/);
    for (const n of [...REQUIRED_EXPORTS, MEMORY_EXPORT]) assert.ok(e.message.includes(`--export multimem.${n}`), `${n}: ${e.message}`);
    return true;
  });
});

test("linked keeping only the required exports: the glue works, optional ones are named when needed", async () => {
  const { instance, exports, runtime: rt } = await instantiate(fixture("app.minimal.wasm"), await imports());
  // The exports as the multi-memory build has them, whichever build this is.
  assert.deepEqual(Object.keys(exports).sort(), ["make", "sum", MEMORY_EXPORT, ...REQUIRED_EXPORTS].sort());
  using list = Uint8List.create(rt, 4);
  list.copyFrom([1, 2, 3, 4]);
  assert.equal(rt.call(instance.exports.sum, KIND.Uint8List, list, 0, 4), 10n);
  using made = rt.adopt(instance.exports.make(3, 7));
  assert.deepEqual([...made.view()], [7, 7, 7]);
  const missing = (name) => new RegExp(`the module does not export the runtime's ${name}\\. .*--export multimem\\.${name}$`);
  assert.throws(() => rt.stats(), { name: "TypeError", message: missing("stats_live_buffers") });
  assert.throws(() => made.refcount, { name: "TypeError", message: missing("buffer_refcount") });
  using other = Uint8List.create(rt, 4);
  assert.throws(() => list.setRange(0, 4, other), { name: "TypeError", message: missing("list_set_range") });
  assert.deepEqual(list.toArray(), [1, 2, 3, 4], "nothing written");
  list.setRange(0, 2, [9, 9]); // from an array: no runtime export needed
  assert.deepEqual(list.toArray(), [9, 9, 3, 4]);
});
