// Ownership by GC objects in JS (docs/ABI.md, "Ownership by GC objects";
// src/ownership.js): the example compiler's programs own their buffers
// through the glue's multimem:gc tokens, and the glue releases them in
// batches through buffer_release_batch, on the build under test (BUILD).
//
//   - each program ends with live buffers == the buffers its globals reach
//     (as the wasmtime driver saw them) after a GC, and 0 once the globals
//     are dropped; every token released exactly once, in batches;
//   - no release happens inside a synchronous task (churn.mm's main);
//   - runtime memory stays bounded when the loop returns to the event loop;
//   - own() applies the queue at RELEASE_BATCH; refused slots are reported
//     and skipped, never released twice; close() releases nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RELEASE_BATCH } from "../src/abi.js";
import { ReleaseError, Token, instantiate } from "../src/index.js";
import { BUILD, NODE_MAJOR, fixture, gcUntil } from "./helpers.js";
import { driverAfterGc, dropGlobals, loadProgram } from "./ownership-gc-programs.js";

/** A diagnostic line in the report (the jsc runner's test() passes no context). */
const note = (t, message) => t?.diagnostic?.(message);

/** JS Promise Integration: Node 24 and 26 have it; Node 22 and JSC 2.50 (Safari 26) do not. */
const JSPI = typeof WebAssembly.Suspending === "function" && typeof WebAssembly.promising === "function";

test(`churn.mm (${BUILD} build): with JSPI its gc() suspends main() while finalizers run, so 1M lists stay in bounded memory; without, the releases wait for main() to return`, async (t) => {
  const inNode = typeof process === "object" && typeof process.versions?.node === "string";
  if (inNode && NODE_MAJOR >= 24) assert.ok(JSPI, `Node ${NODE_MAJOR} has JSPI`);
  let runtime;
  let collections = 0;
  let peakPages = 0;
  const samples = [];
  const collect = async () => {
    collections++;
    await runtime.ownership.collect();
    const s = runtime.stats();
    samples.push(s.liveBuffers);
    peakPages = Math.max(peakPages, s.pages);
  };
  const { exports, runtime: rt } = await loadProgram("churn", BUILD, { gc: JSPI ? new WebAssembly.Suspending(collect) : collect });
  runtime = rt;
  const { live, made } = driverAfterGc("churn");
  if (!JSPI) {
    // The import cannot suspend: each gc() only starts collect(), whose
    // finalizers wait until main() returns; all 1M stay live until then.
    exports.main();
    assert.equal(runtime.ownership.stats().released, 0, "nothing released inside main() without JSPI");
    assert.ok(runtime.stats().liveBuffers >= made);
    assert.ok(await gcUntil(() => runtime.stats().liveBuffers === live, 200), `live after main: ${runtime.stats().liveBuffers}`);
    return;
  }
  await WebAssembly.promising(exports.main)();
  const own = runtime.ownership.stats();
  assert.equal(own.tokensMade, made, "tokens made, as in wasmtime");
  // churn.mm calls gc() every 100,000 lists: each suspension released what
  // the loop dropped since the last one, down to the lists it keeps.
  assert.equal(collections, 9, "churn.mm's nine gc() calls (i = 100,000 to 900,000)");
  assert.ok(samples.every((n) => n <= live + 256), `live after each gc(): ${samples.join(", ")} (the program keeps ${live})`);
  // Bound: the 100,000 lists made between two gc() calls (a 16 B header and
  // 16-63 B of data each, about 64 B a block) fill about 98 pages; after
  // each collection the heap reuses the freed blocks instead of growing.
  const bound = 128;
  assert.ok(peakPages <= bound && runtime.stats().pages <= bound, `runtime memory: peak ${peakPages} pages, now ${runtime.stats().pages} (bound ${bound}); without JSPI it reaches about 976`);
  assert.ok(own.released >= made - live - 100_064, `${own.released} released inside main()`);
  assert.ok(await gcUntil(() => runtime.stats().liveBuffers === live, 200), `live after main and a GC: ${runtime.stats().liveBuffers}, wasmtime had ${live}`);
  note(t, `1M lists: peak ${peakPages} pages, live after each gc(): ${samples.join(" ")}`);
});

for (const name of ["functions", "lists", "globals", "churn"]) {
  test(`${name}.mm (${BUILD} build): live == reachable after a GC, 0 once the globals are dropped, every token released once, in batches`, async (t) => {
    const { exports, runtime } = await loadProgram(name);
    const { live, made } = driverAfterGc(name);
    exports.main();
    const own = runtime.ownership;
    const afterMain = runtime.stats();
    // Finalizers never run inside a synchronous task: main() made every
    // token and nothing it dropped can have been released yet.
    assert.equal(own.stats().tokensMade, made, "tokens made, as in wasmtime");
    assert.equal(own.stats().collected, 0, "no finalizer ran inside main()");
    assert.equal(own.stats().released, 0);
    assert.ok(afterMain.liveBuffers >= made, `every owned buffer still live after main(): ${afterMain.liveBuffers} < ${made}`);
    note(t, `after main(): ${afterMain.liveBuffers} live buffers, ${afterMain.pages} pages`);

    assert.ok(await gcUntil(() => runtime.stats().liveBuffers === live, 200), `live after GC: ${runtime.stats().liveBuffers}, wasmtime had ${live}`);
    let s = own.stats();
    assert.equal(s.tokensOutstanding, live, "one token per buffer the globals reach");
    assert.equal(s.released, made - live);
    assert.equal(s.queued, 0);

    const dropped = dropGlobals(exports);
    if (live > 0) assert.ok(dropped > 0, "a program whose globals reach buffers exports them");
    assert.ok(await gcUntil(() => runtime.stats().liveBuffers === 0 && own.stats().collected === made, 200), `live once the globals are dropped: ${runtime.stats().liveBuffers}`);
    s = own.stats();
    assert.equal(s.released, made, "every token released once");
    assert.equal(s.refused, 0);
    assert.equal(s.tokensOutstanding, 0);
    assert.equal(runtime.stats().liveBytes, 0);
    // Batched: each call releases up to RELEASE_BATCH; one GC cleanup task's
    // tokens go in full batches and at most one partial one.
    assert.ok(s.batchCalls >= Math.ceil(made / RELEASE_BATCH), `${s.batchCalls} batch calls cannot release ${made}`);
    if (made > 10_000) assert.ok(s.batchCalls <= Math.ceil(made / RELEASE_BATCH) + 16, `${s.batchCalls} batch calls for ${made} releases`);
    note(t, `${made} tokens released in ${s.batchCalls} buffer_release_batch calls`);
  });
}

test(`1M tokens owned from a loop that returns to the event loop stay in bounded runtime memory (${BUILD} build)`, async (t) => {
  // churn.mm's shape (64 lists kept, a GC every GC_EVERY), driven from JS so
  // that the loop returns to the event loop after each GC: only the lists
  // made between two collections can be live, about GC_EVERY * 64 B.
  const { exports: x, runtime } = await loadProgram("churn");
  const own = runtime.ownership;
  const GC_EVERY = 10_000;
  const BOUND_PAGES = 2 + Math.ceil((2 * GC_EVERY * 80) / 65536); // 2 pages at start, 80 B per list (header + size class), twice for slack
  const ring = new Array(64);
  let maxLive = 0;
  for (let i = 0; i < 1_000_000; i++) {
    ring[i % 64] = own.own(x.buffer_new(16 + (i % 48)));
    if (i % GC_EVERY === GC_EVERY - 1) {
      maxLive = Math.max(maxLive, x.stats_live_buffers());
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  const pages = x.stats_pages(); // the memory never shrinks: this is the peak
  note(t, `1M lists, a GC every ${GC_EVERY}: peak ${pages} pages (bound ${BOUND_PAGES}), at most ${maxLive} live at a GC`);
  assert.ok(pages <= BOUND_PAGES, `${pages} pages for 1M lists, bound ${BOUND_PAGES}`);
  assert.ok(maxLive <= 3 * GC_EVERY, `at most a few GC intervals of lists live at once: ${maxLive}`);
  assert.ok(await gcUntil(() => x.stats_live_buffers() === 64, 200), `live: ${x.stats_live_buffers()}, the ring holds 64`);
  const s = own.stats();
  assert.equal(s.released, 1_000_000 - 64);
  assert.ok(s.batchCalls <= s.released / 100, `${s.batchCalls} batch calls for ${s.released} releases`);
  ring.fill(null);
  assert.ok(await gcUntil(() => x.stats_live_buffers() === 0, 200));
  assert.equal(own.stats().released, 1_000_000);
});

/** A compiler program's instance for driving own() from JS (main is not called). */
async function ownershipOnly(options) {
  const { exports, runtime } = await loadProgram("functions", BUILD, { ownership: options });
  return { x: exports, own: runtime.ownership, runtime };
}

/** Owns `n` new buffers and drops the tokens; returns their addresses. */
function ownAndDrop(x, own, n) {
  const addresses = [];
  for (let i = 0; i < n; i++) {
    const a = x.buffer_new(8);
    own.own(a);
    addresses.push(a);
  }
  return addresses;
}

test("own() applies the queue once RELEASE_BATCH are queued: one buffer_release_batch per 256 addresses", async () => {
  const { x, own } = await ownershipOnly({ flush: "manual" });
  const base = x.stats_live_buffers();
  ownAndDrop(x, own, 1000);
  assert.ok(await gcUntil(() => own.stats().collected === 1000), `collected ${own.stats().collected} of 1000`);
  assert.equal(own.stats().queued, 1000, "manual mode: queued, not applied");
  assert.equal(x.stats_live_buffers(), base + 1000);
  const keep = own.own(x.buffer_new(8));
  const s = own.stats();
  assert.equal(s.ownFlushes, 1);
  assert.equal(s.released, 1000);
  assert.equal(s.batchCalls, Math.ceil(1000 / RELEASE_BATCH));
  assert.equal(s.queued, 0);
  assert.equal(x.stats_live_buffers(), base + 1, "only the new token's buffer");
  assert.equal(own.flush(), 0, "nothing left to flush");
  assert.ok(keep);
});

test("below RELEASE_BATCH, own() leaves the queue; flush() applies it", async () => {
  const { x, own } = await ownershipOnly({ flush: "manual" });
  const base = x.stats_live_buffers();
  ownAndDrop(x, own, 100);
  assert.ok(await gcUntil(() => own.stats().collected === 100));
  own.own(x.buffer_new(8));
  assert.equal(own.stats().ownFlushes, 0);
  assert.equal(own.stats().queued, 100);
  assert.equal(own.flush(), 100);
  assert.equal(own.stats().batchCalls, 1);
  assert.equal(x.stats_live_buffers(), base + 1);
});

test("a token is a new empty Token per own(), which adds no reference", async () => {
  const { x, own } = await ownershipOnly({ flush: "manual" });
  const a = x.buffer_new(8);
  x.buffer_retain(a);
  const t1 = own.own(a);
  const t2 = own.own(a);
  assert.ok(t1 instanceof Token);
  assert.deepEqual(Reflect.ownKeys(t1), []);
  assert.ok(Object.isFrozen(Token.prototype));
  assert.notEqual(t1, t2);
  assert.equal(x.buffer_refcount(a), 2, "own() takes over references, it adds none");
});

test("refused slots: each reported as a ReleaseError naming the address and code, skipped, the others released exactly once", async () => {
  const { x, own } = await ownershipOnly({ flush: "manual" });
  const base = x.stats_live_buffers();
  const good = [];
  for (let i = 0; i < 10; i++) good.push(x.buffer_new(32));
  const freed = x.buffer_new(32);
  const inside = good[0] + 16; // inside a buffer: not the start of one
  for (const a of [...good.slice(0, 5), freed, inside, ...good.slice(5)]) own.own(a);
  x.buffer_release(freed); // wasm code releasing a token's reference: against the ABI
  assert.ok(await gcUntil(() => own.stats().collected === 12));
  let thrown = null;
  try {
    own.flush();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof AggregateError, `expected an AggregateError of two ReleaseErrors, got ${thrown}`);
  const errors = thrown.errors;
  assert.equal(errors.length, 2);
  for (const e of errors) {
    assert.ok(e instanceof ReleaseError);
    assert.match(e.message, /releasing the buffer 0x[0-9a-f]+ of a collected multimem:gc token: buffer_release_batch refused it: (NOT_A_BUFFER|FREED)/);
  }
  assert.deepEqual(errors.map((e) => e.address).sort((a, b) => a - b), [freed, inside].sort((a, b) => a - b));
  assert.equal(errors.find((e) => e.address === inside).codeName, "NOT_A_BUFFER");
  assert.ok(["FREED", "NOT_A_BUFFER"].includes(errors.find((e) => e.address === freed).codeName));
  const s = own.stats();
  assert.equal(s.refused, 2);
  assert.equal(s.released, 10);
  assert.equal(x.stats_live_buffers(), base, "the 10 good buffers released, once each");
  assert.equal(own.flush(), 0, "refused slots are not retried");
});

test("in microtask mode a refused slot goes to onReleaseError; the rest of the queue is released", async () => {
  const seen = [];
  const { x, own } = await ownershipOnly({ onReleaseError: (e) => seen.push(e) });
  const base = x.stats_live_buffers();
  const a = x.buffer_new(16);
  own.own(a + 32 * 1024 * 1024); // far outside the memory
  ownAndDrop(x, own, 3);
  x.buffer_release(a);
  assert.ok(await gcUntil(() => own.stats().collected === 4 && own.stats().queued === 0));
  assert.equal(seen.length, 1);
  assert.ok(seen[0] instanceof ReleaseError);
  assert.equal(seen[0].address, a + 32 * 1024 * 1024);
  assert.equal(seen[0].codeName, "NOT_A_BUFFER");
  assert.equal(own.stats().released, 3);
  assert.equal(x.stats_live_buffers(), base);
});

test("close() (teardown): queued and later-collected tokens release nothing", async () => {
  const { x, own } = await ownershipOnly({ flush: "manual" });
  const base = x.stats_live_buffers();
  ownAndDrop(x, own, 5);
  assert.ok(await gcUntil(() => own.stats().collected === 5));
  own.close();
  ownAndDrop(x, own, 3);
  assert.ok(await gcUntil(() => own.stats().collected === 8));
  assert.equal(own.flush(), 0);
  const s = own.stats();
  assert.equal(s.dropped, 8);
  assert.equal(s.released, 0);
  assert.equal(s.batchCalls, 0);
  assert.equal(x.stats_live_buffers(), base + 8);
});

test("instantiate supplies multimem:gc only to modules that import it, and refuses a caller's own", async () => {
  const { runtime } = await loadProgram("functions");
  assert.ok(runtime.ownership !== null);
  const lib = new WebAssembly.Instance(new WebAssembly.Module(fixture("compiler/extlib.wasm")));
  const file = `compiler/functions.${BUILD === "single-memory" ? "linked.single" : "linked"}.wasm`;
  const imports = { env: { memory: lib }, host: { print_i64() {}, print_f64() {} }, "multimem:gc": { own: () => ({}) } };
  await assert.rejects(instantiate(fixture(file), imports), (e) => e instanceof TypeError && /imports\.multimem:gc: the glue provides/.test(e.message));
  const plain = await instantiate(fixture("app.linked.wasm"), { env: { memory: (await WebAssembly.instantiate(fixture("lib.wasm"))).instance }, host: { callback() {} } });
  assert.equal(plain.runtime.ownership, null, "app.wat imports nothing from multimem:gc");
});

test("where the engine cannot list a module's imports (JSC), the glue supplies multimem:gc anyway and it works", async () => {
  const original = WebAssembly.Module.imports;
  WebAssembly.Module.imports = () => {
    throw new TypeError("WebAssembly.Module.imports unable to produce import descriptors for the given module");
  };
  let program;
  try {
    program = await loadProgram("lists");
  } finally {
    WebAssembly.Module.imports = original;
  }
  const { exports, runtime } = program;
  const { live, made } = driverAfterGc("lists");
  exports.main();
  assert.ok(await gcUntil(() => runtime.stats().liveBuffers === live && runtime.ownership.stats().queued === 0, 200));
  assert.equal(runtime.ownership.stats().released, made - live);
});

test("a buffer held by a token and by a JS wrapper is released once by each, in either order", async () => {
  const { x, own, runtime } = await ownershipOnly({});
  const base = x.stats_live_buffers();
  // Token collected first, then the wrapper disposed.
  const a = x.buffer_new(24);
  let token = own.own(a);
  const w = runtime.wrap(a); // the wrapper's own reference
  assert.equal(x.buffer_refcount(a), 2);
  token = null;
  assert.ok(await gcUntil(() => own.stats().released === 1), "the token's reference released");
  assert.equal(x.buffer_refcount(a), 1, "the wrapper's reference is left");
  assert.equal(w.lengthInBytes, 24);
  w.dispose();
  assert.equal(x.stats_live_buffers(), base);
  // Wrapper collected first (its finalizer), the token still held.
  const b = x.buffer_new(24);
  const held = own.own(b);
  (() => {
    runtime.wrap(b);
  })();
  assert.ok(await gcUntil(() => x.buffer_refcount(b) === 1), "the wrapper's finalizer released its reference");
  assert.equal(x.stats_live_buffers(), base + 1, "the token keeps the buffer");
  assert.ok(held instanceof Token);
  assert.equal(own.stats().released, 1);
  assert.equal(runtime.stats().finalizerErrors, 0);
  assert.equal(own.stats().refused, 0);
});
