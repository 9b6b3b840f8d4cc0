// The worker of the worker example: its own instance of the linked app, with
// the shared external memory the page posts in "init". Messages:
//   init {memory}                    -> ready
//   fill {length, seed}              -> filled {bytes} (ArrayBuffer, transferred)
//   fill-shared {address, length, seed} -> filled-shared   (values written in place)
//   sum-shared {address, length}     -> sum {sum}
// Module workers do not see the page's import map, so the glue is imported by path.
import { instantiate, Int32List } from "/js-glue/index.js";

let runtime, app;

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "init") {
      const linked = await instantiate(fetch("/build/worker.wasm"), { env: { memory: data.memory } });
      ({ runtime } = linked);
      app = linked.instance.exports;
      self.postMessage({ type: "ready" });
    } else if (data.type === "fill") {
      using list = Int32List.create(runtime, data.length);
      runtime.call(app.fill_list, list, data.length, data.seed);
      const bytes = list.copyOut(); // one copy, into a fresh transferable ArrayBuffer
      self.postMessage({ type: "filled", bytes }, [bytes]);
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
