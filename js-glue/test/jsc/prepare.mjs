// Writes js-glue's tests in a form JavaScriptCore's shell (`jsc`, the engine
// of Safari 26) runs, for scripts/test-webkit.sh:
//   node test/jsc/prepare.mjs OUT
// writes OUT/js-glue/test/*.js and links OUT/js-glue/src -> src, OUT/docs ->
// docs and OUT/js-glue/test/jsc -> this directory, so relative imports
// resolve as in the repository. Two rewrites, nothing else changes:
//   - `using` declarations are compiled away by TypeScript into try/finally
//     whose helpers (imported from "tslib") come from ./using.js, which calls
//     the wrapper's dispose(): jsc has no Symbol.dispose, and dispose() is
//     what a Safari user calls;
//   - `node:` imports go to the small modules here (node-*.js) that implement
//     what the tests use of them over jsc's shell functions.
// run.js then runs the files, except the tests it lists as Node-only.
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const out = process.argv[2];
if (!out) {
  console.error("usage: node test/jsc/prepare.mjs OUT");
  process.exit(2);
}
const glue = resolve(fileURLToPath(new URL("../..", import.meta.url)));
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "js-glue/test"), { recursive: true });
symlinkSync(join(glue, "src"), join(out, "js-glue/src"));
symlinkSync(join(glue, "../docs"), join(out, "docs"));
symlinkSync(join(glue, "test/jsc"), join(out, "js-glue/test/jsc"));
const SHIMS = {
  "node:assert/strict": "./jsc/node-assert.js",
  "node:test": "./jsc/node-test.js",
  "node:fs": "./jsc/node-fs.js",
  "node:path": "./jsc/node-path.js",
  "node:timers/promises": "./jsc/node-timers.js",
  "node:util": "./jsc/node-util.js",
  tslib: "./jsc/using.js",
};
const files = [];
for (const name of readdirSync(join(glue, "test"))) {
  if (!name.endsWith(".js")) continue;
  const source = readFileSync(join(glue, "test", name), "utf8");
  const { outputText, diagnostics } = ts.transpileModule(source, {
    fileName: name,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, allowJs: true, importHelpers: true },
  });
  if (diagnostics?.length) {
    console.error(`${name}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, "\n")}`);
    process.exit(1);
  }
  // Imports of Node modules the shims do not cover stay as they are: jsc
  // fails to load such a file, so run.js must list it as Node-only.
  const text = outputText.replace(/from "([^"]+)"/g, (m, spec) => (spec in SHIMS ? `from "${SHIMS[spec]}"` : m));
  writeFileSync(join(out, "js-glue/test", name), text);
  if (name.endsWith(".test.js")) files.push(name);
}
writeFileSync(join(out, "js-glue/test/files.js"), `export const FILES = ${JSON.stringify(files.sort())};\n`);
console.log(`${files.length} test files for jsc in ${join(out, "js-glue/test")}`);
