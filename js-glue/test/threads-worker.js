// Worker side of threads.test.js: one instance of the linked module over the
// shared heap, running threads-soak.js's worker (the coordinator posts the
// module and the memory).
import { parentPort } from "node:worker_threads";
import { handOff, instantiateShared, receive } from "../src/threads.js";
import { soakWorker } from "./threads-soak.js";

soakWorker(
  { instantiateShared, handOff, receive },
  { post: (msg) => parentPort.postMessage(msg), listen: (fn) => parentPort.on("message", fn),
    turn: () => new Promise((r) => setImmediate(r)) },
  () => ({ env: { memory: new WebAssembly.Memory({ initial: 1 }) } }),
);
