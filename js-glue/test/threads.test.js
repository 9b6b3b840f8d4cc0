// One heap shared by several workers (js-glue/src/threads.js; docs/ABI.md,
// "Threads"): threads-app.wat linked with the runtime's shared builds and
// `--import-shared-memory` (scripts/js-test-fixtures.sh), instantiated once
// per worker_threads worker over one shared WebAssembly.Memory. The soak
// (threads-soak.js) runs N=4 workers on the `shared` build and on
// `shared-checked`, in the build under test (multi- or single-memory).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { Int32List, Uint8List } from "../src/index.js";
import { canBlock, handOff, instantiateShared, receive, shareRuntime, sharedMemoryLimits } from "../src/threads.js";
import { BUILD, fixture } from "./helpers.js";
import { patternByte, soak } from "./threads-soak.js";

const dir = process.env.MULTIMEM_JS_FIXTURES;

/** Bytes of threads(-checked).linked.wasm in the build under test. */
function threadsModule(variant = "") {
  return readFileSync(join(dir, `threads${variant}.linked${BUILD === "single-memory" ? ".single" : ""}.wasm`));
}

const ownImports = () => ({ env: { memory: new WebAssembly.Memory({ initial: 1 }) } });

// Soak lengths: the multi-memory pass runs the 10 s (shared) + 5 s
// (shared-checked); the single-memory pass, the same code over the other
// build, a shorter run. MULTIMEM_THREADS_SOAK_MS scales both (a local long run).
const scale = Number(process.env.MULTIMEM_THREADS_SOAK_MS ?? (BUILD === "single-memory" ? 4000 : 10000)) / 10000;

test("the shared build's import: a shared multimem.memory with the link's maximum", () => {
  assert.deepEqual(sharedMemoryLimits(threadsModule()), { initial: 1, maximum: 65536, shared: true });
  assert.equal(sharedMemoryLimits(fixture("app.linked.wasm")), null, "a link without --import-shared-memory defines its heap");
});

test("Node's main thread may block, so instance_may_wait(1) by default; false is honoured", async () => {
  assert.equal(canBlock(), true);
  const a = await instantiateShared(threadsModule(), ownImports());
  assert.equal(a.mayWait, true);
  assert.equal(a.build, BUILD);
  assert.ok(a.memory.buffer instanceof SharedArrayBuffer);
  const b = await instantiateShared(shareRuntime(a).module, ownImports(), { memory: a.memory, mayWait: false });
  assert.equal(b.mayWait, false);
  assert.equal(b.memory, a.memory);
});

test("modules that are not the shared build are refused with the link to use", async () => {
  await assert.rejects(instantiateShared(fixture("app.linked.wasm"), ownImports()), (e) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /does not import a shared `multimem.memory`.*--import-shared-memory/);
    return true;
  });
  const a = await instantiateShared(threadsModule(), ownImports());
  await assert.rejects(instantiateShared(threadsModule(), ownImports(), { memory: new WebAssembly.Memory({ initial: 1 }) }),
    /options.memory: expected a shared WebAssembly.Memory/);
  await assert.rejects(instantiateShared(a.module, ownImports()), /options.memory: not given/);
  await assert.rejects(instantiateShared(threadsModule(), ownImports(), { mayWait: "yes" }), /options.mayWait/);
});

test("two instances share one heap: handOff retains, receive adopts, no copy", async () => {
  const a = await instantiateShared(threadsModule(), ownImports());
  const b = await instantiateShared(a.module, ownImports(), { memory: a.memory });
  const base = a.runtime.stats().liveBuffers;
  const list = Int32List.create(a.runtime, 8);
  for (let i = 0; i < 8; i++) list.set(i, i * 1000 - 3);
  const message = handOff(list);
  assert.deepEqual(message, { address: list.address, kind: Int32List.kind, offsetInBytes: 0, length: 8 });
  assert.equal(list.buffer.refcount, 3, "the list's, its buffer wrapper's and the receiver's");
  const got = receive(b.runtime, message);
  assert.ok(got instanceof Int32List);
  assert.equal(got.address, list.address, "the same bytes, not a copy");
  assert.deepEqual([...got.view()], [...list.view()]);
  got.set(7, 42);
  assert.equal(list.get(7), 42, "a write in one instance is seen in the other");
  list.buffer.dispose();
  list.dispose();
  assert.equal(got.buffer.refcount, 2, "the receiver's list and its buffer wrapper");
  assert.equal(b.runtime.stats().liveBuffers, base + 1, "both instances count the same heap");
  got.buffer.dispose();
  got.dispose();
  assert.equal(a.runtime.stats().liveBuffers, base);
  assert.throws(() => receive(b.runtime, message), /is not a live buffer/);
});

test("growth in one instance: the other's views see the new buffers (memory.buffer re-read)", async () => {
  const a = await instantiateShared(threadsModule(), ownImports());
  const b = await instantiateShared(a.module, ownImports(), { memory: a.memory });
  const before = a.memory.buffer;
  const length = before.byteLength;
  const big = b.runtime.allocate(4 << 20); // grows the shared memory by at least 64 pages
  b.exports.fill(big.address, 9);
  assert.ok(length < big.address + big.lengthInBytes, "the memory grew to make room");
  if (a.runtime.viewPath === "resizable") {
    // memory.toResizableBuffer() made memory.buffer a growable SharedArrayBuffer: it follows growth.
    assert.equal(before.growable, true);
    assert.ok(before.byteLength >= big.address + big.lengthInBytes);
  } else {
    // A shared memory's buffer keeps the length it had when read: views over it see no new pages.
    assert.equal(before.byteLength, length);
    assert.ok(a.memory.buffer.byteLength >= big.address + big.lengthInBytes, "a fresh read of memory.buffer does");
  }
  const seen = receive(a.runtime, handOff(big));
  const v = seen.view();
  assert.equal(v.length, 4 << 20);
  for (const i of [0, 1, 255, 256, 65537, (4 << 20) - 1]) assert.equal(v[i], patternByte(9, i), `byte ${i}`);
  assert.equal(a.exports.check(seen.address, 9), -1);
  big.dispose();
  seen.dispose();
  const u = Uint8List.create(a.runtime, 16);
  assert.equal(u.view().length, 16);
  u.dispose();
});

for (const [variant, ms] of [["", 10000], ["-checked", 5000]]) {
  const name = `shared${variant}`;
  test(`soak: 4 worker_threads on the ${name} build for ${Math.round(ms * scale)} ms: counters, refcounts and bytes exact, 0 live at the end`, async () => {
    const main = await instantiateShared(threadsModule(variant), ownImports(), { mayWait: false });
    assert.equal(main.mayWait, false);
    // Each worker's random choices follow from this seed (the threads interleave as they will).
    const seed = Date.now() & 0xffff;
    const summary = await soak({
      glue: { instantiateShared, handOff, receive },
      main,
      shared: shareRuntime(main),
      workers: 4,
      durationMs: ms * scale,
      build: BUILD,
      seed,
      log: process.env.MULTIMEM_THREADS_LOG ? (m) => console.log(m) : undefined,
      spawn: () => {
        const w = new Worker(new URL("./threads-worker.js", import.meta.url));
        return {
          post: (msg, transfer) => w.postMessage(msg, transfer),
          listen: (fn) => {
            w.on("message", fn);
            w.on("error", (e) => fn({ type: "error", worker: -1, message: String(e?.stack ?? e) }));
          },
          terminate: () => w.terminate(),
        };
      },
    }).catch((e) => {
      e.message += ` (run seed ${seed})`;
      throw e;
    });
    const c = summary.counts;
    // Every buffer sent arrived and was checked; the run did real work.
    assert.equal(c.receipts, c.sends + summary.mainSends, JSON.stringify(summary));
    assert.ok(summary.rounds >= 2, `checkpoints: ${summary.rounds}`);
    assert.ok(c.sends > 200 && c.moves > 50 && c.refills > 20 && c.retains > 50 && c.allocs > 200, JSON.stringify(c));
    assert.ok(summary.pagesEnd > summary.pagesStart, `the workers grew the memory (${summary.pagesStart} -> ${summary.pagesEnd} pages)`);
    assert.equal(summary.end.liveBuffers, 0);
    assert.equal(summary.end.liveBytes, 0);
    assert.equal(summary.end.heapBytes, 0);
  });
}
