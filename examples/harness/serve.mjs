// The static server of the data-path example pages (examples/image-pipeline,
// examples/webgpu): node:http only, no dependencies. It serves a list of
// (URL prefix, directory) roots and nothing else, and sends the
// cross-origin-isolation headers with every response (COOP same-origin +
// COEP require-corp) so the pages may use SharedArrayBuffer and
// performance.measureUserAgentSpecificMemory. Content-Length is always sent.
//
// examples/browser/serve.mjs does the same for the three original pages with
// fixed roots; this one takes the roots as an argument so each example
// directory keeps its own pages.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".jpg": "image/jpeg",
  ".ts": "text/plain; charset=utf-8",
};

/** Headers sent with every response. */
export const HEADERS = Object.freeze({
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-cache", // not no-store: see examples/browser/serve.mjs (Chromium reports stream reads as ERR_ABORTED)
  "X-Content-Type-Options": "nosniff",
});

/**
 * Starts the server. `roots` is a list of `[urlPrefix, directory]`, most
 * specific first; the prefix must start and end with "/". Resolves to
 * `{ url, close() }` once it listens; `port` 0 picks a free port.
 */
export async function startServer({ roots, port = 0, host = "127.0.0.1" }) {
  if (!Array.isArray(roots) || roots.length === 0) throw new TypeError("roots: expected a non-empty list of [prefix, directory]");
  const table = roots.map(([prefix, dir]) => {
    if (typeof prefix !== "string" || !prefix.startsWith("/") || !prefix.endsWith("/")) {
      throw new TypeError(`roots: prefix must start and end with "/", got ${JSON.stringify(prefix)}`);
    }
    return [prefix, resolve(dir)];
  });
  const server = createServer(async (req, res) => {
    const send = (status, body, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { ...HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "only GET and HEAD\n");
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      return send(400, "bad URL\n");
    }
    if (path.endsWith("/")) path += "index.html";
    const entry = table.find(([p]) => path.startsWith(p));
    if (!entry) return send(404, `not found: ${path}\n`);
    const [prefix, root] = entry;
    const file = normalize(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) return send(403, "outside the served directories\n");
    try {
      const info = await stat(file);
      if (!info.isFile()) return send(404, `not found: ${path}\n`);
      send(200, await readFile(file), TYPES[extname(file)] ?? "application/octet-stream");
    } catch (e) {
      send(e.code === "ENOENT" ? 404 : 500, e.code === "ENOENT" ? `not found: ${path}\n` : `error: ${e.message}\n`);
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, ok);
  });
  const url = `http://${host}:${server.address().port}`;
  return { url, close: () => new Promise((ok) => server.close(ok)) };
}

// CLI: node serve.mjs --root /=DIR [--root /build/=DIR ...] [--port N] [--host H]
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const args = process.argv.slice(2);
  const roots = [];
  const opt = { port: 8080 };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--root" && value?.includes("=")) roots.push(value.split(/=(.*)/s).slice(0, 2));
    else if (flag === "--port" && /^\d+$/.test(value ?? "")) opt.port = Number(value);
    else if (flag === "--host" && value) opt.host = value;
    else {
      console.error(`serve.mjs: bad argument ${flag}\nusage: node serve.mjs --root /=DIR [--root /x/=DIR ...] [--port N] [--host H]`);
      process.exit(2);
    }
  }
  // Longest prefix first, so /build/ wins over /.
  roots.sort((a, b) => b[0].length - a[0].length);
  const { url } = await startServer({ roots, ...opt });
  console.log(`serving ${url}/ (${roots.map(([p, d]) => `${p} -> ${d}`).join(", ")})`);
}
