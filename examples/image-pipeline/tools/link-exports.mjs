// Prints the `--export` arguments of the one-module link (build.sh, phase 5),
// one per line: every export of the codec under its own name (wasm-bindgen's
// glue looks them up by name: `memory`, `__wbindgen_malloc`, ...), every
// export of the runtime as `multimem.<name>` (the runtime's `memory` would
// otherwise clash with the codec's), and the app's exports.
// Usage: node link-exports.mjs codec_bg.wasm runtime.wasm
import { readFileSync } from "node:fs";

const APP_EXPORTS = ["process", "status", "copied_to_codec", "copied_from_codec", "copy_round_trip"];
const [codecPath, runtimePath] = process.argv.slice(2);
if (!codecPath || !runtimePath) {
  console.error("usage: node link-exports.mjs codec_bg.wasm runtime.wasm");
  process.exit(2);
}
const names = (path) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(path))).map((e) => e.name);
const args = [
  ...names(codecPath).map((n) => `codec.${n}`),
  ...names(runtimePath).map((n) => `multimem.${n}=multimem.${n}`),
  ...APP_EXPORTS.map((n) => `app.${n}`),
];
for (const a of args) console.log(`--export=${a}`);
