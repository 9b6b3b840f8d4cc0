// No fact kept by hand (issue 10). The glue takes its ABI facts from the
// generated src/abi.js (intrinsicImports() builds one function per row of
// INTRINSICS); what it still restates by hand, the per-kind literal types in
// src/index.d.ts, is checked against docs/ABI.md's tables here, and so are
// the intrinsic functions' names and arities, end to end. The table rows are
// parsed as abi/build.rs parses them (a cell's value is its first backticked text).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CLASSES, KINDS, intrinsicImports } from "../src/index.js";
import { fixture } from "./helpers.js";

const ABI = readFileSync(new URL("../../docs/ABI.md", import.meta.url), "utf8");
const DTS = readFileSync(new URL("../src/index.d.ts", import.meta.url), "utf8");

/** Rows of the table after `<!-- abi:NAME -->`, as objects keyed by the header. */
function table(name) {
  const at = ABI.indexOf(`<!-- abi:${name} -->`);
  assert.ok(at >= 0, `docs/ABI.md has no abi:${name} table`);
  const lines = ABI.slice(at).split("\n").slice(1);
  const rows = [];
  for (const line of lines) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((c) => {
      const m = /`([^`]*)`/.exec(c);
      return m ? m[1] : c.trim();
    });
    rows.push(cells);
  }
  const [header, , ...body] = rows;
  return body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i]])));
}

test("index.d.ts: each class's kind, bytesPerElement and view type are the ABI kinds table's", () => {
  const kinds = table("kinds");
  assert.equal(kinds.length, CLASSES.length);
  for (const k of kinds) {
    const re = new RegExp(`export declare class ${k.name} extends (\\w+)(?:<(\\w+),[^{]*)? \\{[^}]*?static readonly bytesPerElement: (\\d+);\\s*static readonly kind: (\\d+);`);
    const m = re.exec(DTS);
    assert.ok(m, `index.d.ts declares ${k.name} with bytesPerElement and kind`);
    const [, base, array, size, code] = m;
    assert.equal(code, k.code, `${k.name}.kind`);
    assert.equal(size, k.elementSizeInBytes, `${k.name}.bytesPerElement`);
    if (k.name === "ByteData") {
      assert.equal(base, "TypedData");
      assert.match(DTS, /class ByteData extends TypedData \{[\s\S]*?view\(\): DataView;/);
    } else {
      assert.equal(base, "TypedList");
      assert.equal(array, k.js_array, `${k.name}'s view type`);
      // SIMD kinds: get() returns the lane array; scalar kinds: a number or bigint.
      const element = new RegExp(`class ${k.name} extends TypedList<\\w+, (\\w+),`).exec(DTS)[1];
      const want = Number(k.lanes) > 1 ? k.js_array : k.js_array.startsWith("Big") ? "bigint" : "number";
      assert.equal(element, want, `${k.name}'s element type`);
    }
  }
  // The generated table agrees too (abi.js is generated, this ties the two checks together).
  assert.deepEqual(KINDS.map((k) => k.name), kinds.map((k) => k.name));
});

test("intrinsicImports(): exactly the ABI intrinsics table's names, with its arities", () => {
  const rows = table("intrinsics");
  const f = intrinsicImports(new WebAssembly.Memory({ initial: 1 }), () => null);
  assert.deepEqual(Object.keys(f).sort(), rows.map((r) => r.name).sort());
  for (const r of rows) {
    const params = r.params === "" ? 0 : r.params.split(" ").length;
    assert.equal(f[r.name].length, params, `${r.name} takes ${params} arguments`);
  }
  // And runtime.wasm's real imports from the intrinsics module are among them.
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(fixture("runtime-atomic.wasm")))
    .filter((i) => i.module === "multimem:intrinsics").map((i) => i.name);
  assert.ok(imports.length > 0);
  for (const name of imports) assert.ok(name in f, `runtime.wasm imports ${name}`);
});
