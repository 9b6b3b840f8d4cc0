// The threads page (www/threads.html) in Chromium and Firefox ESR: four Web
// Workers and the page share one runtime heap (the runtime's shared build,
// js-glue/src/threads.js) and run js-glue's soak (js-glue/test/threads-soak.js)
// for a few seconds. The page throws, and reports "error", on the first
// byte, length, refcount or counter that differs from the model; here the
// summary must show real work and an empty heap at the end, and the main
// thread's instance must have been told not to wait (Atomics.wait throws on
// a browser's main thread).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startServer } from "../serve.mjs";
import { BUILD, SCREENSHOTS, launch, waitForStatus } from "./browser.mjs";
import { checkThreads } from "./pages.mjs";
import { launchFirefox } from "./firefox.mjs";

const MS = 4000;

test(`threads page in Chromium: 4 Web Workers share one heap for ${MS} ms`, async () => {
  const browser = await launch();
  try {
    const { page, problems } = await browser.open(`/threads.html?ms=${MS}`);
    await waitForStatus(page, 120_000);
    const r = await page.evaluate(() => window.threadsResult);
    checkThreads(r, "Chromium");
    await page.screenshot({ path: join(SCREENSHOTS, "threads.png"), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});

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

test(`threads page in Firefox ESR: 4 Web Workers share one heap for ${MS} ms`, async () => {
  const tab = await firefox.open(`${server.url}/threads.html?ms=${MS}`);
  const deadline = Date.now() + 120_000;
  let state = "";
  while (!/^(ok|error)$/.test(state) && Date.now() < deadline) {
    state = await tab.evaluate(`document.getElementById("status").className`);
    if (!/^(ok|error)$/.test(state)) await new Promise((r) => setTimeout(r, 200));
  }
  const text = await tab.evaluate(`document.getElementById("status").textContent`);
  assert.equal(state, "ok", text);
  checkThreads(await tab.evaluate("window.threadsResult"), "Firefox");
  assert.deepEqual(tab.problems, []);
  await tab.close();
});
