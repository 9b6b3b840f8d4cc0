// What only an engine without multi-memory shows (run by run.js in jsc,
// after the shared test files): the multi-memory build is refused with a
// clear message, both builds given load the single-memory one, the engine
// lacks Symbol.dispose and toResizableBuffer and the glue works without them,
// and every lowered instruction reproduces the outcomes the multi-memory
// build had natively on Node (lowered-ops.expected.json, recorded by
// scripts/js-test-fixtures.sh).
import assert from "./node-assert.js";
import { test } from "./node-test.js";
import { readFileSync } from "./node-fs.js";
import { join } from "./node-path.js";
import { ABI_VERSION, Float64List, Uint8List, instantiate, prepareLowered, presentExports, supportsMultiMemory } from "../../src/index.js";
import { fixture, loadLib } from "../helpers.js";
import { run } from "../lowered-ops.js";

const imports = async () => ({ env: { memory: await loadLib() }, host: { callback() {} } });

test("this engine has WasmGC but no multi-memory, no Symbol.dispose and no toResizableBuffer", () => {
  assert.equal(supportsMultiMemory(), false);
  assert.equal(typeof Symbol.dispose, "undefined");
  assert.equal(typeof WebAssembly.Memory.prototype.toResizableBuffer, "undefined");
  // (struct) in a rec group: WasmGC validates.
  assert.equal(WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5f, 0])), true);
});

test("the multi-memory build is refused with a message that says what to do", async () => {
  for (const source of [fixture("app.linked.wasm", "multi-memory"), { multiMemory: fixture("app.linked.wasm", "multi-memory") }]) {
    await assert.rejects(instantiate(source, await imports()), (e) => {
      assert.equal(e.code, "MULTIMEM_NO_MULTI_MEMORY");
      assert.match(e.message, /^multimem: this WebAssembly engine does not support multi-memory/);
      assert.match(e.message, /multimem-link --single-memory/);
      assert.match(e.message, /instantiate\(\{ multiMemory, singleMemory \}/);
      return true;
    });
  }
  const both = { multiMemory: fixture("app.linked.wasm", "multi-memory"), singleMemory: fixture("app.linked.wasm", "single-memory") };
  await assert.rejects(instantiate(both, await imports(), { build: "multi-memory" }), { code: "MULTIMEM_NO_MULTI_MEMORY" });
});

test("given both builds, instantiate loads the single-memory one, on the refresh view path", async () => {
  const lib = await loadLib();
  const both = { multiMemory: fixture("app.linked.wasm", "multi-memory"), singleMemory: fixture("app.linked.wasm", "single-memory") };
  const { runtime, exports, build } = await instantiate(both, { env: { memory: lib }, host: { callback() {} } });
  assert.equal(build, "single-memory");
  assert.equal(runtime.build, "single-memory");
  assert.equal(runtime.viewPath, "refresh");
  assert.match(runtime.viewPathReason, /toResizableBuffer/);
  assert.equal(runtime.exports.abi_version(), ABI_VERSION);
  // The app stores into the external memory and the runtime copies from it: both lowered.
  exports.ext_store(7, 0xab);
  assert.equal(new Uint8Array(lib.exports.memory.buffer)[7], 0xab);
  const list = Uint8List.create(runtime, 31);
  try {
    exports.copy_from_external(list.address, 0, 100, 31);
    assert.equal(String.fromCharCode(...list.copyTo()), "hello from the external library");
  } finally {
    list.dispose();
  }
});

test("bytes, ArrayBuffer and Module sources; bad sources are TypeErrors naming the argument", async () => {
  const bytes = fixture("app.linked.wasm", "single-memory");
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  for (const source of [bytes, ab, new WebAssembly.Module(bytes), Promise.resolve(bytes)]) {
    const { exports, runtime } = await instantiate(source, await imports());
    const b = runtime.adopt(exports.make(8, 3));
    assert.deepEqual([...b.view()], [3, 3, 3, 3, 3, 3, 3, 3]);
    b.dispose();
  }
  await assert.rejects(instantiate("app.wasm", {}), { name: "TypeError", message: /^source: / });
  await assert.rejects(instantiate(42, {}), { name: "TypeError", message: /^source: / });
  await assert.rejects(instantiate(bytes, { host: { callback() {} } }), { name: "TypeError", message: /^imports\.env\.memory: / });
  await assert.rejects(instantiate(bytes, { env: { memory: {} }, host: { callback() {} } }), { name: "TypeError", message: /^imports\.env\.memory: expected a WebAssembly\.Memory/ });
  await assert.rejects(instantiate(bytes, null), { name: "TypeError", message: /^imports: / });
  await assert.rejects(instantiate({ singleMemory: fixture("lib.wasm") }, {}), { name: "TypeError", message: /^source\.singleMemory: not a single-memory build/ });
  await assert.rejects(instantiate({ singleMemory: null }, {}), { name: "TypeError", message: /^source: neither/ });
});

test("without Symbol.dispose: dispose() releases, and views are re-created after growth", async () => {
  const { runtime: rt, exports } = await instantiate(fixture("app.linked.wasm", "single-memory"), await imports());
  const base = rt.stats().liveBuffers;
  const list = Float64List.create(rt, 4);
  const before = list.view();
  before[1] = 1.5;
  const big = exports.make(8 << 20, 1); // grows the runtime memory: the old buffer is detached
  assert.equal(before.length, 0);
  assert.equal(list.get(1), 1.5);
  assert.notEqual(list.view(), before);
  rt.exports.buffer_release(big);
  list.dispose();
  assert.equal(list.disposed, true);
  assert.equal(rt.stats().liveBuffers, base);
});

/** The trap's kind, across engines' messages. */
function trapKind(message) {
  if (message === null) return null;
  if (/unaligned/i.test(message)) return "unaligned";
  if (/out of bounds/i.test(message)) return "out of bounds";
  return "trap";
}

test("every lowered instruction: the outcomes the multi-memory build had natively on Node", async () => {
  const dir = process.env.MULTIMEM_JS_FIXTURES;
  const want = JSON.parse(readFileSync(join(dir, "lowered-ops.expected.json"), "utf8"));
  const ext = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const module = new WebAssembly.Module(fixture("lowered-ops.single.wasm"));
  const lowered = prepareLowered(module, { env: { memory: ext } }, (name, v) => v);
  const instance = new WebAssembly.Instance(module, lowered.imports);
  lowered.bind(instance);
  const x = presentExports(instance.exports, lowered.exports);
  const got = run(x, { ext, memory: x.memory, data: x.data, shared: x.shared });
  assert.equal(got.length, want.length);
  let traps = 0;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    const at = `call ${i}: ${w.call}`;
    assert.equal(g.call, w.call, at);
    assert.deepEqual(g.result, w.result, at);
    assert.deepEqual(g.memories, w.memories, at);
    // Engines word their traps differently; the kind must agree (V8 reports a
    // wait on an unshared memory as a context error, JSC as out of bounds).
    const kinds = [trapKind(g.trap), trapKind(w.trap)];
    if (w.call.startsWith("memory.atomic.wait")) assert.equal(kinds[0] === null, kinds[1] === null, `${at}: ${g.trap} vs ${w.trap}`);
    else assert.equal(kinds[0], kinds[1], `${at}: ${g.trap} vs ${w.trap}`);
    if (g.trap !== null) traps++;
  }
  assert.ok(traps > 300 && want.length - traps > 300, `${traps} traps of ${want.length}`);
});
