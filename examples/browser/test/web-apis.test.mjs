// Issue 14, "Views that Web APIs accept": every Web API a user hands a view
// to, on the resizable and the refresh view path, in Chromium, Firefox ESR
// and Node 26 (www/web-apis.js runs the same cases everywhere). For each
// engine and path:
//   - the documented way (fixedView() / withFixedView(), or copyTo()) works
//     for every API the engine has, with the right bytes;
//   - fixedView() copies nothing where the zero-copy view() itself is
//     accepted on a fixed-length buffer (the refresh path), and copies once
//     otherwise;
//   - what view() itself does is recorded, and README.md's table must say
//     the same (its rows are checked against these results).
// Results: artifacts/web-apis.json.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startServer } from "../serve.mjs";
import { BUILD, ROOT, SCREENSHOTS, launch, waitForStatus } from "./browser.mjs";
import { launchFirefox } from "./firefox.mjs";

const NODE26 = process.env.MULTIMEM_NODE26;
const observed = {};

/** Checks one engine's results; returns them. */
function check(engine, { paths, results }, { resizable }) {
  observed[engine] = { paths, results };
  assert.ok(paths.includes("refresh"), `${engine}: the refresh path ran`);
  if (resizable) assert.ok(paths.includes("resizable"), `${engine}: the resizable path ran (toResizableBuffer)`);
  for (const r of results) {
    const where = `${engine}, ${r.path}: ${r.api} with ${r.how}`;
    if (r.status === "unavailable" || r.status === "n/a") continue;
    if (r.how !== "view()") assert.equal(r.status, "ok", `${where}: ${r.error ?? ""}`);
    if (r.how === "copyTo()") assert.equal(r.copied, true, where);
    if (r.how === "fixedView()" || r.how === "withFixedView()") {
      // No copy where the memory's buffer is fixed-length; one where it is resizable.
      assert.equal(r.copied, r.path === "resizable", `${where}: copies ${r.copied}`);
    }
    if (r.how === "view()") assert.ok(["ok", "rejected"].includes(r.status), `${where}: ${r.status} ${r.error ?? ""}`);
  }
  return results;
}

/** The status of view() for `api` on `path` in `engine`. */
function viewStatus(engine, api, path) {
  return observed[engine].results.find((r) => r.api === api && r.path === path && r.how === "view()")?.status;
}

let server;
before(async () => {
  server = await startServer({ port: 0, buildDir: BUILD });
});
after(async () => {
  await server?.close();
  mkdirSync(join(ROOT, "artifacts"), { recursive: true });
  writeFileSync(join(ROOT, "artifacts/web-apis.json"), JSON.stringify(observed, null, 1));
});

test("Node 26: both paths; fixedView/copyTo work for every API Node has", async () => {
  assert.ok(NODE26, "MULTIMEM_NODE26 is set (scripts/test-browser.sh)");
  const out = await new Promise((resolve, reject) =>
    execFile(NODE26, [new URL("./web-apis-node.mjs", import.meta.url).pathname, BUILD, server.url], { encoding: "utf8", timeout: 120_000 }, (e, stdout, stderr) =>
      e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)),
  );
  const results = check("node", JSON.parse(out), { resizable: true });
  const available = new Set(results.filter((r) => r.status !== "unavailable").map((r) => r.api));
  for (const api of ["TextDecoder.decode", "TextEncoder.encodeInto", "crypto.getRandomValues", "Blob", "Response body", "fetch body", "postMessage (copy)", "WebSocket.send", "CompressionStream"]) {
    assert.ok(available.has(api), `Node 26 has ${api}`);
  }
});

test("Chromium: both paths; fixedView/copyTo work for every API", async () => {
  const browser = await launch({ webgpu: true });
  try {
    const { page, problems } = await browser.open("/web-apis.html");
    await waitForStatus(page, 60_000);
    const r = await page.evaluate(() => window.webApiResults);
    check("chromium", r, { resizable: true });
    assert.notEqual(r.results.find((x) => x.api === "GPUQueue.writeBuffer").status, "unavailable", "WebGPU (SwiftShader) ran");
    await page.screenshot({ path: join(SCREENSHOTS, "web-apis.png"), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await browser.close();
  }
});

test("Firefox ESR: fixedView/copyTo work for every API", async () => {
  const firefox = await launchFirefox();
  try {
    const tab = await firefox.open(`${server.url}/web-apis.html`);
    const deadline = Date.now() + 60_000;
    let state;
    while ((state = await tab.evaluate(`document.getElementById("status").className`)) === "" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const text = await tab.evaluate(`document.getElementById("status").textContent`);
    assert.equal(state, "ok", `page status: ${text}`);
    const r = await tab.evaluate("window.webApiResults");
    check("firefox", r, { resizable: false });
    observed.firefox.version = firefox.version;
    assert.deepEqual(tab.problems, []);
    await tab.close();
  } finally {
    await firefox.close();
  }
});

test("README.md's table says which view works, as observed", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("<!-- web-apis-table -->");
  assert.ok(at >= 0, "README.md has the Web API table");
  const rows = readme.slice(at).split("\n").slice(3).filter((l) => l.startsWith("| "));
  const engines = Object.keys(observed);
  assert.deepEqual(engines.sort(), ["chromium", "firefox", "node"], "all three engines ran");
  const apis = [...new Set(observed.chromium.results.map((r) => r.api))];
  assert.equal(rows.length, apis.length, "one row per API");
  for (const row of rows) {
    const [api, resizable, refresh] = row.split("|").slice(1, 4).map((c) => c.trim());
    const name = api.replaceAll("`", "");
    assert.ok(apis.includes(name), `README row ${name}`);
    for (const [path, cell] of [["resizable", resizable], ["refresh", refresh]]) {
      for (const engine of engines) {
        const status = viewStatus(engine, name, path);
        if (status === undefined || status === "unavailable") continue;
        const said = new RegExp(`${engine === "node" ? "Node" : engine === "chromium" ? "Chromium" : "Firefox"} (yes|no)`).exec(cell)?.[1];
        assert.ok(said, `README: ${name}, ${path}: says nothing about ${engine} (${cell})`);
        assert.equal(said === "yes", status === "ok", `README: ${name}, ${path}, ${engine}: says ${said}, observed ${status}`);
      }
    }
  }
});
