// Helpers shared by the example pages: status line and error reporting.
// (Not part of the glue; a page you copy needs only the glue import.)

/** Sets the page's status line; `kind` is "ok", "error" or "" (in progress). */
export function status(text, kind = "") {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = kind;
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

/**
 * Draws time series on a canvas: `series` is [{ label, color, values }],
 * all the same length; one shared y scale from 0 to the largest value.
 */
export function drawChart(canvas, series, { title = "" } = {}) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  const pad = { l: 56, r: 10, t: 20, b: 18 };
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i) => pad.l + (i * (w - pad.l - pad.r)) / (n - 1);
  const y = (v) => h - pad.b - (v * (h - pad.t - pad.b)) / max;
  ctx.strokeStyle = "#e3e7ec";
  ctx.fillStyle = "#4a5563";
  ctx.font = "11px system-ui, sans-serif";
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y(v));
    ctx.lineTo(w - pad.r, y(v));
    ctx.stroke();
    ctx.fillText(Math.round(v).toLocaleString("en-US"), 4, y(v) + 4);
  }
  ctx.fillText(title, pad.l, 13);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.values.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
    ctx.stroke();
  }
  ctx.lineWidth = 1;
}
