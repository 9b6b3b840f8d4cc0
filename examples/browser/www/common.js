// Helpers shared by the example pages: status line and error reporting.
// (Not part of the glue; a page you copy needs only the glue import.)

/** Sets the page's status line; `kind` is "ok", "error" or "" (in progress). */
export function status(text, kind = "") {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = kind;
}

/**
 * Both builds of the linked app `name`, for instantiate(): it fetches only
 * the one this browser runs, the multi-memory build where the engine has
 * multi-memory, else the single-memory one (Safari).
 */
export function appBuilds(name) {
  return {
    multiMemory: new URL(`/build/${name}.wasm`, location.href),
    singleMemory: new URL(`/build/${name}.single.wasm`, location.href),
  };
}

/** instantiate()'s `build` option: "auto", or what the page URL's `?build=` asks for (the tests force each build). */
export function requestedBuild() {
  return new URLSearchParams(globalThis.location?.search ?? "").get("build") ?? "auto";
}

/**
 * Runs `body(own)` and disposes of every wrapper passed through `own` when it
 * ends, last first, as `using` declarations would. The pages do not use
 * `using`: Safari 26 (WebKit) has neither the syntax nor Symbol.dispose, and
 * dispose() works everywhere.
 */
export async function disposing(body) {
  const owned = [];
  try {
    return await body((wrapper) => (owned.push(wrapper), wrapper));
  } finally {
    while (owned.length > 0) owned.pop().dispose();
  }
}

/** Runs `main`; any error goes to the status line and to console.error. */
export async function run(main) {
  try {
    await main();
  } catch (e) {
    status(`error: ${e?.stack ?? e}`, "error");
    console.error(e);
  }
}

/** Formats a byte count as "12,345 B". */
export function bytes(n) {
  return `${n.toLocaleString("en-US")} B`;
}

/** Formats a byte count for an axis: "0", "64 KiB", "1.5 MiB". */
export function bytesShort(n) {
  if (n === 0) return "0";
  const units = ["B", "KiB", "MiB", "GiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[u]}`;
}

/** A round step of at least `raw`: 1, 2 or 5 times a power of ten. */
function decimalStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** A power of two of at least `raw` (byte axes step in KiB/MiB). */
function binaryStep(raw) {
  return 2 ** Math.ceil(Math.log2(raw));
}

/**
 * Draws time series on a canvas: `series` is [{ color, values }], one sample
 * per `interval` ms, newest at the right edge of a window of `window`
 * samples. The y axis starts at 0 and ends at a round value at least
 * `minTop` (so a fresh page, all zeros, still gets a sensible scale), in
 * 4-5 round steps: decimal for counts, powers of two for `unit: "bytes"`.
 * The x axis is labelled in seconds before now. The tick labels are also
 * left in canvas.dataset.yTicks / xTicks ("|"-separated) for tests.
 */
export function drawChart(canvas, series, { title = "", unit = "count", minTop = 10, window = 200, interval = 100 } = {}) {
  // Draw in CSS pixels at the canvas's displayed size (sharp, 12 px text on
  // a phone as on a desktop): the backing store follows the box and the ratio.
  const ratio = globalThis.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const pad = { l: 64, r: 12, t: 20, b: 24 };
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const top = Math.max(minTop, ...series.flatMap((s) => s.values));
  const step = unit === "bytes" ? binaryStep(top / 4) : Math.max(1, decimalStep(top / 5));
  const max = step * Math.ceil(top / step);
  const format = unit === "bytes" ? bytesShort : (v) => v.toLocaleString("en-US");
  const x = (i, n) => w - pad.r - ((n - 1 - i) * (w - pad.l - pad.r)) / (window - 1);
  const y = (v) => h - pad.b - (v * (h - pad.t - pad.b)) / max;
  ctx.strokeStyle = "#e3e7ec";
  ctx.fillStyle = "#4a5563";
  ctx.font = "12px system-ui, sans-serif";
  const yTicks = [];
  for (let v = 0; v <= max; v += step) {
    ctx.beginPath();
    ctx.moveTo(pad.l, y(v));
    ctx.lineTo(w - pad.r, y(v));
    ctx.stroke();
    const label = format(v);
    yTicks.push(label);
    ctx.textAlign = "right";
    ctx.fillText(label, pad.l - 6, y(v) + 4);
  }
  const seconds = ((window - 1) * interval) / 1000;
  const xTicks = [];
  for (let k = 0; k <= 4; k++) {
    const ago = seconds - (k * seconds) / 4;
    const px = pad.l + (k * (w - pad.l - pad.r)) / 4;
    const label = ago === 0 ? "now" : `−${Math.round(ago)} s`;
    xTicks.push(label);
    ctx.textAlign = k === 0 ? "left" : k === 4 ? "right" : "center";
    ctx.fillText(label, px, h - 6);
  }
  ctx.textAlign = "left";
  ctx.fillText(title, pad.l, 13);
  for (const s of series) {
    const n = s.values.length;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.values.forEach((v, i) => (i ? ctx.lineTo(x(i, n), y(v)) : ctx.moveTo(x(i, n), y(v))));
    if (n === 1) ctx.lineTo(x(0, 1) - 2, y(s.values[0]));
    ctx.stroke();
  }
  ctx.lineWidth = 1;
  canvas.dataset.yTicks = yTicks.join("|");
  canvas.dataset.xTicks = xTicks.join("|");
}
