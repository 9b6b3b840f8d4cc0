// The image pipeline on Node and in wasmtime: every variant writes the same
// JPEG, equal to one this file computes itself (the codec's JS API and a JS
// brighten); bytes copied per image are what each data path implies; nothing
// is leaked; the codec's wasm-bindgen glue works on the one-module link;
// bad input gives the codec's error, not a trap or a leak.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { before, test } from "node:test";
import { defaultBuildDir, loadImages, loadPipeline } from "../run-node.mjs";
import { DELTA, QUALITY, VARIANTS, WASM_ONLY_VARIANTS, fnv1a, measure } from "../www/pipeline.js";

const BUILD = defaultBuildDir();
let pipeline, manifest, jpeg, expected, results;

/** The pipeline in plain JS over the codec's JS API: decode, brighten, encode. */
function expectedOutput(codec, input) {
  const img = codec.decodeJpeg(input);
  const { width, height } = img;
  const px = img.takeRgba();
  img.free();
  for (let i = 0; i < px.length; i += 4) {
    for (let c = 0; c < 3; c++) px[i + c] = Math.min(255, px[i + c] + DELTA);
  }
  return { width, height, rgbaBytes: px.length, jpeg: codec.encodeJpeg(px, width, height, QUALITY) };
}

before(async () => {
  pipeline = await loadPipeline(BUILD);
  ({ manifest, images: [jpeg] } = loadImages(BUILD));
  expected = expectedOutput(pipeline.codec, jpeg);
  results = {};
  for (const name of VARIANTS) results[name] = measure(pipeline.variants[name], jpeg);
});

test("inputs: the generated images are at least 8 MB raw", () => {
  assert.ok(manifest.rawBytes >= 8_000_000, `${manifest.rawBytes} bytes raw`);
  assert.equal(manifest.rawBytes, manifest.width * manifest.height * 4);
  assert.equal(expected.width, manifest.width);
  assert.equal(expected.height, manifest.height);
});

test("every variant writes exactly the JPEG the codec's JS API gives for brighten(decode(input))", () => {
  for (const name of VARIANTS) {
    assert.equal(results[name].output.length, expected.jpeg.length, `${name}: output length`);
    assert.equal(fnv1a(results[name].output), fnv1a(expected.jpeg), `${name}: output bytes`);
    assert.deepEqual(results[name].output, expected.jpeg, `${name}: output bytes`);
  }
});

test("the output is the input, brighter: decoded means gain about DELTA on R, G, B", () => {
  const mean = (px, c) => {
    let s = 0;
    for (let i = c; i < px.length; i += 4) s += px[i];
    return s / (px.length / 4);
  };
  const a = pipeline.codec.decodeJpeg(jpeg), b = pipeline.codec.decodeJpeg(expected.jpeg);
  const [pa, pb] = [a.takeRgba(), b.takeRgba()];
  a.free();
  b.free();
  for (let c = 0; c < 3; c++) {
    const gain = mean(pb, c) - mean(pa, c);
    assert.ok(gain > DELTA * 0.6 && gain < DELTA + 2, `channel ${c}: mean gain ${gain}`);
  }
  assert.equal(mean(pb, 3), 255);
});

test("bytes copied per image: each data path's count", () => {
  const rgba = expected.rgbaBytes;
  const once = jpeg.length + rgba + rgba + expected.jpeg.length;
  assert.equal(results["a-loop"].bytesCopied, once, "a-loop: every byte once each way, by element loop");
  assert.equal(results.b.bytesCopied, once, "b: every byte once each way, by memory.copy");
  assert.equal(results["a-js"].bytesCopied, 2 * once, "a-js: to JS, then into the codec (and back)");
  assert.equal(results["a-js"].boundaryCrossings, once, "a-js: one boundary crossing per byte");
  assert.equal(results.c.bytesCopied, 0, "c: one memory, no copies");
});

test("nothing is left: runtime buffers and codec blocks", () => {
  assert.equal(pipeline.runtime.stats().liveBuffers, 0);
  assert.equal(pipeline.codecExports.codec_live_blocks(), 0);
  assert.equal(pipeline.loopCodecExports.codec_live_blocks(), 0);
  assert.equal(pipeline.linkedExports.codec_live_blocks(), 0);
});

test("one module: the codec's wasm-bindgen glue works on the linked module", () => {
  const x = pipeline.linkedExports;
  assert.ok(x.memory instanceof WebAssembly.Memory && x["multimem.memory"] instanceof WebAssembly.Memory);
  assert.notEqual(x.memory, x["multimem.memory"], "the codec's memory and the runtime's are two memories");
  assert.equal(pipeline.runtime.memory, x["multimem.memory"]);
  // The JS API of the codec, called through its glue on the linked module.
  const img = pipeline.codecLinked.decodeJpeg(jpeg);
  assert.deepEqual([img.width, img.height], [manifest.width, manifest.height]);
  const px = img.takeRgba();
  img.free();
  const alone = pipeline.codec.decodeJpeg(jpeg);
  assert.deepEqual(px, alone.takeRgba(), "same pixels as the codec alone");
  alone.free();
  const small = px.subarray(0, 64 * 4 * 8);
  assert.deepEqual(pipeline.codecLinked.encodeJpeg(small, 64, 8, 70), pipeline.codec.encodeJpeg(small, 64, 8, 70));
  // Errors cross the glue as JS Errors (the wasm-bindgen imports of the link are wired).
  assert.throws(() => pipeline.codecLinked.decodeJpeg(new Uint8Array([1, 2, 3])), /codec: cannot decode JPEG/);
  assert.throws(() => pipeline.codecLinked.encodeJpeg(small, 0, 8, 70), /codec: bad image size/);
});

test("bad input: the codec's status, no trap, nothing leaked", () => {
  const garbage = new Uint8Array(4096).fill(7);
  for (const name of ["a-loop", "b", "c"]) {
    assert.throws(() => measure(pipeline.variants[name], garbage), /codec status 2/, name);
  }
  assert.equal(pipeline.linkedExports.status(), 2, "DECODE_ERROR");
  assert.equal(pipeline.runtime.stats().liveBuffers, 0);
  assert.equal(pipeline.linkedExports.codec_live_blocks(), 0);
  assert.equal(pipeline.loopCodecExports.codec_live_blocks(), 0);
});

test("wasmtime (multimem-host) writes the same JPEG and copies the same bytes", () => {
  const bin = process.env.MULTIMEM_IMAGE_PIPELINE_WASMTIME;
  assert.ok(bin, "MULTIMEM_IMAGE_PIPELINE_WASMTIME must name the image-pipeline-wasmtime binary (scripts/test-data-paths.sh sets it)");
  const lines = execFileSync(bin, ["--build", BUILD, "--variant", "all"], { encoding: "utf8" }).trim().split("\n");
  const got = Object.fromEntries(lines.map((l) => JSON.parse(l)).map((r) => [r.variant, r]));
  assert.deepEqual(Object.keys(got), WASM_ONLY_VARIANTS);
  for (const name of WASM_ONLY_VARIANTS) {
    assert.deepEqual(got[name].hashes, [fnv1a(expected.jpeg)], `${name}: output`);
    assert.equal(got[name].bytesCopiedPerImage, results[name].bytesCopied, `${name}: bytes copied`);
  }
});
