// Run by scripts/test-js.sh on the system Node (20, no multi-memory): the
// glue must refuse clearly instead of failing inside WebAssembly.compile.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { instantiate, supportsMultiMemory } from "../src/index.js";

assert.equal(supportsMultiMemory(), false);
const bytes = readFileSync(join(process.env.MULTIMEM_JS_FIXTURES, "app.linked.wasm"));
await assert.rejects(instantiate(bytes, {}), (e) => {
  assert.equal(e.code, "MULTIMEM_NO_MULTI_MEMORY");
  assert.match(e.message, /does not support multi-memory/);
  return true;
});
console.log(`Node ${process.version}: instantiate refused with MULTIMEM_NO_MULTI_MEMORY, as expected`);
