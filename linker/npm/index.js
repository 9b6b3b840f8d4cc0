// The JS API of the npm linker: link({ app: bytes, ... }, options) -> bytes.
// It runs the same multimem-link.wasm as the CLI (wasi.js), so it accepts
// what the CLI accepts and fails with the CLI's messages.
//
// How: the inputs are written to a fresh temporary directory, the only one
// the linker sees (preopened as /work), the CLI runs with the flags the
// options spell, and the output file is read back; the directory is removed
// afterwards, whatever happened.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLinker } from "./wasi.js";

/** A link the linker refused: `message` is its message, `stderr` all it printed. */
export class LinkError extends Error {
  constructor(message, stderr, exitCode) {
    super(message);
    this.name = "LinkError";
    /** Everything the linker wrote to stderr. */
    this.stderr = stderr;
    /** The CLI's exit code (1). */
    this.exitCode = exitCode;
  }
}

// option -> [CLI flag, kind]
const FLAGS = Object.freeze({
  withRuntime: ["--with-runtime", "boolean"],
  runtimeVariant: ["--runtime-variant", "string"],
  export: ["--export", "strings"],
  renameConflicts: ["--rename-conflicts", "boolean"],
  skipConflicts: ["--skip-conflicts", "boolean"],
  externalMemory: ["--external-memory", "string"],
  ownMemory: ["--own-memory", "string"],
  gc: ["--gc", "boolean"],
  namePrefix: ["--name-prefix", "string"],
  stripNames: ["--strip-names", "boolean"],
  keepDwarf: ["--keep-dwarf", "boolean"],
  validateInputs: ["--validate-inputs", "boolean"],
  threads: ["--threads", "integer"],
  wat: ["--wat", "boolean"],
});

/** The CLI arguments for `options` (after the inputs). */
function flags(options) {
  if (options === null || typeof options !== "object") throw new TypeError(`options: expected an object, got ${options}`);
  const out = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === "onWarning" || value === undefined) continue;
    const spec = FLAGS[key];
    if (!spec) throw new TypeError(`options.${key}: unknown option (known: ${Object.keys(FLAGS).join(", ")}, onWarning)`);
    const [flag, kind] = spec;
    if (kind === "boolean") {
      if (typeof value !== "boolean") throw new TypeError(`options.${key}: expected a boolean, got ${typeof value}`);
      if (value) out.push(flag);
    } else if (kind === "strings") {
      const list = typeof value === "string" ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === "string")) {
        throw new TypeError(`options.${key}: expected a string or an array of strings`);
      }
      for (const v of list) out.push(flag, v);
    } else if (kind === "integer") {
      if (!Number.isInteger(value) || value < 0) throw new TypeError(`options.${key}: expected a non-negative integer, got ${value}`);
      out.push(flag, String(value));
    } else {
      if (typeof value !== "string") throw new TypeError(`options.${key}: expected a string, got ${typeof value}`);
      out.push(flag, value);
    }
  }
  return out;
}

/** Bytes of one input: wasm bytes or WAT text. */
function inputBytes(name, value) {
  if (typeof value === "string") return { bytes: Buffer.from(value, "utf8"), ext: "wat" };
  if (value instanceof ArrayBuffer) value = new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const wasm = bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
    return { bytes, ext: wasm ? "wasm" : "wat" };
  }
  throw new TypeError(`inputs.${name}: expected wasm bytes (Uint8Array, ArrayBuffer) or WAT text (string)`);
}

/**
 * Links the modules in `inputs` (an object NAME -> wasm bytes or WAT text,
 * in link order, as the CLI's NAME=FILE arguments) and returns the linked
 * module's bytes (with `wat: true`, the text as UTF-8 bytes). `options`
 * are the CLI's flags in camelCase: withRuntime, runtimeVariant, export
 * (a string or a list of "M.NAME[=AS]"), renameConflicts, skipConflicts,
 * externalMemory, ownMemory, gc, namePrefix, stripNames, keepDwarf,
 * validateInputs, threads, wat; `onWarning(message)` receives the warnings.
 * Throws LinkError with the linker's message when it refuses.
 */
export function link(inputs, options = {}) {
  if (inputs === null || typeof inputs !== "object") throw new TypeError(`inputs: expected an object NAME -> bytes, got ${inputs}`);
  const args = [];
  const files = [];
  Object.entries(inputs).forEach(([name, value], i) => {
    if (name === "" || name.includes("=")) throw new TypeError(`inputs: module name ${JSON.stringify(name)} must be non-empty and contain no "="`);
    const { bytes, ext } = inputBytes(name, value);
    files.push([`${i}.${ext}`, bytes]);
    args.push(`${name}=/work/${i}.${ext}`);
  });
  args.push(...flags(options), "-o", "/work/out");
  const dir = mkdtempSync(join(tmpdir(), "multimem-link-"));
  try {
    for (const [file, bytes] of files) writeFileSync(join(dir, file), bytes);
    const errPath = join(dir, "stderr");
    const errFd = openSync(errPath, "w");
    let code;
    try {
      code = runLinker(args, { preopens: { "/work": dir }, stderr: errFd, stdout: errFd });
    } finally {
      closeSync(errFd);
    }
    const stderr = readFileSync(errPath, "utf8");
    if (code !== 0) {
      const line = stderr.split("\n").find((l) => l.startsWith("error: ")) ?? stderr.trim();
      throw new LinkError(line.replace(/^error: /, ""), stderr, code);
    }
    if (typeof options.onWarning === "function") {
      for (const l of stderr.split("\n")) if (l.startsWith("warning: ")) options.onWarning(l.slice("warning: ".length));
    }
    return new Uint8Array(readFileSync(join(dir, "out")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
