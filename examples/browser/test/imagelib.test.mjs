// imagelib.wasm on its own (Node, no browser): the wasm exports check raw
// addresses against the memory and never write on bad input; and the image
// generator is deterministic (the build's image.ppm is what it makes).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { makeImage } from "../tools/make-image.mjs";
import { BUILD } from "./browser.mjs";

const lib = async () => (await WebAssembly.instantiate(readFileSync(join(BUILD, "imagelib.wasm")))).instance.exports;

test("imagelib: blur of a known image, through its own memory", async () => {
  const x = await lib();
  const src = x.alloc(3 * 3 * 3), dst = x.alloc(3 * 3 * 4);
  assert.ok(src > 0 && dst > 0 && src % 16 === 0 && dst % 16 === 0);
  const mem = () => new Uint8Array(x.memory.buffer);
  // 3x3 image, only the centre pixel set to (90, 180, 255).
  mem().fill(0, src, src + 27);
  mem().set([90, 180, 255], src + 4 * 3);
  assert.equal(x.blur_rgb_to_rgba(src, dst, 3, 3), 0);
  // Every output pixel sees the centre exactly once: value / 9, truncated.
  for (let p = 0; p < 9; p++) assert.deepEqual([...mem().subarray(dst + p * 4, dst + p * 4 + 4)], [10, 20, 28, 255]);
});

test("imagelib: bad arguments return 1 and write nothing", async () => {
  const x = await lib();
  const src = x.alloc(12), dst = x.alloc(16);
  const size = x.memory.buffer.byteLength;
  const before = new Uint8Array(x.memory.buffer).slice();
  for (const args of [
    [src, dst, 0, 1], // empty
    [src, dst, 0x10000, 0x10000], // larger than the memory
    [size - 4, dst, 2, 2], // source runs off the end
    [src, size - 8, 2, 2], // destination runs off the end
    [src, src + 4, 2, 2], // overlap
    [0, dst, 2, 2], // below the heap: the library's own data and stack
    [src, dst, 0x7fffffff, 0x7fffffff], // overflowing sizes
  ]) {
    assert.equal(x.blur_rgb_to_rgba(...args), 1, `blur_rgb_to_rgba(${args})`);
  }
  assert.deepEqual(new Uint8Array(x.memory.buffer), before);
  assert.equal(x.alloc(0xffffffff), 0, "alloc beyond the 32-bit address space returns 0");
  assert.equal(x.memory.buffer.byteLength, size, "and does not grow the memory");
});

test("image generator: deterministic, and the build's file is its output", () => {
  const a = makeImage(), b = makeImage();
  assert.deepEqual(a, b);
  assert.deepEqual(new Uint8Array(readFileSync(join(BUILD, "image.ppm"))), a);
  const small = makeImage(4, 2);
  assert.equal(new TextDecoder().decode(small.subarray(0, 11)), "P6\n4 2\n255\n");
  assert.equal(small.length, 11 + 4 * 2 * 3);
});
