// The image pipeline's JS side, the same module for Node (run-node.mjs, the
// tests, the benchmark) and the page (index.html). Per image: decode a JPEG
// with the codec, brighten the pixels in the app, encode again. Variants:
//
//   a-loop  GC arrays, bytes moved by the app's element loop (array.get_u +
//           i32.store8 into the codec memory and back): gc-array.wasm next to
//           the codec instance;
//   a-js    GC arrays, bytes moved through JS: each byte crosses the boundary
//           (toJS / toDart), then wasm-bindgen's glue copies it into the codec;
//   b       multimem: pixels in runtime buffers, one memory.copy each way;
//           app + runtime + codec linked into one module (multimem.wasm);
//   c       plain Rust calling the codec in one memory (rust-app.wasm).
//
// A run starts with the JPEG file already in the app's own representation
// (GC array, runtime buffer, linear memory) and ends with the re-encoded
// JPEG there; putting the input in place (`prepare`) and reading the output
// back for checks (`outputBytes`) are outside the timed part.
//
// Phases of this module: instantiate (`createPipeline`), prepare an input,
// run, read back, dispose. Limits: one image at a time per variant; inputs
// up to the codec's 65535x65535.

/** Brightness added to R, G and B (saturating), and the output JPEG quality. */
export const DELTA = 40;
export const QUALITY = 85;
/** Variant names, in report order. */
export const VARIANTS = Object.freeze(["a-loop", "a-js", "b", "c"]);
/** Variants available without a JS engine (wasmtime runs these). */
export const WASM_ONLY_VARIANTS = Object.freeze(["a-loop", "b", "c"]);

/** What each variant is, for tables and charts. */
export const DESCRIPTIONS = Object.freeze({
  "a-loop": "GC arrays, element loop (array.get_u + i32.store8)",
  "a-js": "GC arrays, copied through JS (per-byte toJS/toDart + wasm-bindgen glue)",
  b: "multimem: runtime buffers, one memory.copy each way",
  c: "plain Rust in one memory (FFI bound)",
});

/** Prefix of the runtime's exports in the one-module link (build.sh). */
const RUNTIME_PREFIX = "multimem.";

/**
 * The runtime's exports of the linked module under their ABI names, for
 * js-glue's `new Runtime(...)` (the link exports them as `multimem.<name>`,
 * since the codec's glue needs the codec's `memory` under that name).
 */
export function runtimeExports(exports) {
  const out = {};
  for (const [name, value] of Object.entries(exports)) {
    if (name.startsWith(RUNTIME_PREFIX)) out[name.slice(RUNTIME_PREFIX.length)] = value;
  }
  return out;
}

/**
 * Instantiates every variant. `deps`:
 *   glue        js-glue's module namespace (Runtime, Uint8List);
 *   codec       the codec's wasm-bindgen glue (codec.js), for the codec alone;
 *   codecLinked a second instance of codec.js (import it under another URL),
 *               initialised on the linked module multimem.wasm;
 *   codecLoop   optional third instance of codec.js for variant a-loop, so that
 *               no two variants share compiled codec code whose tier-up one
 *               variant's runs would pay for the other (default: `codec`);
 *   wasm        { codec, gcArray, multimem, rustApp }: module bytes or WebAssembly.Module.
 * Returns `{ variants: { name: Variant }, codecExports, linkedExports, runtime }`.
 */
export async function createPipeline({ glue, codec, codecLinked, codecLoop = null, wasm }) {
  const compile = (x) => (x instanceof WebAssembly.Module ? x : new WebAssembly.Module(x));
  // The codec alone, through its own glue: variant a's library (a-js uses the
  // glue's JS API, a-loop the address API of its own instance if given one).
  const codecExports = codec.initSync({ module: compile(wasm.codec) });
  const loopCodec = codecLoop ? codecLoop.initSync({ module: compile(wasm.codec) }) : codecExports;
  const gcArray = new WebAssembly.Instance(compile(wasm.gcArray), { codec: codecExports }).exports;
  const gcArrayLoop = codecLoop ? new WebAssembly.Instance(compile(wasm.gcArray), { codec: loopCodec }).exports : gcArray;
  // The one-module link, through a second copy of the same glue: the codec's
  // exports keep their names there, so the glue works on it unchanged.
  const linkedExports = codecLinked.initSync({ module: compile(wasm.multimem) });
  const runtime = new glue.Runtime(runtimeExports(linkedExports));
  const rustApp = new WebAssembly.Instance(compile(wasm.rustApp), {}).exports;
  const variants = {
    "a-loop": aLoop(gcArrayLoop),
    "a-js": aJs(gcArray, codec),
    b: multimem(linkedExports, runtime, glue),
    c: rust(rustApp),
  };
  return { variants, codecExports, loopCodecExports: loopCodec, linkedExports, runtime };
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** Variant a-loop: gc-array.wasm's `process`, all in wasm. */
function aLoop(app) {
  return {
    name: "a-loop",
    prepare(jpeg) {
      return toGcArray(app, jpeg);
    },
    run(input) {
      const to0 = app.copied_to_codec(), from0 = app.copied_from_codec();
      const out = app.process(input, DELTA, QUALITY);
      check(out !== null, `a-loop: codec status ${app.status()}`);
      const copied = Number(app.copied_to_codec() - to0 + app.copied_from_codec() - from0);
      return { output: out, bytesCopied: copied, boundaryCrossings: 0 };
    },
    outputBytes: (out) => fromGcArray(app, out),
    release() {},
    disposeInput() {},
    copyRoundTrip(n) {
      const a = app.bytes_new(n);
      return { run: () => void app.copy_round_trip(a), dispose() {} };
    },
  };
}

/** A JS Uint8Array as a new GC array, one boundary crossing per byte (dart2wasm's toDart). */
function toGcArray(app, bytes) {
  const a = app.bytes_new(bytes.length);
  for (let i = 0; i < bytes.length; i++) app.bytes_set(a, i, bytes[i]);
  return a;
}

/** A GC array as a new JS Uint8Array, one boundary crossing per byte (dart2wasm's toJS). */
function fromGcArray(app, a) {
  const n = app.bytes_length(a);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = app.bytes_get(a, i);
  return out;
}

/**
 * Variant a-js: the path of dart-lang/sdk#56428. The app's bytes go to JS
 * byte by byte, wasm-bindgen's glue copies them into the codec's memory
 * (and the result out into a new Uint8Array), and back into a GC array byte
 * by byte. Brightening runs in the app (gc-array.wasm's `brighten`).
 */
function aJs(app, codec) {
  return {
    name: "a-js",
    prepare(jpeg) {
      return toGcArray(app, jpeg);
    },
    run(input) {
      let copied = 0, crossings = 0;
      const jsIn = fromGcArray(app, input); // toJS
      crossings += jsIn.length;
      const img = codec.decodeJpeg(jsIn); // glue: one copy in
      copied += jsIn.length * 2;
      const { width, height } = img;
      const rgbaJs = img.takeRgba(); // glue: one copy out
      img.free();
      const px = toGcArray(app, rgbaJs); // toDart
      crossings += rgbaJs.length;
      copied += rgbaJs.length * 2;
      app.brighten(px, DELTA);
      const pxJs = fromGcArray(app, px); // toJS
      const jpeg = codec.encodeJpeg(pxJs, width, height, QUALITY); // glue: in and out
      const out = toGcArray(app, jpeg); // toDart
      crossings += pxJs.length + jpeg.length;
      copied += pxJs.length * 2 + jpeg.length * 2;
      return { output: out, bytesCopied: copied, boundaryCrossings: crossings };
    },
    outputBytes: (out) => fromGcArray(app, out),
    release() {},
    disposeInput() {},
  };
}

/** Variant b: the linked module's `process` on runtime buffers. */
function multimem(x, runtime, glue) {
  return {
    name: "b",
    prepare(jpeg) {
      return glue.Uint8List.create(runtime, jpeg.length).copyFrom(jpeg);
    },
    run(input) {
      const to0 = x.copied_to_codec(), from0 = x.copied_from_codec();
      const address = runtime.call(x.process, input, DELTA, QUALITY);
      check(address !== 0, `b: codec status ${x.status()}`);
      const copied = Number(x.copied_to_codec() - to0 + x.copied_from_codec() - from0);
      // The result buffer comes with one reference for us: a ByteBuffer wrapper takes it over.
      return { output: runtime.adopt(address), bytesCopied: copied, boundaryCrossings: 0 };
    },
    outputBytes(out) {
      using list = glue.Uint8List.view(out);
      return list.copyTo();
    },
    release: (out) => out.dispose(),
    disposeInput: (input) => input.dispose(),
    copyRoundTrip(n) {
      const buf = glue.ByteBuffer.create(runtime, n);
      return { run: () => runtime.adopt(x.copy_round_trip(buf.address)).dispose(), dispose: () => buf.dispose() };
    },
  };
}

/** Variant c: rust-app.wasm's `process`, everything in one memory. */
function rust(x) {
  return {
    name: "c",
    prepare(jpeg) {
      const p = x.alloc(jpeg.length);
      check(p !== 0, "c: alloc failed");
      new Uint8Array(x.memory.buffer, p, jpeg.length).set(jpeg);
      return { p, n: jpeg.length };
    },
    run(inp) {
      const st = x.process(inp.p, inp.n, DELTA, QUALITY);
      check(st === 0, `c: codec status ${st}`);
      return { output: { p: x.output_ptr(), n: x.output_len() }, bytesCopied: 0, boundaryCrossings: 0 };
    },
    outputBytes: (out) => new Uint8Array(x.memory.buffer, out.p, out.n).slice(),
    release() {},
    disposeInput: (input) => x.free(input.p, input.n),
  };
}

/**
 * Runs `variant` on `jpeg` `runs` times (after `warmup` untimed runs) and
 * returns `{ ms: [..], cpuMs: [..], bytesCopied, boundaryCrossings, output }`
 * with the output bytes of the last run. `now` is a clock in ms
 * (performance.now); `cpuNow`, if given, the calling thread's CPU time in ms
 * (Node: process.threadCpuUsage), which other processes' load disturbs less.
 */
export function measure(variant, jpeg, { runs = 1, warmup = 0, now = () => performance.now(), cpuNow = null, onRun } = {}) {
  const input = variant.prepare(jpeg);
  const ms = [];
  const cpuMs = [];
  let last = null;
  try {
    for (let i = 0; i < warmup + runs; i++) {
      if (last) variant.release(last.output);
      last = null;
      const c0 = cpuNow?.();
      const t0 = now();
      last = variant.run(input);
      const t = now() - t0;
      const c = cpuNow ? cpuNow() - c0 : NaN;
      if (i >= warmup) {
        ms.push(t);
        cpuMs.push(c);
      }
      onRun?.(i, t);
    }
    const output = variant.outputBytes(last.output);
    return { ms, cpuMs, bytesCopied: last.bytesCopied, boundaryCrossings: last.boundaryCrossings, output };
  } finally {
    // Also when a run throws (a codec error): the input and the last output go.
    if (last) variant.release(last.output);
    variant.disposeInput(input);
  }
}

/**
 * The copies alone (variants a-loop and b): `n` bytes from the app to a codec
 * block and back into a new array or buffer, `runs` times after one warm-up.
 * Returns the times in ms.
 */
export function measureCopy(variant, n, { runs = 5, now = () => performance.now() } = {}) {
  // `now` may be a CPU clock (run-node.mjs passes the thread's).
  if (!variant.copyRoundTrip) throw new Error(`${variant.name}: no copy-only measurement`);
  const job = variant.copyRoundTrip(n);
  const ms = [];
  try {
    for (let i = 0; i <= runs; i++) {
      const t0 = now();
      job.run();
      if (i > 0) ms.push(now() - t0);
    }
  } finally {
    job.dispose();
  }
  return ms;
}

/** Median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** FNV-1a 32-bit hash of bytes, as 8 hex digits (to compare outputs across engines cheaply). */
export function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}
