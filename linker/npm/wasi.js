// Runs multimem-link.wasm (the multimem-link CLI compiled for wasm32-wasip1)
// under Node's node:wasi. Used by the CLI (bin/multimem-link.js) and the JS
// API (index.js). The module is compiled once per process and instantiated
// afresh for every run (a WASI command runs once per instance).
//
// Limits: node:wasi gives the linker the directories it preopens and nothing
// else, and the guest's working directory is always `/` (so relative paths
// are made absolute by the caller); wasm32-wasip1 has no threads, so the
// linker runs single-threaded (its output is the same for any thread count).
import { readFileSync, writeSync } from "node:fs";

let compiled = null;

/** The compiled linker module (compiled on first use). */
export function linkerModule() {
  compiled ??= new WebAssembly.Module(readFileSync(new URL("./multimem-link.wasm", import.meta.url)));
  return compiled;
}

/**
 * Runs the linker with `args` (without the program name; `--threads N` is
 * run single-threaded, see singleThreaded). `preopens` maps
 * guest directories to host ones; `stdout`/`stderr` are file descriptors.
 * Returns the exit code.
 */
export function runLinker(args, { preopens, stdout = 1, stderr = 2, env = {} }) {
  const wasi = quietly(() => {
    const { WASI } = process.getBuiltinModule("node:wasi");
    return new WASI({ version: "preview1", args: ["multimem-link", ...singleThreaded(args)], env, preopens, stdout, stderr, returnOnExit: true });
  });
  const instance = new WebAssembly.Instance(linkerModule(), { wasi_snapshot_preview1: wasi.wasiImport });
  try {
    return wasi.start(instance);
  } catch (e) {
    // A panic aborts (wasm32 has no unwinding, so the CLI cannot catch it as
    // natively): say what the native CLI says for a panic, not a JS stack.
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    writeSync(stderr, `error: internal linker error (wasm trap: ${e.message}); please report this with the inputs\n`);
    return 1;
  }
}

/**
 * `args` with every `--threads N` (N a number) made `--threads 1`:
 * wasm32-wasip1 has no threads (a spawn panics), and the linker's output is
 * the same for any thread count. A value that is not a number is left for
 * the linker to refuse with its own message.
 */
function singleThreaded(args) {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === "--threads" && i + 1 < out.length && /^\d+$/.test(out[i + 1])) out[++i] = "1";
    else if (/^--threads=\d+$/.test(out[i])) out[i] = "--threads=1";
  }
  return out;
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
