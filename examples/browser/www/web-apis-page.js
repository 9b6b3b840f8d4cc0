// The Web API page: runs web-apis.js's cases on both view paths in this
// browser and shows the results (also as window.webApiResults for the tests).
import * as glue from "@multimem/js-glue";
import { appBuilds, requestedBuild, run, status } from "./common.js";
import { runCases } from "./web-apis.js";

/** A WebGPU device, or null and why not. */
async function gpuDevice() {
  if (!navigator.gpu) return { gpu: null, gpuReason: "no navigator.gpu in this browser" };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { gpu: null, gpuReason: "navigator.gpu.requestAdapter() gave no adapter" };
  return { gpu: await adapter.requestDevice(), gpuReason: null };
}

function cell(row) {
  const td = document.createElement("td");
  if (!row) return td;
  td.className = row.status === "ok" ? "ok" : row.status === "rejected" || row.status === "wrong bytes" ? "bad" : "note";
  td.textContent = row.status === "ok" ? `ok${row.copied ? " (1 copy)" : " (no copy)"}${row.clonedBytes ? `, cloned ${row.clonedBytes.toLocaleString("en-US")} B` : ""}` : row.status;
  if (row.error) td.title = row.error;
  return td;
}

run(async () => {
  const env = { echoUrl: "/echo", wsUrl: `${location.origin.replace(/^http/, "ws")}/ws-echo`, ...(await gpuDevice()) };
  const results = [];
  const paths = glue.Runtime && typeof WebAssembly.Memory.prototype.toResizableBuffer === "function" ? ["resizable", "refresh"] : ["refresh"];
  for (const viewPath of paths) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
    const { runtime } = await glue.instantiate(appBuilds("inspector"), { env: { memory } }, { viewPath, build: requestedBuild() });
    results.push(...(await runCases(glue, runtime, env)));
  }
  const tbody = document.querySelector("#results tbody");
  for (const api of [...new Set(results.map((r) => r.api))]) {
    for (const path of paths) {
      const rows = results.filter((r) => r.api === api && r.path === path);
      const tr = tbody.insertRow();
      tr.insertCell().textContent = api;
      tr.insertCell().textContent = path;
      for (const how of ["view()", "fixedView()", "copyTo()"]) tr.append(cell(rows.find((r) => r.how === how || (how === "fixedView()" && r.how === "withFixedView()"))));
    }
  }
  window.webApiResults = { paths, results, userAgent: navigator.userAgent, multiMemory: glue.supportsMultiMemory() };
  const bad = results.filter((r) => r.how !== "view()" && (r.status === "rejected" || r.status === "wrong bytes"));
  // "ok" means the page ran; failures show in red in the table (and the tests check every cell).
  status(`done: ${paths.join(" and ")} paths; ${bad.length} failures with fixedView()/copyTo()`, "ok");
});
