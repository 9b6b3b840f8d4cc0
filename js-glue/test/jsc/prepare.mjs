// Writes js-glue's tests in a form JavaScriptCore's shell (`jsc`, the engine
// of Safari 26) runs, for scripts/test-webkit.sh:
//   node test/jsc/prepare.mjs OUT
// writes OUT/js-glue/test/*.js (../copy-tests.mjs, which links src, docs and
// the example compiler's JS host) and links OUT/js-glue/test/jsc -> this
// directory, so relative imports resolve as in the repository. Two
// rewrites, nothing else changes:
//   - `using` declarations are compiled away by TypeScript into try/finally
//     whose helpers (imported from "tslib") come from ./using.js, which calls
//     the wrapper's dispose(): jsc has no Symbol.dispose, and dispose() is
//     what a Safari user calls;
//   - `node:` imports go to the small modules here (node-*.js) that implement
//     what the tests use of them over jsc's shell functions.
// run.js then runs the files, except the tests it lists as Node-only.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyTests } from "../copy-tests.mjs";

const out = process.argv[2];
if (!out) {
  console.error("usage: node test/jsc/prepare.mjs OUT");
  process.exit(2);
}
const SHIMS = {
  "node:assert/strict": "./jsc/node-assert.js",
  "node:test": "./jsc/node-test.js",
  "node:fs": "./jsc/node-fs.js",
  "node:path": "./jsc/node-path.js",
  "node:timers/promises": "./jsc/node-timers.js",
  "node:util": "./jsc/node-util.js",
  tslib: "./jsc/using.js",
};
// Imports of Node modules the shims do not cover stay as they are: jsc
// fails to load such a file, so run.js must list it as Node-only.
const files = copyTests(out, {
  importHelpers: true,
  rewrite: (text) => text.replace(/from "([^"]+)"/g, (m, spec) => (spec in SHIMS ? `from "${SHIMS[spec]}"` : m)),
  links: [["test/jsc", "js-glue/test/jsc"]],
});
writeFileSync(join(out, "js-glue/test/files.js"), `export const FILES = ${JSON.stringify(files.sort())};\n`);
console.log(`${files.length} test files for jsc in ${join(out, "js-glue/test")}`);
