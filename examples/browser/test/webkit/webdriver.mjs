// WebKitGTK's MiniBrowser driven by WebKitWebDriver (Debian's
// webkit2gtk-driver: W3C WebDriver "classic", JSON over HTTP) under xvfb-run,
// by a minimal client on Node's fetch: no driver download, nothing else
// installed. It gives the page object pages.mjs's checks use (the subset of
// playwright's Page they call): evaluate(fn, arg), $eval(selector, fn),
// click(selector), waitForTimeout(ms), screenshot({ path }), plus problems():
// WebDriver classic reports no console or page events, so the server's probe
// script (serve.mjs, `probe: true`) collects them in the page.
//
// SharedArrayBuffer: WebKitGTK 2.50 does not expose it even in a
// cross-origin-isolated page (measured: crossOriginIsolated true, typeof
// SharedArrayBuffer "undefined"; Safari does expose it there). The JSC option
// useSharedArrayBuffer turns it on; the driver, the browser and its web
// processes inherit JSC_useSharedArrayBuffer=1 from here. The worker and
// threads pages' shared memories need it.
//
// Networking: the session's proxy is a closed local port for every host but
// the loopback one, so only the project's server can be reached.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { freePort } from "../firefox.mjs";

/** The driver and the browser it starts: Debian's WebKitGTK. */
export const WEBDRIVER = process.env.MULTIMEM_WEBKIT_WEBDRIVER ?? "/usr/bin/WebKitWebDriver";
export const MINIBROWSER = process.env.MULTIMEM_MINIBROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/** The key of an element reference in WebDriver's JSON. */
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/**
 * Starts WebKitWebDriver under xvfb-run and opens a MiniBrowser session.
 * Resolves to `{ version, open(url), close() }`; `open` navigates the one
 * window and resolves to the page object. Starting is tried up to three
 * times: once in a few runs on the loaded 2-core machine, the browser never
 * came up and the session request never answered (seen once in about 8 runs).
 * Only the start is retried, never a page.
 */
export async function launchWebKit() {
  const errors = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await launchOnce();
    } catch (e) {
      errors.push(`attempt ${attempt}: ${e.message}`);
    }
  }
  throw new Error(`WebKit did not start:\n${errors.join("\n")}`);
}

async function launchOnce() {
  const port = await freePort();
  // Its own process group, so close() ends xvfb-run, Xvfb, the driver and the browser together.
  const proc = spawn("xvfb-run", ["-a", "-s", "-screen 0 1280x1024x24", WEBDRIVER, `--port=${port}`, "--host=127.0.0.1"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, JSC_useSharedArrayBuffer: "1" },
  });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  // Every call has a deadline, so a browser that never answers fails the
  // test with the driver's log instead of hanging it.
  const call = async (method, path, body, timeout = 150_000) => {
    let r;
    try {
      r = await fetch(base + path, {
        method,
        headers: body ? { "content-type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(timeout),
      });
    } catch (e) {
      throw new Error(`WebDriver ${method} ${path}: no answer within ${timeout} ms (${e.message}); driver log:\n${log}`);
    }
    const json = await r.json();
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  };
  const kill = () => {
    try {
      process.kill(-proc.pid, "SIGTERM");
    } catch {}
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await call("GET", "/status")).ready) break;
      } catch {}
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`WebKitWebDriver did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const session = await call("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
          proxy: { proxyType: "manual", httpProxy: "127.0.0.1:9", sslProxy: "127.0.0.1:9", noProxy: ["127.0.0.1", "localhost"] },
        },
      },
    }, 60_000);
    const s = `/session/${session.sessionId}`;
    await call("POST", `${s}/timeouts`, { script: 120_000, pageLoad: 60_000 });
    await call("POST", `${s}/window/rect`, { width: 1100, height: 900 });
    const page = {
      /** `fn(arg)` in the page (a function or an expression's text), awaited; its JSON value. */
      async evaluate(fn, arg) {
        const src = typeof fn === "function" ? fn.toString() : `() => (${fn})`;
        const script = `const done = arguments[arguments.length - 1];
Promise.resolve().then(() => (${src})(arguments[0])).then(
  (v) => done({ ok: v === undefined ? undefined : JSON.stringify(v) }),
  (e) => done({ error: String((e && e.stack) || e) }));`;
        const r = await call("POST", `${s}/execute/async`, { script, args: [arg ?? null] });
        if (r.error !== undefined) throw new Error(`in the page: ${r.error}`);
        return r.ok === undefined ? undefined : JSON.parse(r.ok);
      },
      /** `fn(element)` for the first element matching `selector`. */
      $eval(selector, fn) {
        return page.evaluate(
          `((sel) => { const el = document.querySelector(sel); if (!el) throw new Error("no element " + sel); return (${fn})(el); })(${JSON.stringify(selector)})`,
        );
      },
      /** A WebDriver click (the pointer, not a synthetic event) on the element. */
      async click(selector) {
        const el = await call("POST", `${s}/element`, { using: "css selector", value: selector });
        await call("POST", `${s}/element/${el[ELEMENT]}/click`, {});
      },
      waitForTimeout(ms) {
        return new Promise((r) => setTimeout(r, ms));
      },
      /** The window's screenshot (WebDriver has no full-page one) as a PNG file. */
      async screenshot({ path }) {
        writeFileSync(path, Buffer.from(await call("GET", `${s}/screenshot`), "base64"));
      },
      /** What the probe collected: page errors, rejections, console.error, failed loads. */
      async problems() {
        return (await page.evaluate("window.__multimemProblems ?? ['the probe did not run: serve with probe: true']")) ?? [];
      },
    };
    return {
      version: session.capabilities.browserVersion,
      async open(url) {
        await call("POST", `${s}/url`, { url }, 90_000);
        return page;
      },
      async close() {
        try {
          await call("DELETE", s, undefined, 10_000);
        } finally {
          kill();
        }
      },
    };
  } catch (e) {
    kill();
    throw e;
  }
}
