// The WebGPU example: Float32Lists in runtime memory, a compute shader
// out[i] = a[i] * b[i], readback with one copy, checked against the
// runtime's list_mul; the copies of every operation next to the naive path.
// Results go to window.webgpuResult; window.webgpuContext exposes the
// runtime, the device and the modules to the Chromium tests.
import * as glue from "@multimem/js-glue";
import { CopyCounter, mapAsyncFrom, mapAsyncInto, writeBufferFrom } from "@multimem/js-glue/webgpu";
import { SHADER, fill, naiveReadback, naiveUpload, requestDevice } from "./gpu.js";

const { Float32List, KIND, instantiate } = glue;
const status = (text, cls = "") => {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = cls;
};
const fmt = (n) => n.toLocaleString("en-US");

async function main() {
  const params = new URLSearchParams(location.search);
  const n = Number(params.get("n") ?? 1 << 22);
  const viewPath = params.get("viewPath") ?? "auto";
  const device = await requestDevice(n * 4);
  const { runtime } = await instantiate(fetch("/build/runtime.linked.wasm"), { env: { memory: new WebAssembly.Memory({ initial: 0 }) } }, { viewPath });
  window.webgpuContext = { glue, device, runtime, webgpu: await import("@multimem/js-glue/webgpu"), gpu: await import("./gpu.js") };

  using a = Float32List.create(runtime, n);
  using b = Float32List.create(runtime, n);
  using gpuOut = Float32List.create(runtime, n);
  using naiveOut = Float32List.create(runtime, n);
  using cpuOut = Float32List.create(runtime, n);
  fill(a, 1);
  fill(b, 2);

  const usage = GPUBufferUsage;
  const bytes = n * 4;
  const A = device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_DST });
  const B = device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_DST });
  const OUT = device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_SRC });
  const READ = device.createBuffer({ size: bytes, usage: usage.MAP_READ | usage.COPY_DST });
  const UP = device.createBuffer({ size: bytes, usage: usage.MAP_WRITE | usage.COPY_SRC });

  const rows = [];
  const row = (operation, path, counter) => rows.push({ operation, path, bytes: counter.bytes, copies: counter.copies });

  // Upload: the helper, then the naive path for the table (same bytes end up in A and B).
  const up = new CopyCounter();
  writeBufferFrom(device.queue, A, 0, a, { counter: up });
  writeBufferFrom(device.queue, B, 0, b, { counter: up });
  row("upload a and b (queue.writeBuffer)", runtime.viewPath === "refresh"
    ? "writeBufferFrom (refresh views: straight from runtime memory)"
    : "writeBufferFrom (resizable views, which writeBuffer rejects: one staging copy)", up);
  const upNaive = new CopyCounter();
  naiveUpload(device.queue, A, a, upNaive);
  naiveUpload(device.queue, B, b, upNaive);
  row("upload a and b (queue.writeBuffer)", "naive: list.copyTo(), then writeBuffer", upNaive);

  // Compute out = a * b.
  const module = device.createShaderModule({ code: SHADER });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [A, B, OUT].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const run = () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(n / 256));
    pass.end();
    enc.copyBufferToBuffer(OUT, 0, READ, 0, bytes);
    device.queue.submit([enc.finish()]);
  };

  // Readback: one copy into gpuOut; then the naive path into naiveOut.
  run();
  const rb = new CopyCounter();
  await mapAsyncInto(READ, gpuOut, 0, bytes, { counter: rb });
  row("readback out (mapAsync READ)", "mapAsyncInto", rb);
  run();
  const rbNaive = new CopyCounter();
  await naiveReadback(READ, naiveOut, rbNaive);
  row("readback out (mapAsync READ)", "naive: getMappedRange().slice(), then set()", rbNaive);

  // The runtime's SIMD list_mul on the CPU, and the comparison (bit for bit).
  runtime.exports.list_mul(KIND.Float32List, cpuOut.address, cpuOut.offsetInBytes, a.address, a.offsetInBytes, b.address, b.offsetInBytes, n);
  const mismatches = (x, y) => {
    const [u, v] = [new Uint32Array(x.view().buffer, x.view().byteOffset, n), new Uint32Array(y.view().buffer, y.view().byteOffset, n)];
    let count = 0, first = -1;
    for (let i = 0; i < n; i++) if (u[i] !== v[i]) (count++, first < 0 && (first = i));
    return { count, first };
  };
  const gpuVsCpu = mismatches(gpuOut, cpuOut);
  const naiveVsCpu = mismatches(naiveOut, cpuOut);

  // Write mapping: a into UP with one copy, UP -> READ on the GPU, back into naiveOut, compare with a.
  const wr = new CopyCounter();
  await mapAsyncFrom(UP, a, 0, bytes, { counter: wr });
  row("fill a mapped buffer from a (mapAsync WRITE)", "mapAsyncFrom", wr);
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(UP, 0, READ, 0, bytes);
  device.queue.submit([enc.finish()]);
  await mapAsyncInto(READ, naiveOut, 0, bytes);
  const roundTrip = mismatches(naiveOut, a);

  for (const r of rows) {
    const tr = document.querySelector("#copies tbody").insertRow();
    for (const [text, num] of [[r.operation], [r.path], [fmt(r.bytes), 1], [fmt(r.copies), 1]]) {
      const td = tr.insertCell();
      td.textContent = text;
      if (num) td.className = "num";
    }
  }
  const sample = [0, 1, n - 1].map((i) => `out[${i}] = ${a.get(i)} × ${b.get(i)} = ${gpuOut.get(i)}`).join("; ");
  document.getElementById("details").textContent =
    `${fmt(n)} elements (${fmt(bytes)} B per list), ${runtime.viewPath} view path; GPU vs list_mul: ${gpuVsCpu.count} differing elements; ${sample}.`;
  for (const x of [A, B, OUT, READ, UP]) x.destroy();
  window.webgpuResult = { n, viewPath: runtime.viewPath, rows, gpuVsCpu, naiveVsCpu, roundTrip, adapter: device.adapterInfo?.vendor ?? null };
  if (gpuVsCpu.count || naiveVsCpu.count || roundTrip.count) {
    throw new Error(`results differ: GPU vs list_mul ${gpuVsCpu.count} (first at ${gpuVsCpu.first}), naive ${naiveVsCpu.count}, write round trip ${roundTrip.count}`);
  }
  status(`ok: ${fmt(n)} products on the GPU equal list_mul bit for bit (${runtime.viewPath} views)`, "ok");
}

main().catch((e) => status(`error: ${e.message ?? e}`, "error"));
