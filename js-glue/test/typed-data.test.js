// ByteBuffer, ByteData and the 14 typed lists: every accessor with values
// checked, cross-checked against the runtime's own element exports (so the
// JS views really are the runtime's bytes).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ByteBuffer, ByteData, CLASSES, Endian, Float32List, Float32x4List, Float64List, Float64x2List, Int16List,
  Int32List, Int32x4List, Int64List, Int8List, KIND, KINDS, Uint16List, Uint32List, Uint64List, Uint8ClampedList,
  Uint8List,
} from "../src/index.js";
import { PAGE_SIZE } from "../src/abi.js";
import { loadApp } from "./helpers.js";

const { runtime: rt, app } = await loadApp();
const x = rt.exports;

/** The runtime's view of element (lane) i of a list. */
function runtimeGet(list, i) {
  const k = KINDS[list.constructor.kind];
  const f = k.number === "float" ? x.list_get_f64 : x.list_get_i64;
  const v = f(k.code, list.address, list.offsetInBytes, list.length, i);
  if (k.number === "float") return v;
  return k.jsArray.startsWith("Big") ? (k.name === "Uint64List" ? BigInt.asUintN(64, v) : v) : Number(v);
}

// [class, value stored, value read back] per kind: truncation, clamping, rounding.
const CASES = [
  [Int8List, 200, -56],
  [Uint8List, 300, 44],
  [Uint8ClampedList, 300, 255],
  [Int16List, 40000, -25536],
  [Uint16List, -1, 65535],
  [Int32List, 2 ** 31, -(2 ** 31)],
  [Uint32List, -1, 4294967295],
  [Int64List, 2n ** 63n, -(2n ** 63n)],
  [Uint64List, -1n, 2n ** 64n - 1n],
  [Float32List, 0.1, Math.fround(0.1)],
  [Float64List, 0.1, 0.1],
];

test("CLASSES follow the ABI kind table", () => {
  assert.equal(CLASSES.length, KINDS.length);
  for (const k of KINDS) {
    const C = CLASSES[k.code];
    assert.equal(C.name, k.name);
    assert.equal(C.kind, k.code);
    assert.equal(C.bytesPerElement, k.elementSizeInBytes);
  }
});

test("every list kind: create, metadata, zero-copy view, get/set against the runtime", () => {
  const base = rt.stats().liveBuffers;
  for (const C of CLASSES.slice(1)) {
    const k = KINDS[C.kind];
    using list = C.create(rt, 5);
    assert.equal(list.length, 5, k.name);
    assert.equal(list.lengthInBytes, 5 * k.elementSizeInBytes);
    assert.equal(list.offsetInBytes, 0);
    assert.equal(list.elementSizeInBytes, k.elementSizeInBytes);
    assert.equal(rt.stats().liveBuffers, base + 1);
    const v = list.view();
    assert.ok(v instanceof globalThis[k.jsArray], `${k.name} view is a ${k.jsArray}`);
    assert.equal(v.length, 5 * k.lanes);
    assert.equal(v.buffer, rt.memory.buffer, "the view is over the runtime memory itself");
    assert.equal(v.byteOffset, list.address);
    assert.equal(list.view(), v, "the view is cached");
    // Zero-filled.
    for (let i = 0; i < v.length; i++) assert.equal(runtimeGet(list, i), k.jsArray.startsWith("Big") ? 0n : 0);
  }
  assert.equal(rt.stats().liveBuffers, base);
});

test("scalar kinds store with Dart's truncation, clamping and rounding", () => {
  for (const [C, stored, read] of CASES) {
    using list = C.create(rt, 4);
    list.set(2, stored);
    assert.equal(list.get(2), read, C.name);
    assert.equal(list.view()[2], read);
    assert.equal(runtimeGet(list, 2), read, `${C.name}: the runtime sees the JS store`);
    assert.equal(list.get(1), typeof read === "bigint" ? 0n : 0);
    // And JS sees the runtime's stores.
    const k = KINDS[C.kind];
    if (k.number === "float") x.list_set_f64(k.code, list.address, 0, 4, 3, 2.5);
    else x.list_set_i64(k.code, list.address, 0, 4, 3, 5n);
    assert.equal(list.get(3), k.number === "float" ? 2.5 : typeof read === "bigint" ? 5n : 5);
  }
  using clamped = Uint8ClampedList.create(rt, 2);
  clamped.set(0, -5);
  assert.equal(clamped.get(0), 0);
  using i64 = Int64List.create(rt, 1);
  i64.set(0, -7); // a safe-integer number is accepted for 64-bit kinds
  assert.equal(i64.get(0), -7n);
});

test("SIMD kinds address lanes; get returns a copy of the lanes", () => {
  using a = Int32x4List.create(rt, 3);
  a.set(1, [1, -2, 2 ** 31, 4]);
  assert.deepEqual([...a.get(1)], [1, -2, -(2 ** 31), 4]);
  assert.ok(a.get(1) instanceof Int32Array);
  assert.equal(runtimeGet(a, 4 + 2), -(2 ** 31)); // element 1, lane 2
  const copy = a.get(1);
  copy[0] = 99;
  assert.equal(a.get(1)[0], 1, "get() is a copy");
  a.fillRange(0, 3, [7, 8, 9, 10]);
  assert.deepEqual([...a.view()], [7, 8, 9, 10, 7, 8, 9, 10, 7, 8, 9, 10]);
  using f = Float32x4List.create(rt, 2);
  f.set(0, [0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual([...f.get(0)], [0.1, 0.2, 0.3, 0.4].map(Math.fround));
  assert.equal(runtimeGet(f, 3), Math.fround(0.4));
  using d = Float64x2List.create(rt, 2);
  d.set(1, [0.1, -0.5]);
  assert.deepEqual([...d.get(1)], [0.1, -0.5]);
  assert.equal(runtimeGet(d, 3), -0.5);
  assert.equal(d.lengthInBytes, 32);
  assert.throws(() => d.set(0, [1, 2, 3]), { name: "TypeError", message: /^value: expected an array-like of 2 lanes/ });
});

test("ByteBuffer: create, view, asXxxList, copyIn/copyOut", () => {
  using b = ByteBuffer.create(rt, 32);
  assert.equal(b.lengthInBytes, 32);
  assert.equal(b.refcount, 1);
  assert.equal(x.buffer_length(b.address), 32);
  assert.equal(b.address % 16, 0);
  b.copyIn(new Uint8Array([1, 2, 3, 4]), 4);
  assert.deepEqual([...b.view().subarray(0, 8)], [0, 0, 0, 0, 1, 2, 3, 4]);
  const out = b.copyOut();
  assert.ok(out instanceof ArrayBuffer);
  assert.equal(out.resizable, false);
  assert.deepEqual([...new Uint8Array(out, 0, 8)], [0, 0, 0, 0, 1, 2, 3, 4]);
  new Uint8Array(out)[4] = 100;
  assert.equal(b.view()[4], 1, "copyOut is a copy");
  using i32 = b.asInt32List(4, 2);
  assert.equal(b.refcount, 2, "a view holds its own reference");
  assert.equal(i32.get(0), 0x04030201);
  assert.equal(i32.offsetInBytes, 4);
  using all = b.asUint16List();
  assert.equal(all.length, 16);
  using bd = b.asByteData(5);
  assert.equal(bd.length, 27);
  assert.equal(bd.getUint8(0), 2);
  for (const C of CLASSES) {
    using v = b[`as${C.name}`]();
    assert.equal(v.lengthInBytes, 32);
    assert.ok(v instanceof C);
  }
  using from = rt.copyIn(new Uint16Array([0x0102, 0x0304]));
  assert.deepEqual([...from.view()], [2, 1, 4, 3]);
});

test("view and sublistView follow Dart's rules and share bytes", () => {
  using b = rt.allocate(64);
  using u8 = Uint8List.view(b, 16, 32);
  u8.fill(0xff, 0, 4);
  using i32 = Int32List.view(b, 16);
  assert.equal(i32.length, 12);
  assert.equal(i32.get(0), -1);
  assert.equal(b.refcount, 3);
  using sub = Int16List.sublistView(u8, 2, 8);
  assert.equal(sub.offsetInBytes, 18);
  assert.equal(sub.length, 3);
  assert.equal(sub.get(0), -1);
  assert.equal(sub.get(1), 0);
  sub.set(2, 0x1234);
  assert.equal(u8.get(6), 0x34);
  assert.equal(u8.get(7), 0x12);
  using same = Uint8List.sublistView(u8, 4);
  assert.equal(same.length, 28);
  assert.equal(same.offsetInBytes, 20);
  using bd = ByteData.sublistView(i32, 1, 2);
  assert.equal(bd.offsetInBytes, 20);
  assert.equal(bd.length, 4);
  const buf = u8.buffer;
  assert.equal(buf, b, "a view's buffer is the ByteBuffer it was made from");
  assert.equal(buf.lengthInBytes, 64);
  assert.equal(b.refcount, 6);
});

test("fill, fillRange, setRange (same kind, other kinds via the runtime, arrays), copyFrom, copyTo", () => {
  using a = Int32List.create(rt, 8);
  assert.equal(a.fill(3), a);
  a.fillRange(2, 4, -1);
  assert.deepEqual(a.toArray(), [3, 3, -1, -1, 3, 3, 3, 3]);
  a.setRange(0, 3, [10, 11, 12, 13], 1);
  assert.deepEqual(a.toArray(), [11, 12, 13, -1, 3, 3, 3, 3]);
  // Overlapping same-list move (memmove semantics).
  a.setRange(2, 7, a, 0);
  assert.deepEqual(a.toArray(), [11, 12, 11, 12, 13, -1, 3, 3]);
  // Other int kinds convert as Dart does (runtime's list_set_range).
  using s8 = Int8List.create(rt, 3);
  s8.copyFrom([-1, 100, -128]);
  a.setRange(0, 3, s8);
  assert.deepEqual(a.toArray().slice(0, 3), [-1, 100, -128]);
  using c = Uint8ClampedList.create(rt, 3);
  c.setRange(0, 3, s8);
  assert.deepEqual(c.toArray(), [0, 100, 0]);
  using w = Int64List.create(rt, 3);
  w.setRange(0, 3, s8);
  assert.deepEqual(w.toArray(), [-1n, 100n, -128n]);
  using f64 = Float64List.create(rt, 2);
  using f32 = Float32List.create(rt, 2);
  f32.copyFrom(new Float32Array([0.1, 2]));
  f64.setRange(0, 2, f32);
  assert.deepEqual(f64.toArray(), [Math.fround(0.1), 2]);
  assert.throws(() => f64.setRange(0, 2, s8), { name: "TypeError", message: /^source: cannot setRange a Float64List from a Int8List/ });
  // TypedArray sources and copyTo.
  a.copyFrom(new Int32Array([7, 8]), 6);
  assert.deepEqual(a.toArray().slice(6), [7, 8]);
  const copy = a.copyTo();
  assert.ok(copy instanceof Int32Array);
  assert.notEqual(copy.buffer, rt.memory.buffer);
  assert.equal(copy.buffer.resizable, false);
  assert.deepEqual([...copy], a.toArray());
  const target = new Int32Array(10);
  assert.equal(a.copyTo(target, 2), target);
  assert.deepEqual([...target.subarray(2)], a.toArray());
  using u64 = Uint64List.create(rt, 2);
  u64.copyFrom(new BigUint64Array([1n, 2n ** 64n - 1n]));
  assert.deepEqual(u64.toArray(), [1n, 2n ** 64n - 1n]);
  u64.fill(5);
  assert.deepEqual(u64.toArray(), [5n, 5n]);
  using u16 = Uint16List.create(rt, 2);
  u16.setRange(0, 2, new Uint32Array([0x10001, 2]));
  assert.deepEqual(u16.toArray(), [1, 2]);
  using u32 = Uint32List.create(rt, 1);
  u32.copyFrom([0xffffffff]);
  assert.equal(u32.get(0), 0xffffffff);
});

test("ByteData: every width, big-endian by default, cross-checked with the runtime", () => {
  using bd = ByteData.create(rt, 24);
  assert.equal(bd.elementSizeInBytes, 1);
  assert.ok(bd.view() instanceof DataView);
  bd.setUint32(1, 0x01020304);
  assert.deepEqual([...new Uint8Array(bd.copyOut(), 0, 6)], [0, 1, 2, 3, 4, 0]);
  assert.equal(bd.getUint32(1), 0x01020304);
  assert.equal(bd.getUint32(1, Endian.little), 0x04030201);
  assert.equal(BigInt(x.bytedata_get_i64(bd.address, 0, 24, 1, KIND.Uint32List, 0)), 0x01020304n);
  bd.setInt16(5, -2, Endian.little);
  assert.equal(bd.getInt16(5, Endian.little), -2);
  assert.equal(bd.getUint16(5, Endian.big), 0xfeff);
  bd.setInt64(8, -5n);
  assert.equal(bd.getInt64(8), -5n);
  assert.equal(x.bytedata_get_i64(bd.address, 0, 24, 8, KIND.Int64List, 0), -5n);
  bd.setUint64(8, 2n ** 64n - 2n, Endian.little);
  assert.equal(bd.getUint64(8, Endian.little), 2n ** 64n - 2n);
  bd.setFloat64(16, Math.PI);
  assert.equal(bd.getFloat64(16), Math.PI);
  assert.equal(x.bytedata_get_f64(bd.address, 0, 24, 16, KIND.Float64List, 0), Math.PI);
  bd.setFloat32(3, 1.1, Endian.host);
  assert.equal(bd.getFloat32(3, Endian.little), Math.fround(1.1));
  bd.setInt8(0, -1);
  assert.equal(bd.getInt8(0), -1);
  assert.equal(bd.getUint8(0), 255);
  bd.setInt32(20, -3);
  assert.equal(bd.getInt32(20), -3);
  // The runtime's stores are visible to the glue (big-endian flag 0).
  x.bytedata_set_i64(bd.address, 0, 24, 20, KIND.Uint16List, 0, 0xabcdn);
  assert.equal(bd.getUint16(20), 0xabcd);
  const copy = bd.copyTo();
  assert.equal(copy.getUint16(20), 0xabcd);
  assert.notEqual(copy.buffer, rt.memory.buffer);
});

test("app code holds buffers in GC structs and reads them through the runtime", () => {
  using list = Uint8List.create(rt, 10);
  list.copyFrom([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(app.sum(KIND.Uint8List, list.address, 0, 10), 55n);
  assert.equal(rt.call(app.sum, KIND.Uint8List, list, 2, 3), 3n + 4n + 5n);
});

test("stats() reads the runtime's counters", () => {
  const a = rt.stats();
  const b = rt.allocate(1000);
  const s = rt.stats();
  assert.equal(s.liveBuffers, a.liveBuffers + 1);
  assert.equal(s.liveBytes, a.liveBytes + 1000);
  assert.ok(s.heapBytes >= a.heapBytes + 1000, "heap bytes include the block");
  assert.equal(s.pages, rt.memory.buffer.byteLength / PAGE_SIZE);
  assert.equal(s.pages, x.stats_pages());
  b.dispose();
  const c = rt.stats();
  assert.equal(c.liveBuffers, a.liveBuffers);
  assert.equal(c.liveBytes, a.liveBytes);
  assert.equal(c.heapBytes, a.heapBytes);
  assert.equal(c.releases, a.releases + 1);
});
