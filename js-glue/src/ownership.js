// multimem js-glue: the JS host's side of "Ownership by GC objects"
// (docs/ABI.md): the `multimem:gc` imports, whose tokens let a compiled
// program's own WasmGC objects own buffer references, and the batched
// release of collected tokens through the runtime's `buffer_release_batch`.
//
// Phases of a token's life, in order:
//   1. own(buffer): a new empty Token, registered in a FinalizationRegistry
//      with the buffer address as its held value (a small integer: no
//      allocation per token besides the token itself). Token.prototype is
//      frozen and a token has no properties; the token itself is not frozen:
//      Object.freeze per token cost 80 ns more than the rest of own() on
//      Node 24 (measured), and wasm code sees only an opaque externref;
//   2. the engine's GC collects the token once no WasmGC object, global,
//      table or stack slot holds it; the registry's callback (which never
//      runs inside a synchronous task) appends the address to a JS-side
//      queue and, in "microtask" mode, schedules one flush;
//   3. flush: the queue is written into the runtime's release queue (the
//      address `buffer_release_batch(0)` returns) RELEASE_BATCH addresses at
//      a time, one `buffer_release_batch(n)` call each. Flushes happen in
//      that microtask (so all tokens one GC cleanup task reports go in as
//      few calls as possible), inside own() once RELEASE_BATCH or more are
//      queued (ABI.md), and on flush().
//
// Limits: a synchronous wasm loop is not bounded by releases in JS: no
// finalizer runs until the task that runs the loop ends (own() can only
// apply what earlier tasks queued). A slot the runtime refuses (wasm code
// released a token's reference itself, against the ABI) is reported (a
// ReleaseError thrown by flush() and own(), or given to onReleaseError from
// the microtask; stats().refused) and skipped, never retried, so nothing
// is released twice; the addresses after it are still released. After
// close() (teardown) collected tokens release nothing, as ABI.md says.

import { ERRORS, GC_IMPORTS, GC_MODULE, RELEASE_BATCH } from "./abi.js";

/** The `multimem:gc` import names this glue implements: every row of the ABI's ownership table. */
const IMPLEMENTED = Object.freeze(["own"]);
for (const name of Object.keys(GC_IMPORTS)) {
  if (!IMPLEMENTED.includes(name)) throw new Error(`multimem: the ABI's ownership import ${GC_MODULE}.${name} is not implemented by the glue`);
}

const FLUSH_MODES = ["microtask", "manual"];

const schedule = typeof queueMicrotask === "function" ? queueMicrotask : (fn) => void Promise.resolve().then(fn);

/** The default for onReleaseError: report it as an uncaught error (never swallowed). */
function reportUncaught(error) {
  if (typeof reportError === "function") reportError(error);
  else setTimeout(() => {
    throw error;
  }, 0);
}

/** A `multimem:gc` token: an empty object whose collection releases one buffer reference. */
export class Token {}
Object.freeze(Token.prototype);
Object.freeze(Token);

/** A refused slot: what the runtime said about one collected token's address. */
export class ReleaseError extends Error {
  constructor(address, code, cause) {
    const e = ERRORS[code];
    const what = e ? `${e.name} (${e.meaning})` : cause ? String(cause.message ?? cause) : `code ${code}`;
    super(`releasing the buffer 0x${address.toString(16)} of a collected ${GC_MODULE} token: buffer_release_batch refused it: ${what}`, cause ? { cause } : undefined);
    this.name = "ReleaseError";
    /** The address the token held. */
    this.address = address;
    /** The runtime's error code (ABI "Error codes"), or 0 if it recorded none. */
    this.code = code;
    /** Its name, e.g. "NOT_A_BUFFER". */
    this.codeName = e ? e.name : "UNKNOWN";
  }
}

/**
 * The ownership state of one instance: the tokens' FinalizationRegistry,
 * the JS-side queue of collected addresses and the counters. Made by
 * instantiate() when the module imports `multimem:gc` (runtime.ownership);
 * `imports()` before instantiation, `bind()` after.
 */
export class Ownership {
  constructor(options = {}) {
    const mode = options.flush ?? "microtask";
    if (!FLUSH_MODES.includes(mode)) throw new TypeError(`options.ownership.flush: expected "microtask" or "manual", got ${String(mode)}`);
    const onErr = options.onReleaseError ?? reportUncaught;
    if (typeof onErr !== "function") throw new TypeError("options.ownership.onReleaseError: expected a function");
    /** "microtask": a flush follows every GC cleanup task; "manual": only own() (at RELEASE_BATCH) and flush(). */
    this.mode = mode;
    this._onReleaseError = onErr;
    this._registry = new FinalizationRegistry((address) => this._collected(address));
    this._queue = new Uint32Array(RELEASE_BATCH * 4);
    this._queued = 0;
    this._scheduled = false;
    this._batch = null; // buffer_release_batch, once bound
    this._unbound = null; // why own() cannot work (see bind), or null
    this._lastError = null;
    this._memory = null;
    this._queueAddress = 0;
    this._closed = false;
    this._made = 0;
    this._collectedCount = 0;
    this._released = 0;
    this._batches = 0;
    this._refused = 0;
    this._dropped = 0;
    this._ownFlushes = 0;
  }

  /** The `multimem:gc` namespace for the import object: one function per row of the ABI's ownership table. */
  imports() {
    return { own: (buffer) => this.own(buffer) };
  }

  /**
   * Binds to the instance's runtime: `exports` must have
   * `buffer_release_batch`, `last_error` and the runtime `memory`. Applies
   * what was queued before (a start function's tokens). `speculative`: the
   * engine could not tell whether the module imports `multimem:gc` (JSC),
   * so a missing `buffer_release_batch` is an error only once own() is called.
   */
  bind(exports, memory, speculative = false) {
    const batch = exports.buffer_release_batch;
    if (typeof batch !== "function") {
      const err = new TypeError(
        `instance: the module imports ${GC_MODULE}, whose releases need the runtime's buffer_release_batch; ` +
          "if it was linked with --export, keep it: --export multimem.buffer_release_batch",
      );
      if (!speculative || this._made !== 0) throw err;
      this._unbound = err;
      return;
    }
    this._batch = batch;
    this._lastError = exports.last_error;
    this._memory = memory;
    // buffer_release_batch(0) releases nothing and returns the queue's address.
    this._queueAddress = batch(0) >>> 0;
    if (this._queued !== 0 && this.mode === "microtask") this._schedule();
  }

  /**
   * `multimem:gc.own(buffer)`: a token holding the caller's reference to
   * `buffer` (not validated here: the release validates it). Applies the
   * queue first when RELEASE_BATCH or more are queued; a refused slot then
   * throws (into the wasm caller), after the rest were released.
   */
  own(buffer) {
    if (this._unbound !== null) throw this._unbound;
    const token = new Token();
    this._registry.register(token, buffer >>> 0);
    this._made++;
    // The token is registered before the flush, so a flush that throws
    // leaks nothing: the token is collected and released like any other.
    if (this._queued >= RELEASE_BATCH && this._batch !== null) {
      this._ownFlushes++;
      this.flush();
    }
    return token;
  }

  /** The registry callback: queue the address (nothing calls into wasm here). */
  _collected(address) {
    this._collectedCount++;
    if (this._closed) {
      this._dropped++;
      return;
    }
    if (this._queued === this._queue.length) {
      const bigger = new Uint32Array(this._queue.length * 2);
      bigger.set(this._queue);
      this._queue = bigger;
    }
    this._queue[this._queued++] = address;
    if (this.mode === "microtask" && this._batch !== null) this._schedule();
  }

  _schedule() {
    if (this._scheduled) return;
    this._scheduled = true;
    schedule(() => {
      this._scheduled = false;
      let errors = [];
      try {
        errors = this._apply();
      } catch (e) {
        errors = [e]; // not a refused slot: a bug to surface all the same
      }
      for (const e of errors) this._onReleaseError(e);
    });
  }

  /**
   * Releases every queued address, RELEASE_BATCH per `buffer_release_batch`
   * call; returns how many were released. A refused slot is skipped (never
   * retried) and the rest of the queue still applied; then the ReleaseError
   * is thrown (an AggregateError of them if several). Before bind() or after
   * close() it releases nothing.
   */
  flush() {
    const before = this._released;
    const errors = this._apply();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} collected ${GC_MODULE} tokens held addresses the runtime refused`);
    return this._released - before;
  }

  /**
   * Lets the engine report collected tokens, then applies the queue; resolves
   * to how many were released. It forces a collection where the host offers
   * one (`globalThis.gc`: Node's --expose-gc; a browser page has none and
   * relies on the engine's own GCs), then yields `turns` macrotasks, since
   * FinalizationRegistry callbacks only run between tasks, then flushes.
   *
   * Why: a compiled program's forced GC (the compiler contract's `host.gc`)
   * runs inside a synchronous wasm call, where no finalizer can run. With
   * JS Promise Integration (Node 24+, Chromium 137+) that import can be
   * `new WebAssembly.Suspending(() => runtime.ownership.collect())` and the
   * export calling it `WebAssembly.promising(exports.main)`: the wasm stack
   * is suspended while the finalizers run and the queue is applied, so a
   * loop that allocates and drops millions of lists stays in bounded
   * runtime memory, as under wasmtime (js-glue README, "Ownership").
   */
  async collect({ turns = 2 } = {}) {
    globalThis.gc?.();
    for (let i = 0; i < turns; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    return this.flush();
  }

  /** Applies the queue; returns the ReleaseErrors of refused slots. */
  _apply() {
    if (this._batch === null || this._closed || this._queued === 0) return [];
    const pending = this._queue.slice(0, this._queued);
    this._queued = 0;
    const errors = [];
    for (let at = 0; at < pending.length;) {
      const n = Math.min(RELEASE_BATCH, pending.length - at);
      // A fresh view each time: the memory may have grown since (its old buffer detached).
      const slots = new Uint32Array(this._memory.buffer, this._queueAddress, n);
      slots.set(pending.subarray(at, at + n));
      this._batches++;
      try {
        this._batch(n);
        this._released += n;
        at += n;
      } catch (e) {
        // Released slots are 0; the first non-zero one is the refused one.
        const after = new Uint32Array(this._memory.buffer, this._queueAddress, n);
        let failed = after.findIndex((w) => w !== 0);
        if (failed < 0) failed = n - 1;
        this._released += failed;
        const code = e instanceof WebAssembly.RuntimeError && typeof this._lastError === "function" ? this._lastError() : 0;
        errors.push(new ReleaseError(pending[at + failed], code, e));
        this._refused++;
        after.fill(0, failed); // nothing stale stays in the runtime's queue
        at += failed + 1;
      }
    }
    return errors;
  }

  /**
   * Teardown: the instance is gone or no longer used. Queued addresses and
   * tokens collected from now on release nothing (counted as `dropped`).
   */
  close() {
    this._closed = true;
    this._dropped += this._queued;
    this._queued = 0;
  }

  /** Counters, for tests and monitoring. */
  stats() {
    return {
      tokensMade: this._made,
      tokensOutstanding: this._made - this._collectedCount,
      collected: this._collectedCount,
      queued: this._queued,
      released: this._released,
      batchCalls: this._batches,
      refused: this._refused,
      dropped: this._dropped,
      ownFlushes: this._ownFlushes,
    };
  }
}

/**
 * The `multimem:gc` import names `module` uses (from `described`, the
 * module's imports, or null when the engine cannot list them). Throws a
 * TypeError naming an import the ABI's ownership table does not have.
 */
export function ownershipImports(described) {
  if (described === null) return null;
  const names = [];
  for (const imp of described) {
    if (imp.module !== GC_MODULE) continue;
    if (!(imp.name in GC_IMPORTS) || imp.kind !== "function") {
      throw new TypeError(`the module imports ${GC_MODULE}.${imp.name} (${imp.kind}), which is not in the ABI's ownership table (${Object.keys(GC_IMPORTS).join(", ")})`);
    }
    names.push(imp.name);
  }
  return names;
}
