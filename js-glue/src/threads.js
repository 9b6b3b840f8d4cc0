// multimem js-glue, threads: one heap shared by several workers (docs/ABI.md,
// "Threads"). A module linked with the runtime's shared build
// (`multimem-link --runtime-variant shared --import-shared-memory`, or
// `shared-checked`) is instantiated once per thread over ONE shared
// `WebAssembly.Memory`, and buffers move between threads by address with a
// reference: no bytes are copied and none are posted.
//
// What a loader does, per thread (the ABI's loader steps, in order):
//   1. instantiateShared(): the first thread (main thread or a worker)
//      creates the shared memory from the module's `multimem.memory` import
//      (its initial and maximum pages), or takes the one it is given, and
//      instantiates the module over it with instantiate() (either build:
//      multi-memory or single-memory); the start function applies the
//      runtime's data once, whichever thread comes first;
//   2. it calls `instance_may_wait(1)` where the thread may block
//      (Atomics.wait works: workers, Node's main thread) and
//      `instance_may_wait(0)` where it may not (a browser's main thread,
//      where `memory.atomic.wait32` traps): that instance spins for the heap
//      lock instead of sleeping;
//   3. shareRuntime() gives what another thread needs: `{ module, memory }`,
//      both structured-cloneable, posted once; the worker calls
//      instantiateShared(module, itsImports, { memory }) (step 1 again);
//   4. handOff() / receive() pass a buffer by address: the sender retains a
//      reference for the receiver and posts the address (a number), the
//      receiver adopts that reference;
//   5. views: the glue's Runtime re-reads `memory.buffer` (or uses
//      `memory.toResizableBuffer()`) whenever another thread may have grown
//      the memory, so its views see buffers at any address (see "Growth" in
//      README.md and below).
// Limits: the external memory (`env.memory`) and every other import are the
// caller's, per thread; this module shares only the runtime's own memory.
// `buffer_release_batch` queues are per instance (ABI.md), and each Runtime's
// counters (stats().retains, ...) count its own thread's calls only; the
// heap counters (liveBuffers, liveBytes, heapBytes) are the whole heap's.

import { CLASSES, ByteBuffer, Runtime, TypedData, instantiate } from "./index.js";

/** The import that carries the shared own memory (`--import-shared-memory`). */
export const SHARED_MEMORY_IMPORT = Object.freeze({ module: "multimem", name: "memory" });

const LINK_HINT =
  "link it with `multimem-link --runtime-variant shared --import-shared-memory` (or shared-checked), or pass the " +
  "runtime's shared build as input `multimem`";

function describe(v) {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return String(v);
  return v.constructor?.name ?? typeof v;
}

/**
 * True if this thread may block in Atomics.wait (and so in
 * `memory.atomic.wait32`): workers and Node's main thread. False on a
 * browser's main thread, where Atomics.wait throws. Probed, not guessed: a
 * wait on a value that differs returns "not-equal" at once where waiting is
 * allowed.
 */
export function canBlock() {
  if (typeof SharedArrayBuffer === "undefined") return false;
  try {
    return Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0) === "not-equal";
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// The import's limits, read from the module's bytes (the JS API does not
// reflect an import's type). Only the import section is parsed.

function reader(bytes) {
  let pos = 0;
  const byte = () => {
    if (pos >= bytes.length) throw new TypeError("source: truncated WebAssembly module");
    return bytes[pos++];
  };
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new TypeError("source: malformed LEB128 in the import section");
    }
  };
  const s33 = () => {
    // A heap type: one LEB128 (signed); only its length matters here.
    while (byte() & 0x80);
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const valtype = () => {
    const t = byte();
    if (t === 0x63 || t === 0x64) s33(); // (ref null? ht)
  };
  const limits = () => {
    const flags = byte();
    const initial = u32();
    const maximum = flags & 1 ? u32() : null;
    return { initial, maximum, shared: (flags & 2) !== 0 };
  };
  return { byte, u32, name, valtype, limits, get pos() { return pos; }, set pos(p) { pos = p; } };
}

/**
 * The limits `{ initial, maximum, shared }` (pages) of the module's
 * `multimem.memory` import, read from its bytes; null if it has no such
 * import.
 */
export function sharedMemoryLimits(bytes) {
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) throw new TypeError("source: not a WebAssembly module");
  const r = reader(b);
  r.pos = 8;
  while (r.pos < b.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id !== 2) {
      r.pos = end;
      continue;
    }
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const module = r.name();
      const field = r.name();
      const kind = r.byte();
      if (kind === 0) r.u32(); // func: type index
      else if (kind === 1) { r.valtype(); r.limits(); } // table
      else if (kind === 2) {
        const l = r.limits();
        if (module === SHARED_MEMORY_IMPORT.module && field === SHARED_MEMORY_IMPORT.name) return l;
      } else if (kind === 3) { r.valtype(); r.byte(); } // global: type, mutability
      else if (kind === 4) { r.byte(); r.u32(); } // tag: attribute, type index
      else throw new TypeError(`source: import ${module}.${field} has an unknown kind ${kind}`);
    }
    return null;
  }
  return null;
}

/**
 * A new shared memory for the heap: `{ initial, maximum }` in pages (the
 * import's, from sharedMemoryLimits()). Create it once; every instance
 * imports this object.
 */
export function createSharedMemory({ initial, maximum }) {
  if (!Number.isInteger(initial) || initial < 0) throw new TypeError(`initial: expected a page count, got ${initial}`);
  if (!Number.isInteger(maximum) || maximum < initial) throw new TypeError(`maximum: expected a page count >= initial, got ${maximum}`);
  if (typeof SharedArrayBuffer === "undefined") {
    throw new TypeError(
      "shared memory: this context has no SharedArrayBuffer; a browser offers it only to cross-origin isolated pages " +
        "(serve them with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)",
    );
  }
  return new WebAssembly.Memory({ initial, maximum, shared: true });
}

function isBytes(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/** The bytes among `source` (one build or `{ multiMemory, singleMemory }`), or null. */
function someBytes(source) {
  if (isBytes(source)) return source;
  if (source !== null && typeof source === "object" && !(source instanceof WebAssembly.Module)) {
    for (const key of ["multiMemory", "singleMemory"]) if (isBytes(source[key])) return source[key];
  }
  return null;
}

/**
 * Instantiates a module linked with the runtime's shared build over one
 * shared heap. `source` and `imports` are as for instantiate() (one build or
 * `{ multiMemory, singleMemory }`; the caller's imports, `env.memory`
 * included; `multimem.memory` is filled in). Options:
 *   - `memory`: the shared WebAssembly.Memory of the heap, from another
 *     thread's shareRuntime(); without it a new one is created from the
 *     import's limits (then `source` must be, or contain, the bytes), so
 *     only the first thread omits it;
 *   - `mayWait`: "auto" (default: canBlock()), true or false: what
 *     `instance_may_wait` is told; never true on a browser's main thread;
 *   - the rest is passed to instantiate() (`build`, `viewPath`).
 * Resolves to instantiate()'s `{ module, instance, exports, runtime, build }`
 * plus `memory` and `mayWait`.
 */
export async function instantiateShared(source, imports = {}, options = {}) {
  const { memory: given, mayWait: wantWait = "auto", ...rest } = options ?? {};
  if (wantWait !== "auto" && wantWait !== true && wantWait !== false) {
    throw new TypeError(`options.mayWait: expected "auto", true or false, got ${describe(wantWait)}`);
  }
  const blocks = canBlock();
  const mayWait = wantWait === "auto" ? blocks : wantWait;
  if (mayWait && !blocks) {
    throw new TypeError("options.mayWait: true, but this thread cannot block (Atomics.wait throws here: a browser's main thread?)");
  }
  let memory = given;
  if (memory === undefined) {
    const bytes = someBytes(source);
    if (bytes === null) {
      throw new TypeError("options.memory: not given, and `source` has no bytes to read the shared memory's limits from; pass the bytes or another thread's memory");
    }
    const limits = sharedMemoryLimits(bytes);
    if (limits === null || !limits.shared) throw new TypeError(`source: the module does not import a shared \`multimem.memory\`; ${LINK_HINT}`);
    if (limits.maximum === null) throw new TypeError("source: the shared `multimem.memory` import declares no maximum");
    memory = createSharedMemory(limits);
  } else if (!(memory instanceof WebAssembly.Memory) || !(typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(`options.memory: expected a shared WebAssembly.Memory (shareRuntime().memory), got ${describe(memory)}`);
  }
  if (imports === null || typeof imports !== "object") throw new TypeError(`imports: expected an object, got ${describe(imports)}`);
  const wired = { ...imports, multimem: { ...(imports.multimem ?? {}), memory } };
  const result = await instantiate(source, wired, rest);
  const setWait = result.exports.instance_may_wait;
  if (typeof setWait !== "function") {
    throw new TypeError(`source: the module does not export instance_may_wait, so it is not linked with the runtime's shared build; ${LINK_HINT}`);
  }
  if (result.runtime.memory !== memory) {
    throw new TypeError(`source: the module's own memory is not the imported \`multimem.memory\`; ${LINK_HINT}`);
  }
  setWait(mayWait ? 1 : 0);
  return { ...result, memory, mayWait };
}

/**
 * What another thread needs to join the heap: `{ module, memory }` (the
 * compiled module of the build this thread runs and the shared memory),
 * both structured-cloneable: post it to a worker, which calls
 * `instantiateShared(module, itsImports, { memory })`.
 */
export function shareRuntime(result) {
  if (!(result?.module instanceof WebAssembly.Module) || !(result?.memory instanceof WebAssembly.Memory)) {
    throw new TypeError(`result: expected what instantiateShared() resolved to, got ${describe(result)}`);
  }
  return { module: result.module, memory: result.memory };
}

/**
 * Hands a buffer to another thread: retains one reference for the receiver
 * (the caller keeps its own wrapper and reference; dispose it to give the
 * buffer away) and returns what to post: the address (a number) for a
 * ByteBuffer, `{ address, kind, offsetInBytes, length }` for ByteData and
 * the lists. The receiver calls receive() exactly once with it.
 */
export function handOff(data) {
  if (data instanceof ByteBuffer) {
    const address = data._live();
    data._rt._retain(address);
    return address;
  }
  if (data instanceof TypedData) {
    const address = data._live();
    data._rt._retain(address);
    return { address, kind: data.constructor.kind, offsetInBytes: data._off, length: data._len };
  }
  throw new TypeError(`data: expected a ByteBuffer, ByteData or a typed list, got ${describe(data)}`);
}

/**
 * Takes over the reference handOff() retained, in this thread's `runtime`
 * (an instance over the same heap): a ByteBuffer for an address, the same
 * kind of list for a descriptor. TypeError (from buffer_check) if the
 * address is not a live buffer of the heap.
 */
export function receive(runtime, message) {
  if (!(runtime instanceof Runtime)) throw new TypeError(`runtime: expected a multimem Runtime, got ${describe(runtime)}`);
  if (typeof message === "number") return runtime.adopt(message);
  if (message === null || typeof message !== "object") throw new TypeError(`message: expected an address or handOff()'s descriptor, got ${describe(message)}`);
  const C = CLASSES.find((c) => c.kind === message.kind);
  if (C === undefined) throw new TypeError(`message.kind: ${message.kind} is not a typed-data kind code`);
  const buffer = runtime.adopt(message.address);
  try {
    return C.view(buffer, message.offsetInBytes, message.length);
  } finally {
    // The view holds its own reference; the adopted one goes.
    buffer.dispose();
  }
}
