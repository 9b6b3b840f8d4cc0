// Bad input: RangeError or TypeError whose message starts with the argument's
// name, and the runtime memory is byte-for-byte unchanged afterwards.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_LENGTH } from "../src/abi.js";
import {
  ByteBuffer, ByteData, Float32List, Int32List, Int64List, Int32x4List, KIND, Uint8List,
} from "../src/index.js";
import { loadApp, snapshot } from "./helpers.js";

const { runtime: rt, app } = await loadApp();
const other = (await loadApp()).runtime;

/** Runs `fn`, expecting `type` with a message starting `arg: `, and checks nothing was written. */
function rejects(fn, type, arg) {
  const before = snapshot(rt);
  const beforeLive = rt.stats().liveBuffers;
  assert.throws(fn, (e) => {
    assert.equal(e.constructor, type, `${arg}: ${e.message}`);
    assert.ok(e.message.startsWith(`${arg}: `), `message names ${arg}: ${e.message}`);
    return true;
  });
  const after = snapshot(rt);
  assert.equal(after.length, before.length);
  assert.ok(Buffer.compare(before, after) === 0, `${arg}: memory unchanged`);
  assert.equal(rt.stats().liveBuffers, beforeLive, `${arg}: no buffer leaked`);
}

test("lengths: negative, fractional, NaN, too large, not a number", () => {
  rejects(() => rt.allocate(-1), RangeError, "lengthInBytes");
  rejects(() => rt.allocate(1.5), RangeError, "lengthInBytes");
  rejects(() => rt.allocate(NaN), RangeError, "lengthInBytes");
  rejects(() => rt.allocate(Infinity), RangeError, "lengthInBytes");
  rejects(() => rt.allocate(MAX_LENGTH + 1), RangeError, "lengthInBytes");
  rejects(() => rt.allocate("8"), TypeError, "lengthInBytes");
  rejects(() => rt.allocate(8n), TypeError, "lengthInBytes");
  rejects(() => Int32List.create(rt, -3), RangeError, "length");
  rejects(() => Int32List.create(rt, 2 ** 30), RangeError, "length");
  rejects(() => ByteData.create(rt, 0.5), RangeError, "length");
  rejects(() => Uint8List.create({}, 3), TypeError, "runtime");
  rejects(() => ByteBuffer.create(null, 3), TypeError, "runtime");
  rejects(() => new Uint8List(rt, 16, 0, 1000000), TypeError, "Uint8List");
  rejects(() => new ByteBuffer(rt, 16, 1000000), TypeError, "ByteBuffer");
});

test("indices and values", () => {
  using list = Int32List.create(rt, 4);
  for (const i of [-1, 4, 2 ** 32, 1.5, NaN, Infinity]) {
    rejects(() => list.get(i), RangeError, "index");
    rejects(() => list.set(i, 1), RangeError, "index");
  }
  rejects(() => list.get("1"), TypeError, "index");
  rejects(() => list.set(undefined, 1), TypeError, "index");
  rejects(() => list.set(0, 1n), TypeError, "value");
  rejects(() => list.set(0, "1"), TypeError, "value");
  using wide = Int64List.create(rt, 1);
  rejects(() => wide.set(0, 1.5), RangeError, "value");
  rejects(() => wide.set(0, "1"), TypeError, "value");
  using simd = Int32x4List.create(rt, 1);
  rejects(() => simd.set(0, 5), TypeError, "value");
  rejects(() => simd.set(0, [1, 2, 3, "x"]), TypeError, "value[3]");
  assert.equal(list.get(3), 0);
});

test("views: out-of-range offsets, misaligned views, bad lengths, wrong kinds", () => {
  using b = rt.allocate(64);
  rejects(() => Int32List.view(b, 2), RangeError, "offsetInBytes");
  rejects(() => Int32List.view(b, -4), RangeError, "offsetInBytes");
  rejects(() => Int32List.view(b, 68), RangeError, "offsetInBytes");
  rejects(() => Int32List.view(b, 4.5), RangeError, "offsetInBytes");
  rejects(() => Int32List.view(b, 0, 17), RangeError, "length");
  rejects(() => Int32List.view(b, 60, 2), RangeError, "length");
  rejects(() => Int32List.view(b, 8, -1), RangeError, "length");
  rejects(() => Int32List.view({ address: b.address }), TypeError, "buffer");
  rejects(() => Int32List.view(b.address), TypeError, "buffer");
  using odd = rt.allocate(10);
  rejects(() => Int32List.view(odd), RangeError, "length");
  using u8 = Uint8List.view(b);
  rejects(() => Int32List.sublistView(u8, 1, 5), RangeError, "start");
  rejects(() => Int32List.sublistView(u8, 0, 6), RangeError, "end");
  rejects(() => Int32List.sublistView(u8, 4, 2), RangeError, "end");
  rejects(() => Int32List.sublistView(u8, 0, 65), RangeError, "end");
  rejects(() => Int32List.sublistView(b), TypeError, "data");
  rejects(() => b.asInt32List(1), RangeError, "offsetInBytes");
});

test("ranges of fill, setRange, copyFrom, copyTo, copyIn and ByteData", () => {
  using list = Int32List.create(rt, 4);
  rejects(() => list.fillRange(0, 5, 1), RangeError, "end");
  rejects(() => list.fillRange(-1, 2, 1), RangeError, "start");
  rejects(() => list.fill(1, 3, 2), RangeError, "end");
  rejects(() => list.setRange(0, 4, [1, 2, 3]), RangeError, "skipCount");
  rejects(() => list.setRange(0, 2, [1, 2, 3], 2), RangeError, "skipCount");
  rejects(() => list.setRange(0, 2, [1, 2], -1), RangeError, "skipCount");
  rejects(() => list.setRange(0, 2, [1, "x"]), TypeError, "source[1]");
  rejects(() => list.setRange(0, 2, 7), TypeError, "source");
  using f = Float32List.create(rt, 4);
  rejects(() => list.setRange(0, 2, f), TypeError, "source");
  rejects(() => list.setRange(0, 2, new BigInt64Array(2)), TypeError, "source");
  using bd = ByteData.create(rt, 8);
  rejects(() => list.setRange(0, 2, bd), TypeError, "source");
  using small = Int32List.create(rt, 1);
  rejects(() => list.setRange(0, 2, small), RangeError, "skipCount");
  using foreign = Int32List.create(other, 4);
  rejects(() => list.setRange(0, 2, foreign), TypeError, "source");
  rejects(() => list.copyFrom(new Int32Array(5)), RangeError, "source");
  rejects(() => list.copyFrom(new Int32Array(2), 3), RangeError, "source");
  rejects(() => list.copyFrom(new Int32Array(2), 5), RangeError, "start");
  rejects(() => list.copyTo(new Int32Array(3)), RangeError, "target");
  rejects(() => list.copyTo(new BigInt64Array(4)), TypeError, "target");
  rejects(() => list.copyTo([]), TypeError, "target");
  using b = rt.allocate(8);
  rejects(() => b.copyIn(new Uint8Array(9)), RangeError, "source");
  rejects(() => b.copyIn(new Uint8Array(4), 5), RangeError, "source");
  rejects(() => b.copyIn(new Uint8Array(1), 9), RangeError, "offset");
  rejects(() => b.copyIn("abc"), TypeError, "source");
  rejects(() => rt.copyIn([1, 2]), TypeError, "source");
  rejects(() => bd.getInt32(5), RangeError, "byteOffset");
  rejects(() => bd.setInt32(5, 1), RangeError, "byteOffset");
  rejects(() => bd.setUint8(8, 1), RangeError, "byteOffset");
  rejects(() => bd.setUint8(-1, 1), RangeError, "byteOffset");
  rejects(() => bd.setFloat64(0.5, 1), RangeError, "byteOffset");
  rejects(() => bd.getUint16(0, "middle"), TypeError, "endian");
  rejects(() => bd.setInt64(0, "1"), TypeError, "value");
  rejects(() => bd.setInt16(0, "1"), TypeError, "value");
});

test("foreign pointers are rejected with buffer_check, never retained", () => {
  using b = rt.allocate(16);
  const base = rt.stats().retains;
  rejects(() => rt.wrap(b.address + 16), TypeError, "address");
  rejects(() => rt.wrap(b.address + 1), TypeError, "address");
  rejects(() => rt.wrap(0), TypeError, "address");
  rejects(() => rt.wrap(12345), TypeError, "address");
  rejects(() => rt.wrap(0x7ffffff0), TypeError, "address");
  rejects(() => rt.adopt(0x7ffffff0), TypeError, "address");
  rejects(() => rt.wrap(-16), RangeError, "address");
  rejects(() => rt.wrap(1.5), RangeError, "address");
  rejects(() => rt.wrap("16"), TypeError, "address");
  // A freed buffer's address.
  const freed = app.make(16, 0);
  assert.equal(rt.exports.buffer_release(freed), 0);
  rejects(() => rt.wrap(freed), TypeError, "address");
  // A buffer of another runtime instance is foreign here.
  using theirs = other.allocate(16);
  rejects(() => rt.call(app.sum, KIND.Uint8List, theirs, 0, 16), TypeError, "args[1]");
  assert.equal(rt.stats().retains, base);
});
