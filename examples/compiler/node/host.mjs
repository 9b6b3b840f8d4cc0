// The host-import contract of the example compiler's programs
// (examples/compiler/README.md, "The host-import contract"), for JS hosts:
// what run.mjs gives a program in Node, and what js-glue's tests give it in
// Node and JavaScriptCore. No Node API here, so both can load it.
// `multimem:gc.own` is not part of it: js-glue's instantiate supplies it.

/** Rust's `{:?}` for f64, as the contract specifies print_f64's text. */
export function debugF64(x) {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e16) {
    const s = String(x); // shortest round-trip digits, plain notation in this range
    return Number.isInteger(x) ? `${s}.0` : s;
  }
  return x.toExponential().replace("e+", "e"); // shortest digits, Rust's exponent form
}

/**
 * The contract's imports: `lib` is the external library's instance (its
 * memory is the program's `env.memory`), `print(line)` receives each printed
 * line, `gc` is the `host.gc` import (see the README's row for what it
 * should do; default: ask the engine for a collection).
 */
export function contractImports({ lib, print, gc = () => globalThis.gc?.() }) {
  return {
    env: { memory: lib },
    lib: lib.exports,
    host: {
      print_i64: (v) => print(String(v)),
      print_f64: (v) => print(debugF64(v)),
      gc,
    },
  };
}

/** Sets every reference global a program exports (`global.NAME`) to null; returns how many. */
export function dropGlobals(exports) {
  let n = 0;
  for (const [name, g] of Object.entries(exports)) {
    if (!name.startsWith("global.") || typeof g.value !== "object") continue;
    g.value = null;
    n++;
  }
  return n;
}
