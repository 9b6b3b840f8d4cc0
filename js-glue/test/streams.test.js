// readInto: random chunk sizes land byte-identical, with exactly one copy
// per byte into runtime memory (counted independently by watching
// Uint8Array.prototype.set on the runtime memory), growth without a length,
// an exact-size buffer with one, and errors that leak nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Uint8List } from "../src/index.js";
import { loadApp, rng } from "./helpers.js";

const { runtime: rt } = await loadApp();

function data(n, seed) {
  const next = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** A byte stream delivering `bytes` in random chunk sizes (1..maxChunk), BYOB-capable. */
function byteStream(bytes, seed, maxChunk = 70000) {
  const next = rng(seed);
  let pos = 0;
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 65536,
    pull(controller) {
      if (pos >= bytes.length) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const want = 1 + (next() % maxChunk);
      const req = controller.byobRequest;
      if (req) {
        const view = req.view;
        const n = Math.min(want, view.byteLength, bytes.length - pos);
        new Uint8Array(view.buffer, view.byteOffset, n).set(bytes.subarray(pos, pos + n));
        pos += n;
        req.respond(n);
      } else {
        const n = Math.min(want, bytes.length - pos);
        controller.enqueue(bytes.slice(pos, pos + n));
        pos += n;
      }
    },
  });
}

/** Runs `fn` while counting bytes copied by Uint8Array#set into the runtime memory. */
async function countingCopies(fn) {
  const original = Uint8Array.prototype.set;
  const counter = { calls: 0, bytes: 0 };
  Uint8Array.prototype.set = function (source, offset) {
    if (this.buffer === rt.memory.buffer) {
      counter.calls++;
      counter.bytes += source.length;
    }
    return original.call(this, source, offset);
  };
  try {
    return { result: await fn(), ...counter };
  } finally {
    Uint8Array.prototype.set = original;
  }
}

test("a ReadableStream with random chunk sizes lands byte-identical, one copy per byte, growing the target", async () => {
  const base = rt.stats();
  const bytes = data(3_000_017, 1);
  const { result: list, calls, bytes: copied } = await countingCopies(() => rt.readInto(byteStream(bytes, 2)));
  assert.ok(list instanceof Uint8List);
  assert.equal(list.length, bytes.length);
  assert.ok(Buffer.compare(list.view(), bytes) === 0, "byte-identical");
  assert.equal(copied, bytes.length, "exactly one copy per byte into runtime memory");
  const s = rt.stats();
  assert.equal(s.streamBytes - base.streamBytes, bytes.length);
  assert.equal(s.streamCopies - base.streamCopies, calls, "one copy per chunk");
  assert.ok(calls > 40, `many chunks (${calls})`);
  assert.ok(s.streamGrowths > base.streamGrowths, "no length given: the target grew");
  assert.equal(s.liveBuffers, base.liveBuffers + 1, "grown-away buffers were freed");
  list.dispose();
  assert.equal(rt.stats().liveBuffers, base.liveBuffers);
});

test("a Response with Content-Length fills an exact-size buffer without growing", async () => {
  const base = rt.stats();
  const bytes = data(1_000_003, 3);
  const response = new Response(byteStream(bytes, 4), { headers: { "content-length": String(bytes.length) } });
  const { result: list, bytes: copied } = await countingCopies(() => rt.readInto(response));
  assert.equal(copied, bytes.length);
  assert.ok(Buffer.compare(list.view(), bytes) === 0);
  using buffer = list.buffer;
  assert.equal(buffer.lengthInBytes, bytes.length, "exactly the Content-Length");
  assert.equal(rt.stats().streamGrowths, base.streamGrowths);
  assert.equal(rt.stats().liveBytes - base.liveBytes, bytes.length);
  list.dispose();
});

test("readInto an existing buffer at an offset; overflow is a RangeError that leaks nothing", async () => {
  const bytes = data(5000, 5);
  using target = rt.allocate(6000);
  const list = await rt.readInto(byteStream(bytes, 6, 300), { buffer: target, offset: 1000 });
  assert.equal(list.offsetInBytes, 1000);
  assert.equal(list.length, 5000);
  assert.equal(target.refcount, 2);
  assert.ok(Buffer.compare(target.view().subarray(1000), bytes) === 0);
  assert.equal(target.view()[999], 0);
  list.dispose();
  const base = rt.stats();
  await assert.rejects(rt.readInto(byteStream(bytes, 7, 300), { buffer: target, offset: 2000 }), {
    name: "RangeError",
    message: /^options\.buffer: /,
  });
  assert.equal(target.refcount, 1);
  assert.equal(rt.stats().liveBuffers, base.liveBuffers);
  await assert.rejects(rt.readInto(new Uint8Array(4)), { name: "TypeError", message: /^source: / });
  await assert.rejects(rt.readInto(byteStream(bytes, 8), { scratchBytes: 0 }), { name: "RangeError", message: /^options\.scratchBytes: / });
});

test("a non-byte stream (default reader) and an empty body also work", async () => {
  const bytes = data(100_000, 9);
  const next = rng(10);
  let pos = 0;
  const plain = new ReadableStream({
    pull(c) {
      if (pos >= bytes.length) return c.close();
      const n = Math.min(1 + (next() % 5000), bytes.length - pos);
      c.enqueue(bytes.slice(pos, pos + n));
      pos += n;
    },
  });
  const { result: list, bytes: copied } = await countingCopies(() => rt.readInto(plain, { initialBytes: 10 }));
  assert.equal(copied, bytes.length);
  assert.ok(Buffer.compare(list.view(), bytes) === 0);
  list.dispose();
  const empty = await rt.readInto(new Response(null));
  assert.equal(empty.length, 0);
  empty.dispose();
});

test("readInto uses a BYOB reader on one scratch buffer of options.scratchBytes", async () => {
  // No autoAllocateChunkSize: byobRequest exists only for BYOB reads, so
  // each pull proves the glue read with its own scratch view.
  const bytes = data(200_000, 11);
  const sizes = new Set();
  let pulls = 0;
  let pos = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(c) {
      const req = c.byobRequest;
      assert.ok(req, "a BYOB read");
      pulls++;
      sizes.add(req.view.buffer.byteLength);
      if (pos >= bytes.length) {
        c.close();
        req.respond(0);
        return;
      }
      const n = Math.min(req.view.byteLength, 3000, bytes.length - pos);
      new Uint8Array(req.view.buffer, req.view.byteOffset, n).set(bytes.subarray(pos, pos + n));
      pos += n;
      req.respond(n);
    },
  });
  const list = await rt.readInto(stream, { scratchBytes: 4096 });
  assert.ok(Buffer.compare(list.view(), bytes) === 0);
  assert.ok(pulls > 60);
  assert.deepEqual([...sizes], [4096], "every read lands in the same 4 KiB scratch buffer (transferred back and forth)");
  list.dispose();
});
