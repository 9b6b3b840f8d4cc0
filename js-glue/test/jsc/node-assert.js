// What js-glue's tests use of node:assert/strict, for jsc: equal (Object.is),
// notEqual, ok, match, deepEqual (strict: same prototypes, Object.is on
// leaves, typed arrays and arrays element by element), throws and rejects
// with node's matchers (a class, a validation function, a RegExp, or an
// object whose keys are compared).

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = "AssertionError";
  }
}

const show = (v) => {
  try {
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "string") return JSON.stringify(v);
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v).slice(0, 16).join(", ")}${v.length > 16 ? ", ..." : ""}]`;
    if (Array.isArray(v)) return `[${v.slice(0, 16).map(show).join(", ")}${v.length > 16 ? ", ..." : ""}]`;
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    if (v !== null && typeof v === "object") return `{${Object.keys(v).slice(0, 8).map((k) => `${k}: ${show(v[k])}`).join(", ")}}`;
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};

function fail(message, fallback) {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? fallback);
}

export function ok(value, message) {
  if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
}

export function equal(actual, expected, message) {
  if (!Object.is(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`);
}

export function notEqual(actual, expected, message) {
  if (Object.is(actual, expected)) fail(message, `expected anything but ${show(expected)}`);
}

export function match(actual, re, message) {
  if (typeof actual !== "string" || !re.test(actual)) fail(message, `expected ${show(actual)} to match ${re}`);
}

/** Where `a` and `b` differ (a path), or null. */
function difference(a, b, path) {
  if (Object.is(a, b)) return null;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return `${path}: ${show(a)} !== ${show(b)}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: different prototypes (${show(a)} vs ${show(b)})`;
  if (ArrayBuffer.isView(a) || Array.isArray(a)) {
    if (a.length !== b.length) return `${path}.length: ${a.length} !== ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    if (Array.isArray(a)) return null;
  }
  if (a instanceof Set) {
    if (a.size !== b.size) return `${path}.size: ${a.size} !== ${b.size}`;
    for (const x of a) if (!b.has(x)) return `${path}: ${show(x)} missing`;
    return null;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return `${path}: keys ${ka.join(",")} vs ${kb.join(",")}`;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return `${path}.${k}: missing`;
    const d = difference(a[k], b[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

export function deepEqual(actual, expected, message) {
  const d = difference(actual, expected, "value");
  if (d) fail(message === undefined ? undefined : `${message}: ${d}`, d);
}
export const deepStrictEqual = deepEqual;
export const strictEqual = equal;

/** Node's rules for the `expected` argument of throws/rejects. */
function check(error, expected, message) {
  if (expected === undefined) return;
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && error instanceof expected) return;
    if (Error.isPrototypeOf(expected) || expected === Error) fail(message, `expected a ${expected.name}, got ${show(error)}`);
    if (expected.call({}, error) !== true) fail(message, `the validation function rejected ${show(error)}`);
    return;
  }
  if (expected instanceof RegExp) {
    if (!expected.test(String(error))) fail(message, `${show(error)} does not match ${expected}`);
    return;
  }
  if (typeof expected === "object" && expected !== null) {
    for (const [k, want] of Object.entries(expected)) {
      const got = error?.[k];
      if (want instanceof RegExp && typeof got === "string") {
        if (!want.test(got)) fail(message, `error.${k} ${show(got)} does not match ${want}`);
      } else {
        const d = difference(got, want, `error.${k}`);
        if (d) fail(message, d);
      }
    }
    return;
  }
  if (typeof expected === "string") return; // a message for the missing-exception case
  fail(undefined, `bad expected argument ${show(expected)}`);
}

export function throws(fn, expected, message) {
  try {
    fn();
  } catch (e) {
    check(e, expected, typeof expected === "string" ? undefined : message);
    return;
  }
  fail(typeof expected === "string" ? expected : message, "missing expected exception");
}

export async function rejects(promiseOrFn, expected, message) {
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    check(e, expected, typeof expected === "string" ? undefined : message);
    return;
  }
  fail(typeof expected === "string" ? expected : message, "missing expected rejection");
}

function assert(value, message) {
  ok(value, message);
}
Object.assign(assert, { ok, equal, notEqual, match, deepEqual, deepStrictEqual, strictEqual, throws, rejects, AssertionError });
export default assert;
