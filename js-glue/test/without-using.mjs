// Node 22 cannot parse `using` declarations (explicit resource management
// arrived in Node 24). This writes a copy of js-glue's tests with `using`
// compiled away by TypeScript (into try/finally calling [Symbol.dispose],
// which Node 22 has) so that Node 22 runs the same suites:
//   node test/without-using.mjs OUT
// writes OUT/js-glue/test/*.js (copy-tests.mjs: links src, docs and the
// example compiler's JS host so relative imports resolve as in the repository).
// Nothing else changes: the tests and the glue are the same files.
import { copyTests } from "./copy-tests.mjs";

const out = process.argv[2];
if (!out) {
  console.error("usage: node test/without-using.mjs OUT");
  process.exit(2);
}
const n = copyTests(out).length;
console.log(`${n} test files without \`using\` in ${out}/js-glue/test`);
