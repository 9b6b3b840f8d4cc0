// The Web API cases (www/web-apis.js) in Node: run by web-apis.test.mjs with
// Node 26 (`node web-apis-node.mjs BUILD_DIR SERVER_URL`); prints the
// results as JSON. Both view paths where this Node has toResizableBuffer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as glue from "../../../js-glue/src/index.js";
import { runCases } from "../www/web-apis.js";

const [build, url] = process.argv.slice(2);
const bytes = readFileSync(join(build, "inspector.wasm"));
const env = { echoUrl: `${url}/echo`, wsUrl: `${url.replace(/^http/, "ws")}/ws-echo`, gpu: null, gpuReason: "no WebGPU in Node" };
const paths = typeof WebAssembly.Memory.prototype.toResizableBuffer === "function" ? ["resizable", "refresh"] : ["refresh"];
const results = [];
for (const viewPath of paths) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
  const { runtime } = await glue.instantiate(bytes, { env: { memory } }, { viewPath });
  results.push(...(await runCases(glue, runtime, env)));
}
process.stdout.write(JSON.stringify({ paths, results, userAgent: `Node ${process.version}` }));
