// Shared set-up for js-glue's node:test suites: loads the fixtures that
// scripts/test-js.sh builds (app.wat linked with the real runtime by the
// real linker) from $MULTIMEM_JS_FIXTURES.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { instantiate } from "../src/index.js";

const dir = process.env.MULTIMEM_JS_FIXTURES;
if (!dir) throw new Error("MULTIMEM_JS_FIXTURES is not set; run scripts/test-js.sh");

/** Bytes of a built fixture (app.linked.wasm, runtime.wasm, lib.wasm, ...). */
export function fixture(name) {
  return readFileSync(join(dir, name));
}

/** Node's major version. */
export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/** The view path the glue must pick on this Node: Node 26 has memory.toResizableBuffer(). */
export const EXPECTED_VIEW_PATH = typeof WebAssembly.Memory.prototype.toResizableBuffer === "function" ? "resizable" : "refresh";

/** An external library instance (its memory is the app's env.memory). */
export async function loadLib() {
  const { instance } = await WebAssembly.instantiate(fixture("lib.wasm"));
  return instance;
}

/**
 * Instantiates the linked app. `hooks.callback` is what the app's
 * `host.callback` import calls.
 */
export async function loadApp(options = {}, hooks = {}) {
  const lib = await loadLib();
  const { instance, runtime, module } = await instantiate(
    fixture("app.linked.wasm"),
    { env: { memory: lib }, host: { callback: () => hooks.callback?.() } },
    options,
  );
  return { app: instance.exports, runtime, module, lib, hooks };
}

/** Runs GC and event-loop turns until `done()` or `tries` rounds. */
export async function gcUntil(done, tries = 100) {
  for (let i = 0; i < tries; i++) {
    globalThis.gc();
    await turn();
    if (done()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return done();
}

/** A snapshot of the runtime memory, to show a failed call wrote nothing. */
export function snapshot(runtime) {
  return new Uint8Array(runtime.memory.buffer).slice();
}

/** Deterministic PRNG (xorshift32). */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
