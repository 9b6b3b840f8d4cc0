#!/usr/bin/env node
// `multimem-link` from npm: the same CLI as the native binary (same flags,
// messages and exit codes; `--help` lists them), compiled to wasm32-wasip1
// and run by node:wasi.
//
// node:wasi gives the guest no working directory (it is always `/`), so the
// file arguments (NAME=FILE inputs and -o/--output FILE) are made absolute
// here and `/` is preopened; the linker's messages name the paths as given
// (each absolute path is replaced back by the argument the user typed).
// wasm32-wasip1 has no threads: `--threads N` runs with one (same output).
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runLinker } from "../wasi.js";

// The CLI's flags that take a value (linker/cli/src/main.rs).
const VALUE_FLAGS = new Set([
  "-o", "--output", "--runtime-variant", "--export", "--external-memory", "--own-memory", "--name-prefix", "--threads",
]);

/** The arguments with file paths made absolute, and the replacements to undo in messages. */
function absolutePaths(args) {
  const out = [];
  const undo = [];
  const abs = (path) => {
    if (path === "-" || path.startsWith("/")) return path;
    const full = resolve(path);
    undo.push([full, path]);
    return full;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-o" || arg === "--output") {
      out.push(arg);
      if (i + 1 < args.length) out.push(abs(args[++i]));
    } else if (arg.startsWith("--output=")) {
      out.push(`--output=${abs(arg.slice("--output=".length))}`);
    } else if (VALUE_FLAGS.has(arg)) {
      out.push(arg);
      if (i + 1 < args.length) out.push(args[++i]);
    } else if (!arg.startsWith("-") && arg.indexOf("=") > 0 && arg.indexOf("=") < arg.length - 1) {
      const at = arg.indexOf("=");
      out.push(`${arg.slice(0, at + 1)}${abs(arg.slice(at + 1))}`);
    } else {
      out.push(arg);
    }
  }
  return { args: out, undo };
}

const { args, undo } = absolutePaths(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "multimem-link-"));
let code;
let stderr;
try {
  const fd = openSync(join(dir, "stderr"), "w");
  try {
    code = runLinker(args, {
      preopens: { "/": "/" },
      stderr: fd,
      env: process.env.MULTIMEM_LINK_TIMINGS === undefined ? {} : { MULTIMEM_LINK_TIMINGS: "1" },
    });
  } finally {
    closeSync(fd);
  }
  stderr = readFileSync(join(dir, "stderr"), "utf8");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
// Longest first, so a path that contains another is replaced whole.
for (const [full, given] of undo.sort((a, b) => b[0].length - a[0].length)) stderr = stderr.replaceAll(`\`${full}\``, `\`${given}\``);
process.stderr.write(stderr);
process.exitCode = code;
