// Node 22 cannot parse `using` declarations (explicit resource management
// arrived in Node 24). This writes a copy of js-glue's tests with `using`
// compiled away by TypeScript (into try/finally calling [Symbol.dispose],
// which Node 22 has) so that Node 22 runs the same suites:
//   node test/without-using.mjs OUT
// writes OUT/js-glue/test/*.js, and links OUT/js-glue/src -> src and
// OUT/docs -> docs so relative imports resolve as in the repository.
// Nothing else changes: the tests and the glue are the same files.
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const out = process.argv[2];
if (!out) {
  console.error("usage: node test/without-using.mjs OUT");
  process.exit(2);
}
const glue = resolve(fileURLToPath(new URL("..", import.meta.url)));
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "js-glue/test"), { recursive: true });
symlinkSync(join(glue, "src"), join(out, "js-glue/src"));
symlinkSync(join(glue, "../docs"), join(out, "docs"));
let n = 0;
for (const name of readdirSync(join(glue, "test"))) {
  if (!name.endsWith(".js")) continue;
  const source = readFileSync(join(glue, "test", name), "utf8");
  const { outputText, diagnostics } = ts.transpileModule(source, {
    fileName: name,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, allowJs: true },
  });
  if (diagnostics?.length) {
    console.error(`${name}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, "\n")}`);
    process.exit(1);
  }
  writeFileSync(join(out, "js-glue/test", name), outputText);
  n++;
}
console.log(`${n} test files without \`using\` in ${join(out, "js-glue/test")}`);
