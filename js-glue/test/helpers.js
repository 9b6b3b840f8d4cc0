// Shared set-up for js-glue's node:test suites: loads the fixtures that
// scripts/test-js.sh builds (app.wat linked with the real runtime by the
// real linker) from $MULTIMEM_JS_FIXTURES.
//
// The whole suite runs twice: on the multi-memory build of each linked
// fixture and, with MULTIMEM_JS_BUILD=single-memory, on its single-memory
// build (`multimem-link --single-memory`, NAME.single.wasm next to
// NAME.wasm), whose other memories the glue implements in JS. The tests are
// the same: fixture() hands out the build under test, and loadApp() passes
// both builds to instantiate, forcing the one under test.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { instantiate } from "../src/index.js";

const dir = process.env.MULTIMEM_JS_FIXTURES;
if (!dir) throw new Error("MULTIMEM_JS_FIXTURES is not set; run scripts/test-js.sh");

/** "multi-memory" or "single-memory": the build of the linked fixtures under test. */
export const BUILD = process.env.MULTIMEM_JS_BUILD ?? "multi-memory";
if (BUILD !== "multi-memory" && BUILD !== "single-memory") throw new Error(`MULTIMEM_JS_BUILD: expected multi-memory or single-memory, got ${BUILD}`);

/** The fixtures that are linked modules, so have a single-memory build. */
const LINKED = new Set(["app.linked.wasm", "app.only-app.wasm", "app.minimal.wasm"]);

/** The file name of `name`'s build `build` (unlinked fixtures have one build). */
function buildOf(name, build) {
  return build === "single-memory" && LINKED.has(name) ? name.replace(/\.wasm$/, ".single.wasm") : name;
}

/**
 * Bytes of a built fixture (app.linked.wasm, runtime.wasm, lib.wasm, ...);
 * a linked one in the build under test (BUILD), or in `build`.
 */
export function fixture(name, build = BUILD) {
  return readFileSync(join(dir, buildOf(name, build)));
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
  const { exports, runtime, module, build } = await instantiate(
    { multiMemory: fixture("app.linked.wasm", "multi-memory"), singleMemory: fixture("app.linked.wasm", "single-memory") },
    { env: { memory: lib }, host: { callback: () => hooks.callback?.() } },
    { build: BUILD, ...options },
  );
  if (build !== BUILD || runtime.build !== BUILD) throw new Error(`instantiate loaded the ${build} build, not ${BUILD}`);
  return { app: exports, runtime, module, lib, hooks };
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
