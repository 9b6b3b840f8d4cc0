// Both npm packages as a user gets them: `npm pack` js-glue and the npm
// linker, install the two tarballs into a fresh directory, and run the
// README's quick starts there (the code blocks after the `quickstart:`
// markers in README.md, unchanged; only `npm install NAME...` becomes
// `npm install TARBALL...`, since the packages are not fetched from a
// registry). Runs on the Node that runs this test (PATH puts it first).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "multimem-npm-install-"));
after(() => rmSync(dir, { recursive: true, force: true }));
// The Node running this test runs everything below (npm and npx too).
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, npm_config_update_notifier: "false" };
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The fenced code block after `<!-- quickstart:NAME -->` in README.md. */
function quickstart(name) {
  const m = new RegExp(`<!-- quickstart:${name.replace(".", "\\.")} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(README);
  assert.ok(m, `README.md has a quickstart:${name} block`);
  return m[1];
}

// The app the quick starts link: it allocates through the runtime.
const APP = `(module
  (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
  (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
`;

test("npm pack both packages, install the tarballs in a fresh directory, run the README quick starts", () => {
  const tarballs = [join(ROOT, "linker/npm"), join(ROOT, "js-glue")].map((pkg) => {
    const out = JSON.parse(sh("npm", ["pack", "--json", "--pack-destination", dir], pkg));
    return join(dir, out[0].filename);
  });
  const files = (t) => sh("tar", ["tzf", t]).split("\n").filter(Boolean).sort();
  assert.ok(files(tarballs[0]).includes("package/multimem-link.wasm"), files(tarballs[0]).join(" "));
  assert.ok(files(tarballs[1]).includes("package/src/index.js"));
  assert.ok(!files(tarballs[1]).some((f) => f.includes("/test/")), "no tests in the glue's package");

  const project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "quickstart", private: true, type: "module" }));
  writeFileSync(join(project, "app.wat"), APP);
  const shell = quickstart("shell").trim().split("\n");
  assert.match(shell[0], /^npm install multimem-link @multimem\/js-glue$/);
  sh("npm", ["install", "--no-audit", "--no-fund", "--offline", ...tarballs], project);
  assert.deepEqual(readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith(".")).sort(), ["@multimem", "multimem-link"]);
  for (const line of shell.slice(1)) {
    const [cmd, ...args] = line.split(/\s+/);
    sh(cmd, args, project);
  }
  const fromCli = readFileSync(join(project, "app.linked.wasm"));
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(fromCli)).map((e) => e.name);
  assert.ok(exports.includes("make") && exports.includes("buffer_new") && exports.includes("memory"), exports.join(" "));

  writeFileSync(join(project, "link.mjs"), quickstart("link.mjs"));
  rmSync(join(project, "app.linked.wasm"));
  sh(process.execPath, ["link.mjs"], project);
  assert.ok(Buffer.compare(readFileSync(join(project, "app.linked.wasm")), fromCli) === 0, "the JS API wrote the CLI's bytes");

  writeFileSync(join(project, "glue.mjs"), quickstart("glue.mjs"));
  const out = sh(process.execPath, ["glue.mjs"], project);
  assert.match(out, /^\[ 1\.5, 1\.5, 1\.5, 1\.5 \] Float32Array\(4\) \[ 1\.5, 1\.5, 1\.5, 1\.5 \]\n$/);

  // Every subpath js-glue's package.json exports resolves in the installed
  // package and has named exports (a file left out of "files" would not).
  const glueManifest = JSON.parse(readFileSync(join(ROOT, "js-glue/package.json"), "utf8"));
  const subpaths = Object.keys(glueManifest.exports).filter((p) => p !== "./package.json");
  assert.ok(subpaths.includes("./threads") && subpaths.includes("./webgpu"), subpaths.join(" "));
  const probe = subpaths
    .map((p) => `console.log(${JSON.stringify(p)}, Object.keys(await import(${JSON.stringify("@multimem/js-glue" + p.slice(1))})).length);`)
    .join("\n");
  writeFileSync(join(project, "subpaths.mjs"), probe);
  const counts = sh(process.execPath, ["subpaths.mjs"], project).trim().split("\n");
  assert.equal(counts.length, subpaths.length);
  for (const line of counts) assert.match(line, /^\S+ [1-9]\d*$/, `an exported subpath with no exports: ${line}`);
});
