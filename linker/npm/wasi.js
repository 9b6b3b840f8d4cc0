// Runs multimem-link.wasm (the multimem-link CLI compiled for wasm32-wasip1)
// under Node's node:wasi. Used by the CLI (bin/multimem-link.js) and the JS
// API (index.js). The module is compiled once per process and instantiated
// afresh for every run (a WASI command runs once per instance).
//
// Limits: node:wasi gives the linker the directories it preopens and nothing
// else, and the guest's working directory is always `/` (so relative paths
// are made absolute by the caller); wasm32-wasip1 has no threads, so the
// linker runs single-threaded (its output is the same for any thread count).
import { readFileSync } from "node:fs";

let compiled = null;

/** The compiled linker module (compiled on first use). */
export function linkerModule() {
  compiled ??= new WebAssembly.Module(readFileSync(new URL("./multimem-link.wasm", import.meta.url)));
  return compiled;
}

/**
 * Runs the linker with `args` (without the program name). `preopens` maps
 * guest directories to host ones; `stdout`/`stderr` are file descriptors.
 * Returns the exit code.
 */
export function runLinker(args, { preopens, stdout = 1, stderr = 2, env = {} }) {
  const wasi = quietly(() => {
    const { WASI } = process.getBuiltinModule("node:wasi");
    return new WASI({ version: "preview1", args: ["multimem-link", ...args], env, preopens, stdout, stderr, returnOnExit: true });
  });
  const instance = new WebAssembly.Instance(linkerModule(), { wasi_snapshot_preview1: wasi.wasiImport });
  return wasi.start(instance);
}

// node:wasi prints "ExperimentalWarning: WASI is an experimental feature"
// when the module is loaded; the CLI must print exactly what the native one
// prints, so it is loaded (getBuiltinModule) with that one warning dropped.
function quietly(make) {
  const emit = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    const text = typeof warning === "string" ? warning : warning?.message;
    if (/WASI/.test(text ?? "")) return;
    emit.call(process, warning, ...rest);
  };
  try {
    return make();
  } finally {
    process.emitWarning = emit;
  }
}
