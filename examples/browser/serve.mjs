// The examples' static server: a few lines of node:http, no dependencies.
//
// It serves three roots and nothing else:
//   /            examples/browser/www      the pages
//   /js-glue/    js-glue/src               the glue, as the ES module users import
//   /build/      the build directory       linked .wasm files, imagelib.wasm, image.ppm
//                                          (examples/browser/build.sh writes it)
// and sets on every response the headers that make the page cross-origin
// isolated (COOP same-origin + COEP require-corp), which browsers require
// before they offer SharedArrayBuffer and shared WebAssembly.Memory (the
// worker example's shared variant). Content-Length is always sent, so
// `runtime.readInto(response)` allocates the exact size up front.
//
// Usage: node examples/browser/serve.mjs [--port N] [--host H] [--build DIR]
//   defaults: port 8080, host 127.0.0.1, build $CARGO_TARGET_DIR/browser-examples
//   (CARGO_TARGET_DIR defaults to ~/.cache/multimem/target, as in scripts/env.sh).
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");

/** The build directory used when none is given. */
export function defaultBuildDir() {
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache/multimem/target");
  return join(target, "browser-examples");
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".ppm": "image/x-portable-pixmap",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** Headers sent with every response (cross-origin isolation, no caching). */
export const ISOLATION_HEADERS = Object.freeze({
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
});

/**
 * Starts the server. Resolves to `{ server, url, close() }` once it listens.
 * `port` 0 picks a free port (the tests do that).
 */
export async function startServer({ port = 8080, host = "127.0.0.1", buildDir = defaultBuildDir() } = {}) {
  const roots = [
    ["/js-glue/", join(repo, "js-glue/src")],
    ["/build/", resolve(buildDir)],
    ["/", join(here, "www")],
  ];
  const server = createServer(async (req, res) => {
    const send = (status, body, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { ...ISOLATION_HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
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
    const [prefix, root] = roots.find(([p]) => path.startsWith(p));
    const file = normalize(join(root, path.slice(prefix.length)));
    // No escaping the root with `..` or encoded separators.
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
  return { server, url, close: () => new Promise((ok) => server.close(ok)) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--port") opt.port = Number(value), i++;
    else if (flag === "--host") opt.host = value, i++;
    else if (flag === "--build") opt.buildDir = value, i++;
    else {
      console.error(`serve.mjs: unknown argument ${flag}\nusage: node serve.mjs [--port N] [--host H] [--build DIR]`);
      process.exit(2);
    }
  }
  if (opt.port !== undefined && !(Number.isInteger(opt.port) && opt.port >= 0 && opt.port < 65536)) {
    console.error(`serve.mjs: --port must be an integer 0..65535, got ${args[args.indexOf("--port") + 1]}`);
    process.exit(2);
  }
  const { url } = await startServer(opt);
  console.log(`multimem browser examples: ${url}/  (build dir ${opt.buildDir ?? defaultBuildDir()})`);
  console.log(`  ${url}/image.html  ${url}/inspector.html  ${url}/worker.html`);
}
