// Growth: views taken before memory.grow still read and write correctly
// after it, on both view paths.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteData, Endian, Float64List, KIND, Uint8List } from "../src/index.js";
import { PAGE_SIZE } from "../src/abi.js";
import { EXPECTED_VIEW_PATH, loadApp } from "./helpers.js";

async function growthCase(options, expectedPath) {
  const { runtime: rt, app } = await loadApp(options);
  assert.equal(rt.viewPath, expectedPath);
  using list = Float64List.create(rt, 4);
  using bytes = Uint8List.create(rt, 8);
  using bd = ByteData.create(rt, 8);
  using buf = rt.allocate(4);
  const before = list.view();
  const bufView = buf.view();
  before[1] = 1.5;
  bytes.set(3, 7);
  bd.setUint32(0, 0xcafebabe);
  buf.view()[0] = 42;
  const pages = rt.stats().pages;
  // Grow: a 4 MiB buffer allocated from wasm code, then one from JS.
  const big = app.make(4 << 20, 1);
  using bigJs = rt.allocate(8 << 20);
  assert.ok(rt.stats().pages >= pages + ((12 << 20) / PAGE_SIZE), `memory grew (${pages} -> ${rt.stats().pages} pages)`);
  if (expectedPath === "resizable") {
    // The very same TypedArray is still attached and correct.
    assert.equal(before.length, 4);
    assert.equal(before[1], 1.5);
    before[2] = -3;
    assert.equal(rt.exports.list_get_f64(KIND.Float64List, list.address, 0, 4, 2), -3);
    assert.equal(list.view(), before, "one cached view for the list's lifetime");
    assert.equal(bufView[0], 42);
  } else {
    // The old ArrayBuffer was detached by memory.grow; the wrapper re-creates its view.
    assert.equal(before.length, 0, "memory.grow detached the old buffer");
    const after = list.view();
    assert.notEqual(after, before);
    assert.equal(after.length, 4);
    assert.equal(after[1], 1.5);
    after[2] = -3;
    assert.equal(rt.exports.list_get_f64(KIND.Float64List, list.address, 0, 4, 2), -3);
    assert.equal(bufView.length, 0);
  }
  // Element access through the wrappers is right on both paths.
  assert.equal(list.get(1), 1.5);
  assert.equal(list.get(2), -3);
  list.set(3, 9.25);
  assert.equal(rt.exports.list_get_f64(KIND.Float64List, list.address, 0, 4, 3), 9.25);
  assert.equal(bytes.get(3), 7);
  assert.equal(bd.getUint32(0), 0xcafebabe);
  assert.equal(bd.getUint32(0, Endian.little), 0xbebafeca);
  assert.equal(buf.view()[0], 42);
  assert.equal(buf.view().length, 4);
  bigJs.view()[(8 << 20) - 1] = 5;
  assert.equal(rt.exports.list_get_i64(KIND.Uint8List, bigJs.address, 0, 8 << 20, (8 << 20) - 1), 5n);
  rt.exports.buffer_release(big);
}

test(`growth on this Node's default view path (${EXPECTED_VIEW_PATH})`, () => growthCase({}, EXPECTED_VIEW_PATH));

test("growth on the refresh path (forced)", () => growthCase({ viewPath: "refresh" }, "refresh"));

// Issue 14: on the refresh path, copyIn(list.view()) detached its own source
// when its allocation grew the memory ("Cannot perform %TypedArray%.prototype.set
// on a detached ArrayBuffer").
async function copyInCase(options, expectedPath) {
  const { runtime: rt } = await loadApp(options);
  assert.equal(rt.viewPath, expectedPath);
  const n = 3 << 20; // larger than the free heap: the copy's allocation grows the memory
  using list = Uint8List.create(rt, n);
  const view = list.view();
  for (let i = 0; i < n; i += 4093) view[i] = (i >>> 12) & 0xff;
  view[n - 1] = 0x5a;
  const pages = rt.stats().pages;
  using copy = rt.copyIn(view.subarray(1, n));
  assert.ok(rt.stats().pages > pages, `the copy's allocation grew the memory (${pages} -> ${rt.stats().pages} pages)`);
  assert.equal(copy.lengthInBytes, n - 1);
  const got = copy.view();
  const want = list.view();
  for (let i = 1; i < n; i += 4093) assert.equal(got[i - 1], want[i], `byte ${i}`);
  assert.equal(got[n - 2], 0x5a);
  // A view already detached by an earlier growth is refused, not read as 0 bytes.
  if (expectedPath === "refresh") {
    assert.equal(view.length, 0, "the view taken before the growth is detached");
    assert.throws(() => rt.copyIn(view), { name: "TypeError", message: /^source: its ArrayBuffer is detached/ });
    assert.throws(() => copy.copyIn(view), { name: "TypeError", message: /^source: its ArrayBuffer is detached/ });
  }
  // ByteBuffer.copyIn from another part of the same memory.
  using small = Uint8List.create(rt, 4);
  small.buffer.copyIn(list.view().subarray(n - 4));
  assert.deepEqual(small.toArray(), [0, 0, 0, 0x5a]);
}

test(`copyIn of a view of runtime memory whose allocation grows the memory (${EXPECTED_VIEW_PATH})`, () =>
  copyInCase({}, EXPECTED_VIEW_PATH));

test("copyIn of a view of runtime memory whose allocation grows the memory (refresh, forced)", () =>
  copyInCase({ viewPath: "refresh" }, "refresh"));
