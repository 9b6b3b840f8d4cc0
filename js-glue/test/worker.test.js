// Workers: wasm memory cannot be transferred, so a buffer crosses threads as
// a copy: copyOut() -> postMessage with a transfer list -> copyIn().
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { once } from "node:events";
import { Uint8List } from "../src/index.js";
import { loadApp } from "./helpers.js";

test("worker round trip with worker_threads", async () => {
  const { runtime: rt } = await loadApp();
  const base = rt.stats().liveBuffers;
  using list = Uint8List.create(rt, 1000);
  for (let i = 0; i < 1000; i++) list.set(i, i & 0x7f);
  const out = list.copyOut();
  assert.equal(out.byteLength, 1000);
  // The runtime memory itself cannot be transferred.
  assert.throws(() => structuredClone(rt.memory.buffer, { transfer: [rt.memory.buffer] }));
  const worker = new Worker(new URL("./worker.js", import.meta.url), { env: process.env });
  worker.postMessage({ bytes: out }, [out]);
  assert.equal(out.byteLength, 0, "transferred, not copied");
  const [reply] = await once(worker, "message");
  await worker.terminate();
  assert.equal(reply.error, undefined, reply.error);
  let expected = 0;
  for (let i = 0; i < 1000; i++) expected += i & 0x7f;
  assert.equal(reply.sum, expected, "the worker's wasm saw the bytes");
  using back = rt.copyIn(reply.bytes);
  assert.equal(back.lengthInBytes, 1000);
  for (let i = 0; i < 1000; i++) assert.equal(back.view()[i], ((i & 0x7f) * 2) & 0xff);
  back.dispose();
  assert.equal(rt.stats().liveBuffers, base + 1);
});
