// The worker of the worker example: its own instance of the linked app, with
// the shared external memory the page posts in "init". Messages:
//   init {memory, build}             -> ready   (build: the page's, "multi-memory" or "single-memory")
//   fill {length, seed}              -> filled {bytes} (ArrayBuffer, transferred)
//   fill-shared {address, length, seed} -> filled-shared   (values written in place)
//   sum-shared {address, length}     -> sum {sum}
// Module workers do not see the page's import map, so the glue is imported by path.
import { instantiate, Int32List } from "/js-glue/index.js";

let runtime, app;

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "init") {
      const builds = { multiMemory: new URL("/build/worker.wasm", location.href), singleMemory: new URL("/build/worker.single.wasm", location.href) };
      const linked = await instantiate(builds, { env: { memory: data.memory } }, { build: data.build });
      ({ runtime } = linked);
      app = linked.exports;
      self.postMessage({ type: "ready" });
    } else if (data.type === "fill") {
      const list = Int32List.create(runtime, data.length);
      try {
        runtime.call(app.fill_list, list, data.length, data.seed);
        const bytes = list.copyOut(); // one copy, into a fresh transferable ArrayBuffer
        self.postMessage({ type: "filled", bytes }, [bytes]);
      } finally {
        list.dispose(); // (`using list = ...` where the worker has `using`)
      }
    } else if (data.type === "fill-shared") {
      app.fill_shared(data.address, data.length, data.seed);
      self.postMessage({ type: "filled-shared" });
    } else if (data.type === "sum-shared") {
      self.postMessage({ type: "sum", sum: app.sum_shared(data.address, data.length) });
    } else {
      throw new TypeError(`fill-worker: unknown message type ${data.type}`);
    }
  } catch (e) {
    self.postMessage({ type: "error", message: String(e?.stack ?? e) });
  }
};
