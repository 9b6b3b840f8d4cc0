// Lists behave like JS collections: iterable (for..of, spread, Array.from),
// readable in console.log / util.inspect; the app reads runtime memory
// directly through its `multimem.memory` import; and what wrap() can and
// cannot tell about an address.
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  ByteData, Float32x4List, Float64List, Int64List, Int8List, Uint8List,
} from "../src/index.js";
import { loadApp } from "./helpers.js";

const { runtime: rt, app } = await loadApp();

test("lists are iterable: for..of, spread and Array.from give the elements", () => {
  using f = Float64List.create(rt, 3);
  f.copyFrom([1.5, -2, 3.25]);
  assert.deepEqual([...f], [1.5, -2, 3.25]);
  assert.deepEqual(Array.from(f), [1.5, -2, 3.25]);
  assert.deepEqual(Array.from(f, (x) => x * 2), [3, -4, 6.5]);
  const seen = [];
  for (const x of f) seen.push(x);
  assert.deepEqual(seen, [1.5, -2, 3.25]);
  using big = Int64List.create(rt, 2);
  big.copyFrom([-1n, 5n]);
  assert.deepEqual([...big], [-1n, 5n]);
  using simd = Float32x4List.create(rt, 2);
  simd.set(1, [1, 2, 3, 4]);
  assert.deepEqual([...simd].map((l) => [...l]), [[0, 0, 0, 0], [1, 2, 3, 4]], "SIMD kinds: one lane array per element");
  using empty = Int8List.create(rt, 0);
  assert.deepEqual([...empty], []);
  const gone = Uint8List.create(rt, 2);
  gone.dispose();
  assert.throws(() => [...gone], { name: "TypeError", message: /^Uint8List: used after dispose\(\)/ });
});

test("iterating while the memory grows stays correct", () => {
  using a = Uint8List.create(rt, 4);
  a.copyFrom([1, 2, 3, 4]);
  const out = [];
  const keep = [];
  for (const x of a) {
    out.push(x);
    keep.push(rt.allocate(1 << 20)); // grows the memory (detaches views on the refresh path)
  }
  assert.deepEqual(out, [1, 2, 3, 4]);
  for (const k of keep) k.dispose();
});

test("util.inspect / console.log show the kind, length and first elements", () => {
  using f = Float64List.create(rt, 3);
  f.copyFrom([1.5, -2, 3.25]);
  assert.equal(inspect(f), "Float64List(3) [ 1.5, -2, 3.25 ]");
  using long = Uint8List.create(rt, 250);
  long.fill(7);
  const text = inspect(long);
  assert.ok(text.startsWith("Uint8List(250) [ 7, 7, 7,"), text);
  assert.ok(text.endsWith(", 7, ... 150 more items ]"), text);
  assert.equal(inspect(long, { maxArrayLength: 2 }), "Uint8List(250) [ 7, 7, ... 248 more items ]");
  using big = Int64List.create(rt, 1);
  big.set(0, -3n);
  assert.equal(inspect(big), "Int64List(1) [ -3n ]");
  using simd = Float32x4List.create(rt, 1);
  simd.set(0, [1, 2, 3, 4]);
  assert.equal(inspect(simd), "Float32x4List(1) [ [ 1, 2, 3, 4 ] ]");
  using bd = ByteData.create(rt, 3);
  bd.setUint8(1, 255);
  assert.equal(inspect(bd), "ByteData(3) [ 0, 255, 0 ]");
  using b = rt.allocate(2);
  assert.equal(inspect(b), "ByteBuffer(2) [ 0, 0 ]");
  assert.equal(inspect(Uint8List.create(rt, 0)), "Uint8List(0) []");
  const gone = Uint8List.create(rt, 1);
  gone.dispose();
  assert.equal(inspect(gone), "Uint8List (disposed)");
  assert.equal(Object.prototype.toString.call(f), "[object Float64List]");
});

test("the app addresses runtime memory directly through its multimem.memory import", () => {
  using list = Uint8List.create(rt, 5);
  list.copyFrom([10, 20, 30, 40, 50]);
  assert.equal(app.peek(list.address, 3), 40, "a plain i32.load8_u on the runtime's memory");
  assert.equal(app.length_inline(list.address), 5, "lengthInBytes from the header at address - 8");
  list.set(0, 99);
  assert.equal(app.peek(list.address, 0), 99, "the glue's writes are the app's bytes");
});

test("wrap(): what it can and cannot tell about an address", async () => {
  const other = (await loadApp()).runtime;
  // Detected: an address that is no buffer of this runtime (not a block
  // start, out of bounds) or a freed one.
  using mine = rt.allocate(16);
  assert.throws(() => rt.wrap(mine.address + 4), { name: "TypeError", message: /^address: .* is not a live buffer of this runtime \(NOT_A_BUFFER/ });
  const freed = app.make(8, 0);
  rt.exports.buffer_release(freed);
  assert.throws(() => rt.wrap(freed), { name: "TypeError", message: /^address: .*(FREED|NOT_A_BUFFER)/ });
  // Detected: a wrapper of another runtime passed where this runtime's is needed.
  using theirs = other.allocate(16);
  assert.throws(() => rt.call(app.sum, 2, theirs, 0, 16), { name: "TypeError", message: /^args\[1\]: ByteBuffer belongs to a different runtime/ });
  // Not detectable: a bare number that another runtime's allocation returned
  // but that is also a live buffer here. An address carries no owner; both
  // heaps lay out blocks the same way, so the same number is live in both,
  // and wrap() gives *this* runtime's buffer at that address.
  const x = (await loadApp()).runtime;
  const y = (await loadApp()).runtime;
  using a = x.allocate(16);
  using b = y.allocate(16);
  assert.equal(a.address, b.address, "two fresh runtimes hand out the same addresses");
  using w = y.wrap(a.address); // accepted: the number is live in y too
  w.view()[0] = 1;
  assert.equal(b.view()[0], 1, "it is y's buffer");
  assert.equal(a.view()[0], 0, "not x's");
});
