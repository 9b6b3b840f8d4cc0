// The worker example's page: see worker.html for the two hand-offs.
import { instantiate, Int32List } from "@multimem/js-glue";
import { appBuilds, bytes, disposing, requestedBuild, run, status } from "./common.js";

/** Elements each variant makes, and the seeds of the app's generator. */
export const COPY = { length: 50_000, seed: 12345 };
export const SHARED = { address: 4096, length: 30_000, seed: 777 };

const $ = (id) => document.getElementById(id);
const first = (values) => Array.from(values.slice(0, 6)).join(", ") + ", …";

/** A worker plus a request/response helper that waits for one reply type. */
function startWorker() {
  const worker = new Worker("./fill-worker.js", { type: "module" });
  const request = (message, replyType, transfer = []) =>
    new Promise((resolve, reject) => {
      worker.addEventListener("message", function on({ data }) {
        if (data.type !== replyType && data.type !== "error") return;
        worker.removeEventListener("message", on);
        data.type === "error" ? reject(new Error(`worker: ${data.message}`)) : resolve(data);
      });
      worker.addEventListener("error", (e) => reject(new Error(`worker: ${e.message}`)), { once: true });
      worker.postMessage(message, transfer);
    });
  return { worker, request };
}

run(async () => {
  $("coi").textContent = String(self.crossOriginIsolated);
  if (!self.crossOriginIsolated) throw new Error("not cross-origin isolated: serve with COOP/COEP (serve.mjs)");

  const external = new WebAssembly.Memory({ initial: 2, maximum: 256, shared: true });
  const { instance, runtime } = await instantiate(appBuilds("worker"), { env: { memory: external } }, { build: requestedBuild() });
  const app = instance.exports;
  const { worker, request } = startWorker();
  // The worker loads the same build as this page.
  await request({ type: "init", memory: external, build: runtime.build }, "ready");
  const result = { crossOriginIsolated: self.crossOriginIsolated, build: runtime.build };

  // 1. copyOut + transfer.
  await disposing(async (own) => {
    const { bytes: received } = await request({ type: "fill", ...COPY }, "filled");
    const buffer = own(runtime.copyIn(received));
    const list = own(Int32List.view(buffer));
    const values = list.copyTo();
    $("copy-length").textContent = String(list.length);
    $("copy-out").textContent = bytes(received.byteLength);
    $("copy-transfer").textContent = bytes(0) + " (the ArrayBuffer is moved)";
    $("copy-in").textContent = bytes(buffer.lengthInBytes);
    $("copy-first").textContent = first(values);
    $("copy-sum").textContent = String(values.reduce((a, v) => (a + v) | 0, 0));
    result.copy = { ...COPY, byteLength: received.byteLength, values: Array.from(values) };
  });

  // 2. One shared buffer.
  {
    const { address, length } = SHARED;
    const flags = new Int32Array(external.buffer);
    const flag = address / 4 - 1;
    Atomics.store(flags, flag, 0);
    // Wait on the flag the worker's app stores atomically (engines without
    // Atomics.waitAsync rely on the worker's reply, sent after the store).
    const published = Atomics.waitAsync?.(flags, flag, 0, 10_000);
    await request({ type: "fill-shared", ...SHARED }, "filled-shared");
    if ((await published?.value) === "timed-out" || Atomics.load(flags, flag) !== length) {
      throw new Error("shared: the worker did not publish the values");
    }
    const view = new Int32Array(external.buffer, address, length); // the same bytes the worker wrote
    const before = Array.from(view);
    for (let i = 0; i < length; i++) view[i] = -view[i];
    const mainSum = app.sum_shared(address, length);
    const { sum: workerSum } = await request({ type: "sum-shared", address, length }, "sum");
    const copy = Int32List.create(runtime, length);
    let copied;
    try {
      runtime.call(app.copy_in, copy, address, length * 4);
      copied = copy.copyTo();
    } finally {
      copy.dispose();
    }
    $("shared-length").textContent = String(length);
    $("shared-copied").textContent = bytes(0);
    $("shared-first").textContent = first(before);
    $("shared-sum").textContent = `${mainSum} / ${workerSum}`;
    $("shared-copy-in").textContent = `${bytes(length * 4)}, ${copied.every((v, i) => v === view[i]) ? "matches" : "DIFFERS"}`;
    result.shared = { ...SHARED, before, mainSum, workerSum, copiedIn: Array.from(copied) };
  }

  worker.terminate();
  window.workerResult = result;
  status(`done: both hand-offs checked (${runtime.build} build)`, "ok");
});
