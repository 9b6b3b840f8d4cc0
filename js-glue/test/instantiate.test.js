// instantiate(): sources, env.memory wiring, abi_version, view path, and the
// unlinked runtime path (intrinsics in JS).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ABI_VERSION, ERROR, Runtime, Uint8List, instantiate, instantiateUnlinked, intrinsicImports, supportsMultiMemory,
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

test("the atomic-refcounts runtime runs unlinked, with i32_atomic_rmw_add_own in JS", async () => {
  const source = fixture("runtime-atomic.wasm");
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(source)).map((i) => i.name);
  assert.ok(imports.includes("i32_atomic_rmw_add_own"), imports.join(" "));
  const { runtime } = await instantiateUnlinked(source, new WebAssembly.Memory({ initial: 1 }));
  const base = runtime.stats().liveBuffers;
  const b = runtime.allocate(32);
  const views = Array.from({ length: 5 }, () => Uint8List.view(b));
  assert.equal(b.refcount, 6);
  for (const v of views) v.dispose();
  assert.equal(b.refcount, 1);
  b.dispose();
  assert.equal(runtime.stats().liveBuffers, base);
});

test("intrinsicImports behave like the instructions they stand for", () => {
  const ext = new WebAssembly.Memory({ initial: 1 });
  const own = new WebAssembly.Memory({ initial: 1 });
  const f = intrinsicImports(ext, () => own);
  const e = new DataView(ext.buffer);
  const o = new Uint8Array(own.buffer);
  o.set([1, 2, 3, 4], 100);
  f.memory_copy_external_own(10, 100, 4); // own -> external
  assert.deepEqual([...new Uint8Array(ext.buffer, 10, 4)], [1, 2, 3, 4]);
  f.memory_copy_own_external(200, 10, 4); // external -> own
  assert.deepEqual([...o.subarray(200, 204)], [1, 2, 3, 4]);
  f.memory_fill_external(20, 0x1ff, 3);
  assert.deepEqual([...new Uint8Array(ext.buffer, 20, 4)], [0xff, 0xff, 0xff, 0]);
  assert.equal(f.memory_size_external(), 1);
  f.i32_store8_external(30, 0x1ab);
  assert.equal(f.i32_load8_u_external(30), 0xab);
  f.i32_store_external(32, -2);
  assert.equal(e.getInt32(32, true), -2);
  assert.equal(f.i32_load_external(32), -2);
  f.i64_store_external(40, -3n);
  assert.equal(f.i64_load_external(40), -3n);
  f.f32_store_external(48, 0.1);
  assert.equal(f.f32_load_external(48), Math.fround(0.1));
  f.f64_store_external(56, 0.1);
  assert.equal(f.f64_load_external(56), 0.1);
  new DataView(own.buffer).setInt32(64, 5, true);
  assert.equal(f.i32_atomic_rmw_add_own(64, 3), 5);
  assert.equal(new DataView(own.buffer).getInt32(64, true), 8);
  // Out of bounds traps (RuntimeError) and writes nothing.
  for (const bad of [
    () => f.memory_copy_external_own(65535, 100, 2),
    () => f.memory_copy_own_external(65535, 0, 2),
    () => f.memory_fill_external(-1, 0, 1),
    () => f.i32_load_external(65533),
    () => f.i64_store_external(65530, 1n),
    () => f.f64_load_external(-8),
    () => f.i32_atomic_rmw_add_own(65536, 1),
    () => f.i32_atomic_rmw_add_own(66, 1),
  ]) {
    assert.throws(bad, WebAssembly.RuntimeError);
  }
  assert.equal(new Uint8Array(ext.buffer)[65535], 0);
});

test("where the engine cannot list a module's imports (JSC, for GC reference types), instantiate still wires them", async () => {
  const original = WebAssembly.Module.imports;
  let asked = 0;
  WebAssembly.Module.imports = () => {
    asked++;
    throw new TypeError("WebAssembly.Module.imports unable to produce import descriptors for the given module");
  };
  try {
    const lib = await loadLib();
    const { exports, runtime } = await instantiate(fixture("app.linked.wasm"), { env: { memory: lib }, host: { callback() {} } });
    assert.ok(asked > 0, "the glue asked");
    exports.ext_store(9, 0xcd);
    assert.equal(new Uint8Array(lib.exports.memory.buffer)[9], 0xcd, "env.memory given as the library's instance");
    const list = Uint8List.create(runtime, 31);
    exports.copy_from_external(list.address, 0, 100, 31);
    assert.equal(String.fromCharCode(...list.copyTo()), "hello from the external library");
    list.dispose();
    // A missing memory is then the engine's own error (the single-memory build
    // still names its lowered imported memories itself).
    await assert.rejects(instantiate(fixture("app.linked.wasm"), { host: { callback() {} } }), (e) => {
      assert.ok(e instanceof TypeError || e instanceof WebAssembly.LinkError, String(e));
      assert.match(e.message, /env/);
      return true;
    });
  } finally {
    WebAssembly.Module.imports = original;
  }
});
