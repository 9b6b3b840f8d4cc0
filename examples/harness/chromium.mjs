// Debian's Chromium (never a downloaded browser) driven by playwright-core,
// for the data-path example pages: headless, a fresh profile, networking off
// except to the given server, and WebGPU on through SwiftShader (Vulkan), the
// software adapter Debian's build ships.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const ROOT = process.env.MULTIMEM_ROOT ?? resolve(here, "../..");
/** Screenshots (git-ignored test artifacts). */
export const SCREENSHOTS = join(ROOT, "artifacts/screenshots");
/** The browser binary. */
export const CHROMIUM = process.env.MULTIMEM_CHROMIUM ?? "/usr/bin/chromium";

/** Launch flags: the examples/browser set. */
export const ARGS = Object.freeze([
  "--no-sandbox",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--enable-precise-memory-info",
  "--js-flags=--expose-gc",
]);

/** WebGPU on SwiftShader (Vulkan), the software adapter Debian's build ships. */
export const WEBGPU_ARGS = Object.freeze(["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"]);

/**
 * Starts Chromium against a server URL, with WebGPU unless `webgpu: false`
 * (to test what a page does without an adapter). Returns `{ open(path), close() }`;
 * `open` gives `{ page, problems }` where `problems` collects console errors,
 * page errors, failed requests and HTTP errors (tests assert it empty).
 */
export async function launch(serverUrl, { args = [], webgpu = true } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "multimem-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...(webgpu ? WEBGPU_ARGS : ["--disable-gpu"]), ...args],
    viewport: { width: 1100, height: 900 },
  });
  await context.route("**/*", (route) =>
    route.request().url().startsWith(serverUrl + "/") ? route.continue() : route.abort("blockedbyclient"));
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    /** The fresh profile directory (names the browser process; see proc.mjs). */
    profile,
    async open(path) {
      const page = await context.newPage();
      const problems = [];
      page.on("console", (m) => m.type() === "error" && problems.push(`console.error: ${m.text()}`));
      page.on("pageerror", (e) => problems.push(`page error: ${e.stack ?? e}`));
      page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      await page.goto(serverUrl + path);
      return { page, problems };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until #status has class "ok" or "error"; returns its text (throws with the text on "error"). */
export async function waitForStatus(page, timeout = 120_000) {
  await page.waitForFunction(() => /^(ok|error)$/.test(document.getElementById("status")?.className), null, { timeout });
  const [cls, text] = await page.$eval("#status", (el) => [el.className, el.textContent]);
  if (cls !== "ok") throw new Error(`page reported: ${text}`);
  return text;
}
