// Worker side of worker.test.js: its own instance of the linked module; takes
// the bytes in with copyIn, sums them in wasm, doubles them, sends a copy back.
import { parentPort } from "node:worker_threads";
import { KIND } from "../src/index.js";
import { loadApp } from "./helpers.js";

parentPort.once("message", async ({ bytes }) => {
  try {
    const { runtime: rt, app } = await loadApp();
    using b = rt.copyIn(bytes);
    const sum = Number(rt.call(app.sum, KIND.Uint8List, b, 0, b.lengthInBytes));
    const v = b.view();
    for (let i = 0; i < v.length; i++) v[i] *= 2;
    const out = b.copyOut();
    parentPort.postMessage({ sum, bytes: out }, [out]);
  } catch (e) {
    parentPort.postMessage({ error: String(e?.stack ?? e) });
  }
});
