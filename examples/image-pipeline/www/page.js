// The image pipeline page: runs the four variants of pipeline.js on the
// first generated image, checks that they produce the same JPEG, and shows
// time per image (a bar chart), bytes copied and the memories' sizes.
// `?runs=N` sets the timed runs per variant and image (default 3, after 1
// warm-up, `?warmup=W`); `?images=K` runs the first K images (default 1); `?variants=b,c`
// runs only those (the benchmark runs one variant per fresh browser).
// Results are left in `window.pipelineResult` for the Chromium test.
import * as glue from "@multimem/js-glue";
import { DESCRIPTIONS, VARIANTS, createPipeline, fnv1a, measure, median } from "./pipeline.js";

const status = (text, cls = "") => {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = cls;
};

const bytes = (n) => n.toLocaleString("en-US");

/** Horizontal bars, one per variant, labelled with ms per image. */
function drawChart(rows) {
  const svg = document.getElementById("chart");
  const max = Math.max(...rows.map((r) => r.medianMs));
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  rows.forEach((r, i) => {
    const y = 10 + i * 45;
    const w = Math.max(2, (r.medianMs / max) * 520);
    const bar = document.createElementNS(ns, "rect");
    Object.entries({ x: 80, y, width: w, height: 30, fill: r.variant === "b" ? "#2b7bb9" : r.variant === "c" ? "#7a7a7a" : "#d9822b" })
      .forEach(([k, v]) => bar.setAttribute(k, v));
    bar.dataset.variant = r.variant;
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", 0);
    label.setAttribute("y", y + 20);
    label.textContent = r.variant;
    const value = document.createElementNS(ns, "text");
    value.setAttribute("x", 88 + w);
    value.setAttribute("y", y + 20);
    value.textContent = `${r.medianMs.toFixed(0)} ms`;
    svg.append(bar, label, value);
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  const runs = Number(params.get("runs") ?? 3);
  const warmup = Number(params.get("warmup") ?? 1);
  const count = Number(params.get("images") ?? 1);
  const names = params.get("variants")?.split(",") ?? VARIANTS;
  const fetchBytes = async (path) => {
    const r = await fetch(path);
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  };
  const manifest = await (await fetch("/build/images/manifest.json")).json();
  const jpegs = [];
  for (const f of manifest.files.slice(0, count)) jpegs.push(await fetchBytes(`/build/images/${f.name}`));
  // Two module instances of the codec's glue: one per wasm instance it drives.
  const codec = await import("/build/codec/codec.js?instance=codec");
  const codecLinked = await import("/build/codec/codec.js?instance=linked");
  const codecLoop = await import("/build/codec/codec.js?instance=loop");
  const wasm = {
    codec: await WebAssembly.compile(await fetchBytes("/build/codec/codec_bg.wasm")),
    gcArray: await WebAssembly.compile(await fetchBytes("/build/gc-array.wasm")),
    multimem: await WebAssembly.compile(await fetchBytes("/build/multimem.wasm")),
    rustApp: await WebAssembly.compile(await fetchBytes("/build/rust-app.wasm")),
  };
  const pipeline = await createPipeline({ glue, codec, codecLinked, codecLoop, wasm });
  const rows = [];
  for (const name of names) {
    status(`running ${name}…`);
    await new Promise((r) => setTimeout(r, 0)); // let the status paint
    const per = jpegs.map((jpeg) => measure(pipeline.variants[name], jpeg, { runs, warmup }));
    const ms = per.flatMap((r) => r.ms);
    const r = per[0];
    rows.push({ variant: name, medianMs: median(ms), ms, bytesCopied: r.bytesCopied, boundaryCrossings: r.boundaryCrossings, hash: fnv1a(r.output), hashes: per.map((x) => fnv1a(x.output)), outputBytes: r.output.length });
  }
  const c = rows.find((r) => r.variant === "c")?.medianMs ?? NaN;
  const tbody = document.querySelector("#results tbody");
  for (const r of rows) {
    const tr = tbody.insertRow();
    for (const [text, num] of [[r.variant], [DESCRIPTIONS[r.variant]], [r.medianMs.toFixed(1), 1], [(r.medianMs / c).toFixed(2), 1], [bytes(r.bytesCopied), 1], [bytes(r.boundaryCrossings), 1], [`${bytes(r.outputBytes)} B, fnv1a ${r.hash}`]]) {
      const td = tr.insertCell();
      td.textContent = text;
      if (num) td.className = "num";
    }
  }
  drawChart(rows);
  const memories = {
    codecAlone: pipeline.codecExports.memory.buffer.byteLength,
    linkedCodec: pipeline.linkedExports.memory.buffer.byteLength,
    linkedRuntime: pipeline.runtime.memory.buffer.byteLength,
    jsHeapUsed: performance.memory?.usedJSHeapSize ?? null,
  };
  document.getElementById("memory").textContent =
    `Linear memories after the runs: codec (variant a) ${bytes(memories.codecAlone)} B; ` +
    `linked module: codec ${bytes(memories.linkedCodec)} B, runtime ${bytes(memories.linkedRuntime)} B` +
    (memories.jsHeapUsed === null ? "." : `; JS heap in use ${bytes(memories.jsHeapUsed)} B.`);
  const same = rows.every((r) => r.hash === rows[0].hash);
  window.pipelineResult = {
    rows, memories, same, manifest,
    liveBuffers: pipeline.runtime.stats().liveBuffers,
    codecLiveBlocks: pipeline.codecExports.codec_live_blocks() + pipeline.loopCodecExports.codec_live_blocks(),
    linkedCodecLiveBlocks: pipeline.linkedExports.codec_live_blocks(),
  };
  if (!same) throw new Error(`the variants' outputs differ: ${rows.map((r) => `${r.variant} ${r.hash}`).join(", ")}`);
  status(`done: ${count} × ${manifest.width}×${manifest.height} (${bytes(manifest.rawBytes)} B raw), ${runs} runs per variant and image; every variant wrote the same JPEG`, "ok");
}

main().catch((e) => status(`error: ${e.stack ?? e}`, "error"));
