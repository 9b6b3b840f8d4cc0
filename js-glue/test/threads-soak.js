// The shared-heap soak that js-glue's thread tests run in Node worker_threads
// (threads.test.js, threads-worker.js) and the browser page runs in Web
// Workers (examples/browser/www/threads.html, which gets a copy of this file
// under /build/). It only needs the glue's threads.js functions, passed in,
// and message endpoints, so it runs in both.
//
// Phases, in order:
//   1. the coordinator (main thread) instantiates the linked module with
//      instantiateShared (mayWait false: a main thread that must not block),
//      starts N workers and posts each shareRuntime() and a MessagePort to
//      every other worker; each worker instantiates over the same memory
//      (mayWait "auto": it must come out true) and says "ready";
//   2. rounds until the time is up: "run" - every worker does random
//      operations (allocate + fill in JS, in wasm or with bytes_fill; retain;
//      release; check bytes; hand a buffer to another worker by address,
//      keeping its own reference or giving it up; refill a received buffer
//      it alone holds), while the coordinator allocates and hands buffers to
//      workers too; then a checkpoint: "pause" (each worker stops and
//      reports what it sent to whom), "settle" (each waits until everything
//      sent to it has arrived, queued unprocessed, and reports every
//      reference it holds with its model: address, length, seed, fill);
//   3. at each checkpoint the coordinator checks the heap against the
//      union of the reports: for every address, buffer_refcount equals the
//      number of references the workers hold, buffer_length the model's
//      length, and every byte the model's (read through a fresh view of the
//      grown memory); stats liveBuffers and liveBytes equal the distinct
//      buffers and their bytes;
//   4. "finish": every worker releases all it holds; liveBuffers,
//      liveBytes and heapBytes must be 0 again.
// Every receipt checks the buffer's length, refcount (>= 1) and all its bytes
// against the model that came with the address. Failures throw with the
// worker, the seed and what differed.

/** Byte `i` of pattern `seed` (threads-app.wat's `fill` computes the same). */
export function patternByte(seed, i) {
  return (Math.imul(seed, 31) + Math.imul(i, 7) + (i >>> 8)) & 0xff;
}

const FILL_JS = 0; // pattern, written through the glue's view
const FILL_WASM = 1; // pattern, written by the app's wasm `fill`
const FILL_CONST = 2; // the runtime's bytes_fill with seed & 0xff

/** The byte the model says is at `i`. */
function expected(model, i) {
  return model.fill === FILL_CONST ? model.seed & 0xff : patternByte(model.seed, i);
}

/** Index of the first byte of `bytes` that differs from `model`, or -1. */
export function firstMismatch(bytes, model) {
  if (model.fill === FILL_CONST) {
    const v = model.seed & 0xff;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== v) return i;
    return -1;
  }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== patternByte(model.seed, i)) return i;
  return -1;
}

function fail(message) {
  throw new Error(`threads soak: ${message}`);
}

/** xorshift32: reproducible per worker from the run's seed. */
function random(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

/** A length: mostly small, some KiB, a few large enough to grow the memory. */
function length(rand) {
  const r = rand(100);
  if (r < 70) return rand(513);
  if (r < 97) return 512 + rand(8 * 1024);
  return 64 * 1024 + rand(192 * 1024);
}

// ---------------------------------------------------------------------------
// Worker side

/**
 * Runs one worker. `glue` is `{ instantiateShared, handOff, receive }`,
 * `control` the endpoint to the coordinator: `{ post(msg), listen(fn),
 * turn() }` (turn: a promise for the next event-loop turn, default
 * setTimeout 0). `imports()` makes this worker's own imports (`env.memory`).
 * Every message handled here comes from the coordinator or a peer port.
 */
export function soakWorker(glue, control, imports) {
  let rt = null;
  let app = null;
  let id = -1;
  let rand = null;
  const peers = []; // peers[j]: MessagePort to worker j (null for self)
  const held = []; // one entry per reference held: { b: ByteBuffer, model }
  const queue = []; // received, not yet processed: { address, model }
  let sentTo = [];
  let received = 0;
  let expect = -1;
  let running = false;
  let opsPerTurn = 64;
  const counts = { allocs: 0, retains: 0, releases: 0, sends: 0, moves: 0, receipts: 0, refills: 0, checks: 0, bytesChecked: 0 };

  // (Firefox's error.stack leaves out the message, which says what differed.)
  const report = (e) =>
    control.post({ type: "error", worker: id, message: e instanceof Error && !String(e.stack).includes(e.message) ? `${e.message}\n${e.stack}` : String(e?.stack ?? e) });

  // A yield to the event loop that lets the ports deliver (Node:
  // setImmediate; a MessageChannel of its own would starve the other ports).
  const turn = control.turn ?? (() => new Promise((r) => setTimeout(r, 0)));

  function check(b, model, what) {
    const len = b.lengthInBytes;
    if (len !== model.len) fail(`worker ${id}: ${what} 0x${b.address.toString(16)}: length ${len}, model ${model.len}`);
    const view = b.view();
    const at = firstMismatch(view, model);
    if (at >= 0) {
      fail(`worker ${id}: ${what} 0x${b.address.toString(16)} (seed ${model.seed}, fill ${model.fill}, ${len} bytes): byte ${at} is ${view[at]}, model ${expected(model, at)}`);
    }
    if (model.fill !== FILL_CONST && len > 0 && rand(4) === 0) {
      const w = app.check(b.address, model.seed);
      if (w !== -1) fail(`worker ${id}: ${what} 0x${b.address.toString(16)}: wasm check found byte ${w} differing`);
    }
    counts.checks++;
    counts.bytesChecked += len;
  }

  function fill(b, model) {
    if (model.fill === FILL_JS) {
      const v = b.view();
      for (let i = 0; i < v.length; i++) v[i] = patternByte(model.seed, i);
    } else if (model.fill === FILL_WASM) {
      app.fill(b.address, model.seed);
    } else {
      rt.exports.bytes_fill(b.address, 0, model.len, model.seed);
    }
  }

  function newModel(len) {
    return { len, seed: rand(0x10000), fill: rand(3) };
  }

  function allocate() {
    const len = length(rand);
    const b = rt.allocate(len);
    const model = newModel(len);
    fill(b, model);
    held.push({ b, model });
    counts.allocs++;
  }

  function take(i) {
    const e = held[i];
    held[i] = held[held.length - 1];
    held.pop();
    return e;
  }

  function send() {
    const n = peers.length;
    let to = rand(n - 1);
    if (to >= id) to++;
    const i = rand(held.length);
    const e = held[i];
    const address = glue.handOff(e.b); // one reference for the receiver
    peers[to].postMessage({ address, model: e.model });
    sentTo[to]++;
    counts.sends++;
    if (rand(2) === 0) {
      // Give ours up too: the buffer moved.
      take(i).b.dispose();
      counts.moves++;
    }
  }

  function accept(msg) {
    const b = glue.receive(rt, msg.address);
    const refs = b.refcount;
    if (refs < 1) fail(`worker ${id}: received 0x${msg.address.toString(16)} with refcount ${refs}`);
    check(b, msg.model, "received");
    let model = msg.model;
    if (refs === 1 && rand(2) === 0) {
      // This worker holds the only reference: nobody else can read it, so
      // it may write; the new model is this worker's alone.
      model = newModel(model.len);
      fill(b, model);
      check(b, model, "refilled");
      counts.refills++;
    }
    held.push({ b, model });
    counts.receipts++;
  }

  function step() {
    const full = held.length > 48;
    // Receipts first, but when full every other step makes room (mostly
    // releases), so what a worker holds stays bounded.
    if (queue.length && (!full || rand(2) === 0)) {
      accept(queue.shift());
      return;
    }
    const r = rand(100);
    if (held.length === 0 || (!full && r < 25)) allocate();
    else if (r < 45) send();
    else if (r < 55 && !full) {
      const e = held[rand(held.length)];
      held.push({ b: rt.wrap(e.b.address), model: e.model }); // retains
      counts.retains++;
    } else if (r < 75 || full) {
      take(rand(held.length)).b.dispose();
      counts.releases++;
    } else {
      const e = held[rand(held.length)];
      check(e.b, e.model, "held");
    }
  }

  async function run() {
    try {
      while (running) {
        for (let k = 0; k < opsPerTurn && running; k++) step();
        await turn();
      }
      control.post({ type: "paused", worker: id, sentTo });
    } catch (e) {
      report(e);
    }
  }

  function settle() {
    if (expect < 0 || received < expect) return;
    if (received > expect) return report(new Error(`worker ${id}: received ${received} buffers, coordinator expected ${expect}`));
    expect = -1;
    const refs = held.map((e) => [e.b.address, e.model]).concat(queue.map((m) => [m.address, m.model]));
    control.post({ type: "snapshot", worker: id, refs, held: held.length, queued: queue.length, counts: { ...counts }, stats: rt.stats() });
  }

  function arrive(msg) {
    queue.push(msg);
    received++;
    settle();
  }

  control.listen(async (msg) => {
    try {
      switch (msg.type) {
        case "init": {
          id = msg.id;
          rand = random(msg.seed + id * 7919);
          opsPerTurn = msg.opsPerTurn ?? opsPerTurn;
          const r = await glue.instantiateShared(msg.shared.module, imports(), { memory: msg.shared.memory, build: msg.build });
          rt = r.runtime;
          app = r.exports;
          sentTo = new Array(msg.n).fill(0);
          for (let j = 0; j < msg.n; j++) peers.push(null);
          for (const { peer, port } of msg.ports) {
            peers[peer] = port;
            port.onmessage = (e) => {
              try {
                arrive(e.data);
              } catch (err) {
                report(err);
              }
            };
          }
          control.post({ type: "ready", worker: id, mayWait: r.mayWait, build: r.build, viewPath: rt.viewPath });
          break;
        }
        case "buffer":
          arrive(msg);
          break;
        case "run":
          running = true;
          run();
          break;
        case "pause":
          running = false;
          break;
        case "settle":
          expect = msg.expect;
          settle();
          break;
        case "finish": {
          for (const m of queue.splice(0)) accept(m);
          for (const e of held.splice(0)) e.b.dispose();
          control.post({ type: "finished", worker: id, counts: { ...counts }, stats: rt.stats() });
          break;
        }
        default:
          throw new Error(`unknown message ${msg.type}`);
      }
    } catch (e) {
      report(e);
    }
  });
}

// ---------------------------------------------------------------------------
// Coordinator side

/**
 * Runs the soak from the main thread. `main` is this thread's
 * instantiateShared() result (mayWait false), `shared` its shareRuntime().
 * `spawn(i)` starts worker i and returns `{ post(msg, transfer),
 * listen(fn), terminate() }`; `opsPerTurn` is how many operations a worker
 * does between two event-loop turns. Resolves to a summary; rejects with the first
 * failure (a worker's or a check's).
 */
export async function soak({ glue, main, shared, spawn, workers: n = 4, durationMs, roundMs = 400, opsPerTurn = 64, seed = 1, build, log = () => {} }) {
  const rt = main.runtime;
  const x = main.exports;
  const rand = random(seed ^ 0x5eed);
  const inbox = [];
  let failed = null;
  let wake = null;
  const endpoints = [];
  const deliver = (msg) => {
    if (msg.type === "error") failed ??= new Error(`worker ${msg.worker}: ${msg.message}`);
    inbox.push(msg);
    wake?.();
  };
  // Waits for one message of `type` from every worker.
  const all = async (type) => {
    const got = new Array(n).fill(null);
    let count = 0;
    for (;;) {
      if (failed) throw failed;
      while (inbox.length) {
        const m = inbox.shift();
        if (m.type === "error") throw failed;
        if (m.type !== type) throw new Error(`threads soak: expected ${type} from worker ${m.worker}, got ${m.type}`);
        if (got[m.worker] !== null) throw new Error(`threads soak: two ${type} from worker ${m.worker}`);
        got[m.worker] = m;
        count++;
      }
      if (count === n) return got;
      await new Promise((r) => { wake = r; });
      wake = null;
    }
  };

  const start = rt.stats();
  if (start.liveBuffers !== 0 || start.liveBytes !== 0) fail(`the heap is not empty at the start: ${JSON.stringify(start)}`);
  for (let i = 0; i < n; i++) {
    const ep = spawn(i);
    ep.listen(deliver);
    endpoints.push(ep);
  }
  const ports = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const c = new MessageChannel();
      ports[i].push({ peer: j, port: c.port1 });
      ports[j].push({ peer: i, port: c.port2 });
    }
  }
  try {
    for (let i = 0; i < n; i++) {
      endpoints[i].post({ type: "init", id: i, n, seed, build, opsPerTurn, shared, ports: ports[i] }, ports[i].map((p) => p.port));
    }
    const ready = await all("ready");
    for (const r of ready) {
      if (r.mayWait !== true) fail(`worker ${r.worker}: instance_may_wait was not set to 1 (mayWait ${r.mayWait})`);
      if (r.build !== main.build) fail(`worker ${r.worker} runs the ${r.build} build, the main thread ${main.build}`);
    }

    const summary = { rounds: 0, mainSends: 0, distinctMax: 0, pagesStart: start.pages, pagesEnd: 0, counts: null };
    const deadline = Date.now() + durationMs;
    let mainSentTo = new Array(n).fill(0);
    while (Date.now() < deadline || summary.rounds === 0) {
      for (const ep of endpoints) ep.post({ type: "run" });
      // The main thread allocates and hands buffers over while the workers
      // run: its instance spins for the heap lock (mayWait false).
      const roundEnd = Date.now() + roundMs;
      while (Date.now() < roundEnd) {
        if (failed) throw failed;
        const len = length(rand);
        const b = rt.allocate(len);
        const model = { len, seed: rand(0x10000), fill: FILL_JS };
        const v = b.view();
        for (let i = 0; i < len; i++) v[i] = patternByte(model.seed, i);
        const to = rand(n);
        endpoints[to].post({ type: "buffer", address: glue.handOff(b), model });
        b.dispose();
        mainSentTo[to]++;
        summary.mainSends++;
        await new Promise((r) => setTimeout(r, 5));
      }
      for (const ep of endpoints) ep.post({ type: "pause" });
      const paused = await all("paused");
      for (let i = 0; i < n; i++) {
        let expect = mainSentTo[i];
        for (const p of paused) expect += p.sentTo[i];
        endpoints[i].post({ type: "settle", expect });
      }
      const snaps = await all("snapshot");
      const distinct = checkHeap(x, rt, snaps);
      summary.distinctMax = Math.max(summary.distinctMax, distinct);
      summary.rounds++;
      log(`round ${summary.rounds}: ${distinct} live buffers, ${rt.stats().pages} pages; held ${snaps.map((s) => s.held)}, queued ${snaps.map((s) => s.queued)}, ${JSON.stringify(snaps[0].counts)}`);
    }
    for (const ep of endpoints) ep.post({ type: "finish" });
    const done = await all("finished");
    const end = rt.stats();
    summary.pagesEnd = end.pages;
    summary.end = end;
    summary.counts = done.reduce((acc, d) => {
      for (const [k, v] of Object.entries(d.counts)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {});
    return summary;
  } finally {
    for (const ep of endpoints) await ep.terminate();
  }
}

/**
 * The checkpoint's checks (see phase 3); returns the number of distinct live
 * buffers. Reads the memory through a view made now: the workers grew it.
 */
function checkHeap(x, rt, snaps) {
  const byAddress = new Map();
  for (const s of snaps) {
    for (const [address, model] of s.refs) {
      const e = byAddress.get(address);
      if (e === undefined) byAddress.set(address, { model, refs: 1, holders: [s.worker] });
      else {
        if (e.model.len !== model.len || e.model.seed !== model.seed || e.model.fill !== model.fill) {
          fail(`0x${address.toString(16)}: workers ${e.holders} and ${s.worker} hold different models ${JSON.stringify(e.model)} / ${JSON.stringify(model)}`);
        }
        e.refs++;
        e.holders.push(s.worker);
      }
    }
  }
  // memory.buffer of a shared memory has the length it had when read:
  // re-read it after other threads may have grown the memory.
  const mem = new Uint8Array(rt.memory.buffer);
  let bytes = 0;
  for (const [address, { model, refs, holders }] of byAddress) {
    const count = x.buffer_refcount(address);
    if (count !== refs) fail(`0x${address.toString(16)}: refcount ${count}, but workers ${holders} hold ${refs} references`);
    const len = x.buffer_length(address);
    if (len !== model.len) fail(`0x${address.toString(16)}: length ${len}, model ${model.len}`);
    if (address + len > mem.length) fail(`0x${address.toString(16)}: ends past the memory's ${mem.length} bytes`);
    const at = firstMismatch(mem.subarray(address, address + len), model);
    if (at >= 0) fail(`0x${address.toString(16)} (holders ${holders}, seed ${model.seed}, fill ${model.fill}): byte ${at} is ${mem[address + at]}, model ${expected(model, at)}`);
    bytes += len;
  }
  const stats = rt.stats();
  if (stats.liveBuffers !== byAddress.size) fail(`stats liveBuffers ${stats.liveBuffers}, but the workers hold ${byAddress.size} distinct buffers`);
  if (stats.liveBytes !== bytes) fail(`stats liveBytes ${stats.liveBytes}, but the workers' buffers have ${bytes} bytes`);
  return byAddress.size;
}
