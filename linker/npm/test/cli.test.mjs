// The npm linker against the native one: for the same arguments, the same
// output bytes, exit code and messages (CLI), and the same bytes from the JS
// API. Needs MULTIMEM_LINK_NATIVE (the native multimem-link) and
// MULTIMEM_JS_FIXTURES (app.wasm, runtime.wasm, lib.wasm; scripts/test-js.sh
// builds both).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { LinkError, link } from "../index.js";

const NATIVE = process.env.MULTIMEM_LINK_NATIVE;
const FIXTURES = process.env.MULTIMEM_JS_FIXTURES;
if (!NATIVE || !FIXTURES) throw new Error("set MULTIMEM_LINK_NATIVE and MULTIMEM_JS_FIXTURES (scripts/test-js.sh does)");
const NPM_CLI = fileURLToPath(new URL("../bin/multimem-link.js", import.meta.url));
const WAT = fileURLToPath(new URL("../../../js-glue/test/fixtures/", import.meta.url));

// A scratch directory holding the inputs under short relative names.
const work = mkdtempSync(join(tmpdir(), "multimem-npm-link-"));
after(() => rmSync(work, { recursive: true, force: true }));
for (const f of ["app.wasm", "runtime.wasm", "lib.wasm"]) copyFileSync(join(FIXTURES, f), join(work, f));
for (const f of ["app.wat", "lib.wat"]) copyFileSync(join(WAT, f), join(work, f));
writeFileSync(join(work, "bad.wat"), "(module (func $f (result i32) i64.const 1))");
writeFileSync(join(work, "cut.wasm"), new Uint8Array([0, 0x61, 0x73]));

/** Runs a CLI in `work`; `out` names the output file to read back. */
function run(cli, args, out) {
  const [cmd, pre] = cli === "native" ? [NATIVE, []] : [process.execPath, [NPM_CLI]];
  const outPath = out && join(work, `${cli}-${out}`);
  const full = args.map((a) => (a === "OUT" ? `${cli}-${out}` : a));
  rmSync(outPath ?? join(work, "-none-"), { force: true });
  const r = spawnSync(cmd, [...pre, ...full], { cwd: work, encoding: "buffer" });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr.toString(),
    bytes: outPath ? (() => { try { return readFileSync(outPath); } catch { return null; } })() : null,
  };
}

// WASI and Linux number their errors differently ("No such file or directory (os error 44)"
// vs "... (os error 2)"); the text before the number is the same.
const normalize = (s) => s.replace(/ \(os error \d+\)/g, " (os error N)");

const LINKS = [
  ["app=app.wasm", "--with-runtime", "-o", "OUT"],
  ["app=app.wasm", "multimem=runtime.wasm", "-o", "OUT"],
  ["app=app.wat", "--runtime-variant", "checked", "--gc", "--export", "app.sum", "--export", "multimem.memory", "-o", "OUT"],
  ["app=app.wasm", "--runtime-variant", "atomic", "--strip-names", "--name-prefix", "always", "-o", "OUT"],
  ["lib=lib.wat", "app=app.wasm", "--with-runtime", "--rename-conflicts", "--threads", "4", "-o", "OUT"],
  ["app=app.wasm", "--with-runtime", "--wat", "-o", "OUT"],
];

test("the same inputs give byte-identical output to the native CLI", () => {
  for (const args of LINKS) {
    const native = run("native", args, "out.wasm");
    const npm = run("npm", args, "out.wasm");
    assert.equal(native.status, 0, `native ${args.join(" ")}: ${native.stderr}`);
    assert.equal(npm.status, 0, `npm ${args.join(" ")}: ${npm.stderr}`);
    assert.ok(native.bytes.length > 1000, `${args.join(" ")}: a real module (${native.bytes.length} bytes)`);
    assert.ok(Buffer.compare(native.bytes, npm.bytes) === 0, `${args.join(" ")}: identical bytes`);
    assert.equal(npm.stderr, native.stderr, `${args.join(" ")}: same warnings`);
  }
});

test("stdout output, --help and --version are the native CLI's", () => {
  for (const args of [["app=app.wasm", "--with-runtime", "-o", "-"], ["app=app.wasm", "--with-runtime", "--wat"], ["--help"], ["--version"]]) {
    const native = run("native", args);
    const npm = run("npm", args);
    assert.equal(npm.status, native.status, args.join(" "));
    assert.ok(native.stdout.length > 10, args.join(" "));
    assert.ok(Buffer.compare(native.stdout, npm.stdout) === 0, `${args.join(" ")}: same stdout`);
  }
});

test("the same errors, with the same messages and exit code", () => {
  const cases = [
    ["app=missing.wasm", "-o", "OUT"],
    ["app=app.wasm"],
    ["--frobnicate", "app=app.wasm", "-o", "OUT"],
    ["app", "-o", "OUT"],
    ["app=bad.wat", "-o", "OUT"],
    ["app=cut.wasm", "-o", "OUT"],
    ["lib=lib.wasm", "app=app.wasm", "--with-runtime", "-o", "OUT"],
    ["app=app.wasm", "--threads", "many", "-o", "OUT"],
    ["app=app.wasm", "--runtime-variant", "nope", "-o", "OUT"],
    ["app=app.wasm", "--export", "nodot", "-o", "OUT"],
    ["app=app.wasm", "--with-runtime", "-o", "no/such/dir/out.wasm"],
  ];
  for (const args of cases) {
    const native = run("native", args, "err.wasm");
    const npm = run("npm", args, "err.wasm");
    assert.equal(native.status, 1, `native ${args.join(" ")} fails`);
    assert.equal(npm.status, 1, `npm ${args.join(" ")} fails`);
    assert.match(native.stderr, /^error: /, args.join(" "));
    assert.equal(normalize(npm.stderr), normalize(native.stderr), args.join(" "));
    assert.equal(npm.bytes, null, `${args.join(" ")}: no output written`);
  }
});

test("JS API: link({ app }, options) returns the native CLI's bytes", () => {
  const native = run("native", ["app=app.wasm", "--with-runtime", "-o", "OUT"], "api.wasm").bytes;
  const fromBytes = link({ app: readFileSync(join(work, "app.wasm")) }, { withRuntime: true });
  assert.ok(fromBytes instanceof Uint8Array);
  assert.ok(Buffer.compare(native, fromBytes) === 0);
  const wasm = readFileSync(join(work, "app.wasm"));
  const ab = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength);
  assert.ok(Buffer.compare(native, link({ app: ab }, { withRuntime: true })) === 0, "an ArrayBuffer works too");
  const withFlags = run("native", ["lib=lib.wat", "app=app.wat", "--runtime-variant", "scalar", "--export", "app.sum", "--export", "multimem.memory", "--gc", "-o", "OUT"], "api2.wasm").bytes;
  const api = link(
    { lib: readFileSync(join(work, "lib.wat"), "utf8"), app: readFileSync(join(work, "app.wat")) },
    { runtimeVariant: "scalar", export: ["app.sum", "multimem.memory"], gc: true },
  );
  assert.ok(Buffer.compare(withFlags, api) === 0, "WAT text (string or bytes) and flags in camelCase");
  new WebAssembly.Module(api); // and it is a valid module
  const text = new TextDecoder().decode(link({ app: wasm }, { withRuntime: true, wat: true }));
  assert.match(text, /^\(module/);
});

test("JS API: the linker's refusals are LinkErrors with its message; bad options are TypeErrors", () => {
  const native = run("native", ["lib=lib.wasm", "app=app.wasm", "--with-runtime", "-o", "OUT"], "conflict.wasm");
  assert.throws(() => link({ lib: readFileSync(join(work, "lib.wasm")), app: readFileSync(join(work, "app.wasm")) }, { withRuntime: true }), (e) => {
    assert.ok(e instanceof LinkError);
    assert.equal(e.exitCode, 1);
    assert.equal(`error: ${e.message}\n`, native.stderr, "the CLI's message");
    return true;
  });
  assert.throws(() => link({ app: "(module (func (result i32) i64.const 1))" }), (e) => e instanceof LinkError && /not valid WAT|type mismatch/.test(e.message));
  assert.throws(() => link({ app: new Uint8Array([0, 0x61, 0x73]) }), (e) => e instanceof LinkError && /truncated wasm/.test(e.message));
  assert.throws(() => link({ app: 42 }), { name: "TypeError", message: /^inputs\.app: / });
  assert.throws(() => link({ "a=b": "(module)" }), { name: "TypeError", message: /^inputs: / });
  assert.throws(() => link({ app: "(module)" }, { frob: true }), { name: "TypeError", message: /^options\.frob: unknown option/ });
  assert.throws(() => link({ app: "(module)" }, { gc: "yes" }), { name: "TypeError", message: /^options\.gc: / });
  assert.throws(() => link(null), { name: "TypeError", message: /^inputs: / });
});

/** A valid module with `n` functions of `k` (i32.const 0, drop) pairs: about n * 3k bytes of code. */
function bigModule(n, k) {
  const leb = (v) => {
    const out = [];
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
    return out;
  };
  const section = (id, body) => [id, ...leb(body.length), ...body];
  const body = [0, ...Array(k).fill([0x41, 0, 0x1a]).flat(), 0x0b];
  const code = [...leb(n)];
  for (let i = 0; i < n; i++) code.push(...leb(body.length), ...body);
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [...leb(n), ...Array(n).fill(0)]),
    ...section(7, [1, 1, 0x66, 0, 0]), // export "f" = function 0
    ...section(10, code),
  ]);
}

test("--threads N on an input large enough for threads: the native output, on one thread", () => {
  const big = bigModule(2000, 200); // 1.2 MB of code: the linker splits work above 1 MiB
  assert.ok(big.length > (1 << 20));
  writeFileSync(join(work, "big.wasm"), big);
  const args = ["app=big.wasm", "--with-runtime", "--threads", "2", "-o", "OUT"];
  const native = run("native", args, "big.wasm");
  const npm = run("npm", args, "big.wasm");
  assert.equal(native.status, 0, native.stderr);
  assert.equal(npm.status, 0, npm.stderr);
  assert.ok(Buffer.compare(native.bytes, npm.bytes) === 0, "identical bytes");
  const inline = run("npm", ["app=big.wasm", "--with-runtime", "--threads=4", "-o", "OUT"], "big4.wasm");
  assert.equal(inline.status, 0, inline.stderr);
  assert.ok(Buffer.compare(native.bytes, inline.bytes) === 0);
  assert.ok(Buffer.compare(native.bytes, link({ app: big }, { withRuntime: true, threads: 3 })) === 0, "JS API");
});
