// What js-glue's tests use of node:fs, for jsc: readFileSync over the shell's readFile.
import { fileURLToPath } from "./globals.js";

/** The file's bytes (a Uint8Array), or its text when `encoding` is given. */
export function readFileSync(path, encoding) {
  const p = typeof path === "string" ? path : fileURLToPath(path);
  if (encoding !== undefined) return readFile(p);
  return new Uint8Array(readFile(p, "binary"));
}
