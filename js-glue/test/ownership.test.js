// Ownership: one reference per wrapper, dispose / using / finalizer, wrap
// retains, use after dispose, and buffers passed into wasm stay alive.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteData, ERROR, Int16List, KIND, Uint8List } from "../src/index.js";
import { gcUntil, loadApp } from "./helpers.js";

const { runtime: rt, app, hooks } = await loadApp();
const live = () => rt.stats().liveBuffers;

test("each wrapper holds exactly one reference", () => {
  const base = live();
  const b = rt.allocate(32);
  assert.equal(live(), base + 1);
  assert.equal(b.refcount, 1);
  const v = Uint8List.view(b);
  const w = Int16List.view(b, 2, 3);
  assert.equal(b.refcount, 3);
  const s = Uint8List.sublistView(w, 1);
  assert.equal(b.refcount, 4);
  v.dispose();
  w.dispose();
  s.dispose();
  assert.equal(b.refcount, 1);
  b.dispose();
  assert.equal(live(), base);
});

test("list.buffer is the same ByteBuffer while it lives, as in Dart", () => {
  const base = live();
  const b = rt.allocate(32);
  const v = Uint8List.view(b);
  const w = Int16List.sublistView(v, 2, 6);
  assert.equal(v.buffer, b, "a view's buffer is the ByteBuffer it was made from");
  assert.equal(w.buffer, b, "and so is a sublistView's");
  assert.equal(b.refcount, 3, "no extra reference for returning it");
  const list = Uint8List.create(rt, 8);
  const first = list.buffer;
  assert.equal(list.buffer, first, "made on first use, then the same wrapper");
  assert.equal(first.refcount, 2, "that wrapper holds its own reference");
  first.dispose();
  const second = list.buffer;
  assert.notEqual(second, first, "after dispose(), a new wrapper");
  assert.equal(second.refcount, 2);
  assert.equal(second.address, list.address);
  b.dispose();
  assert.equal(v.buffer.address, v.address, "b was disposed: v.buffer is a new wrapper of the same buffer");
  assert.notEqual(v.buffer, b);
  for (const x of [v, w, list, second, v.buffer]) x.dispose();
  assert.equal(live(), base);
});

test("dispose twice does nothing; use after dispose throws a clear error", () => {
  const base = rt.stats();
  const list = Uint8List.create(rt, 8);
  list.dispose();
  assert.equal(list.disposed, true);
  list.dispose();
  // Engines without Symbol.dispose (Safari 26, jsc) have dispose() only.
  if (typeof Symbol.dispose === "symbol") list[Symbol.dispose]();
  const s = rt.stats();
  assert.equal(s.releases - base.releases, 1, "released exactly once");
  assert.equal(s.liveBuffers, base.liveBuffers);
  const uses = [
    () => list.get(0), () => list.set(0, 1), () => list.view(), () => list.length, () => list.lengthInBytes,
    () => list.offsetInBytes, () => list.buffer, () => list.address, () => list.fill(0), () => list.copyTo(),
    () => list.copyOut(), () => list.setRange(0, 1, [1]), () => Uint8List.sublistView(list), () => rt.call(app.sum, KIND.Uint8List, list),
  ];
  for (const use of uses) assert.throws(use, { name: "TypeError", message: /^Uint8List: used after dispose\(\)/ });
  const b = rt.allocate(4);
  b.dispose();
  for (const use of [() => b.view(), () => b.address, () => b.asUint8List(), () => b.copyOut(), () => b.copyIn(new Uint8Array(1)), () => b.refcount]) {
    assert.throws(use, { name: "TypeError", message: /^ByteBuffer: used after dispose\(\)/ });
  }
  const bd = ByteData.create(rt, 4);
  bd.dispose();
  assert.throws(() => bd.getUint8(0), { name: "TypeError", message: /^ByteData: used after dispose\(\)/ });
  assert.equal(live(), base.liveBuffers);
});

test("using releases at the end of the block", () => {
  const base = live();
  let inner;
  {
    using list = Uint8List.create(rt, 16);
    using alias = Uint8List.sublistView(list, 4, 8);
    inner = alias;
    assert.equal(live(), base + 1);
    assert.equal(list.buffer.refcount, 3);
  }
  assert.equal(inner.disposed, true);
  // The `list.buffer` wrapper above was not disposed: the finalizer gets it.
  return gcUntil(() => live() === base).then((ok) => assert.ok(ok, "finalizer released the buffer wrapper"));
});

test("the FinalizationRegistry releases dropped wrappers; dispose disarms it", async () => {
  const base = rt.stats();
  (() => {
    for (let i = 0; i < 100; i++) rt.allocate(64);
    for (let i = 0; i < 50; i++) rt.allocate(64).dispose();
  })();
  assert.equal(live(), base.liveBuffers + 100);
  assert.ok(await gcUntil(() => live() === base.liveBuffers), "finalizer released all 100");
  // Extra GC turns: a disposed wrapper must never be released again.
  for (let i = 0; i < 5; i++) await gcUntil(() => false, 1);
  const s = rt.stats();
  assert.equal(s.finalized - base.finalized, 100);
  assert.equal(s.releases - base.releases, 150);
  assert.equal(s.finalizerErrors, 0);
});

test("wrapping a pointer from wasm retains it; adopt takes over the reference", () => {
  const base = live();
  const addr = app.make(16, 9);
  const w = rt.wrap(addr);
  assert.equal(w.refcount, 2);
  assert.deepEqual([...w.view()], new Array(16).fill(9));
  w.dispose();
  assert.equal(rt.exports.buffer_refcount(addr), 1);
  const owner = rt.adopt(addr);
  assert.equal(owner.refcount, 1);
  // wasm keeps its own reference in a GC struct.
  app.hold(addr);
  assert.equal(owner.refcount, 2);
  owner.dispose();
  assert.equal(live(), base + 1, "still alive: held by wasm");
  assert.equal(app.unhold(), 0);
  assert.equal(live(), base);
});

test("a buffer passed into wasm with call() stays alive for the whole call", () => {
  const base = live();
  let list = Uint8List.create(rt, 100);
  list.fill(2);
  hooks.callback = () => {
    // JS called back from wasm drops its only reference and collects.
    list.dispose();
    list = null;
    globalThis.gc();
  };
  assert.equal(rt.call(app.sum_after_callback, KIND.Uint8List, list), 200n);
  assert.equal(live(), base, "released after the call");
  // Without call(), the same callback frees the buffer under wasm's feet and
  // the runtime stops with FREED: the reason call() exists.
  let bare = Uint8List.create(rt, 100);
  const addr = bare.address;
  hooks.callback = () => {
    bare.dispose();
    bare = null;
  };
  assert.throws(() => app.sum_after_callback(KIND.Uint8List, addr), WebAssembly.RuntimeError);
  assert.ok([ERROR.FREED, ERROR.NOT_A_BUFFER].includes(rt.exports.last_error()));
  hooks.callback = undefined;
  assert.equal(live(), base);
});
