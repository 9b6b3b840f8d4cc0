// A worker of the threads page: one instance of the linked module over the
// page's shared heap (instance_may_wait(1): workers may block), running the
// soak's worker side (js-glue/test/threads-soak.js, copied to /build/).
// The page posts the compiled module of the build it chose (multi-memory, or
// single-memory in WebKit), so this worker runs the same build; the soak
// checks that (its "ready" message carries the build).
import { handOff, instantiateShared, receive } from "/js-glue/threads.js";
import { soakWorker } from "/build/threads-soak.js";

soakWorker(
  { instantiateShared, handOff, receive },
  {
    post: (msg) => self.postMessage(msg),
    listen: (fn) => { self.onmessage = (e) => fn(e.data); },
    turn: () => new Promise((r) => setTimeout(r, 0)),
  },
  () => ({ env: { memory: new WebAssembly.Memory({ initial: 1 }) } }),
);
