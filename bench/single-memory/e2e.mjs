// The image example end to end (examples/browser's image app: a WasmGC app,
// the runtime and the Rust library imagelib with its own memory), in Node,
// on the multi-memory and the single-memory build of the same link: copy the
// image file into runtime memory, widen + list_mul + list_add + clamp
// (runtime kernels on the native memory), blur in imagelib (one cross-memory
// copy out and one back, 192,000 B and 256,000 B for the 320x200 image), copy
// the result out. Not a test; run.sh runs it. Prints JSON: per build, the
// median milliseconds of one pipeline over ROUNDS rounds (builds alternate).
//   node e2e.mjs BROWSER_BUILD_DIR ROUNDS
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Int32List, Uint8ClampedList, instantiate } from "../../js-glue/src/index.js";
import { GAIN, BIAS, parsePpm } from "../../examples/browser/www/image-core.js";

const [dir, roundsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg ?? 21);
const file = readFileSync(join(dir, "image.ppm"));
const libModule = new WebAssembly.Module(readFileSync(join(dir, "imagelib.wasm")));
const builds = { multiMemory: readFileSync(join(dir, "image.wasm")), singleMemory: readFileSync(join(dir, "image.single.wasm")) };

async function setup(build) {
  const lib = new WebAssembly.Instance(libModule);
  const { runtime, exports: app } = await instantiate(builds, { env: { memory: lib }, imagelib: lib.exports }, { build });
  return { build, runtime, app };
}

/** One pipeline; returns the output's checksum (both builds must agree). */
function pipeline({ runtime, app }) {
  const owned = [];
  const own = (w) => (owned.push(w), w);
  try {
    const bytes = own(runtime.copyIn(file));
    const { width, height, offset } = parsePpm(bytes.view());
    const n = width * height * 3;
    const gain = own(Int32List.create(runtime, n));
    const bias = own(Int32List.create(runtime, n));
    const g = gain.view(), b = bias.view();
    for (let i = 0; i < n; i++) {
      g[i] = GAIN[i % 3];
      b[i] = BIAS[i % 3];
    }
    runtime.call(app.load, bytes, offset, width, height);
    const rgb = own(Uint8ClampedList.view(own(runtime.adopt(runtime.call(app.adjust, gain, bias)))));
    const rgba = own(Uint8ClampedList.view(own(runtime.adopt(runtime.call(app.blur, rgb)))));
    const pixels = rgba.copyTo();
    app.unload();
    let sum = 0;
    for (let i = 0; i < pixels.length; i++) sum = (sum * 31 + pixels[i]) | 0;
    return sum;
  } finally {
    while (owned.length) owned.pop().dispose();
  }
}

const variants = [await setup("multi-memory"), await setup("single-memory")];
const times = Object.fromEntries(variants.map((v) => [v.build, []]));
const sums = new Set();
for (let round = 0; round <= ROUNDS; round++) {
  for (const v of round % 2 ? variants : [...variants].reverse()) {
    const t = performance.now();
    sums.add(pipeline(v));
    const ms = performance.now() - t;
    if (round > 0) times[v.build].push(ms);
  }
}
if (sums.size !== 1) throw new Error(`the builds computed different images: ${[...sums].join(", ")}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
console.log(JSON.stringify({ engine: `Node ${process.version}`, rounds: ROUNDS, medianMs: Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)])) }));
