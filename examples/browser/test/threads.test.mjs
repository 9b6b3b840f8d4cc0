// The threads page (www/threads.html) in Chromium (Firefox ESR: firefox.test.mjs;
// WebKitGTK: webkit/pages.test.mjs): four Web
// Workers and the page share one runtime heap (the runtime's shared build,
// js-glue/src/threads.js) and run js-glue's soak (js-glue/test/threads-soak.js)
// for a few seconds. The page throws, and reports "error", on the first
// byte, length, refcount or counter that differs from the model; here the
// summary must show real work and an empty heap at the end, and the main
// thread's instance must have been told not to wait (Atomics.wait throws on
// a browser's main thread).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { SCREENSHOTS, launch, waitForStatus } from "./browser.mjs";
import { checkThreads } from "./pages.mjs";

const MS = 4000;

test(`threads page in Chromium: 4 Web Workers share one heap for ${MS} ms`, async () => {
  const browser = await launch();
  try {
    const { page, problems } = await browser.open(`/threads.html?ms=${MS}`);
    await waitForStatus(page, 120_000);
    const r = await page.evaluate(() => window.threadsResult);
    checkThreads(r, "Chromium", "multi-memory");
    await page.screenshot({ path: join(SCREENSHOTS, "threads.png"), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
