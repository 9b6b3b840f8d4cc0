// The threads page: see threads.html. `?ms=` sets the soak's length (default
// 3000), `?workers=` the number of workers (default 4), `?build=` the build
// (default auto). The soak itself is js-glue/test/threads-soak.js, the one
// the Node tests run, which build.sh copies to /build/.
//
// Both builds are given: the multi-memory one (threads.wasm) where the engine
// has multi-memory, else the single-memory one (threads.single.wasm: WebKit).
// instantiateShared() needs bytes, not URLs, to read the shared memory's
// limits (the same in both builds), so both are fetched (about 9 KB each).
// The workers run whichever the page chose: they get its compiled module.
import { canBlock, handOff, instantiateShared, receive, shareRuntime } from "/js-glue/threads.js";
import { soak } from "/build/threads-soak.js";
import { requestedBuild, run, status } from "./common.js";

async function fetchBytes(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${r.statusText}`);
  return r.arrayBuffer();
}

const $ = (id) => document.getElementById(id);

run(async () => {
  $("coi").textContent = String(self.crossOriginIsolated);
  if (!self.crossOriginIsolated) throw new Error("not cross-origin isolated: serve with COOP/COEP (serve.mjs)");
  const params = new URLSearchParams(location.search);
  const ms = Number(params.get("ms") ?? 3000);
  const workers = Number(params.get("workers") ?? 4);
  status(`running ${workers} workers for ${ms} ms…`);
  const [multiMemory, singleMemory] = await Promise.all([fetchBytes("/build/threads.wasm"), fetchBytes("/build/threads.single.wasm")]);
  // mayWait "auto": canBlock() is false here, so instance_may_wait(0).
  const main = await instantiateShared(
    { multiMemory, singleMemory },
    { env: { memory: new WebAssembly.Memory({ initial: 1 }) } },
    { build: requestedBuild() },
  );
  if (main.mayWait !== false) throw new Error("the main thread's instance was told it may wait");
  const summary = await soak({
    glue: { instantiateShared, handOff, receive },
    main,
    shared: shareRuntime(main),
    workers,
    durationMs: ms,
    opsPerTurn: 256,
    build: main.build,
    seed: (Date.now() & 0xffff) + 1,
    spawn: (i) => {
      const w = new Worker("./threads-worker.js", { type: "module" });
      return {
        post: (msg, transfer) => w.postMessage(msg, transfer),
        listen: (fn) => {
          w.onmessage = (e) => fn(e.data);
          w.onerror = (e) => fn({ type: "error", worker: i, message: e.message });
        },
        terminate: () => w.terminate(),
      };
    },
  }).catch((e) => {
    // Firefox's error.stack leaves out the message, which says what
    // differed; the status line shows the stack.
    if (e instanceof Error && !String(e.stack).includes(e.message)) e.stack = `${e.message}\n${e.stack}`;
    throw e;
  });
  const c = summary.counts;
  $("workers").textContent = String(workers);
  $("build").textContent = main.build;
  $("may-wait").textContent = `${main.mayWait} (canBlock() ${canBlock()})`;
  $("rounds").textContent = String(summary.rounds);
  $("allocs").textContent = c.allocs.toLocaleString("en-US");
  $("sends").textContent = `${c.sends.toLocaleString("en-US")} / ${summary.mainSends.toLocaleString("en-US")}`;
  $("checked").textContent = c.bytesChecked.toLocaleString("en-US");
  $("pages").textContent = `${summary.pagesStart} / ${summary.pagesEnd}`;
  $("end").textContent = `${summary.end.liveBuffers} / ${summary.end.liveBytes} / ${summary.end.heapBytes}`;
  window.threadsResult = {
    ...summary,
    workers,
    durationMs: ms,
    mayWait: main.mayWait,
    canBlock: canBlock(),
    crossOriginIsolated: self.crossOriginIsolated,
    build: main.build,
  };
  status(`ok: ${summary.rounds} checkpoints, ${c.sends + summary.mainSends} hand-offs, 0 live at the end`, "ok");
});
