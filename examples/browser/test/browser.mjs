// Shared set-up of the browser tests: the project's static server on a free
// port, and Debian's Chromium (never a downloaded browser) driven by
// playwright-core, headless, with networking off and `gc()` exposed.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "../serve.mjs";
import { BUILD, SCREENSHOTS } from "./pages.mjs";

export { BUILD, ROOT, SCREENSHOTS, canvasPixels, waitForStatus } from "./pages.mjs";
/** The browser binary: Debian's chromium. */
export const CHROMIUM = process.env.MULTIMEM_CHROMIUM ?? "/usr/bin/chromium";

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--js-flags=--expose-gc",
];

// WebGPU on the CPU (SwiftShader): for the Web API page's GPUQueue.writeBuffer case.
const WEBGPU_ARGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"];

/**
 * Starts the server and Chromium (`webgpu`: with a SwiftShader WebGPU
 * adapter instead of --disable-gpu). Returns `{ url, open(path), close() }`;
 * `open` gives `{ page, problems }` where `problems` collects console errors,
 * page errors, failed requests and HTTP errors (each test asserts it empty).
 */
export async function launch({ webgpu = false } = {}) {
  const server = await startServer({ port: 0, buildDir: BUILD });
  const profile = mkdtempSync(join(tmpdir(), "multimem-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: webgpu ? [...ARGS.filter((a) => a !== "--disable-gpu"), ...WEBGPU_ARGS] : ARGS,
    viewport: { width: 1100, height: 900 },
  });
  // Networking off: only our server may be reached.
  await context.route("**/*", (route) =>
    route.request().url().startsWith(server.url + "/") ? route.continue() : route.abort("blockedbyclient"));
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    url: server.url,
    async open(path, { viewport } = {}) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      const problems = [];
      page.on("console", (m) => m.type() === "error" && problems.push(`console.error: ${m.text()}`));
      page.on("pageerror", (e) => problems.push(`page error: ${e.stack ?? e}`));
      // Every failed request is a problem (the server's Cache-Control: no-cache
      // keeps Chromium from reporting stream-read bodies as ERR_ABORTED; see serve.mjs).
      page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on("worker", (w) => w.on("console", (m) => m.type() === "error" && problems.push(`worker console.error: ${m.text()}`)));
      await page.goto(server.url + path);
      return { page, problems };
    },
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
