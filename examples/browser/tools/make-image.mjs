// Generates the image file that the image example streams: a binary PPM
// (P6, 8-bit RGB), the simplest real image format, so the page parses its
// header in a few lines. Integer arithmetic only: every run, on every
// machine, writes the same bytes (the browser test recomputes the pipeline
// from the file it served, so any image works; determinism only keeps the
// screenshots comparable between runs).
//
// The picture is deliberately washed out (every channel in 64..191): the
// page's SIMD step (2 * p + bias, clamped) restores the contrast.
//
// Usage: node tools/make-image.mjs OUT.ppm [WIDTH HEIGHT]
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Returns the PPM file bytes for a width x height test picture. */
export function makeImage(width = 320, height = 200) {
  const header = new TextEncoder().encode(`P6\n${width} ${height}\n255\n`);
  const bytes = new Uint8Array(header.length + width * height * 3);
  bytes.set(header);
  const discs = [
    { x: 80, y: 70, r: 46, rgb: [191, 96, 80] },
    { x: 190, y: 120, r: 58, rgb: [80, 170, 120] },
    { x: 262, y: 58, r: 34, rgb: [96, 110, 191] },
  ];
  let at = header.length;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Sky-to-ground gradient with a few stripes.
      let r = 64 + ((x * 96) / width | 0);
      let g = 64 + ((y * 100) / height | 0);
      let b = 150 - ((y * 60) / height | 0);
      if (((x + y) >> 4) % 7 === 0) { r = 120; g = 120; b = 120; }
      for (const d of discs) {
        const dx = x - d.x, dy = y - d.y;
        const dist2 = dx * dx + dy * dy;
        if (dist2 <= d.r * d.r) {
          // Darker rim: blend toward 64 over the outer eighth of the radius.
          const rim = dist2 * 8 > d.r * d.r * 7 ? 1 : 0;
          [r, g, b] = d.rgb.map((v) => (rim ? (v + 64) >> 1 : v));
        }
      }
      bytes[at++] = r; bytes[at++] = g; bytes[at++] = b;
    }
  }
  return bytes;
}

// Run as a script (as serve.mjs checks it: paths with spaces or
// relative argv[1] compare right).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [out, w, h] = process.argv.slice(2);
  if (!out) {
    console.error("usage: node tools/make-image.mjs OUT.ppm [WIDTH HEIGHT]");
    process.exit(2);
  }
  const bytes = makeImage(w ? Number(w) : undefined, h ? Number(h) : undefined);
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes)`);
}
