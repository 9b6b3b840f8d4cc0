// Browser tests of the examples in Debian's Chromium (playwright-core).
// Each page must load without console errors, failed requests or page
// errors, and its results must pass the checks of pages.mjs (values computed
// there from the same inputs), on both builds: the multi-memory one Chromium
// picks, and the single-memory one (`?build=single-memory`), whose other
// memories js-glue implements in JS. Screenshots go to artifacts/screenshots/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SCREENSHOTS, launch } from "./browser.mjs";
import { checkImage, checkInspector, checkWorker, waitForStatus } from "./pages.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("server: pages are cross-origin isolated", async () => {
  const { page, problems } = await browser.open("/");
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
  assert.equal(await page.evaluate(() => typeof SharedArrayBuffer), "function");
  await page.screenshot({ path: join(SCREENSHOTS, "index.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

for (const build of ["multi-memory", "single-memory"]) {
  test(`image: stream, SIMD kernels, imagelib through cross-memory copies, canvas (${build} build)`, async () => {
    const { page, problems } = await browser.open(`/image.html${build === "multi-memory" ? "" : "?build=single-memory"}`);
    await checkImage(page, build);
    await page.screenshot({ path: join(SCREENSHOTS, `image${build === "multi-memory" ? "" : "-single"}.png`), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
}

for (const build of ["multi-memory", "single-memory"]) {
  test(`inspector: allocate, drop, force GC, back to zero (${build} build)`, async () => {
    const { page, problems } = await browser.open(`/inspector.html${build === "multi-memory" ? "" : "?build=single-memory"}`);
    await checkInspector(page, build);
    await page.screenshot({ path: join(SCREENSHOTS, `inspector${build === "multi-memory" ? "" : "-single"}.png`), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
}

for (const build of ["multi-memory", "single-memory"]) {
  test(`worker: copyOut + transfer, and a shared external memory (${build} build)`, async () => {
    const { page, problems } = await browser.open(`/worker.html${build === "multi-memory" ? "" : "?build=single-memory"}`);
    await checkWorker(page, build);
    await page.screenshot({ path: join(SCREENSHOTS, `worker${build === "multi-memory" ? "" : "-single"}.png`), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
}

test("every page at phone width (390 px): no sideways scrolling, no errors", async () => {
  for (const name of ["index", "image", "inspector", "worker", "web-apis"]) {
    const { page, problems } = await browser.open(`/${name === "index" ? "" : `${name}.html`}`, { viewport: { width: 390, height: 844 } });
    if (name !== "index") await waitForStatus(page, 60_000);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${name}: the page is ${width} px wide at a 390 px viewport`);
    await page.screenshot({ path: join(SCREENSHOTS, `phone-${name}.png`), fullPage: true });
    assert.deepEqual(problems, [], name);
    await page.close();
  }
});

test("the favicon is served and every page links it", async () => {
  for (const name of ["index", "image", "inspector", "worker", "web-apis"]) {
    const { page, problems } = await browser.open(`/${name === "index" ? "" : `${name}.html`}`);
    const icon = await page.$eval('link[rel="icon"]', (l) => l.href);
    assert.match(icon, /\/favicon\.svg$/, name);
    const type = await page.evaluate((u) => fetch(u).then((r) => r.ok && r.headers.get("content-type")), icon);
    assert.equal(type, "image/svg+xml", name);
    if (name !== "index") await waitForStatus(page, 60_000);
    assert.deepEqual(problems, [], name);
    await page.close();
  }
});
