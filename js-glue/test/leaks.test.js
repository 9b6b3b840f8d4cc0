// Leaks (run with --expose-gc): 1,000,000 wrappers created and dropped in
// batches across event-loop turns, then forced GC. The runtime's live-buffer
// count must return to its baseline (nothing lost), every wrapper must be
// released exactly once (glue counter), and a shared buffer's refcount,
// read from the runtime, must be back at 1 (no release twice, none missed).
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as turn } from "node:timers/promises";
import { Float32List, Uint8List } from "../src/index.js";
import { gcUntil, loadApp } from "./helpers.js";

const TOTAL = 1_000_000;
const BATCH = 10_000;

test(`${TOTAL} wrappers across event-loop turns: back to baseline, each released once`, async () => {
  assert.equal(typeof globalThis.gc, "function", "run with --expose-gc");
  const { runtime: rt } = await loadApp();
  const shared = rt.allocate(64);
  const base = rt.stats();
  let created = 0;
  let disposed = 0;
  let sink = 0;
  for (let b = 0; b < TOTAL / BATCH; b++) {
    for (let i = 0; i < BATCH; i++) {
      switch (i % 5) {
        case 0:
        case 1: {
          // A new buffer, dropped: the finalizer frees it.
          const l = Float32List.create(rt, 4);
          sink += l.length;
          break;
        }
        case 2:
        case 3: {
          // A view of a shared buffer, dropped: the finalizer releases one reference.
          const v = Uint8List.view(shared, 8 * (i % 8), 8);
          sink += v.length;
          break;
        }
        default: {
          // Disposed explicitly: the finalizer must not release it again.
          const l = rt.allocate(16);
          l.dispose();
          disposed++;
        }
      }
      created++;
    }
    await turn();
  }
  assert.equal(created, TOTAL);
  assert.ok(sink > 0);
  const settled = await gcUntil(() => {
    const s = rt.stats();
    return s.liveBuffers === base.liveBuffers && s.releases - base.releases === TOTAL;
  }, 500);
  const s = rt.stats();
  assert.ok(settled, `settled: live ${s.liveBuffers} vs ${base.liveBuffers}, releases ${s.releases - base.releases}`);
  assert.equal(s.liveBuffers, base.liveBuffers, "live-buffer count back to baseline");
  assert.equal(s.liveBytes, base.liveBytes, "live bytes back to baseline");
  assert.equal(s.releases - base.releases, TOTAL, "every wrapper released exactly once");
  assert.equal(s.finalized - base.finalized, TOTAL - disposed, "the finalizer released exactly the dropped ones");
  assert.equal(s.finalizerErrors, 0, "no release was refused (no double release)");
  assert.equal(shared.refcount, 1, "the shared buffer's runtime refcount is back to 1");
  // Every registry entry runs, disposed wrappers' (no-op) ones included:
  // the glue's slot table does not grow without bound.
  assert.ok(await gcUntil(() => rt.stats().registered === base.registered, 500), `registered ${rt.stats().registered} vs ${base.registered}`);
  // More GC turns change nothing.
  for (let i = 0; i < 3; i++) await gcUntil(() => false, 1);
  assert.equal(rt.stats().releases - base.releases, TOTAL);
  shared.dispose();
  assert.equal(rt.stats().liveBuffers, base.liveBuffers - 1);
});
