// Debian's Firefox ESR, headless, driven over WebDriver BiDi (the protocol
// Firefox speaks natively) by a minimal client on Node's built-in WebSocket:
// no driver binary, nothing downloaded. It does what the tests need: open a
// page, evaluate script, and collect console errors, page errors and failed
// requests, like browser.mjs does for Chromium.
//
// Networking: a fresh profile whose proxy is a closed local port for every
// host but the loopback one, so only the project's server can be reached.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The browser binary: Debian's firefox-esr. */
export const FIREFOX = process.env.MULTIMEM_FIREFOX ?? "/usr/bin/firefox-esr";

const PREFS = {
  "browser.shell.checkDefaultBrowser": false,
  "browser.startup.homepage_override.mstone": "ignore",
  "browser.aboutwelcome.enabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "datareporting.healthreport.uploadEnabled": false,
  "toolkit.telemetry.reportingpolicy.firstRun": false,
  "app.update.disabledForTesting": true,
  "extensions.update.enabled": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  // Every host but the loopback one goes to a proxy on a closed port.
  "network.proxy.type": 1,
  "network.proxy.http": "127.0.0.1",
  "network.proxy.http_port": 9,
  "network.proxy.ssl": "127.0.0.1",
  "network.proxy.ssl_port": 9,
  "network.proxy.no_proxies_on": "127.0.0.1,localhost",
  "network.proxy.allow_hijacking_localhost": false,
};

/** A TCP port on 127.0.0.1 that was free a moment ago (for a browser's remote-control server). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts Firefox. Resolves to `{ version, open(url), close() }`; `open` gives
 * `{ evaluate(expression), problems, close() }`, where `evaluate` returns the
 * JSON-parsed value of `JSON.stringify(await (expression))`.
 */
export async function launchFirefox() {
  const profile = mkdtempSync(join(tmpdir(), "multimem-firefox-"));
  writeFileSync(join(profile, "user.js"), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(""));
  const port = await freePort();
  const proc = spawn(FIREFOX, ["--headless", "--no-remote", "--profile", profile, `--remote-debugging-port=${port}`, "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`firefox did not start BiDi within 60 s:\n${log}`)), 60_000);
    proc.stderr.on("data", (d) => {
      log += d;
      if (/WebDriver BiDi listening on ws:\/\//.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`firefox exited with ${code}:\n${log}`));
    });
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/session`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("cannot connect to Firefox's BiDi port"));
  });
  let nextId = 1;
  const pending = new Map();
  const listeners = new Set();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.type === "error") reject(new Error(`BiDi ${msg.error}: ${msg.message}`));
      else resolve(msg.result);
    } else if (msg.type === "event") {
      for (const l of listeners) l(msg);
    }
  };
  const send = (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const session = await send("session.new", { capabilities: {} });
  await send("session.subscribe", { events: ["log.entryAdded", "network.fetchError", "network.responseCompleted"] });
  return {
    version: `${session.capabilities.browserName} ${session.capabilities.browserVersion}`,
    async open(url) {
      const { context } = await send("browsingContext.create", { type: "tab" });
      const problems = [];
      const listener = (msg) => {
        const p = msg.params;
        if (p.source?.context !== undefined && p.source.context !== context) return;
        if (p.context !== undefined && p.context !== context) return;
        if (msg.method === "log.entryAdded" && p.level === "error") problems.push(`${p.type === "javascript" ? "page error" : "console.error"}: ${p.text}`);
        if (msg.method === "network.fetchError") problems.push(`request failed: ${p.request.url} ${p.errorText}`);
        if (msg.method === "network.responseCompleted" && p.response.status >= 400) problems.push(`HTTP ${p.response.status}: ${p.request.url}`);
      };
      listeners.add(listener);
      await send("browsingContext.navigate", { context, url, wait: "complete" });
      return {
        problems,
        async evaluate(expression) {
          const r = await send("script.evaluate", {
            expression: `(async () => JSON.stringify(await (${expression})))()`,
            target: { context },
            awaitPromise: true,
            resultOwnership: "none",
          });
          if (r.type === "exception") throw new Error(`in Firefox: ${r.exceptionDetails.text}`);
          return r.result.type === "string" ? JSON.parse(r.result.value) : undefined;
        },
        async close() {
          listeners.delete(listener);
          await send("browsingContext.close", { context });
        },
      };
    },
    async close() {
      try {
        await send("session.end", {});
      } catch {
        // Firefox may already be gone.
      }
      ws.close();
      proc.kill();
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
