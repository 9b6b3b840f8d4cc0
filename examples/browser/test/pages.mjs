// The checks of the three example pages (image, inspector, worker), shared
// by every browser that runs them: Chromium through playwright-core
// (examples.test.mjs, both builds), WebKitGTK through WebKitWebDriver
// (webkit/pages.test.mjs, the single-memory build). Each check takes a
// `page` with the few methods they use, which playwright's Page has and
// webkit/webdriver.mjs implements: evaluate(fn, arg), $eval(selector, fn),
// click(selector), waitForTimeout(ms), screenshot({ path }); and the
// build the page must have loaded. Results must equal values computed here
// from the same inputs: the image pipeline recomputed in JS from the served
// file, the worker's generator re-run, the inspector's counters against the
// clicks made. No playwright import here: WebKit's runs load this file too.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultBuildDir } from "../serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const ROOT = process.env.MULTIMEM_ROOT ?? resolve(here, "../../..");
/** Where build.sh put the .wasm files and the image. */
export const BUILD = process.env.MULTIMEM_BROWSER_BUILD ?? defaultBuildDir();
/** Screenshots (git-ignored test artifacts). */
export const SCREENSHOTS = join(ROOT, "artifacts/screenshots");

/** Waits until #status is "ok" or "error"; returns its text (throws on error). */
export async function waitForStatus(page, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let cls = "";
  let text = "";
  while (Date.now() < deadline) {
    [cls, text] = await page.$eval("#status", (el) => [el.className, el.textContent]);
    if (cls === "ok" || cls === "error") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (cls !== "ok") throw new Error(`page reported: ${cls === "error" ? text : `no result within ${timeout} ms (${text})`}`);
  return text;
}

/** Reads a canvas's pixels (RGBA bytes) out of the page. */
export async function canvasPixels(page, selector) {
  const b64 = await page.$eval(selector, (canvas) => {
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let s = "";
    for (let i = 0; i < data.length; i += 0x8000) s += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return new Uint8Array(Buffer.from(b64, "base64"));
}

/** Parses a P6 PPM the simple way (the generator writes no comments). */
function readPpm(bytes) {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 64));
  const m = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(text);
  assert.ok(m, "image.ppm: P6 header");
  return { width: Number(m[1]), height: Number(m[2]), offset: m[0].length };
}

/** The image page's pipeline, in plain JS: clamp(p * gain + bias), then a 3x3 box blur to RGBA. */
function expectedImage(file, { width, height, offset }, gain, bias) {
  const n = width * height * 3;
  const rgb = new Uint8Array(n);
  for (let i = 0; i < n; i++) rgb[i] = Math.min(255, Math.max(0, file[offset + i] * gain[i % 3] + bias[i % 3]));
  const rgba = new Uint8Array(width * height * 4);
  const clamp = (v, hi) => Math.min(hi, Math.max(0, v));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) sum += rgb[(clamp(y + dy, height - 1) * width + clamp(x + dx, width - 1)) * 3 + c];
        }
        rgba[(y * width + x) * 4 + c] = Math.floor(sum / 9);
      }
      rgba[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { rgb, rgba };
}

/** RGB samples to opaque RGBA, as the page draws them. */
function toRgba(rgb) {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) out.set([rgb[i], rgb[i + 1], rgb[i + 2], 255], j);
  return out;
}

/** Index and values of the first difference, for a readable failure. */
function firstDifference(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return { index: i, got: a[i], want: b[i] };
  return null;
}

/** The worker app's generator: x = x * 1664525 + 1013904223 (mod 2^32), as i32. */
function lcg(seed, length) {
  const out = new Int32Array(length);
  let x = seed | 0;
  for (let i = 0; i < length; i++) out[i] = x = (Math.imul(x, 1664525) + 1013904223) | 0;
  return out;
}

/** The image page: stream, SIMD kernels, imagelib through cross-memory copies, canvas. */
export async function checkImage(page, build) {
  await waitForStatus(page);
  const result = await page.evaluate(() => window.imageResult);
  const { GAIN, BIAS } = await page.evaluate(() => import("./image.js").then((m) => ({ GAIN: m.GAIN, BIAS: m.BIAS })));

  const file = new Uint8Array(readFileSync(join(BUILD, "image.ppm")));
  const header = readPpm(file);
  assert.deepEqual([result.width, result.height, result.offset], [header.width, header.height, header.offset]);
  const { rgb, rgba } = expectedImage(file, header, GAIN, BIAS);

  // Pixels: the file as streamed, after the SIMD step, after imagelib.
  const input = await canvasPixels(page, "#input");
  assert.equal(firstDifference(input, toRgba(file.subarray(header.offset, header.offset + rgb.length))), null, "input canvas");
  const adjusted = await canvasPixels(page, "#adjusted");
  assert.equal(firstDifference(adjusted, toRgba(rgb)), null, "adjusted canvas = clamp(p * gain + bias)");
  const output = await canvasPixels(page, "#output");
  assert.equal(firstDifference(output, rgba), null, "output canvas = 3x3 box blur of the adjusted image");
  // Not a trivially uniform picture: the pipeline changed the pixels.
  assert.ok(firstDifference(toRgba(rgb), rgba) !== null && firstDifference(input, adjusted) !== null);

  // Bytes copied at each step.
  const copied = Object.fromEntries(result.steps.map((s) => [s.name.split(" ")[0], s.copied]));
  const pixels = header.width * header.height;
  assert.equal(copied.readInto, file.length, "readInto copies each file byte once");
  assert.equal(result.fileBytes, file.length);
  assert.equal(copied["widen,"], 0);
  assert.equal(copied.external_copy_out, pixels * 3);
  assert.equal(copied.blur_rgb_to_rgba, 0);
  assert.equal(copied.external_copy_in, pixels * 4);
  assert.equal(copied.copyTo, pixels * 4);
  assert.equal(result.liveBuffersAfter, 0, "every buffer released once the page is done");
  assert.equal(result.build, build, "the build the page loaded");

}

/** The inspector page: allocate, drop, force GC, back to zero. */
export async function checkInspector(page, build) {
  await waitForStatus(page);
  const state = () => page.evaluate(() => window.inspector);
  const shown = (id) => page.$eval(`#${id}`, (el) => el.textContent);
  const ticks = (id) => page.$eval(`#${id}`, (c) => ({ y: c.dataset.yTicks.split("|"), x: c.dataset.xTicks.split("|") }));
  assert.equal((await state()).liveBuffers, 0);
  assert.equal((await state()).build, build, "the build the page loaded");
  // A fresh page (all counts 0) still has round axes: counts 0..10, bytes in KiB, 20 s of time.
  const fresh = await ticks("chart-buffers");
  assert.deepEqual(fresh.y, ["0", "2", "4", "6", "8", "10"]);
  assert.deepEqual(fresh.x, ["−20 s", "−15 s", "−10 s", "−5 s", "now"]);
  const freshBytes = await ticks("chart-memory");
  assert.equal(freshBytes.y[0], "0");
  assert.ok(freshBytes.y.slice(1).every((t) => /^\d+ (KiB|MiB)$/.test(t)), freshBytes.y.join(" "));
  assert.ok(freshBytes.y.length >= 3 && freshBytes.y.length <= 6, freshBytes.y.join(" "));

  await page.click("#allocate");
  await page.click("#allocate");
  await page.click("#hold");
  let s = await state();
  assert.equal(s.liveBuffers, 2100);
  await page.waitForTimeout(250); // the 100 ms sampler redraws
  assert.deepEqual((await ticks("chart-buffers")).y, ["0", "500", "1,000", "1,500", "2,000", "2,500"], "round steps above 2,100");
  assert.equal(s.wrappers, 2000);
  assert.equal(s.appHeld, 100);
  assert.equal(s.allocations, 2100);
  assert.equal(await shown("live-buffers"), "2100");
  // sizes 1024 + (i % 8) * 512 for the wrappers, 2048 for the app's
  const wrapperBytes = 2 * 125 * [0, 1, 2, 3, 4, 5, 6, 7].reduce((a, k) => a + 1024 + k * 512, 0);
  assert.equal(s.liveBytes, wrapperBytes + 100 * 2048);

  await page.click("#copy");
  s = await state();
  assert.equal(s.externalCopied, 65536);
  assert.equal(s.liveBuffers, 2100, "the copy's scratch buffer was disposed");
  await page.click("#grow");
  assert.equal((await state()).externalBytes, 2 * 65536);

  await page.click("#unhold");
  assert.equal((await state()).liveBuffers, 2000);
  await page.click("#drop");
  // Finalizers run some time after GC: press the button until the count is back.
  const deadline = Date.now() + 20_000;
  while ((await state()).liveBuffers !== 0 && Date.now() < deadline) {
    await page.click("#gc");
    await page.waitForTimeout(200);
  }
  await page.waitForTimeout(250); // let the 100 ms sampler redraw the chart
  s = await state();
  assert.equal(s.liveBuffers, 0, "live buffers back to 0 after GC");
  assert.equal(s.liveBytes, 0);
  assert.equal(s.finalized, 2000, "every dropped wrapper released by its finalizer, none twice");
  assert.equal(s.finalizerErrors, 0);
  assert.equal(await shown("live-buffers"), "0");
  assert.equal(await shown("counters"), "2101 / 2000");

}

/** The worker page: copyOut + transfer, and a shared external memory. */
export async function checkWorker(page, build) {
  await waitForStatus(page);
  const r = await page.evaluate(() => window.workerResult);
  assert.equal(r.crossOriginIsolated, true);
  assert.equal(r.build, build, "the build the page (and its worker) loaded");

  const copy = lcg(r.copy.seed, r.copy.length);
  assert.equal(r.copy.byteLength, copy.byteLength);
  assert.deepEqual(r.copy.values, Array.from(copy), "worker-filled list arrives intact");
  assert.ok(new Set(r.copy.values).size > r.copy.length * 0.99, "values are not trivial");

  const shared = lcg(r.shared.seed, r.shared.length);
  assert.deepEqual(r.shared.before, Array.from(shared), "main thread sees what the worker wrote");
  const negatedSum = shared.reduce((a, v) => (a - v) | 0, 0);
  assert.equal(r.shared.mainSum, negatedSum);
  assert.equal(r.shared.workerSum, negatedSum, "worker sees the main thread's writes");
  assert.deepEqual(r.shared.copiedIn, Array.from(shared, (v) => -v | 0));

}

/**
 * The threads page's summary (window.threadsResult, js-glue's soak): real
 * work by 4 workers and the page, every hand-off received, a main thread
 * that never waits, the memory grown, an empty heap at the end; `build` is
 * the build the page must have picked (null: either).
 */
export function checkThreads(r, browser, build = null) {
  if (build !== null) assert.equal(r.build, build, `${browser}: the build the page (and its workers) loaded`);
  assert.equal(r.crossOriginIsolated, true, browser);
  assert.equal(r.mayWait, false, `${browser}: the main thread's instance spins`);
  assert.equal(r.canBlock, false, `${browser}: Atomics.wait is refused on the main thread`);
  assert.equal(r.workers, 4);
  const c = r.counts;
  assert.equal(c.receipts, c.sends + r.mainSends, `${browser}: every hand-off arrived`);
  assert.ok(r.rounds >= 2, `${browser}: checkpoints ${r.rounds}`);
  assert.ok(c.sends > 100 && c.moves > 20 && c.refills > 5 && c.allocs > 100 && r.mainSends > 20, `${browser}: ${JSON.stringify(c)}`);
  assert.ok(r.pagesEnd > r.pagesStart, `${browser}: the workers grew the memory`);
  assert.equal(r.end.liveBuffers, 0);
  assert.equal(r.end.liveBytes, 0);
  assert.equal(r.end.heapBytes, 0);
}
