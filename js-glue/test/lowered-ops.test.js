// The single-memory build's reserved module (src/lowered.js) against the
// engine itself: every row of the ABI's lowered table, called with the same
// arguments on the multi-memory build (run natively) and on the
// single-memory build, gives the same results, the same traps (same
// messages) and the same bytes in every memory after every call
// (lowered-ops.js has the module and the calls). Also: the loader's
// pieces on their own (sections, import types, exports), and its errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LoweredError, isSingleMemoryBuild, prepareLowered, presentExports } from "../src/index.js";
import { LOWERED, LOWERED_MODULE, NATIVE_MEMORY_EXPORT } from "../src/abi.js";
import { fixture } from "./helpers.js";
import { calls, run } from "./lowered-ops.js";

const memoryOf = (name, v) => {
  if (v instanceof WebAssembly.Memory) return v;
  throw new TypeError(`${name}: not a memory`);
};

async function multi() {
  const ext = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const { instance } = await WebAssembly.instantiate(fixture("lowered-ops.linked.wasm"), { env: { memory: ext } });
  const x = instance.exports;
  return { x, memories: { ext, memory: x.memory, data: x.data, shared: x.shared } };
}

async function single(ext = new WebAssembly.Memory({ initial: 1, maximum: 4 })) {
  const module = await WebAssembly.compile(fixture("lowered-ops.single.wasm"));
  const lowered = prepareLowered(module, { env: { memory: ext } }, memoryOf);
  const instance = await WebAssembly.instantiate(module, lowered.imports);
  lowered.bind(instance);
  const x = presentExports(instance.exports, lowered.exports);
  return { module, instance, lowered, x, memories: { ext, memory: x.memory, data: x.data, shared: x.shared } };
}

test("the fixture is a multi-memory module and its single-memory build; every lowered row is imported", async () => {
  const s = await single();
  assert.equal(isSingleMemoryBuild(s.module), true);
  assert.equal(isSingleMemoryBuild(await WebAssembly.compile(fixture("lowered-ops.linked.wasm"))), false);
  const imported = new Set(WebAssembly.Module.imports(s.module).filter((i) => i.module === LOWERED_MODULE).map((i) => i.name.split(":")[0]));
  assert.deepEqual([...imported].sort(), Object.keys(LOWERED).sort(), "the calls cover the whole table");
  // Only the native memory is a memory of the module; the others are the loader's.
  assert.deepEqual(WebAssembly.Module.exports(s.module).filter((e) => e.kind === "memory").map((e) => e.name).sort(), [NATIVE_MEMORY_EXPORT, "memory"].sort());
  assert.ok(s.x.data instanceof WebAssembly.Memory && s.x.shared instanceof WebAssembly.Memory);
  assert.equal(NATIVE_MEMORY_EXPORT in s.x, false, "presented exports hide the native-memory export");
  assert.ok(Object.isFrozen(s.x));
  assert.equal(s.x.shared.buffer instanceof SharedArrayBuffer, true);
  // The active segment on the lowered memory was applied by the start function.
  assert.equal(new TextDecoder().decode(new Uint8Array(s.x.data.buffer, 16, 34)), "active segment of a lowered memory");
  assert.equal(new TextDecoder().decode(new Uint8Array(s.x.memory.buffer, 8, 14)), "native segment");
});

test(`${calls().length} calls over every lowered instruction: the same results, traps and memories in both builds`, async () => {
  const m = await multi();
  const s = await single();
  const want = run(m.x, m.memories);
  const got = run(s.x, s.memories);
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], `call ${i}: ${want[i].call}`);
  // The sequence really exercises both sides of every check.
  const traps = want.filter((o) => o.trap !== null);
  assert.ok(traps.length > 300 && want.length - traps.length > 300, `${traps.length} traps of ${want.length}`);
  for (const message of ["memory access out of bounds", "operation does not support unaligned accesses"]) {
    assert.ok(traps.some((o) => o.trap === message), message);
  }
  // catch_all never caught a trap on a lowered memory (it returns 1 if it does).
  assert.ok(want.filter((o) => o.call.startsWith("catch_all")).every((o) => o.result === 0 || o.trap !== null));
  assert.ok(got.some((o) => o.call.startsWith("catch_all") && o.trap !== null));
});

test("a trap on a lowered memory is the engine's trap, not an exception JS threw", async () => {
  const s = await single();
  // (V8: "memory access out of bounds", JSC: "Out of bounds memory access".)
  assert.throws(() => s.x["catch_all i32.load $data"](65536), (e) => e instanceof WebAssembly.RuntimeError && /out of bounds/i.test(e.message));
  assert.equal(s.x["catch_all i32.load $data"](0), 0);
  // Nothing is written when a store or copy traps.
  const before = new Uint8Array(s.x.data.buffer).slice();
  assert.throws(() => s.x["i64.store $data"](65536 - 12, -1n), WebAssembly.RuntimeError);
  assert.throws(() => s.x["memory.copy $data $ext"](65530, 0, 7), WebAssembly.RuntimeError);
  assert.throws(() => s.x["v128.store $data"](65536 - 20, -1n, -1n), WebAssembly.RuntimeError);
  assert.deepEqual(new Uint8Array(s.x.data.buffer), before);
});

test("an imported lowered memory is type-checked as instantiation would, with the engine's own check", async () => {
  // env.memory is (memory 1 4): more pages is fine, no maximum or a larger one is not, shared is not.
  await single(new WebAssembly.Memory({ initial: 2, maximum: 3 }));
  for (const bad of [
    new WebAssembly.Memory({ initial: 1 }),
    new WebAssembly.Memory({ initial: 1, maximum: 5 }),
    new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true }),
  ]) {
    await assert.rejects(single(bad), (e) => {
      assert.ok(e instanceof WebAssembly.LinkError, String(e));
      assert.match(e.message, /^imports\.env\.memory: incompatible import type: memory 0 of the single-memory build wants \(memory 1 4\)/);
      return true;
    });
  }
  const module = await WebAssembly.compile(fixture("lowered-ops.single.wasm"));
  assert.throws(() => prepareLowered(module, {}, memoryOf), { name: "TypeError", message: /^imports\.env\.memory: the module imports this memory/ });
  assert.throws(() => prepareLowered(module, { env: { memory: 5 } }, memoryOf), { name: "TypeError", message: /^imports\.env\.memory: not a memory/ });
});

test("a multi-memory build is not mistaken for a single-memory one", async () => {
  const module = await WebAssembly.compile(fixture("lowered-ops.linked.wasm"));
  assert.throws(() => prepareLowered(module, {}, memoryOf), (e) => e instanceof LoweredError && e.code === "MULTIMEM_NOT_SINGLE_MEMORY");
});
