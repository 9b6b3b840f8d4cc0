// The static server without a browser: isolation headers, types, lengths,
// and that nothing outside its three roots can be read.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { ISOLATION_HEADERS, startServer } from "../serve.mjs";
import { BUILD } from "./browser.mjs";

let server;
before(async () => {
  server = await startServer({ port: 0, buildDir: BUILD });
});
after(() => server.close());

/** A raw GET (no URL normalisation by a client), resolving to { status, headers, body }. */
function get(path, method = "GET") {
  return new Promise((resolve, reject) => {
    const req = request(server.url + "/", { method, path }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("every response is cross-origin isolated and has a Content-Length", async () => {
  for (const path of ["/", "/image.html", "/js-glue/index.js", "/build/image.wasm", "/nope"]) {
    const res = await get(path);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) assert.equal(res.headers[name.toLowerCase()], value, `${path} ${name}`);
    assert.equal(Number(res.headers["content-length"]), res.body.length, path);
  }
});

test("roots and content types", async () => {
  const wasm = await get("/build/image.wasm");
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers["content-type"], "application/wasm");
  assert.deepEqual([...wasm.body.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
  const glue = await get("/js-glue/index.js");
  assert.equal(glue.status, 200);
  assert.match(glue.headers["content-type"], /^text\/javascript/);
  assert.match(glue.body.toString(), /export async function instantiate/);
  assert.equal((await get("/")).headers["content-type"], "text/html; charset=utf-8");
});

test("no escape from the roots, clear errors", async () => {
  for (const path of ["/js-glue/../../Cargo.toml", "/js-glue/..%2f..%2fCargo.toml", "/build/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/README.md"]) {
    const res = await get(path);
    assert.ok(res.status === 403 || res.status === 404, `${path}: ${res.status}`);
    assert.doesNotMatch(res.body.toString(), /\[workspace\]|root:/, path);
  }
  assert.equal((await get("/js-glue/..%2f..%2fCargo.toml")).status, 403);
  assert.equal((await get("/missing.html")).status, 404);
  assert.equal((await get("/image.html", "POST")).status, 405);
  assert.equal((await get("/%E0%A4%A")).status, 400);
  const head = await get("/image.html", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
});
