// The image pipeline page in Debian's Chromium (playwright-core): the four
// variants run in the browser, write the JPEG this file computes on Node
// from the same input, copy the expected bytes, leak nothing, and the page
// draws its bar chart. Screenshot: artifacts/screenshots/image-pipeline.png.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { SCREENSHOTS, launch, waitForStatus } from "../../harness/chromium.mjs";
import { startServer } from "../../harness/serve.mjs";
import { defaultBuildDir, loadImages, loadPipeline } from "../run-node.mjs";
import { VARIANTS, fnv1a, measure } from "../www/pipeline.js";

const here = resolve(import.meta.dirname);
const BUILD = defaultBuildDir();
let server, browser, nodeHash;

before(async () => {
  server = await startServer({
    roots: [["/build/", BUILD], ["/js-glue/", join(here, "../../../js-glue/src")], ["/", join(here, "../www")]],
  });
  browser = await launch(server.url);
  const pipeline = await loadPipeline(BUILD);
  nodeHash = fnv1a(measure(pipeline.variants.c, loadImages(BUILD).images[0]).output);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("image-pipeline page: four variants, one JPEG, the copies, the chart", async () => {
  const { page, problems } = await browser.open("/?runs=1");
  await waitForStatus(page, 240_000);
  const r = await page.evaluate(() => window.pipelineResult);
  assert.deepEqual(r.rows.map((x) => x.variant), VARIANTS);
  for (const row of r.rows) {
    assert.equal(row.hash, nodeHash, `${row.variant}: same JPEG as Node`);
    assert.ok(row.medianMs > 0);
  }
  const rgba = r.manifest.rawBytes;
  const byName = Object.fromEntries(r.rows.map((x) => [x.variant, x]));
  const once = r.manifest.files[0].bytes + 2 * rgba + byName.c.outputBytes;
  assert.equal(byName["a-loop"].bytesCopied, once);
  assert.equal(byName.b.bytesCopied, once);
  assert.equal(byName["a-js"].bytesCopied, 2 * once);
  assert.equal(byName["a-js"].boundaryCrossings, once);
  assert.equal(byName.c.bytesCopied, 0);
  assert.equal(r.liveBuffers, 0);
  assert.equal(r.codecLiveBlocks, 0);
  assert.equal(r.linkedCodecLiveBlocks, 0);
  assert.ok(r.memories.linkedRuntime >= rgba, "the runtime memory held the pixels");
  assert.ok(r.memories.linkedCodec >= rgba, "the codec memory held the pixels");
  // The chart: one bar per variant, widths in the order of the times.
  const bars = await page.$$eval("#chart rect", (els) => els.map((e) => [e.dataset.variant, Number(e.getAttribute("width"))]));
  assert.deepEqual(bars.map(([v]) => v), VARIANTS);
  const slowest = r.rows.reduce((a, b) => (b.medianMs > a.medianMs ? b : a)).variant;
  assert.equal(bars.find(([v]) => v === slowest)[1], 520);
  await page.screenshot({ path: join(SCREENSHOTS, "image-pipeline.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
