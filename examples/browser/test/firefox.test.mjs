// The example pages in Firefox ESR (headless, WebDriver BiDi: firefox.mjs):
// each loads with status "ok" and no console error, page error, failed
// request or HTTP error, and reports the results the Chromium tests check
// in detail (examples.test.mjs): the image page streams the whole file and
// leaves no buffer alive, the worker page's two hand-offs agree; and the
// threads page's soak (4 Web Workers on one shared heap, checkThreads).
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startServer } from "../serve.mjs";
import { BUILD } from "./browser.mjs";
import { checkThreads } from "./pages.mjs";
import { launchFirefox } from "./firefox.mjs";

/** How long the threads page's soak runs (threads.test.mjs runs it in Chromium). */
const THREADS_MS = 4000;

let server;
let firefox;
before(async () => {
  server = await startServer({ port: 0, buildDir: BUILD });
  firefox = await launchFirefox();
});
after(async () => {
  await firefox?.close();
  await server?.close();
});

/** Opens `path`, waits (up to `timeout` ms) for #status to be "ok" or "error"; returns the tab. */
async function open(path, timeout = 60_000) {
  const tab = await firefox.open(`${server.url}${path}`);
  const deadline = Date.now() + timeout;
  let state = "";
  while (!/^(ok|error)$/.test(state) && Date.now() < deadline) {
    state = await tab.evaluate(`document.getElementById("status")?.className ?? "ok"`);
    if (!/^(ok|error)$/.test(state)) await new Promise((r) => setTimeout(r, 200));
  }
  const text = await tab.evaluate(`document.getElementById("status")?.textContent ?? ""`);
  assert.equal(state, "ok", `${path}: ${text}`);
  return tab;
}

test(`every page loads in Firefox ESR without errors`, async () => {
  for (const path of ["/", "/image.html", "/inspector.html", "/worker.html", "/web-apis.html"]) {
    const tab = await open(path);
    if (path === "/image.html") {
      const r = await tab.evaluate("window.imageResult");
      assert.equal(r.fileBytes, statSync(join(BUILD, "image.ppm")).size, "the whole file streamed");
      assert.equal(r.liveBuffersAfter, 0);
      assert.equal(r.viewPath, "resizable", "Firefox ESR has memory.toResizableBuffer");
      assert.equal(r.build, "multi-memory", "Firefox ESR has multi-memory: the page loads that build");
    }
    if (path === "/worker.html") {
      const r = await tab.evaluate("window.workerResult");
      assert.equal(r.crossOriginIsolated, true);
      assert.equal(r.build, "multi-memory");
      assert.equal(r.copy.values.length, r.copy.length);
      assert.equal(r.shared.mainSum, r.shared.workerSum, "both threads see the same shared bytes");
    }
    if (path === "/inspector.html") {
      const s = await tab.evaluate("window.inspector");
      assert.equal(s.liveBuffers, 0);
      assert.equal(s.build, "multi-memory");
    }
    assert.deepEqual(tab.problems, [], path);
    await tab.close();
  }
});

test(`threads page in Firefox ESR: 4 Web Workers share one heap for ${THREADS_MS} ms`, async () => {
  const tab = await open(`/threads.html?ms=${THREADS_MS}`, 120_000);
  checkThreads(await tab.evaluate("window.threadsResult"), "Firefox", "multi-memory");
  assert.deepEqual(tab.problems, []);
  await tab.close();
});
