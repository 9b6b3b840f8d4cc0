// instantiate(): sources, env.memory wiring, abi_version, view path, and the
// unlinked runtime path (intrinsics in JS).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ABI_VERSION, ERROR, Runtime, Uint8List, instantiate, instantiateUnlinked, supportsMultiMemory,
} from "../src/index.js";
import { EXPECTED_VIEW_PATH, NODE_MAJOR, fixture, loadApp, loadLib } from "./helpers.js";

const imports = async () => ({ env: { memory: await loadLib() }, host: { callback() {} } });

test("this Node supports multi-memory", () => {
  assert.ok(NODE_MAJOR >= 22);
  assert.equal(supportsMultiMemory(), true);
});

test("instantiate accepts bytes, ArrayBuffer, Module, Response and Promise<Response>", async () => {
  const bytes = fixture("app.linked.wasm");
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const module = await WebAssembly.compile(bytes);
  const sources = [
    bytes,
    ab,
    new Uint8Array(ab),
    module,
    new Response(bytes, { headers: { "content-type": "application/wasm" } }),
    new Response(bytes),
    Promise.resolve(new Response(bytes, { headers: { "content-type": "application/wasm" } })),
  ];
  for (const source of sources) {
    const { instance, runtime } = await instantiate(source, await imports());
    assert.equal(runtime.exports.abi_version(), ABI_VERSION);
    // The linked module really works: the app allocates through the runtime.
    const addr = instance.exports.make(8, 3);
    using b = runtime.adopt(addr);
    assert.deepEqual([...b.view()], [3, 3, 3, 3, 3, 3, 3, 3]);
  }
});

test("bad sources and missing imports are TypeErrors naming the argument", async () => {
  await assert.rejects(instantiate("app.wasm", {}), { name: "TypeError", message: /^source: / });
  await assert.rejects(instantiate(42, {}), { name: "TypeError", message: /^source: / });
  await assert.rejects(instantiate(fixture("app.linked.wasm"), { host: { callback() {} } }), {
    name: "TypeError",
    message: /^imports\.env\.memory: /,
  });
  await assert.rejects(instantiate(fixture("app.linked.wasm"), { env: { memory: {} }, host: { callback() {} } }), {
    name: "TypeError",
    message: /^imports\.env\.memory: expected a WebAssembly\.Memory/,
  });
  await assert.rejects(instantiate(fixture("app.linked.wasm"), null), { name: "TypeError", message: /^imports: / });
  await assert.rejects(instantiate(new Response("nope", { status: 404 }), {}), { name: "TypeError", message: /^source: response status 404/ });
});

test("env.memory is wired from a Memory or from the library's instance", async () => {
  const lib = await loadLib();
  for (const memory of [lib, lib.exports.memory]) {
    const { instance, runtime } = await instantiate(fixture("app.linked.wasm"), { env: { memory }, host: { callback() {} } });
    const ext = new Uint8Array(lib.exports.memory.buffer);
    instance.exports.ext_store(7, 0xab);
    assert.equal(ext[7], 0xab);
    // The runtime reads the external memory (one memory.copy after linking).
    using list = Uint8List.create(runtime, 31);
    instance.exports.copy_from_external(list.address, 0, 100, 31);
    assert.equal(new TextDecoder().decode(list.copyTo()), "hello from the external library");
    ext[7] = 0;
  }
});

test("abi_version is checked", async () => {
  await assert.rejects(instantiate(fixture("bad-version.wasm"), {}), {
    message: new RegExp(`^instance: multimem ABI version 999, but this glue implements version ${ABI_VERSION}`),
  });
  const lib = await loadLib();
  assert.throws(() => new Runtime(lib), { name: "TypeError", message: /^instance: exports no abi_version/ });
  assert.throws(() => new Runtime(null), { name: "TypeError", message: /^instance: / });
});

test(`the view path on Node ${NODE_MAJOR} is ${EXPECTED_VIEW_PATH}`, async () => {
  const { runtime } = await loadApp();
  assert.equal(runtime.viewPath, EXPECTED_VIEW_PATH, runtime.viewPathReason ?? "");
  assert.equal(runtime.stats().viewPath, EXPECTED_VIEW_PATH);
  if (EXPECTED_VIEW_PATH === "resizable") {
    assert.equal(runtime.memory.buffer.resizable, true);
    const forced = await loadApp({ viewPath: "refresh" });
    assert.equal(forced.runtime.viewPath, "refresh");
  } else {
    await assert.rejects(loadApp({ viewPath: "resizable" }), { name: "TypeError", message: /^options\.viewPath: / });
  }
  await assert.rejects(loadApp({ viewPath: "fast" }), { name: "TypeError", message: /^options\.viewPath: / });
});

test("an unlinked runtime.wasm runs with the intrinsics implemented in JS", async () => {
  const external = new WebAssembly.Memory({ initial: 1 });
  const { runtime } = await instantiateUnlinked(fixture("runtime.wasm"), external);
  assert.equal(runtime.exports.abi_version(), ABI_VERSION);
  const ext = new Uint8Array(external.buffer);
  ext.set([1, 2, 3, 4, 5], 40);
  using list = Uint8List.create(runtime, 5);
  runtime.exports.external_copy_in(list.address, 0, 40, 5);
  assert.deepEqual([...list.view()], [1, 2, 3, 4, 5]);
  list.set(0, 9);
  runtime.exports.external_copy_out(200, list.address, 0, 5);
  assert.deepEqual([...ext.subarray(200, 205)], [9, 2, 3, 4, 5]);
  // The external range is checked by the runtime (EXTERNAL_RANGE), which the glue decodes.
  assert.throws(() => runtime.exports.external_copy_in(list.address, 0, 65535, 5));
  assert.equal(runtime.exports.last_error(), ERROR.EXTERNAL_RANGE);
});
