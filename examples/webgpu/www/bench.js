// One benchmark configuration (see bench.html): `runs` timed readbacks or
// uploads of `mib` MiB between a Float32List in runtime memory and a
// GPUBuffer, with the helper (mapAsyncInto / writeBufferFrom) or the naive
// path (getMappedRange().slice() + set(); copyTo() + writeBuffer). Each run
// starts with the GPU idle (onSubmittedWorkDone) and ends when the data has
// arrived: after the copy for readback, after onSubmittedWorkDone for upload.
// Result in window.benchResult: median ms, bytes copied in JS per run.
import * as glue from "@multimem/js-glue";
import { CopyCounter, mapAsyncInto, writeBufferFrom } from "@multimem/js-glue/webgpu";
import { fill, naiveReadback, naiveUpload, requestDevice } from "./gpu.js";

const status = (text, cls = "") => {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = cls;
};

async function main() {
  const p = new URLSearchParams(location.search);
  const op = p.get("op"), path = p.get("path"), mib = Number(p.get("mib")), runs = Number(p.get("runs") ?? 7);
  if (!["readback", "upload"].includes(op) || !["helper", "naive"].includes(path) || !(mib > 0)) throw new Error(`bad parameters: ${location.search}`);
  const bytes = mib << 20;
  const device = await requestDevice(bytes);
  const { runtime } = await glue.instantiate(fetch("/build/runtime.linked.wasm"), { env: { memory: new WebAssembly.Memory({ initial: 0 }) } }, { viewPath: p.get("viewPath") ?? "auto" });
  using list = glue.Float32List.create(runtime, bytes / 4);
  fill(list, 3);
  const U = GPUBufferUsage;
  const gpu = op === "readback"
    ? device.createBuffer({ size: bytes, usage: U.MAP_READ | U.COPY_DST })
    : device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST | U.COPY_SRC });
  const src = op === "readback" ? device.createBuffer({ size: bytes, usage: U.COPY_SRC | U.COPY_DST }) : null;
  if (src) device.queue.writeBuffer(src, 0, list.copyTo());
  const counter = new CopyCounter();
  const ms = [];
  for (let i = 0; i < runs + 1; i++) {
    if (src) {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(src, 0, gpu, 0, bytes);
      device.queue.submit([enc.finish()]);
    }
    await device.queue.onSubmittedWorkDone();
    counter.reset();
    const t0 = performance.now();
    if (op === "readback") {
      if (path === "helper") await mapAsyncInto(gpu, list, 0, bytes, { counter });
      else await naiveReadback(gpu, list, counter);
    } else {
      if (path === "helper") writeBufferFrom(device.queue, gpu, 0, list, { counter });
      else naiveUpload(device.queue, gpu, list, counter);
      await device.queue.onSubmittedWorkDone();
    }
    if (i > 0) ms.push(performance.now() - t0); // run 0 is the warm-up
  }
  // The data arrived: check a few elements on readback.
  if (op === "readback" && list.get(bytes / 4 - 1) !== list.get(bytes / 4 - 1)) throw new Error("NaN after readback");
  ms.sort((a, b) => a - b);
  window.benchResult = { op, path, mib, runs, viewPath: runtime.viewPath, medianMs: ms[ms.length >> 1], ms, bytesCopied: counter.bytes, copies: counter.copies };
  gpu.destroy();
  src?.destroy();
  status("ok", "ok");
}

main().catch((e) => status(`error: ${e.message ?? e}`, "error"));
