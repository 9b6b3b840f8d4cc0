// The inspector example: a live view of the runtime's own memory and the
// external memory, sampled every 100 ms from runtime.stats() and drawn as
// two charts. See inspector.html for what the buttons do.
import { instantiate } from "@multimem/js-glue";
import { appBuilds, bytes, drawChart, requestedBuild, run, status } from "./common.js";

const SAMPLES = 200; // 20 s of history
const PAGE = 65536;

run(async () => {
  const external = new WebAssembly.Memory({ initial: 1, maximum: 64 });
  const { instance, runtime } = await instantiate(appBuilds("inspector"), { env: { memory: external } }, { build: requestedBuild() });
  const app = instance.exports;

  let wrappers = [];
  let allocations = 0;
  let externalCopied = 0;
  const history = { live: [], allocations: [], finalized: [], ownBytes: [], liveBytes: [], extBytes: [] };
  const message = (text) => (document.getElementById("message").textContent = text);
  const $ = (id) => document.getElementById(id);

  $("allocate").onclick = () => {
    for (let i = 0; i < 1000; i++) wrappers.push(runtime.adopt(app.make(1024 + (i % 8) * 512, i & 255)));
    allocations += 1000;
    sample();
  };
  $("drop").onclick = () => {
    wrappers = []; // not disposed: the FinalizationRegistry releases them after GC
    sample();
  };
  $("gc").onclick = () => {
    if (typeof globalThis.gc === "function") {
      globalThis.gc();
      message(`gc() at ${new Date().toLocaleTimeString()}; finalizers run shortly after`);
      return;
    }
    // No gc() (Safari, Firefox, Chromium without --js-flags=--expose-gc): make
    // short-lived garbage until the engine collects on its own.
    // Objects for the young generation, large buffers (external memory that
    // engines count towards a full collection) for the old one.
    let junk = [];
    for (let i = 0; i < 400_000; i++) junk.push({ i, s: `garbage ${i}` });
    for (let i = 0; i < 8; i++) junk.push(new Uint8Array(16 << 20));
    junk = null;
    message(`gc() is not available: made garbage at ${new Date().toLocaleTimeString()} so the engine collects; finalizers run after that`);
  };
  $("hold").onclick = () => {
    app.hold(100, 2048);
    allocations += 100;
    sample();
  };
  $("unhold").onclick = () => {
    app.unhold();
    sample();
  };
  $("copy").onclick = () => {
    const n = 65536;
    if (external.buffer.byteLength < n) external.grow(1);
    const buffer = runtime.allocate(n);
    try {
      buffer.view().fill(0xa5);
      allocations += 1;
      runtime.call(app.copy_out, 0, buffer, n); // external_copy_out: one memory.copy into env.memory
      externalCopied += n;
    } finally {
      buffer.dispose(); // (`using buffer = ...` where the browser has `using`)
    }
    sample();
  };
  $("grow").onclick = () => {
    try {
      external.grow(1);
    } catch (e) {
      message(`external memory: ${e.message}`);
    }
    sample();
  };

  function sample() {
    const s = runtime.stats();
    const push = (key, v) => {
      history[key].push(v);
      if (history[key].length > SAMPLES) history[key].shift();
    };
    push("live", s.liveBuffers);
    push("allocations", allocations);
    push("finalized", s.finalized);
    push("ownBytes", s.pages * PAGE);
    push("liveBytes", s.liveBytes);
    push("extBytes", external.buffer.byteLength);

    $("own-size").textContent = `${s.pages} pages, ${bytes(s.pages * PAGE)}`;
    $("ext-size").textContent = `${external.buffer.byteLength / PAGE} pages, ${bytes(external.buffer.byteLength)}`;
    $("live-buffers").textContent = String(s.liveBuffers);
    $("live-bytes").textContent = `${bytes(s.liveBytes)} / ${bytes(s.heapBytes)}`;
    $("ext-copied").textContent = bytes(externalCopied);
    $("held").textContent = `${wrappers.length} / ${app.held()}`;
    $("counters").textContent = `${allocations} / ${s.finalized}`;
    drawChart($("chart-buffers"), [
      { color: "#9333ea", values: history.allocations },
      { color: "#ea580c", values: history.finalized },
      { color: "#2563eb", values: history.live },
    ], { title: "buffers", window: SAMPLES });
    drawChart($("chart-memory"), [
      { color: "#0d9488", values: history.ownBytes },
      { color: "#ca8a04", values: history.extBytes },
      { color: "#2563eb", values: history.liveBytes },
    ], { title: "bytes", unit: "bytes", minTop: 2 * PAGE, window: SAMPLES });
    window.inspector = { ...s, build: runtime.build, allocations, wrappers: wrappers.length, appHeld: app.held(), externalCopied,
      externalBytes: external.buffer.byteLength, samples: history.live.length };
  }

  sample();
  setInterval(sample, 100);
  status(`running (${runtime.build} build, ${runtime.viewPath} views); gc() ${typeof globalThis.gc === "function" ? "available" : "not available"}`, "ok");
});
