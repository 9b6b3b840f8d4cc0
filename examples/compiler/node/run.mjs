// Runs an example program's linked module in Node through js-glue, in one
// or both builds, and checks it against what the wasmtime driver
// (multimem-compile) printed for the same program: the same printed lines,
// the same live buffers after a GC, and none once the globals are dropped.
// The main job (run.sh) runs it after the wasmtime runs.
//
//   node --expose-gc examples/compiler/node/run.mjs --extlib EXTLIB.wasm \
//     --wasmtime-output OUT.txt MULTI.linked.wasm [SINGLE.linked.wasm]
//
// Phases, per build: instantiate (js-glue picks nothing: the build is
// named), call main (through JSPI where the engine has it, so the
// program's gc() lets finalizers run inside main, as wasmtime's GC does),
// compare the printed lines, let the GC settle and compare the live
// buffers with wasmtime's, drop the globals and require 0 live.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { instantiate } from "../../../js-glue/src/index.js";
import { contractImports, dropGlobals } from "./host.mjs";

const { values, positionals } = parseArgs({
  options: { extlib: { type: "string" }, "wasmtime-output": { type: "string" } },
  allowPositionals: true,
});
if (!values.extlib || !values["wasmtime-output"] || positionals.length < 1 || positionals.length > 2) {
  console.error("usage: node --expose-gc run.mjs --extlib EXTLIB.wasm --wasmtime-output OUT.txt MULTI.linked.wasm [SINGLE.linked.wasm]");
  process.exit(2);
}
if (typeof globalThis.gc !== "function") {
  console.error("run.mjs: run Node with --expose-gc (the check forces collections, as the wasmtime driver does)");
  process.exit(2);
}

/** What the wasmtime driver printed: the program's lines and its counts after a GC. */
function wasmtimeRun(text) {
  const lines = text.split("\n");
  const printed = lines.slice(0, lines.findIndex((l) => l.startsWith("-- ")));
  const m = /^-- after a GC: (\d+) live buffer\(s\).*tokens made (\d+)/m.exec(text);
  if (!m) throw new Error(`no "-- after a GC" line in the wasmtime output:\n${text}`);
  return { printed, live: Number(m[1]), made: Number(m[2]) };
}

/** Collects until the live count has not changed for three rounds; returns it. */
async function settle(runtime) {
  let last = -1;
  let same = 0;
  for (let round = 0; round < 100 && same < 3; round++) {
    await runtime.ownership.collect();
    const live = runtime.stats().liveBuffers;
    same = live === last ? same + 1 : 0;
    last = live;
  }
  return last;
}

const JSPI = typeof WebAssembly.Suspending === "function" && typeof WebAssembly.promising === "function";

async function runBuild(file, build, expected) {
  const lib = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(values.extlib)));
  const printed = [];
  let runtime = null;
  let peakPages = 0;
  const collect = async () => {
    await runtime.ownership.collect();
    peakPages = Math.max(peakPages, runtime.stats().pages);
  };
  const imports = contractImports({ lib, print: (line) => printed.push(line), gc: JSPI ? new WebAssembly.Suspending(collect) : undefined });
  const instance = await instantiate(readFileSync(file), imports, { build });
  runtime = instance.runtime;
  const main = JSPI ? WebAssembly.promising(instance.exports.main) : instance.exports.main;
  await main();
  peakPages = Math.max(peakPages, runtime.stats().pages);
  for (const line of printed) console.log(line);
  const problems = [];
  if (printed.join("\n") !== expected.printed.join("\n")) {
    problems.push(`printed ${JSON.stringify(printed)}, wasmtime printed ${JSON.stringify(expected.printed)}`);
  }
  const live = await settle(runtime);
  if (live !== expected.live) problems.push(`${live} live buffer(s) after a GC, wasmtime had ${expected.live}`);
  const own = runtime.ownership.stats();
  if (own.tokensMade !== expected.made) problems.push(`${own.tokensMade} tokens made, wasmtime made ${expected.made}`);
  dropGlobals(instance.exports);
  const after = await settle(runtime);
  if (after !== 0) problems.push(`${after} live buffer(s) after dropping the globals and a GC`);
  const s = runtime.ownership.stats();
  console.log(
    `-- Node ${process.version} (js-glue, ${build} build, ${JSPI ? "gc() suspends through JSPI" : "no JSPI: releases after main"}): ` +
      `after a GC ${live} live buffer(s) (wasmtime ${expected.live}); tokens made ${s.tokensMade}, released ${s.released} ` +
      `in ${s.batchCalls} batch(es); ${after} live once the globals are dropped; peak runtime memory ${peakPages} pages`,
  );
  return problems;
}

const expected = wasmtimeRun(readFileSync(values["wasmtime-output"], "utf8"));
const builds = [["multi-memory", positionals[0]], ["single-memory", positionals[1]]].filter(([, f]) => f);
let failed = false;
for (const [build, file] of builds) {
  const problems = await runBuild(file, build, expected);
  for (const p of problems) console.error(`${basename(file)} in Node (${build} build): ${p}`);
  failed ||= problems.length > 0;
}
if (failed) process.exit(1);
console.log("-- same output and counts as in wasmtime");
