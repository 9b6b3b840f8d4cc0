// Runs js-glue's test files in JavaScriptCore's shell (the engine of Safari
// 26: WasmGC and SIMD, no multi-memory, no Symbol.dispose, no
// toResizableBuffer), on the single-memory build of the fixtures:
//   jsc -m OUT/js-glue/test/jsc/run.js -- FIXTURES_DIR single-memory
// (OUT written by prepare.mjs). Every test of every file runs, except those
// listed in NODE_ONLY below with the reason; then engine.js's tests of what
// only this engine shows. Prints one line per test and ends with
// "N passed, N failed"; throws (exit status 3) if any failed.
import "./globals.js";
import { run, setFile } from "./node-test.js";
import { FILES } from "../files.js";

/** Tests that need what only Node has, by file (every test) or file and name. */
const NODE_ONLY = {
  "streams.test.js": "readInto needs ReadableStream and Response, which the jsc shell lacks (the WebKit browser's image page streams through readInto)",
  "worker.test.js": "node:worker_threads (the WebKit browser runs the worker page)",
  "threads.test.js": "node:worker_threads (Chromium, Firefox and the WebKit browser run the same soak in Web Workers: examples/browser/www/threads.html)",
  "feels-like-js.test.js/util.inspect / console.log show the kind, length and first elements": "node:util's inspect",
  "instantiate.test.js/this Node supports multi-memory": "jsc has no multi-memory (engine.js checks the refusal instead)",
  "instantiate.test.js/instantiate accepts bytes, ArrayBuffer, Module, Response and Promise<Response>": "Response (engine.js instantiates bytes, ArrayBuffer and Module)",
  "instantiate.test.js/bad sources and missing imports are TypeErrors naming the argument": "Response (engine.js checks the other bad sources)",
  "lowered-ops.test.js/the fixture is a multi-memory module and its single-memory build; every lowered row is imported": "compiles the multi-memory build",
  "lowered-ops.test.js/a multi-memory build is not mistaken for a single-memory one": "compiles the multi-memory build",
};
const CALLS = /^\d+ calls over every lowered instruction/;

function excluded(file, name) {
  if (file === "lowered-ops.test.js" && CALLS.test(name)) return "runs the multi-memory build live; engine.js replays its outcomes recorded on Node";
  return NODE_ONLY[file] ?? NODE_ONLY[`${file}/${name}`] ?? null;
}

if (process.env.MULTIMEM_JS_BUILD !== "single-memory") throw new Error("usage: jsc -m run.js -- FIXTURES_DIR single-memory");
for (const f of FILES) {
  if (NODE_ONLY[f]) continue; // not even loaded: it imports Node modules
  setFile(f);
  await import(`../${f}`);
}
setFile("jsc/engine.js");
await import("./engine.js");
const { passed, failed, excluded: skippedTests } = await run(excluded);
const left = [...FILES.filter((f) => NODE_ONLY[f]).map((f) => `${f}: every test (${NODE_ONLY[f]})`), ...skippedTests];
print(`\nNot run in jsc (${left.length}, Node-only):`);
for (const l of left) print(`  - ${l}`);
print(`\n${passed} passed, ${failed} failed`);
if (failed > 0) throw new Error(`${failed} js-glue tests failed in jsc`);
