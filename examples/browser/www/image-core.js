// The image example's constants and file parsing, without the page (so that
// bench/single-memory/e2e.mjs runs the same pipeline in Node).

// Per channel: out = clamp(p * GAIN + BIAS). The file's samples are in
// 64..191, so this stretches them to the full range (warmer, a little).
export const GAIN = [2, 2, 2];
export const BIAS = [-118, -128, -136];

/** Parses a binary PPM (P6, maxval 255) header: width, height, pixel offset. */
export function parsePpm(bytes) {
  let at = 0;
  const token = () => {
    for (;;) {
      while (at < bytes.length && /\s/.test(String.fromCharCode(bytes[at]))) at++;
      if (bytes[at] !== 0x23) break; // '#' comment to end of line
      while (at < bytes.length && bytes[at] !== 0x0a) at++;
    }
    const start = at;
    while (at < bytes.length && !/\s/.test(String.fromCharCode(bytes[at]))) at++;
    return String.fromCharCode(...bytes.subarray(start, at));
  };
  const magic = token(), width = Number(token()), height = Number(token()), maxval = Number(token());
  at++; // the single whitespace byte before the pixels
  if (magic !== "P6" || !(width > 0) || !(height > 0) || maxval !== 255) {
    throw new TypeError(`image: not an 8-bit P6 PPM (magic ${magic}, ${width}x${height}, maxval ${maxval})`);
  }
  if (bytes.length - at < width * height * 3) {
    throw new RangeError(`image: ${bytes.length - at} pixel bytes, ${width * height * 3} expected`);
  }
  return { width, height, offset: at };
}
