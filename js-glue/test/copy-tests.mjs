// Writes a copy of js-glue's test files for an engine that cannot run them
// as they are (Node 22: no `using`; JavaScriptCore's shell: no `using`, no
// Node modules), used by without-using.mjs and jsc/prepare.mjs:
//   1. OUT/js-glue/test/*.js: each test/*.js with `using` declarations
//      compiled away by TypeScript (into try/finally), then `rewrite(text)`;
//   2. links, so relative imports resolve as in the repository:
//      OUT/js-glue/src -> src, OUT/docs -> docs, OUT/examples/compiler/node ->
//      the example compiler's JS host, and `links` (more, relative to js-glue/).
// Returns the names of the *.test.js files written. A file TypeScript
// cannot transpile ends the process with its diagnostic.
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const glue = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** See the top of this file. `importHelpers`: take `using`'s helpers from "tslib" instead of inlining them. */
export function copyTests(out, { importHelpers = false, rewrite = (text) => text, links = [] } = {}) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, "js-glue/test"), { recursive: true });
  for (const [from, to] of [
    ["src", "js-glue/src"],
    ["../docs", "docs"],
    ["../examples/compiler/node", "examples/compiler/node"],
    ...links,
  ]) {
    mkdirSync(dirname(join(out, to)), { recursive: true });
    symlinkSync(join(glue, from), join(out, to));
  }
  const tests = [];
  for (const name of readdirSync(join(glue, "test"))) {
    if (!name.endsWith(".js")) continue;
    const source = readFileSync(join(glue, "test", name), "utf8");
    const { outputText, diagnostics } = ts.transpileModule(source, {
      fileName: name,
      reportDiagnostics: true,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, allowJs: true, importHelpers },
    });
    if (diagnostics?.length) {
      console.error(`${name}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, "\n")}`);
      process.exit(1);
    }
    writeFileSync(join(out, "js-glue/test", name), rewrite(outputText));
    if (name.endsWith(".test.js")) tests.push(name);
  }
  return tests;
}
