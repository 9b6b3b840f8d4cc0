// The image example: stream a file into runtime memory, run the runtime's
// SIMD kernels on it, hand it to an external Rust library through
// cross-memory copies, and draw the result. See image.html for the story.
import { instantiate, Int32List, Uint8ClampedList } from "@multimem/js-glue";
import { appBuilds, bytes, disposing, requestedBuild, run, status } from "./common.js";
import { BIAS, GAIN, parsePpm } from "./image-core.js";

export { BIAS, GAIN, parsePpm };

/** Draws `rgb` (3 bytes per pixel) or `rgba` samples onto a canvas. */
function draw(canvas, samples, width, height, channels) {
  canvas.width = width;
  canvas.height = height;
  let rgba = samples;
  if (channels === 3) {
    rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0, j = 0; j < rgba.length; i += 3, j += 4) {
      rgba[j] = samples[i]; rgba[j + 1] = samples[i + 1]; rgba[j + 2] = samples[i + 2]; rgba[j + 3] = 255;
    }
  }
  canvas.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
}

run(async () => {
  const result = await pipeline();
  // Every wrapper in pipeline() was disposed at the end of its block (`using`), and the app
  // dropped its image: nothing may be left in the runtime.
  window.imageResult = { ...result, liveBuffersAfter: result.runtime.stats().liveBuffers };
  delete window.imageResult.runtime;
  const { width, height, viewPath, build } = result;
  status(`done: ${width}×${height}, ${build} build, ${viewPath} views, ${window.imageResult.liveBuffersAfter} live buffers left`, "ok");
});

// Each wrapper goes through own(): disposed when pipeline() ends (what
// `using` does where the browser has it).
function pipeline() {
  return disposing((own) => pipelineSteps(own));
}

async function pipelineSteps(own) {
  const steps = [];
  const step = (name, where, copied) => {
    steps.push({ name, where, copied });
    const row = document.querySelector("#steps tbody").insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = where;
    const cell = row.insertCell();
    cell.className = "num";
    cell.textContent = bytes(copied);
  };

  // The external library: its own instance and memory. The app imports that
  // memory as env.memory and the library's functions as imagelib.*.
  const lib = (await WebAssembly.instantiateStreaming(fetch("/build/imagelib.wasm"))).instance;
  // Both builds: the multi-memory one where the browser has multi-memory, else
  // the single-memory one (Safari); only the chosen one is fetched.
  const { instance, runtime } = await instantiate(appBuilds("image"), {
    env: { memory: lib },
    imagelib: lib.exports,
  }, { build: requestedBuild() });
  const app = instance.exports;

  // 1. Stream the file into runtime memory.
  const s0 = runtime.stats();
  const file = own(await runtime.readInto(await fetch("/build/image.ppm")));
  const s1 = runtime.stats();
  step(`readInto (${s1.streamCopies - s0.streamCopies} chunks)`, "network → runtime memory", s1.streamBytes - s0.streamBytes);
  const { width, height, offset } = parsePpm(file.view());
  const n = width * height * 3;
  draw(document.getElementById("input"), file.view().subarray(offset, offset + n), width, height, 3);

  // 2. SIMD kernels in the runtime: gain and bias lists filled through views.
  const gain = own(Int32List.create(runtime, n));
  const bias = own(Int32List.create(runtime, n));
  const g = gain.view(), b = bias.view(); // no allocation or wasm call until the loop ends
  for (let i = 0; i < n; i++) {
    g[i] = GAIN[i % 3];
    b[i] = BIAS[i % 3];
  }
  runtime.call(app.load, file, offset, width, height);
  // adjust returns a buffer address with a reference for us: adopt it, view it.
  const rgbBuffer = own(runtime.adopt(runtime.call(app.adjust, gain, bias)));
  const rgb = own(Uint8ClampedList.view(rgbBuffer));
  step("widen, list_mul, list_add, clamp (app + runtime)", "computed within runtime memory", 0);
  draw(document.getElementById("adjusted"), rgb.view(), width, height, 3);

  // 3. The external library, through cross-memory copies done by the app.
  const out0 = app.copied_out(), in0 = app.copied_in();
  const rgbaBuffer = own(runtime.adopt(runtime.call(app.blur, rgb)));
  const rgba = own(Uint8ClampedList.view(rgbaBuffer));
  step("external_copy_out (app → runtime)", "runtime memory → imagelib memory", app.copied_out() - out0);
  step("blur_rgb_to_rgba (imagelib, Rust)", "computed in imagelib memory", 0);
  step("external_copy_in (app → runtime)", "imagelib memory → runtime memory", app.copied_in() - in0);

  // 4. Draw: ImageData wants its own Uint8ClampedArray, so one copy.
  const pixels = rgba.copyTo();
  step("copyTo for ImageData (glue)", "runtime memory → JS ArrayBuffer", pixels.byteLength);
  draw(document.getElementById("output"), pixels, width, height, 4);

  app.unload();
  return { runtime, width, height, offset, steps, fileBytes: file.lengthInBytes, viewPath: runtime.viewPath, build: runtime.build };
}
