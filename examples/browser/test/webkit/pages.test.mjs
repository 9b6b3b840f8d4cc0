// The example pages in WebKitGTK (MiniBrowser 2.50, the engine of
// Safari 26: no multi-memory, no Symbol.dispose, no toResizableBuffer),
// driven by WebKitWebDriver under xvfb-run (webdriver.mjs), with the same
// checks as in Chromium (../pages.mjs). WebKit has no multi-memory, so each
// page must pick the single-memory build by itself. Run by
// scripts/test-webkit.sh; screenshots go to artifacts/screenshots/webkit-*.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startServer } from "../../serve.mjs";
import { BUILD, SCREENSHOTS, checkImage, checkInspector, checkThreads, checkWorker, waitForStatus } from "../pages.mjs";
import { launchWebKit } from "./webdriver.mjs";

let server;
let webkit;
before(async () => {
  server = await startServer({ port: 0, buildDir: BUILD, probe: true });
  webkit = await launchWebKit();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await webkit?.close();
  await server?.close();
});

/** Opens `path`; after `check(page)`, no problem in the page or on the server. */
async function page(path, name, check) {
  const httpBefore = server.problems.length;
  const p = await webkit.open(`${server.url}${path}`);
  await check(p);
  await p.screenshot({ path: join(SCREENSHOTS, `webkit-${name}.png`) });
  assert.deepEqual([...(await p.problems()), ...server.problems.slice(httpBefore)], [], path);
}

test("WebKitGTK has no multi-memory: the engine the single-memory build is for", async () => {
  await page("/", "index", async (p) => {
    const engine = await p.evaluate(() => ({
      multiMemory: WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 5, 2, 0, 0, 0, 0])),
      dispose: typeof Symbol.dispose,
      resizable: typeof WebAssembly.Memory.prototype.toResizableBuffer,
      crossOriginIsolated: self.crossOriginIsolated,
      sharedArrayBuffer: typeof SharedArrayBuffer,
      userAgent: navigator.userAgent,
    }));
    assert.equal(engine.multiMemory, false, engine.userAgent);
    assert.equal(engine.dispose, "undefined");
    assert.equal(engine.resizable, "undefined");
    assert.equal(engine.crossOriginIsolated, true);
    assert.equal(engine.sharedArrayBuffer, "function", "JSC_useSharedArrayBuffer=1 (webdriver.mjs)");
  });
});

test("image: stream, SIMD kernels, imagelib through cross-memory copies, canvas (WebKit picks the single-memory build)", async () => {
  await page("/image.html", "image", (p) => checkImage(p, "single-memory"));
});

test("inspector: allocate, drop, force GC, back to zero (WebKit picks the single-memory build)", async () => {
  await page("/inspector.html", "inspector", (p) => checkInspector(p, "single-memory"));
});

test("worker: copyOut + transfer, and a shared external memory (WebKit picks the single-memory build)", async () => {
  await page("/worker.html", "worker", (p) => checkWorker(p, "single-memory"));
});

const THREADS_MS = 4000;

test(`threads: 4 Web Workers share one runtime heap for ${THREADS_MS} ms (WebKit picks the single-memory build)`, async () => {
  await page(`/threads.html?ms=${THREADS_MS}`, "threads", async (p) => {
    await waitForStatus(p, 120_000);
    const r = await p.evaluate(() => window.threadsResult);
    checkThreads(r, "WebKit", "single-memory");
  });
});

test("the Web API page runs in WebKit without errors, on the single-memory build", async () => {
  await page("/web-apis.html", "web-apis", async (p) => {
    await waitForStatus(p, 60_000);
    const r = await p.evaluate(() => window.webApiResults);
    assert.equal(r.multiMemory, false);
    assert.deepEqual(r.paths, ["refresh"], "no toResizableBuffer: the refresh path only");
    // fixedView() and copyTo() must work for every API the browser has.
    const bad = r.results.filter((c) => c.how !== "view()" && (c.status === "rejected" || c.status === "wrong bytes"));
    assert.deepEqual(bad, []);
  });
});
