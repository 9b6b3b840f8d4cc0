// The image pipeline's inputs: deterministic RGBA pictures (integer
// arithmetic only, so any machine makes the same bytes), encoded as JPEG by
// the codec itself through its wasm-bindgen glue (codec.js on Node, the same
// glue a web page uses). Writes image-<i>.jpg and manifest.json.
//
// Usage: node make-images.mjs --out DIR --codec BUILD/codec/codec.js
//          [--count 3] [--width 2048] [--height 1536] [--quality 90]
// Defaults give 3 images of 2048x1536 RGBA = 12,582,912 bytes raw each.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Options with their defaults. */
export const DEFAULTS = Object.freeze({ count: 3, width: 2048, height: 1536, quality: 90 });

/**
 * Image `index` as RGBA bytes: diagonal colour gradients, a few soft discs and
 * a little LCG noise, so the JPEG has both smooth areas and detail.
 */
export function makeRgba(index, width, height) {
  const px = new Uint8Array(width * height * 4);
  let seed = (0x9e3779b9 * (index + 1)) >>> 0;
  const discs = [];
  for (let k = 0; k < 6; k++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    discs.push({ x: seed % width, y: (seed >>> 8) % height, r: 40 + ((seed >>> 16) % Math.max(1, height >> 2)), c: k % 3 });
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const noise = (seed >>> 27) - 16; // -16..15
      let r = ((x * 160) / width + (y * 40) / height + index * 17) | 0;
      let g = ((y * 150) / height + 30) | 0;
      let b = (((x + y) * 120) / (width + height) + 60) | 0;
      for (const d of discs) {
        const dx = x - d.x, dy = y - d.y;
        if (dx * dx + dy * dy < d.r * d.r) {
          if (d.c === 0) r += 70;
          else if (d.c === 1) g += 70;
          else b += 70;
        }
      }
      px[o] = Math.min(255, Math.max(0, r + noise));
      px[o + 1] = Math.min(255, Math.max(0, g + noise));
      px[o + 2] = Math.min(255, Math.max(0, b + noise));
      px[o + 3] = 255;
    }
  }
  return px;
}

function parseArgs(argv) {
  const opt = { ...DEFAULTS, out: null, codec: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const key = flag?.replace(/^--/, "");
    if (!(key in opt) || value === undefined) throw new Error(`make-images: unknown or incomplete argument ${flag}`);
    opt[key] = key === "out" || key === "codec" ? value : Number(value);
    if (typeof opt[key] === "number" && !(Number.isInteger(opt[key]) && opt[key] > 0)) {
      throw new Error(`make-images: ${flag} must be a positive integer, got ${value}`);
    }
  }
  if (!opt.out || !opt.codec) throw new Error("usage: node make-images.mjs --out DIR --codec codec.js [--count N --width W --height H --quality Q]");
  return opt;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const glue = await import(pathToFileURL(resolve(opt.codec)).href);
  glue.initSync({ module: readFileSync(join(dirname(resolve(opt.codec)), "codec_bg.wasm")) });
  mkdirSync(opt.out, { recursive: true });
  const files = [];
  for (let i = 0; i < opt.count; i++) {
    const jpeg = glue.encodeJpeg(makeRgba(i, opt.width, opt.height), opt.width, opt.height, opt.quality);
    const name = `image-${i}.jpg`;
    writeFileSync(join(opt.out, name), jpeg);
    files.push({ name, bytes: jpeg.length });
  }
  const manifest = { width: opt.width, height: opt.height, rawBytes: opt.width * opt.height * 4, quality: opt.quality, files };
  writeFileSync(join(opt.out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  console.log(`make-images: ${opt.count} x ${opt.width}x${opt.height} (${manifest.rawBytes} bytes raw) -> ${opt.out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
