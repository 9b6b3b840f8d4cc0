// What js-glue's tests expect of the global scope that the jsc shell lacks,
// installed only where missing (never replacing an engine's own): `process`
// (env and the fixture directory from run.js's arguments), `Buffer.compare`,
// `URL` for file URLs, `TextDecoder` for UTF-8 and `console`. These serve the
// tests only; the glue itself uses none of them in jsc (lowered.js decodes its
// JSON section without TextDecoder).

/** A file URL's path. */
export function fileURLToPath(url) {
  const href = typeof url === "string" ? url : url.href;
  if (!href.startsWith("file://")) throw new TypeError(`not a file URL: ${href}`);
  return decodeURIComponent(href.slice("file://".length));
}

if (typeof globalThis.URL === "undefined") {
  /** Just enough of URL for `new URL(relative, import.meta.url)` with file URLs. */
  globalThis.URL = class URL {
    constructor(input, base) {
      let href = String(input);
      if (!/^[a-z]+:/.test(href)) {
        const dir = String(base).replace(/[^/]*$/, "");
        const parts = [];
        for (const seg of (dir.slice("file://".length) + href).split("/")) {
          if (seg === "..") parts.pop();
          else if (seg !== "." && seg !== "") parts.push(seg);
        }
        href = `file:///${parts.join("/")}`;
      }
      this.href = href;
      this.pathname = href.replace(/^file:\/\//, "");
    }
    toString() {
      return this.href;
    }
  };
}

if (typeof globalThis.TextDecoder === "undefined") {
  globalThis.TextDecoder = class TextDecoder {
    decode(bytes) {
      const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let s = "";
      for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
      return decodeURIComponent(escape(s));
    }
  };
}

if (typeof globalThis.Buffer === "undefined") {
  globalThis.Buffer = {
    /** -1, 0 or 1, as Node's Buffer.compare, for any two byte views. */
    compare(a, b) {
      const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    },
  };
}

if (typeof globalThis.console === "undefined") {
  const line = (...args) => print(args.map((a) => (typeof a === "string" ? a : String(a))).join(" "));
  globalThis.console = { log: line, error: line, warn: line, info: line };
}

if (typeof globalThis.process === "undefined") {
  // jsc passes the words after `--` as the global `arguments`: FIXTURES_DIR BUILD.
  const args = typeof globalThis.arguments === "object" ? [...globalThis.arguments] : [];
  globalThis.process = {
    env: { MULTIMEM_JS_FIXTURES: args[0], MULTIMEM_JS_BUILD: args[1] },
    versions: { node: "0.0.0" },
    argv: ["jsc", ...args],
  };
}
