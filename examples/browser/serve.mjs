// The examples' static server: a few lines of node:http, no dependencies.
//
// It serves three roots and nothing else:
//   /            examples/browser/www      the pages
//   /js-glue/    js-glue/src               the glue, as the ES module users import
//   /build/      the build directory       linked .wasm files, imagelib.wasm, image.ppm
//                                          (examples/browser/build.sh writes it)
// plus two echo endpoints for the Web API page (web-apis.html), which hands
// runtime views to fetch and WebSocket and checks what arrives back:
//   POST /echo   answers with the request body (at most 1 MiB)
//   /ws-echo     a WebSocket (RFC 6455, unfragmented messages) that sends
//                every text or binary message back
// and sets on every response the headers that make the page cross-origin
// isolated (COOP same-origin + COEP require-corp), which browsers require
// before they offer SharedArrayBuffer and shared WebAssembly.Memory (the
// worker example's shared variant). Content-Length is always sent, so
// `runtime.readInto(response)` allocates the exact size up front.
//
// Usage: node examples/browser/serve.mjs [--port N] [--host H] [--build DIR]
//   defaults: port 8080, host 127.0.0.1, build $CARGO_TARGET_DIR/browser-examples
//   (CARGO_TARGET_DIR defaults to ~/.cache/multimem/target, as in scripts/env.sh).
import { createHash } from "node:crypto";
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
  ".ico": "image/svg+xml",
};

/** Largest body POST /echo answers. */
const ECHO_LIMIT = 1 << 20;

/**
 * Headers sent with every response (cross-origin isolation, always revalidated).
 * `no-cache`, not `no-store`: Chromium reports a response whose body is read
 * through a stream reader (readInto) as failed, net::ERR_ABORTED, when it has
 * `Cache-Control: no-store` (8-10 of 12 reads in our measurement, every byte
 * delivered all the same); never with `no-cache` or without the header.
 */
export const ISOLATION_HEADERS = Object.freeze({
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
});

/**
 * For tests through WebDriver classic (WebKit), which reports no console or
 * page events: a script that each HTML page loads first when the server runs
 * with `probe: true`, collecting what Chromium's and Firefox's tests get from
 * their protocols into `window.__multimemProblems`: page errors, unhandled
 * rejections, console.error calls, and resources that failed to load.
 */
const PROBE = `window.__multimemProblems = [];
{
  const push = (p) => window.__multimemProblems.push(p);
  addEventListener("error", (e) => {
    const t = e.target;
    if (t && t !== window && (t.src || t.href)) push("failed to load: " + (t.src || t.href));
    else push("page error: " + (e.error && e.error.stack ? e.error.stack : e.message));
  }, true);
  addEventListener("unhandledrejection", (e) => push("unhandled rejection: " + (e.reason && e.reason.stack ? e.reason.stack : e.reason)));
  const error = console.error;
  console.error = (...args) => {
    push("console.error: " + args.map(String).join(" "));
    return error.apply(console, args);
  };
}
`;

/**
 * Starts the server. Resolves to `{ server, url, problems, close() }` once it
 * listens. `port` 0 picks a free port (the tests do that). `problems` lists
 * every response with an HTTP error status. `probe` (tests only) makes every
 * HTML page load PROBE first, as `/__probe.js`.
 */
export async function startServer({ port = 8080, host = "127.0.0.1", buildDir = defaultBuildDir(), probe = false } = {}) {
  const problems = [];
  const roots = [
    ["/js-glue/", join(repo, "js-glue/src")],
    ["/build/", resolve(buildDir)],
    ["/", join(here, "www")],
  ];
  const server = createServer(async (req, res) => {
    const send = (status, body, type = "text/plain; charset=utf-8") => {
      if (status >= 400) problems.push(`HTTP ${status}: ${req.method} ${req.url}`);
      res.writeHead(status, { ...ISOLATION_HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method === "POST" && req.url === "/echo") return echo(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "only GET and HEAD (and POST /echo)\n");
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      return send(400, "bad URL\n");
    }
    if (path.endsWith("/")) path += "index.html";
    if (probe && path === "/__probe.js") return send(200, PROBE, TYPES[".js"]);
    const [prefix, root] = roots.find(([p]) => path.startsWith(p));
    const file = normalize(join(root, path.slice(prefix.length)));
    // No escaping the root with `..` or encoded separators.
    if (file !== root && !file.startsWith(root + sep)) return send(403, "outside the served directories\n");
    try {
      const info = await stat(file);
      if (!info.isFile()) return send(404, `not found: ${path}\n`);
      let body = await readFile(file);
      if (probe && extname(file) === ".html") body = body.toString("utf8").replace("<head>", '<head>\n<script src="/__probe.js"></script>');
      send(200, body, TYPES[extname(file)] ?? "application/octet-stream");
    } catch (e) {
      send(e.code === "ENOENT" ? 404 : 500, e.code === "ENOENT" ? `not found: ${path}\n` : `error: ${e.message}\n`);
    }
  });
  const upgraded = new Set();
  server.on("upgrade", (req, socket) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    if (req.url !== "/ws-echo" || typeof req.headers["sec-websocket-key"] !== "string") {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    webSocketEcho(req, socket);
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, ok);
  });
  const url = `http://${host}:${server.address().port}`;
  // close() ends keep-alive connections and WebSockets too, so it never waits on a client.
  const close = () =>
    new Promise((ok) => {
      server.close(ok);
      server.closeAllConnections();
      for (const s of upgraded) s.destroy();
    });
  return { server, url, problems, close };
}

/** POST /echo: the body back, as application/octet-stream. */
function echo(req, res) {
  const chunks = [];
  let size = 0;
  req.on("data", (c) => {
    size += c.length;
    if (size <= ECHO_LIMIT) chunks.push(c);
  });
  req.on("end", () => {
    const body = size <= ECHO_LIMIT ? Buffer.concat(chunks) : Buffer.from(`body over ${ECHO_LIMIT} bytes\n`);
    res.writeHead(size <= ECHO_LIMIT ? 200 : 413, { ...ISOLATION_HEADERS, "Content-Type": "application/octet-stream", "Content-Length": body.length });
    res.end(body);
  });
}

/** One frame of `opcode` with `payload`, unmasked (server to client). */
function frame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]) : null;
  if (head === null) {
    const h = Buffer.alloc(10);
    h[0] = 0x80 | opcode;
    h[1] = 127;
    h.writeBigUInt64BE(BigInt(n), 2);
    return Buffer.concat([h, payload]);
  }
  return Buffer.concat([head, payload]);
}

/** Parses one client frame at the start of `buf`: { fin, opcode, payload, size } or null if incomplete. */
function parseFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let n = buf[1] & 0x7f;
  let at = 2;
  if (n === 126) {
    if (buf.length < 4) return null;
    n = buf.readUInt16BE(2);
    at = 4;
  } else if (n === 127) {
    if (buf.length < 10) return null;
    n = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const key = masked ? buf.subarray(at, at + 4) : null;
  if (masked) at += 4;
  if (n > ECHO_LIMIT) return { fin, opcode: -1, payload: Buffer.alloc(0), size: buf.length };
  if (buf.length < at + n) return null;
  const payload = Buffer.from(buf.subarray(at, at + n));
  if (key) for (let i = 0; i < n; i++) payload[i] ^= key[i & 3];
  return { fin, opcode, payload, size: at + n };
}

/** The /ws-echo WebSocket: the handshake, then every message sent back. */
function webSocketEcho(req, socket) {
  const accept = createHash("sha1").update(req.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (let f = parseFrame(buf); f !== null; f = parseFrame(buf)) {
      buf = buf.subarray(f.size);
      if (f.opcode === 8 || f.opcode === -1 || !f.fin) {
        // Close (or a message this echo does not take: too large, fragmented).
        socket.end(frame(8, f.opcode === 8 ? f.payload.subarray(0, 2) : Buffer.from([0x03, 0xf1])));
        return;
      }
      if (f.opcode === 9) socket.write(frame(10, f.payload));
      else if (f.opcode === 1 || f.opcode === 2) socket.write(frame(f.opcode, f.payload));
    }
  });
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
