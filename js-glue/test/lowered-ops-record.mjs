// Helper of scripts/test-js.sh for the lowered-ops fixture (lowered-ops.js):
//   node test/lowered-ops-record.mjs wat OUT.wat         writes the module's text;
//   node test/lowered-ops-record.mjs expect DIR OUT.json runs DIR/lowered-ops.linked.wasm
//     (the multi-memory build, natively) and writes its outcomes, which jsc must
//     reproduce with the single-memory build.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, wat } from "./lowered-ops.js";

const [mode, ...rest] = process.argv.slice(2);
if (mode === "wat" && rest.length === 1) {
  writeFileSync(rest[0], wat());
} else if (mode === "expect" && rest.length === 2) {
  const ext = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const { instance } = await WebAssembly.instantiate(readFileSync(join(rest[0], "lowered-ops.linked.wasm")), { env: { memory: ext } });
  const x = instance.exports;
  writeFileSync(rest[1], JSON.stringify(run(x, { ext, memory: x.memory, data: x.data, shared: x.shared })));
} else {
  console.error("usage: lowered-ops-record.mjs wat OUT.wat | expect FIXTURES_DIR OUT.json");
  process.exit(2);
}
