// Loading the example compiler's programs (examples/compiler/programs, built
// by scripts/js-test-fixtures.sh) with the host-import contract of
// examples/compiler/README.md ("The host-import contract", implemented by
// examples/compiler/node/host.mjs, which run.sh's Node runs use); multimem:gc.own
// is the glue's own (src/ownership.js). Used by compiler-programs.test.js
// and ownership-gc.test.js; not a test file itself.
import assert from "node:assert/strict";
import { instantiate } from "../src/index.js";
import { BUILD, fixture } from "./helpers.js";
import { contractImports, debugF64, dropGlobals } from "../../examples/compiler/node/host.mjs";

export { debugF64, dropGlobals };

/** The text of a fixture of the compiler's programs. */
export const text = (name) => new TextDecoder().decode(fixture(`compiler/${name}`));
/** The programs scripts/js-test-fixtures.sh compiled. */
export const PROGRAMS = text("programs.txt").split("\n").filter(Boolean);

/**
 * Instantiates program `name` (build `build`) with the contract's imports;
 * `main` is not called. `gc` replaces the `host.gc` import (default: ask for
 * a collection, `globalThis.gc?.()`); the other options go to instantiate().
 */
export async function loadProgram(name, build = BUILD, { gc, ...options } = {}) {
  const lib = new WebAssembly.Instance(new WebAssembly.Module(fixture("compiler/extlib.wasm")));
  const lines = [];
  const imports = contractImports({ lib, print: (line) => lines.push(line), gc });
  const file = `compiler/${name}.${build === "single-memory" ? "linked.single" : "linked"}.wasm`;
  const { runtime, exports } = await instantiate(fixture(file), imports, { build, ...options });
  return { lines, runtime, exports };
}

/** The wasmtime driver's line after main and a GC (run.rs): what must be live then, and the tokens it saw. */
export function driverAfterGc(name) {
  const out = text(`${name}.out`);
  const m = /^-- after a GC: (\d+) live buffer\(s\).*tokens made (\d+), released (\d+) in (\d+) batch/m.exec(out);
  assert.ok(m, `the driver's "after a GC" line (examples/compiler/src/run.rs) changed; update this test:\n${out}`);
  const [live, made, released, batches] = m.slice(1).map(Number);
  return { live, made, released, batches };
}

