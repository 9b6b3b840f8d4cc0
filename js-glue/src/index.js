// multimem js-glue: the JavaScript side of a module linked with the multimem
// runtime (docs/ABI.md is the contract; every ABI fact comes from ./abi.js,
// which is generated from it).
//
// What this module owns:
//   1. instantiate()   pick the build the engine runs (multi-memory, or the
//                      single-memory build with `multimem:memory` in JS from
//                      ./lowered.js), compile + instantiate it, wire `env.memory`,
//                      check `abi_version`;
//   2. Runtime         one per instance: the own memory, zero-copy views that
//                      survive memory.grow, the FinalizationRegistry, stats();
//   3. ByteBuffer, ByteData and the 14 typed lists, with dart:typed_data's
//      names and range rules; element access goes straight to a cached
//      TypedArray over the runtime memory, never through a wasm call;
//   4. streams (readInto) and worker helpers (copyOut / copyIn);
//   5. intrinsicImports(): JS versions of the `multimem:intrinsics`, so an
//      *unlinked* runtime.wasm can run next to a separate external memory.
//
// Ownership: every wrapper (ByteBuffer, ByteData, list) holds exactly one
// reference (refcount) on its buffer. dispose() / [Symbol.dispose] drops it and
// disarms the wrapper's finalizer entry; otherwise the FinalizationRegistry
// drops it after the wrapper is collected. Nothing else in the glue retains or
// releases.
//
// Why "disarm" rather than FinalizationRegistry#unregister: unregister needs an
// unregister token per registration, and V8 keeps tokens in a weak hash
// table; measured on Node 24/26, that makes creating a wrapper 4-5x slower
// (0.6-1.4M wrappers/s instead of 3-6M/s). Instead each wrapper gets a slot
// number, registered as its (small-integer, allocation-free) held value; the
// slot table maps it to the buffer address. dispose() zeroes the slot, so the
// finalizer callback, when it runs, releases nothing; only then is the slot
// reused (never while the wrapper can still be collected).

import {
  ABI_VERSION,
  ERRORS,
  EXPORTS,
  INTRINSICS,
  INTRINSICS_MODULE,
  KIND,
  KINDS,
  MAX_LENGTH,
  MEMORY_EXPORT,
  NATIVE_MEMORY_EXPORT,
  PAGE_SIZE,
} from "./abi.js";
import { isSingleMemoryBuild, moduleImports, prepareLowered, presentExports } from "./lowered.js";
import { GC_MODULE } from "./abi.js";
import { Ownership, ownershipImports } from "./ownership.js";

export { ABI_VERSION, ERROR, ERRORS, KIND, KINDS } from "./abi.js";
export { LoweredError, isSingleMemoryBuild, moduleImports, prepareLowered, presentExports } from "./lowered.js";
export { Ownership, ReleaseError, Token } from "./ownership.js";

const disposeSymbol = Symbol.dispose ?? Symbol.for("Symbol.dispose");
const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

// The runtime exports the glue calls. A module linked with `--export` may
// keep only some of the runtime's exports: instantiate needs the first list
// (and the memory), and each method that needs one of the second list says
// which export is missing when it is called. Names are checked against the
// ABI's export table below, so a rename in docs/ABI.md fails at load.
/** Runtime exports every Runtime needs (besides the `memory` export). */
export const REQUIRED_EXPORTS = Object.freeze([
  "abi_version", "last_error", "buffer_new", "buffer_retain", "buffer_release", "buffer_length", "buffer_check",
]);
/** Runtime exports only some methods need, and which. */
export const OPTIONAL_EXPORTS = Object.freeze({
  buffer_refcount: "ByteBuffer.refcount",
  list_set_range: "setRange from another list",
  bytes_copy: "readInto growing its target",
  stats_live_buffers: "stats()",
  stats_live_bytes: "stats()",
  stats_heap_bytes: "stats()",
  stats_pages: "stats()",
});
for (const name of [...REQUIRED_EXPORTS, ...Object.keys(OPTIONAL_EXPORTS)]) {
  if (!(name in EXPORTS)) throw new Error(`multimem: the glue uses ${name}, which the ABI's export table does not have`);
}

/** `--export` flags that would keep `names` in a linked module. */
function exportFlags(names) {
  return names.map((n) => `--export multimem.${n}`).join(" ");
}

// Wrapper constructors take over a reference; only the glue may call them.
const INTERNAL = Symbol("multimem internal");

function internalError(C) {
  const name = C.name;
  return new TypeError(`${name}: use Runtime.allocate / wrap, ${name}.create, ${name}.view or ${name}.sublistView instead of new`);
}

/** Byte order for ByteData accessors, as Dart's `Endian`. */
export const Endian = Object.freeze({ big: "big", little: "little", host: "little" });

// ---------------------------------------------------------------------------
// Argument checks. Messages start with the argument's name.

function describe(v) {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return String(v);
  return v.constructor?.name ?? typeof v;
}

/** An integer argument in [min, max]; TypeError for non-numbers, RangeError otherwise. */
function intArg(name, v, min, max) {
  if (typeof v !== "number") throw new TypeError(`${name}: expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(v)) throw new RangeError(`${name}: must be an integer, got ${v}`);
  if (v < min || v > max) throw new RangeError(`${name}: ${v} is out of range ${min}..${max}`);
  return v;
}

/** Dart's RangeError.checkValidRange(start, end, length). */
function rangeArgs(start, end, length) {
  intArg("start", start, 0, length);
  intArg("end", end, start, length);
}

function indexError(i, length) {
  if (typeof i !== "number") return new TypeError(`index: expected an integer, got ${describe(i)}`);
  if (!Number.isInteger(i)) return new RangeError(`index: must be an integer, got ${i}`);
  return new RangeError(`index: Index out of range: index should be less than ${length}: ${i}`);
}

function kindName(x) {
  return x?.constructor?.name ?? describe(x);
}

// ---------------------------------------------------------------------------
// Errors from the runtime. The glue checks arguments itself, so a trap here
// means a foreign/freed pointer slipped through or a runtime bug; decode it.

/** An error code reported by the runtime (see "Error codes" in docs/ABI.md). */
export class MultimemError extends Error {
  constructor(code, what, cause) {
    const e = ERRORS[code];
    super(`${what}: runtime error ${e ? e.name : code}${e ? ` (${e.meaning})` : ""}`, cause ? { cause } : undefined);
    this.name = "MultimemError";
    /** Numeric code from the ABI error table. */
    this.code = code;
    /** Name from the ABI error table, e.g. "RANGE". */
    this.codeName = e ? e.name : "UNKNOWN";
    /** Meaning from the ABI error table. */
    this.meaning = e ? e.meaning : "a code this glue does not know";
  }
}

// ---------------------------------------------------------------------------
// Feature detection.

// (module (memory 0) (memory 0)): validates only where multi-memory is on.
const TWO_MEMORIES = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 5, 2, 0, 0, 0, 0]);

/** True if this engine validates modules with more than one memory. */
export function supportsMultiMemory() {
  return WebAssembly.validate(TWO_MEMORIES);
}

/** The error for a multi-memory build on an engine without multi-memory; `why` says what was given. */
function noMultiMemory(why, cause) {
  const err = new Error(
    `multimem: this WebAssembly engine does not support multi-memory (a module with two memories fails to ` +
      `validate), and ${why}. Pass a single-memory build too, linked with \`multimem-link --single-memory\`: ` +
      "instantiate({ multiMemory, singleMemory }, imports) loads the one this engine runs. Engines with " +
      "multi-memory: Node >= 22, Chrome/Edge >= 120, Firefox >= 125.",
    cause ? { cause } : undefined,
  );
  err.code = "MULTIMEM_NO_MULTI_MEMORY";
  return err;
}

// ---------------------------------------------------------------------------
// instantiate

/** Compiles one source; `name` (e.g. "source.singleMemory") prefixes its errors. */
async function compileSource(source, name = "source") {
  if (source instanceof WebAssembly.Module) return source;
  if (source && typeof source.then === "function") return compileSource(await source, name);
  if (typeof URL !== "undefined" && source instanceof URL) {
    if (typeof fetch !== "function") throw new TypeError(`${name}: a URL, but this engine has no fetch(); pass the bytes`);
    return compileSource(fetch(source), name);
  }
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) throw new TypeError(`${name}: response status ${source.status} ${source.statusText}`);
    const type = source.headers.get("content-type") ?? "";
    if (typeof WebAssembly.compileStreaming === "function" && type.split(";")[0].trim() === "application/wasm") {
      return WebAssembly.compileStreaming(source);
    }
    return WebAssembly.compile(await source.arrayBuffer());
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  throw new TypeError(
    `${name}: expected bytes (ArrayBuffer or a view), a Response, a URL or a WebAssembly.Module, got ${describe(source)}`,
  );
}

/** True for `{ multiMemory, singleMemory }` (either may be missing), as opposed to one source. */
function isBuilds(source) {
  if (source === null || typeof source !== "object" || typeof source.then === "function") return false;
  if (source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return false;
  if (typeof Response !== "undefined" && source instanceof Response) return false;
  if (typeof URL !== "undefined" && source instanceof URL) return false;
  return "multiMemory" in source || "singleMemory" in source;
}

const BUILDS = ["auto", "multi-memory", "single-memory"];

/**
 * Compiles the build to run: from `{ multiMemory, singleMemory }`, the
 * multi-memory one where the engine has multi-memory (or `want` says so),
 * else the single-memory one; from one source, that source. Only the chosen
 * source is fetched or compiled. Returns `{ module, build }`.
 */
async function chooseBuild(source, want) {
  const mm = supportsMultiMemory();
  if (!isBuilds(source)) {
    let module;
    try {
      module = await compileSource(source);
    } catch (e) {
      if (!mm && e instanceof WebAssembly.CompileError) {
        throw noMultiMemory(`the module did not compile here (${e.message}), as a multi-memory build does not`, e);
      }
      throw e;
    }
    const build = isSingleMemoryBuild(module) ? "single-memory" : "multi-memory";
    if (want !== "auto" && want !== build) throw new TypeError(`options.build: "${want}", but the source is the ${build} build`);
    return { module, build };
  }
  for (const key of Object.keys(source)) {
    if (key !== "multiMemory" && key !== "singleMemory") throw new TypeError(`source.${key}: unknown build; expected multiMemory and/or singleMemory`);
  }
  const has = (k) => source[k] !== undefined && source[k] !== null;
  let build;
  if (want === "multi-memory") {
    if (!has("multiMemory")) throw new TypeError("source.multiMemory: options.build asks for the multi-memory build, which is not given");
    if (!mm) throw noMultiMemory("options.build asks for the multi-memory build");
    build = want;
  } else if (want === "single-memory") {
    if (!has("singleMemory")) throw new TypeError("source.singleMemory: options.build asks for the single-memory build, which is not given");
    build = want;
  } else if (mm && has("multiMemory")) {
    build = "multi-memory";
  } else if (has("singleMemory")) {
    build = "single-memory";
  } else if (has("multiMemory")) {
    throw noMultiMemory("only the multi-memory build was given");
  } else {
    throw new TypeError("source: neither multiMemory nor singleMemory is given");
  }
  const key = build === "multi-memory" ? "multiMemory" : "singleMemory";
  const module = await compileSource(source[key], `source.${key}`);
  if (isSingleMemoryBuild(module) !== (build === "single-memory")) {
    throw new TypeError(
      build === "single-memory"
        ? "source.singleMemory: not a single-memory build (it has no `multimem.memories` section); link it with `multimem-link --single-memory`"
        : "source.multiMemory: this is a single-memory build (it has a `multimem.memories` section); pass it as singleMemory",
    );
  }
  return { module, build };
}

function memoryFrom(name, v) {
  if (v instanceof WebAssembly.Memory) return v;
  if (v instanceof WebAssembly.Instance) {
    const m = v.exports[MEMORY_EXPORT];
    if (m instanceof WebAssembly.Memory) return m;
    throw new TypeError(`${name}: the given instance exports no memory named "${MEMORY_EXPORT}"`);
  }
  throw new TypeError(`${name}: expected a WebAssembly.Memory or an instance exporting one, got ${describe(v)}`);
}

/** Copies `imports` and replaces memory imports given as instances by their memory. */
function wireImports(module, imports) {
  if (imports === null || typeof imports !== "object") throw new TypeError(`imports: expected an object, got ${describe(imports)}`);
  const out = { ...imports };
  const described = moduleImports(module);
  if (described === null) {
    // The engine cannot list the imports (JSC, some GC types): an instance
    // can only stand for a memory, so each one given becomes its memory; a
    // missing memory is then the engine's LinkError.
    for (const [ns, fields] of Object.entries(imports)) {
      if (fields === null || typeof fields !== "object" || !Object.values(fields).some((v) => v instanceof WebAssembly.Instance)) continue;
      out[ns] = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof WebAssembly.Instance ? memoryFrom(`imports.${ns}.${k}`, v) : v]));
    }
    return out;
  }
  for (const imp of described) {
    if (imp.kind !== "memory") continue;
    const name = `imports.${imp.module}.${imp.name}`;
    const ns = out[imp.module];
    if (ns === undefined || ns[imp.name] === undefined) {
      throw new TypeError(`${name}: the module imports this memory (the external library's); pass a WebAssembly.Memory or the library's instance`);
    }
    out[imp.module] = { ...ns, [imp.name]: memoryFrom(name, ns[imp.name]) };
  }
  return out;
}

/**
 * Compiles and instantiates a module linked with the multimem runtime.
 * `source` is one build (bytes, a Response or a promise of one, a URL, or a
 * WebAssembly.Module) or both, `{ multiMemory, singleMemory }`: the
 * multi-memory build runs where the engine has multi-memory, the
 * single-memory build (`multimem-link --single-memory`) elsewhere (Safari),
 * with the `multimem:memory` imports supplied by the glue (./lowered.js).
 * `options.build` ("auto", "multi-memory", "single-memory") forces one.
 * A memory import (for example `env.memory`) may be given as a Memory or as
 * the instance that exports it. Resolves to `{ module, instance, exports,
 * runtime, build }`; `exports` are the instance's exports as the
 * multi-memory build has them (for the single-memory build: lowered memories
 * under their export names, no `multimem:native-memory`).
 */
export async function instantiate(source, imports = {}, options = {}) {
  const want = options?.build ?? "auto";
  if (!BUILDS.includes(want)) throw new TypeError(`options.build: expected ${BUILDS.map((b) => `"${b}"`).join(", ")}, got ${describe(want)}`);
  const { module, build } = await chooseBuild(source, want);
  const wired = wireImports(module, imports);
  const ownership = withOwnership(module, wired, options);
  let instance;
  let exports;
  if (build === "single-memory") {
    const lowered = prepareLowered(module, wired, memoryFrom);
    instance = await WebAssembly.instantiate(module, lowered.imports);
    lowered.bind(instance);
    exports = presentExports(instance.exports, lowered.exports);
  } else {
    instance = await WebAssembly.instantiate(module, wired);
    exports = instance.exports;
  }
  const runtime = new Runtime(exports, options);
  runtime.build = build;
  if (ownership !== null) ownership.bind(exports, runtime.memory, moduleImports(module) === null);
  runtime.ownership = ownership;
  return { module, instance, exports, runtime, build };
}

/**
 * Adds the `multimem:gc` imports (./ownership.js) to `wired` when the module
 * imports them, or when the engine cannot list its imports (JSC): an unused
 * namespace is harmless. Returns the Ownership, or null.
 */
function withOwnership(module, wired, options) {
  const names = ownershipImports(moduleImports(module));
  if (names !== null && names.length === 0) return null;
  if (wired[GC_MODULE] !== undefined) {
    throw new TypeError(`imports.${GC_MODULE}: the glue provides the ownership imports itself (runtime.ownership); do not pass them`);
  }
  const ownership = new Ownership(options?.ownership ?? {});
  wired[GC_MODULE] = ownership.imports();
  return ownership;
}

/**
 * Instantiates an *unlinked* runtime.wasm (ABI.md: "a host may implement each
 * intrinsic as a function with the same behaviour"), with the
 * `multimem:intrinsics` implemented in JS over `external` (a Memory or an
 * instance exporting one). Slower on the cross-memory path than a linked
 * module; for tools and tests.
 */
export async function instantiateUnlinked(runtimeSource, external, imports = {}, options = {}) {
  const module = await compileSource(runtimeSource);
  const ext = memoryFrom("external", external);
  let own = null;
  const intrinsics = intrinsicImports(ext, () => own);
  const instance = await WebAssembly.instantiate(module, { ...imports, [INTRINSICS_MODULE]: intrinsics });
  own = instance.exports[MEMORY_EXPORT];
  return { module, instance, runtime: new Runtime(instance, options) };
}

// What each wasm instruction an intrinsic stands for does, as a JS function
// over its memories (`mem[i]()` gives the WebAssembly.Memory of the i-th
// memory role of the intrinsic, in the instruction's immediate order). The
// intrinsic names, their instructions and memory roles come from the ABI's
// intrinsics table (INTRINSICS in ./abi.js, generated from docs/ABI.md);
// only the instructions' behaviour is written here. Addresses are unsigned,
// and out-of-bounds accesses throw a RuntimeError, as the instructions trap.
const U = (x) => x >>> 0;
const oob = () => new WebAssembly.RuntimeError("memory access out of bounds");
const span = (m, a, n) => {
  if (a + n > m.buffer.byteLength) throw oob();
};
const u8 = (m) => new Uint8Array(m.buffer);
const load = (width, get) => ([mem]) => (a) => {
  const m = mem();
  a = U(a);
  span(m, a, width);
  return get(new DataView(m.buffer), a);
};
const store = (width, set) => ([mem]) => (a, v) => {
  const m = mem();
  a = U(a);
  span(m, a, width);
  set(new DataView(m.buffer), a, v);
};
const INSTRUCTIONS = {
  "memory.copy": ([dstMem, srcMem]) => (dst, src, len) => {
    [dst, src, len] = [U(dst), U(src), U(len)];
    const d = dstMem();
    const s = srcMem();
    span(s, src, len);
    span(d, dst, len);
    u8(d).set(u8(s).subarray(src, src + len), dst);
  },
  "memory.fill": ([mem]) => (dst, value, len) => {
    const m = mem();
    [dst, len] = [U(dst), U(len)];
    span(m, dst, len);
    u8(m).fill(value & 0xff, dst, dst + len);
  },
  "memory.size": ([mem]) => () => mem().buffer.byteLength / PAGE_SIZE,
  "i32.load8_u": load(1, (d, a) => d.getUint8(a)),
  "i32.store8": store(1, (d, a, v) => d.setUint8(a, v)),
  "i32.load": load(4, (d, a) => d.getInt32(a, true)),
  "i32.store": store(4, (d, a, v) => d.setInt32(a, v, true)),
  "i64.load": load(8, (d, a) => d.getBigInt64(a, true)),
  "i64.store": store(8, (d, a, v) => d.setBigInt64(a, v, true)),
  "f32.load": load(4, (d, a) => d.getFloat32(a, true)),
  "f32.store": store(4, (d, a, v) => d.setFloat32(a, v, true)),
  "f64.load": load(8, (d, a) => d.getFloat64(a, true)),
  "f64.store": store(8, (d, a, v) => d.setFloat64(a, v, true)),
  "i32.atomic.rmw.add": ([mem]) => (a, v) => {
    const m = mem();
    a = U(a);
    if (a % 4 !== 0) throw new WebAssembly.RuntimeError("unaligned atomic");
    span(m, a, 4);
    return Atomics.add(new Int32Array(m.buffer), a / 4, v);
  },
};
for (const [name, i] of Object.entries(INTRINSICS)) {
  if (!(i.instruction in INSTRUCTIONS)) throw new Error(`multimem: the ABI's intrinsic ${name} is ${i.instruction}, which the glue cannot do`);
}

/**
 * The `multimem:intrinsics` as JS functions over `external` (a
 * WebAssembly.Memory); `own()` returns the runtime's own memory (late-bound,
 * because it exists only after instantiation). One function per row of the
 * ABI's intrinsics table, doing what its instruction does on its memories.
 */
export function intrinsicImports(external, own) {
  const byRole = { external: () => external, own };
  const out = {};
  for (const [name, i] of Object.entries(INTRINSICS)) {
    out[name] = INSTRUCTIONS[i.instruction](i.memories.map((role) => byRole[role]));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Runtime

/**
 * The glue's state for one instance: the own memory, its view path, the
 * finalizer and counters. Create it with instantiate(), or `new Runtime(instance)`
 * for an instance you instantiated yourself.
 */
export class Runtime {
  constructor(instance, options = {}) {
    const x = instance instanceof WebAssembly.Instance ? instance.exports : instance;
    if (x === null || typeof x !== "object") throw new TypeError(`instance: expected a WebAssembly.Instance, got ${describe(instance)}`);
    // The version first: another version's exports may differ.
    if (typeof x.abi_version === "function") {
      const version = x.abi_version();
      if (version !== ABI_VERSION) {
        throw new Error(`instance: multimem ABI version ${version}, but this glue implements version ${ABI_VERSION}`);
      }
    }
    const missing = REQUIRED_EXPORTS.filter((n) => typeof x[n] !== "function");
    if (!(x[MEMORY_EXPORT] instanceof WebAssembly.Memory)) missing.push(MEMORY_EXPORT);
    if (missing.length > REQUIRED_EXPORTS.length - 1 && missing.includes("abi_version")) {
      throw new TypeError(
        `instance: exports no abi_version and none of the multimem runtime's other functions; it is not linked ` +
          `with the multimem runtime (or was linked with --export without them: ${exportFlags(missing)})`,
      );
    }
    if (missing.length) {
      throw new TypeError(
        `instance: the module does not export ${missing.join(", ")}, which the glue needs. If it was linked with ` +
          `--export, keep them: ${exportFlags(missing)}`,
      );
    }
    const memory = x[MEMORY_EXPORT];
    /** The instance's exports. */
    this.exports = x;
    /**
     * "multi-memory", or "single-memory" for a single-memory build (whose
     * other memories the glue implements in JS: ./lowered.js).
     */
    this.build = NATIVE_MEMORY_EXPORT in x ? "single-memory" : "multi-memory";
    /** The runtime's own memory (all buffers live here). */
    this.memory = memory;
    const want = options.viewPath ?? "auto";
    if (want !== "auto" && want !== "resizable" && want !== "refresh") {
      throw new TypeError(`options.viewPath: expected "auto", "resizable" or "refresh", got ${describe(want)}`);
    }
    // The resizable buffer, when the engine has memory.toResizableBuffer():
    // views over it follow memory.grow in place. Otherwise null, and every
    // view is re-created when memory.buffer changes (the old one is detached).
    this._rab = null;
    /** Why the resizable path is not used, or null. */
    this.viewPathReason = null;
    if (want !== "refresh") {
      if (typeof memory.toResizableBuffer !== "function") {
        this.viewPathReason = "this engine has no WebAssembly.Memory.prototype.toResizableBuffer";
      } else {
        try {
          this._rab = memory.toResizableBuffer();
        } catch (e) {
          this.viewPathReason = `memory.toResizableBuffer() failed: ${e.message}`;
        }
      }
      if (want === "resizable" && this._rab === null) throw new TypeError(`options.viewPath: ${this.viewPathReason}`);
    } else {
      this.viewPathReason = "options.viewPath is \"refresh\"";
    }
    /** "resizable" (views follow growth) or "refresh" (views re-created after growth). */
    this.viewPath = this._rab !== null ? "resizable" : "refresh";
    this._ab = null;
    this._u8 = null;
    this._shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    this._registry = new FinalizationRegistry((slot) => this._finalize(slot));
    // Finalizer slots: _slots[slot] is the address the wrapper in that slot
    // will release (0 once disposed); _free holds slots whose wrapper was
    // collected. Slot 0 is never used.
    this._slots = new Uint32Array(1024);
    this._free = new Uint32Array(1024);
    this._freeTop = 0;
    this._nextSlot = 1;
    this._retains = 0;
    this._releases = 0;
    this._finalized = 0;
    this._finalizerErrors = 0;
    this._streamCopies = 0;
    this._streamBytes = 0;
    this._streamGrowths = 0;
    // Where the runtime traps (its innermost wasm frame), once known.
    this._site = null;
    /** The `multimem:gc` tokens' state (./ownership.js): set by instantiate() when the module imports it. */
    this.ownership = null;
  }

  /** The ArrayBuffer currently backing the own memory. */
  _buffer() {
    return this._rab ?? this.memory.buffer;
  }

  /** A Uint8Array over the whole own memory, refreshed after growth. */
  _mem8() {
    // A detached buffer (memory.grow on the refresh path) has byteLength 0;
    // checking that is much cheaper than the memory.buffer getter.
    // (A shared memory's old buffer stays attached but short: always re-read.)
    const ab = this._ab;
    if (ab !== null && ab.byteLength !== 0 && !this._shared) return this._u8;
    const b = this._buffer();
    this._ab = b;
    this._u8 = new Uint8Array(b);
    return this._u8;
  }

  /**
   * Turns a trap of a runtime export the glue called into a MultimemError.
   * A trapping export records its code just before it traps (ABI.md, "Error
   * codes"), so last_error is this call's code.
   */
  _trap(e, what) {
    if (e instanceof WebAssembly.RuntimeError) {
      this._site ??= trapSite(e);
      throw new MultimemError(this.exports.last_error(), what, e);
    }
    throw e;
  }

  /** The optional runtime export `name`, or a TypeError naming it and `what` needs it. */
  _need(name) {
    const f = this.exports[name];
    if (typeof f === "function") return f;
    throw new TypeError(
      `${OPTIONAL_EXPORTS[name]}: the module does not export the runtime's ${name}. If it was linked with --export, ` +
        `keep it: ${exportFlags([name])}`,
    );
  }

  /**
   * The error to throw for `e`, thrown by app code (`what`) that may have
   * trapped inside a runtime export. `before` is last_error() read before
   * the call. The code is reported only if the runtime recorded it during
   * this call (the same rule as the host's, host/src/trap.rs):
   *   - 0, or not a wasm trap: the app's own error, left as it is;
   *   - a code that changed: the runtime's (it records right before it traps);
   *   - the same non-zero code as before (last_error keeps the most recent
   *     code and the ABI cannot clear it): the runtime's only if the trap's
   *     innermost wasm frame is the runtime's trap site, learned from a trap
   *     the glue knows is the runtime's (provoked once if needed). Without a
   *     stack trace that cannot be told and `e` is left as it is: a stale
   *     code is never reported.
   */
  _appError(e, what, before) {
    if (!(e instanceof WebAssembly.RuntimeError)) return e;
    const code = this.exports.last_error();
    if (code === 0) return e;
    if (code !== before) {
      this._site ??= trapSite(e);
      return new MultimemError(code, what, e);
    }
    const site = trapSite(e);
    if (site !== null && site === this._runtimeSite()) return new MultimemError(code, what, e);
    return e;
  }

  /** The runtime's trap site (see _appError), provoking one trap to learn it if not known yet. */
  _runtimeSite() {
    if (this._site === null) {
      try {
        this.exports.buffer_new(-0x80000000); // negative as i32: BAD_LENGTH, recorded then trapped
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) this._site = trapSite(e);
      }
    }
    return this._site;
  }

  /** The export name of `fn` in this instance (for messages), else its own name. */
  _exportName(fn) {
    for (const [name, v] of Object.entries(this.exports)) if (v === fn) return name;
    return fn.name || "fn";
  }

  _new(lengthInBytes, what) {
    try {
      return this.exports.buffer_new(lengthInBytes);
    } catch (e) {
      this._trap(e, what);
    }
  }

  _retain(address) {
    try {
      this.exports.buffer_retain(address);
    } catch (e) {
      this._trap(e, "retain"); // REFCOUNT_OVERFLOW, or a buffer freed behind the glue's back
    }
    this._retains++;
  }

  _release(address, what = "release") {
    this._releases++;
    try {
      this.exports.buffer_release(address);
    } catch (e) {
      this._trap(e, what); // FREED / NOT_A_BUFFER: wasm code released the glue's reference
    }
  }

  /** Registers `wrapper` (holding a reference on `address`); returns its slot. */
  _register(wrapper, address) {
    let slot;
    if (this._freeTop !== 0) {
      slot = this._free[--this._freeTop];
    } else {
      slot = this._nextSlot++;
      if (slot === this._slots.length) {
        const bigger = new Uint32Array(slot * 2);
        bigger.set(this._slots);
        this._slots = bigger;
      }
    }
    this._slots[slot] = address;
    this._registry.register(wrapper, slot);
    return slot;
  }

  _finalize(slot) {
    const address = this._slots[slot];
    this._slots[slot] = 0;
    if (this._freeTop === this._free.length) {
      const bigger = new Uint32Array(this._free.length * 2);
      bigger.set(this._free);
      this._free = bigger;
    }
    this._free[this._freeTop++] = slot;
    if (address === 0) return; // disposed explicitly: already released
    this._finalized++;
    try {
      this._release(address);
    } catch {
      // Cannot happen unless wasm code released the glue's reference; count
      // it (stats().finalizerErrors) rather than throw from a GC callback.
      this._finalizerErrors++;
    }
  }

  /** Throws a TypeError naming `name` unless `address` is a live buffer of this runtime. */
  _checkAddress(name, address) {
    intArg(name, address, 0, 0xffffffff);
    const code = this.exports.buffer_check(address);
    if (code !== 0) {
      const e = ERRORS[code];
      throw new TypeError(`${name}: 0x${address.toString(16)} is not a live buffer of this runtime (${e ? `${e.name}: ${e.meaning}` : code})`);
    }
  }

  /** A new zero-filled ByteBuffer of `lengthInBytes` bytes. */
  allocate(lengthInBytes) {
    intArg("lengthInBytes", lengthInBytes, 0, MAX_LENGTH);
    return new ByteBuffer(INTERNAL, this, this._new(lengthInBytes, "allocate"), lengthInBytes);
  }

  /**
   * A ByteBuffer for a buffer address that wasm handed out. Retains it (the
   * wasm side keeps its own reference). TypeError for addresses that are not
   * live buffers of this runtime (checked with `buffer_check`).
   */
  wrap(address) {
    this._checkAddress("address", address);
    this._retain(address);
    return new ByteBuffer(INTERNAL, this, address, this.exports.buffer_length(address));
  }

  /**
   * A ByteBuffer that takes over one reference the caller already owns (for
   * example the result of a wasm function that returns a new buffer). Does not
   * retain.
   */
  adopt(address) {
    this._checkAddress("address", address);
    return new ByteBuffer(INTERNAL, this, address, this.exports.buffer_length(address));
  }

  /** A new ByteBuffer holding a copy of `source` (ArrayBuffer or a view), e.g. one received from a worker. */
  copyIn(source) {
    const bytes = bytesOf("source", source);
    // A view of this runtime's memory (list.view()) is detached on the
    // refresh path when the allocation below grows the memory: copy by
    // address within the memory instead of through the old view.
    const own = bytes.buffer === this._buffer() ? bytes.byteOffset : -1;
    const n = bytes.length;
    const b = this.allocate(n);
    const mem = this._mem8();
    if (own >= 0) mem.copyWithin(b._addr, own, own + n);
    else mem.set(bytes, b._addr);
    return b;
  }

  /**
   * Calls `fn` (a wasm export) with `args`, replacing ByteBuffer and typed-data
   * wrappers by their buffer address. Each such buffer is retained for the
   * duration of the call, so it stays alive even if JS code called back from
   * wasm disposes the wrapper or lets it be collected.
   */
  call(fn, ...args) {
    if (typeof fn !== "function") throw new TypeError(`fn: expected a function, got ${describe(fn)}`);
    return this._call(fn, null, args);
  }

  /** call() with `name` for messages (null: looked up when needed). */
  _call(fn, name, args) {
    const held = [];
    try {
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a instanceof ByteBuffer || a instanceof TypedData) {
          if (a._rt !== this) throw new TypeError(`args[${i}]: ${kindName(a)} belongs to a different runtime`);
          const address = a._live();
          this._retain(address);
          held.push(address);
          args[i] = address;
        }
      }
      // Read twice when non-zero: should last_error ever clear on read,
      // the second read is the true baseline.
      let before = this.exports.last_error();
      if (before !== 0) before = this.exports.last_error();
      try {
        return fn(...args);
      } catch (e) {
        throw this._appError(e, name ?? this._exportName(fn), before);
      }
    } finally {
      for (const address of held) this._release(address, "call: releasing an argument");
    }
  }

  /**
   * The instance's exports with every function wrapped as by call():
   * wrappers become buffer addresses (retained for the call), and a trap
   * inside a runtime export during the call becomes a MultimemError naming
   * the export and the runtime's code. Other exports are copied as they are.
   * Opt-in: the raw exports stay in `runtime.exports`.
   */
  wrapExports(exports = this.exports) {
    if (exports === null || typeof exports !== "object") throw new TypeError(`exports: expected an object, got ${describe(exports)}`);
    const out = {};
    for (const [name, v] of Object.entries(exports)) {
      out[name] = typeof v === "function" ? (...args) => this._call(v, name, args) : v;
    }
    return Object.freeze(out);
  }

  /**
   * Reads a ReadableStream (or a Response's body) into runtime memory. Uses a
   * BYOB reader into one reused scratch ArrayBuffer and copies each chunk
   * straight to its place in the target: one copy per byte, no allocation
   * per chunk. Without a Content-Length (or `options.length`) the target
   * starts at `options.initialBytes` and doubles when full. Resolves to a
   * Uint8List over exactly the bytes read; its `buffer` is the filled buffer.
   * With `options.buffer`, writes into that ByteBuffer at `options.offset`
   * and never grows it (RangeError when the stream is longer).
   */
  async readInto(source, options = {}) {
    let stream;
    let expected = options.length ?? null;
    if (typeof Response !== "undefined" && source instanceof Response) {
      if (source.bodyUsed) throw new TypeError("source: the Response body was already used");
      stream = source.body;
      const header = source.headers.get("content-length");
      if (expected === null && header !== null && /^\d+$/.test(header.trim())) expected = Number(header);
    } else if (typeof ReadableStream !== "undefined" && source instanceof ReadableStream) {
      stream = source;
    } else {
      throw new TypeError(`source: expected a ReadableStream or a Response, got ${describe(source)}`);
    }
    if (expected !== null) intArg("options.length", expected, 0, MAX_LENGTH);
    const scratchBytes = intArg("options.scratchBytes", options.scratchBytes ?? 65536, 1, MAX_LENGTH);
    // Check every option before any side effect.
    const given = options.buffer;
    let pos = 0;
    let capacity;
    if (given !== undefined) {
      if (!(given instanceof ByteBuffer)) throw new TypeError(`options.buffer: expected a ByteBuffer, got ${describe(given)}`);
      if (given._rt !== this) throw new TypeError("options.buffer: belongs to a different runtime");
      given._live();
      pos = intArg("options.offset", options.offset ?? 0, 0, given._len);
      capacity = given._len;
      if (expected !== null && pos + expected > capacity) {
        throw new RangeError(`options.buffer: ${expected} bytes from offset ${pos} do not fit in ${capacity} bytes`);
      }
    } else {
      if (options.offset !== undefined) throw new TypeError("options.offset: only valid with options.buffer");
      capacity = expected ?? intArg("options.initialBytes", options.initialBytes ?? 65536, 0, MAX_LENGTH);
    }
    // Then the reader: a locked stream fails here, before anything is allocated.
    let reader = null;
    let byob = true;
    if (stream !== null) {
      try {
        reader = stream.getReader({ mode: "byob" });
      } catch (e) {
        if (stream.locked) throw new TypeError(`source: the stream is locked (${e.message})`);
        byob = false; // not a byte stream: a default reader, still one copy per byte
        reader = stream.getReader();
      }
    }
    // The target: the given buffer, retained while reading (the result
    // takes that reference over), or a new one that readInto owns.
    let address;
    const owned = given === undefined;
    try {
      if (owned) {
        address = this._new(capacity, "readInto");
      } else {
        address = given._addr;
        this._retain(address);
      }
    } catch (e) {
      reader?.releaseLock();
      throw e;
    }
    const start = pos;
    try {
      let scratch = byob ? new ArrayBuffer(scratchBytes) : null;
      while (reader !== null) {
        const { value, done } = byob ? await reader.read(new Uint8Array(scratch, 0, scratchBytes)) : await reader.read();
        if (done) break;
        if (byob) scratch = value.buffer;
        const chunk = value instanceof Uint8Array ? value : bytesOf("chunk", value);
        const n = chunk.length;
        if (pos + n > capacity) {
          if (!owned) throw new RangeError(`options.buffer: the stream is longer than the ${capacity - start} bytes left in it`);
          const grown = Math.min(MAX_LENGTH, Math.max(capacity * 2, pos + n, 64));
          if (pos + n > grown) throw new RangeError(`source: the stream is longer than MAX_LENGTH (${MAX_LENGTH}) bytes`);
          const copy = this._need("bytes_copy");
          const next = this._new(grown, "readInto");
          copy(next, 0, address, 0, pos);
          this.exports.buffer_release(address);
          address = next;
          capacity = grown;
          this._streamGrowths++;
        }
        this._mem8().set(chunk, address + pos);
        this._streamCopies++;
        this._streamBytes += n;
        pos += n;
      }
    } catch (e) {
      if (reader !== null) reader.cancel(e).catch(() => {});
      if (owned) this.exports.buffer_release(address);
      else this._release(address);
      throw e;
    } finally {
      reader?.releaseLock();
    }
    // The result takes over the reference held while reading.
    return new Uint8List(INTERNAL, this, address, start, pos - start);
  }

  /**
   * Heap figures read from the runtime (liveBuffers, liveBytes, heapBytes,
   * pages) and the glue's own counters (retains, releases, finalized:
   * releases done by the finalizer, registered: wrappers whose finalizer
   * entry has not run yet, live or disposed; stream copies).
   */
  stats() {
    return {
      liveBuffers: this._need("stats_live_buffers")() >>> 0,
      liveBytes: this._need("stats_live_bytes")() >>> 0,
      heapBytes: this._need("stats_heap_bytes")() >>> 0,
      pages: this._need("stats_pages")() >>> 0,
      viewPath: this.viewPath,
      retains: this._retains,
      releases: this._releases,
      finalized: this._finalized,
      finalizerErrors: this._finalizerErrors,
      registered: this._nextSlot - 1 - this._freeTop,
      streamCopies: this._streamCopies,
      streamBytes: this._streamBytes,
      streamGrowths: this._streamGrowths,
    };
  }
}

/**
 * Where a wasm trap happened: its innermost wasm frame (module, function
 * index and byte offset) as the error's stack prints it. V8, SpiderMonkey
 * and JavaScriptCore all print `wasm-function[i]` for wasm frames, innermost
 * first. null without a stack.
 */
function trapSite(e) {
  const m = /([^\s(@]*wasm-function\[\d+\](?::0x[0-9a-f]+)?)/i.exec(String(e?.stack ?? ""));
  return m ? m[1] : null;
}

function bytesOf(name, v) {
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer)) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) {
    // A detached buffer reads as 0 bytes: say so rather than copy nothing.
    if (v.buffer.detached === true) {
      throw new TypeError(`${name}: its ArrayBuffer is detached (a view of runtime memory taken before the memory grew? take view() again)`);
    }
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  throw new TypeError(`${name}: expected an ArrayBuffer or an ArrayBuffer view, got ${describe(v)}`);
}

function runtimeArg(runtime) {
  if (!(runtime instanceof Runtime)) throw new TypeError(`runtime: expected a multimem Runtime, got ${describe(runtime)}`);
  return runtime;
}

function disposedError(w) {
  return new TypeError(`${kindName(w)}: used after dispose(); its reference was already released`);
}

// ---------------------------------------------------------------------------
// Ownership: the one reference every wrapper holds

/**
 * What ByteBuffer and TypedData share: one reference on a buffer, released by
 * dispose() or, if the wrapper is collected first, by the runtime's
 * FinalizationRegistry (see "Ownership" at the top of this file). Internal.
 */
class Reference {
  constructor(runtime, address) {
    this._rt = runtime;
    this._addr = address;
    this._ab = null;
    this._arr = null;
    this._slot = runtime._register(this, address);
  }

  _live() {
    if (this._addr === 0) throw disposedError(this);
    return this._addr;
  }

  /** Address of the (first data byte of the) buffer in the runtime memory. */
  get address() {
    return this._live();
  }

  /** The Runtime this wrapper belongs to. */
  get runtime() {
    return this._rt;
  }

  /** True once dispose() ran. */
  get disposed() {
    return this._addr === 0;
  }

  /**
   * The zero-copy view (ByteBuffer: a Uint8Array over its bytes; ByteData and
   * the lists: the kind's `js_array`, lanes for the SIMD kinds). On the
   * "resizable" view path it stays valid after memory.grow; on the "refresh"
   * path call view() again after anything that may grow the memory (the
   * glue's own methods always do).
   */
  view() {
    // The cached view is valid while it is attached (always, on the
    // resizable path). After memory.grow on the refresh path its buffer is
    // detached, so its length reads 0 (a cheap check, unlike the
    // memory.buffer getter) and _refresh() re-creates it on the current
    // buffer with the class's _newView(). dispose() clears both fields, so
    // a disposed wrapper reaches _live() and throws.
    const v = this._arr;
    if (v !== null && v.length !== 0) return v;
    return this._refresh();
  }

  // The view on the current buffer: the cached one while its buffer is
  // attached (an empty view's length is 0 even then, hence the buffer
  // check), else a new one from the class's _newView().
  _refresh() {
    const ab = this._ab;
    if (ab !== null && ab.byteLength !== 0) return this._arr;
    const b = this._rt._buffer();
    this._arr = this._newView(b);
    this._ab = b;
    return this._arr;
  }

  /** Releases this wrapper's reference. A second call does nothing. */
  dispose() {
    const a = this._addr;
    if (a === 0) return;
    this._addr = 0;
    this._ab = null;
    this._arr = null;
    this._rt._slots[this._slot] = 0; // disarm the finalizer entry
    this._rt._release(a, `${kindName(this)}.dispose`);
  }

  [disposeSymbol]() {
    this.dispose();
  }

  /**
   * A view of the bytes that Web APIs taking a BufferSource accept (they
   * reject views of resizable and of shared buffers): on the refresh path
   * the zero-copy view() itself, whose buffer is the memory's fixed-length
   * ArrayBuffer (valid until the memory grows, like view()); on the
   * resizable path, and for a shared memory, where no fixed-length buffer
   * of the same bytes exists, a copy (copyTo()).
   */
  fixedView() {
    const v = this.view();
    return this._rt._rab === null && !this._rt._shared ? v : this.copyTo();
  }

  /**
   * Calls `fn` with fixedView() and returns its result: for APIs that
   * write into the view they are given (TextEncoder.encodeInto,
   * crypto.getRandomValues). When fixedView() had to be a copy, the copy is
   * written back into this buffer after `fn` returns (`fn` must be
   * synchronous). Zero-copy on the refresh path.
   */
  withFixedView(fn) {
    if (typeof fn !== "function") throw new TypeError(`fn: expected a function, got ${describe(fn)}`);
    const v = this.fixedView();
    const result = fn(v);
    if (result !== null && typeof result === "object" && typeof result.then === "function") {
      throw new TypeError("fn: must be synchronous (the copy is written back when it returns)");
    }
    if (v !== this._arr) {
      this._rt._mem8().set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), this._live() + (this._off ?? 0));
    }
    return result;
  }

  get [Symbol.toStringTag]() {
    return kindName(this);
  }

  /** console.log / util.inspect in Node: kind, length and the first elements. */
  [inspectSymbol](depth, options, inspect) {
    const name = kindName(this);
    if (this._addr === 0) return `${name} (disposed)`;
    const n = this._len;
    const max = Math.min(n, Math.max(0, options?.maxArrayLength ?? 100));
    const items = [];
    for (let i = 0; i < max; i++) {
      const v = this._item(i);
      items.push(typeof inspect === "function" ? inspect(v, options) : String(v));
    }
    if (n > max) items.push(`... ${n - max} more ${this._unit()}${n - max === 1 ? "" : "s"}`);
    return `${name}(${n}) [${items.length ? ` ${items.join(", ")} ` : ""}]`;
  }

  _unit() {
    return "item";
  }
}

// ---------------------------------------------------------------------------
// ByteBuffer

/** A refcounted buffer in the runtime memory, as Dart's ByteBuffer. */
export class ByteBuffer extends Reference {
  /** @internal Takes over one reference on `address`. */
  constructor(token, runtime, address, lengthInBytes) {
    if (token !== INTERNAL) throw internalError(ByteBuffer);
    super(runtime, address);
    this._len = lengthInBytes;
  }

  /** A new zero-filled buffer (Dart: `Uint8List(n).buffer`). */
  static create(runtime, lengthInBytes) {
    return runtimeArg(runtime).allocate(lengthInBytes);
  }

  get lengthInBytes() {
    this._live();
    return this._len;
  }

  /** Current refcount, read from the runtime. */
  get refcount() {
    const a = this._live();
    try {
      return this._rt._need("buffer_refcount")(a);
    } catch (e) {
      this._rt._trap(e, "ByteBuffer.refcount");
    }
  }

  /** A fresh Uint8Array (ordinary ArrayBuffer) holding a copy of the bytes. */
  copyTo() {
    return new Uint8Array(this.copyOut());
  }

  _item(i) {
    return this.view()[i];
  }

  _unit() {
    return "byte";
  }

  _newView(b) {
    return new Uint8Array(b, this._live(), this._len);
  }

  /** A fresh, transferable ArrayBuffer holding a copy of the bytes. */
  copyOut() {
    const a = this._live();
    return this._rt._buffer().slice(a, a + this._len);
  }

  /** Copies `source` (ArrayBuffer or a view) into this buffer at `offset`. */
  copyIn(source, offset = 0) {
    const bytes = bytesOf("source", source);
    const a = this._live();
    intArg("offset", offset, 0, this._len);
    if (bytes.length > this._len - offset) {
      throw new RangeError(`source: ${bytes.length} bytes do not fit at offset ${offset} of a ${this._len}-byte buffer`);
    }
    this._rt._mem8().set(bytes, a + offset);
    return this;
  }

}

// ---------------------------------------------------------------------------
// TypedData: ByteData and the lists

/** Base of ByteData and the typed lists: a view (buffer, offsetInBytes, length, kind). */
export class TypedData extends Reference {
  /** @internal Takes over one reference on `address`. */
  constructor(token, runtime, address, offsetInBytes, length) {
    if (token !== INTERNAL) throw internalError(new.target);
    super(runtime, address);
    this._off = offsetInBytes;
    this._len = length;
    // The ByteBuffer wrapper `buffer` returns (one per view while it lives).
    this._bufw = null;
  }

  /** Number of elements (ByteData: bytes). */
  get length() {
    this._live();
    return this._len;
  }

  get lengthInBytes() {
    this._live();
    return this._len * this._kind.elementSizeInBytes;
  }

  get offsetInBytes() {
    this._live();
    return this._off;
  }

  get elementSizeInBytes() {
    return this._kind.elementSizeInBytes;
  }

  /**
   * The ByteBuffer of this view, as Dart's `list.buffer`: the same wrapper
   * each time while it is not disposed (the one given to `X.view(buffer)`,
   * or made on first use, with its own reference); after it was disposed, a
   * new one.
   */
  get buffer() {
    const w = this._bufw;
    if (w !== null && w._addr !== 0) return w;
    const a = this._live();
    let length;
    try {
      length = this._rt.exports.buffer_length(a);
    } catch (e) {
      this._rt._trap(e, `${kindName(this)}.buffer`);
    }
    this._rt._retain(a);
    return (this._bufw = new ByteBuffer(INTERNAL, this._rt, a, length));
  }

  dispose() {
    super.dispose();
    this._bufw = null;
  }


  /** A fresh, transferable ArrayBuffer holding a copy of this view's bytes. */
  copyOut() {
    const a = this._live() + this._off;
    return this._rt._buffer().slice(a, a + this.lengthInBytes);
  }


  /** Dart's `X.view(buffer, [offsetInBytes = 0, length])`; retains the buffer. */
  static view(buffer, offsetInBytes = 0, length = undefined) {
    if (!(buffer instanceof ByteBuffer)) throw new TypeError(`buffer: expected a ByteBuffer, got ${describe(buffer)}`);
    const kind = this.prototype._kind;
    if (kind === undefined) throw new TypeError("view: call it on ByteData or a list class, not on TypedData");
    const address = buffer._live();
    const size = kind.elementSizeInBytes;
    const total = buffer._len;
    intArg("offsetInBytes", offsetInBytes, 0, total);
    if (offsetInBytes % size !== 0) {
      throw new RangeError(`offsetInBytes: ${offsetInBytes} is not a multiple of elementSizeInBytes ${size} (${kind.name})`);
    }
    if (length === undefined || length === null) {
      if ((total - offsetInBytes) % size !== 0) {
        throw new RangeError(`length: the ${total - offsetInBytes} bytes after offsetInBytes are not a multiple of elementSizeInBytes ${size}`);
      }
      length = (total - offsetInBytes) / size;
    } else {
      intArg("length", length, 0, Math.floor((total - offsetInBytes) / size));
    }
    buffer._rt._retain(address);
    const view = new this(INTERNAL, buffer._rt, address, offsetInBytes, length);
    view._bufw = buffer;
    return view;
  }

  /**
   * Dart's `X.sublistView(data, [start = 0, end])`: a view of kind X on the
   * bytes of elements start..end of `data` (any typed data of the runtime).
   */
  static sublistView(data, start = 0, end = undefined) {
    if (!(data instanceof TypedData)) throw new TypeError(`data: expected ByteData or a typed list, got ${describe(data)}`);
    const kind = this.prototype._kind;
    if (kind === undefined) throw new TypeError("sublistView: call it on ByteData or a list class, not on TypedData");
    const address = data._live();
    const n = data._len;
    if (end === undefined || end === null) end = n;
    rangeArgs(start, end, n);
    const dsize = data._kind.elementSizeInBytes;
    const size = kind.elementSizeInBytes;
    const byteStart = data._off + start * dsize;
    const byteLength = (end - start) * dsize;
    if (byteStart % size !== 0) {
      throw new RangeError(`start: the view would start at byte ${byteStart}, not a multiple of elementSizeInBytes ${size} (${kind.name})`);
    }
    if (byteLength % size !== 0) {
      throw new RangeError(`end: the range is ${byteLength} bytes, not a multiple of elementSizeInBytes ${size} (${kind.name})`);
    }
    data._rt._retain(address);
    const view = new this(INTERNAL, data._rt, address, byteStart, byteLength / size);
    view._bufw = data._bufw;
    return view;
  }
}

/** Dart's ByteData: any width at any byte offset, big-endian unless told otherwise. */
export class ByteData extends TypedData {
  /** A new zero-filled ByteData of `length` bytes. */
  static create(runtime, length) {
    runtimeArg(runtime);
    intArg("length", length, 0, MAX_LENGTH);
    return new ByteData(INTERNAL, runtime, runtime._new(length, "ByteData.create"), 0, length);
  }

  /** A zero-copy DataView over this ByteData's bytes. */
  view() {
    // A DataView has no length to test, so always check its buffer.
    return this._refresh();
  }

  _newView(b) {
    return new DataView(b, this._live() + this._off, this._len);
  }

  /** A fresh DataView over a copy of the bytes (for APIs that reject resizable buffers). */
  copyTo() {
    return new DataView(this.copyOut());
  }

  _item(i) {
    return this.view().getUint8(i);
  }

  _unit() {
    return "byte";
  }
}

/** `endian` argument: true for little-endian. */
function littleEndian(endian) {
  if (endian === Endian.big) return false;
  if (endian === Endian.little) return true;
  throw new TypeError(`endian: expected Endian.big or Endian.little, got ${describe(endian)}`);
}

function byteOffsetArg(d, byteOffset, width) {
  if ((byteOffset >>> 0) === byteOffset && byteOffset + width <= d._len) return;
  if (typeof byteOffset !== "number") throw new TypeError(`byteOffset: expected an integer, got ${describe(byteOffset)}`);
  if (!Number.isInteger(byteOffset)) throw new RangeError(`byteOffset: must be an integer, got ${byteOffset}`);
  throw new RangeError(`byteOffset: ${byteOffset} + ${width} bytes is outside 0..${d._len}`);
}

function numberArg(name, v) {
  if (typeof v !== "number") throw new TypeError(`${name}: expected a number, got ${describe(v)}`);
  return v;
}

function bigintArg(name, v) {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "number") throw new RangeError(`${name}: ${v} is not a safe integer; pass a bigint`);
  throw new TypeError(`${name}: expected a bigint or an integer, got ${describe(v)}`);
}

// getInt8 .. getFloat64 / setInt8 .. setFloat64, on DataView's methods.
for (const [dart, dv, width, wide] of [
  ["Int8", "Int8", 1, false],
  ["Uint8", "Uint8", 1, false],
  ["Int16", "Int16", 2, false],
  ["Uint16", "Uint16", 2, false],
  ["Int32", "Int32", 4, false],
  ["Uint32", "Uint32", 4, false],
  ["Int64", "BigInt64", 8, true],
  ["Uint64", "BigUint64", 8, true],
  ["Float32", "Float32", 4, false],
  ["Float64", "Float64", 8, false],
]) {
  const get = DataView.prototype[`get${dv}`];
  const set = DataView.prototype[`set${dv}`];
  const conv = wide ? bigintArg : numberArg;
  const one = width === 1;
  Object.defineProperty(ByteData.prototype, `get${dart}`, {
    value: function (byteOffset, endian = Endian.big) {
      const v = this.view();
      byteOffsetArg(this, byteOffset, width);
      return one ? get.call(v, byteOffset) : get.call(v, byteOffset, littleEndian(endian));
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(ByteData.prototype, `set${dart}`, {
    value: function (byteOffset, value, endian = Endian.big) {
      const v = this.view();
      byteOffsetArg(this, byteOffset, width);
      const x = conv("value", value);
      if (one) set.call(v, byteOffset, x);
      else set.call(v, byteOffset, x, littleEndian(endian));
    },
    writable: true,
    configurable: true,
  });
}

/** Base of the 14 typed lists. */
export class TypedList extends TypedData {
  /** A new zero-filled list of `length` elements. */
  static create(runtime, length) {
    runtimeArg(runtime);
    const kind = this.prototype._kind;
    if (kind === undefined) throw new TypeError("create: call it on a list class, not on TypedList");
    intArg("length", length, 0, Math.floor(MAX_LENGTH / kind.elementSizeInBytes));
    return new this(INTERNAL, runtime, runtime._new(length * kind.elementSizeInBytes, `${kind.name}.create`), 0, length);
  }

  _newView(b) {
    return new this._Array(b, this._live() + this._off, this._len * this._kind.lanes);
  }

  /** Element `index` (SIMD kinds: a fresh lane array). */
  get(index) {
    let v = this._arr;
    if (v === null || v.length === 0) v = this._refresh();
    if ((index >>> 0) !== index || index >= this._len) throw indexError(index, this._len);
    if (!this._simd) return v[index];
    const lanes = this._kind.lanes;
    return v.slice(index * lanes, index * lanes + lanes);
  }

  /** Stores `value` at `index` (SIMD kinds: an array-like of lanes). */
  set(index, value) {
    let v = this._arr;
    if (v === null || v.length === 0) v = this._refresh();
    if ((index >>> 0) !== index || index >= this._len) throw indexError(index, this._len);
    if (!this._simd) {
      v[index] = this._wide ? bigintArg("value", value) : typeof value === "number" ? value : numberArg("value", value);
      return;
    }
    const lanes = this._kind.lanes;
    const l = this._lanes(value);
    for (let i = 0; i < lanes; i++) v[index * lanes + i] = l[i];
  }

  _value(value) {
    return this._wide ? bigintArg("value", value) : numberArg("value", value);
  }

  _lanes(value) {
    const lanes = this._kind.lanes;
    if (value === null || typeof value !== "object" || value.length !== lanes) {
      throw new TypeError(`value: expected an array-like of ${lanes} lanes for ${this._kind.name}, got ${describe(value)}`);
    }
    const out = new Array(lanes);
    for (let i = 0; i < lanes; i++) out[i] = numberArg(`value[${i}]`, value[i]);
    return out;
  }

  /** Dart's `fillRange(start, end, value)`. */
  fillRange(start, end, value) {
    const v = this.view();
    rangeArgs(start, end, this._len);
    const lanes = this._kind.lanes;
    if (lanes === 1) {
      v.fill(this._value(value), start, end);
      return;
    }
    const l = this._lanes(value);
    for (let e = start; e < end; e++) for (let i = 0; i < lanes; i++) v[e * lanes + i] = l[i];
  }

  /** JS-style `fill(value, start = 0, end = length)`; returns this. */
  fill(value, start = 0, end = this.length) {
    this.fillRange(start, end, value);
    return this;
  }

  /**
   * Dart's `setRange(start, end, source, [skipCount = 0])`. `source` is a
   * list of the same runtime (copied by the runtime's `list_set_range`:
   * overlap-safe, converting between kinds of the same number type) or an
   * array-like / TypedArray (SIMD kinds: of lanes; skipCount in elements).
   */
  setRange(start, end, source, skipCount = 0) {
    const v = this.view();
    rangeArgs(start, end, this._len);
    intArg("skipCount", skipCount, 0, MAX_LENGTH);
    const n = end - start;
    const kind = this._kind;
    if (source instanceof TypedData) {
      if (source._rt !== this._rt) throw new TypeError(`source: ${kindName(source)} belongs to a different runtime`);
      const sk = source._kind;
      if (!(source instanceof TypedList)) throw new TypeError(`source: ByteData is not a list; use a list view of it`);
      const simd = kind.lanes > 1 || sk.lanes > 1;
      if (sk.number !== kind.number || (simd && sk.code !== kind.code)) {
        throw new TypeError(`source: cannot setRange a ${kind.name} from a ${sk.name}`);
      }
      const srcAddr = source._live();
      if (skipCount + n > source._len) {
        throw new RangeError(`skipCount: ${skipCount} + ${n} elements exceed the source's length ${source._len}`);
      }
      if (n === 0) return;
      try {
        this._rt._need("list_set_range")(
          kind.code, this._addr, this._off, this._len, start, end,
          sk.code, srcAddr, source._off, source._len, skipCount,
        );
      } catch (e) {
        this._rt._trap(e, "setRange");
      }
      return;
    }
    if (source === null || typeof source !== "object" || typeof source.length !== "number") {
      throw new TypeError(`source: expected a typed list, a TypedArray or an array, got ${describe(source)}`);
    }
    const lanes = kind.lanes;
    if ((skipCount + n) * lanes > source.length) {
      throw new RangeError(`skipCount: ${skipCount} + ${n} elements exceed the source's length ${Math.floor(source.length / lanes)}`);
    }
    const from = skipCount * lanes;
    const to = from + n * lanes;
    if (ArrayBuffer.isView(source)) {
      const srcWide = source instanceof BigInt64Array || source instanceof BigUint64Array;
      if (srcWide !== this._wide) {
        throw new TypeError(`source: cannot setRange a ${kind.name} from a ${kindName(source)}`);
      }
      v.set(source.subarray(from, to), start * lanes);
      return;
    }
    // Plain array: check every element first so a bad one writes nothing.
    const conv = this._wide ? bigintArg : numberArg;
    const vals = new Array(to - from);
    for (let i = from; i < to; i++) vals[i - from] = conv(`source[${i}]`, source[i]);
    v.set(vals, start * lanes);
  }

  /** Copies all of `source` (TypedArray or array) into this list at element `start`. */
  copyFrom(source, start = 0) {
    if (source === null || typeof source !== "object" || typeof source.length !== "number") {
      throw new TypeError(`source: expected a TypedArray or an array, got ${describe(source)}`);
    }
    const lanes = this._kind.lanes;
    if (source.length % lanes !== 0) throw new RangeError(`source: length ${source.length} is not a multiple of ${lanes} lanes`);
    intArg("start", start, 0, this.length);
    const n = source.length / lanes;
    if (n > this._len - start) throw new RangeError(`source: ${n} elements do not fit at start ${start} of a list of length ${this._len}`);
    this.setRange(start, start + n, source);
    return this;
  }

  /**
   * Copies the elements into `target` (a TypedArray) at `targetOffset`, or,
   * without a target, returns a fresh TypedArray of the view's type on an
   * ordinary ArrayBuffer: the copy helper for APIs that reject resizable or
   * shared buffers (TextDecoder in some browsers, some WebGL calls).
   */
  copyTo(target = undefined, targetOffset = 0) {
    const v = this.view();
    if (target === undefined) return v.slice();
    if (!ArrayBuffer.isView(target) || target instanceof DataView) {
      throw new TypeError(`target: expected a TypedArray, got ${describe(target)}`);
    }
    const wide = target instanceof BigInt64Array || target instanceof BigUint64Array;
    if (wide !== this._wide) throw new TypeError(`target: cannot copy a ${this._kind.name} into a ${kindName(target)}`);
    intArg("targetOffset", targetOffset, 0, target.length);
    if (v.length > target.length - targetOffset) {
      throw new RangeError(`target: ${v.length} values do not fit at targetOffset ${targetOffset} of length ${target.length}`);
    }
    target.set(v, targetOffset);
    return target;
  }

  /** Returns the elements as a plain array (SIMD kinds: lanes). */
  toArray() {
    return Array.from(this.view());
  }

  /**
   * The elements in order, as get() returns them (SIMD kinds: one lane
   * array per element): `for (const x of list)`, `[...list]`,
   * `Array.from(list)`. Each step reads the list anew, so memory growth
   * during the loop is harmless.
   */
  *[Symbol.iterator]() {
    this._live();
    for (let i = 0; i < this._len; i++) yield this.get(i);
  }

  _item(i) {
    const v = this.get(i);
    return this._simd ? Array.from(v) : v;
  }
}

function listClass(name) {
  const kind = KINDS[KIND[name]];
  const C = { [name]: class extends TypedList {} }[name];
  Object.defineProperty(C.prototype, "_kind", { value: kind });
  Object.defineProperty(C.prototype, "_Array", { value: globalThis[kind.jsArray] });
  Object.defineProperty(C.prototype, "_wide", { value: kind.jsArray.startsWith("Big") });
  Object.defineProperty(C.prototype, "_simd", { value: kind.lanes > 1 });
  /** Dart's `X.bytesPerElement`. */
  C.bytesPerElement = kind.elementSizeInBytes;
  C.kind = kind.code;
  return C;
}

Object.defineProperty(ByteData.prototype, "_kind", { value: KINDS[KIND.ByteData] });
ByteData.bytesPerElement = 1;
ByteData.kind = KIND.ByteData;

export const Int8List = listClass("Int8List");
export const Uint8List = listClass("Uint8List");
export const Uint8ClampedList = listClass("Uint8ClampedList");
export const Int16List = listClass("Int16List");
export const Uint16List = listClass("Uint16List");
export const Int32List = listClass("Int32List");
export const Uint32List = listClass("Uint32List");
export const Int64List = listClass("Int64List");
export const Uint64List = listClass("Uint64List");
export const Float32List = listClass("Float32List");
export const Float64List = listClass("Float64List");
export const Int32x4List = listClass("Int32x4List");
export const Float32x4List = listClass("Float32x4List");
export const Float64x2List = listClass("Float64x2List");

/** The 15 typed-data classes by kind code (ABI table order). */
export const CLASSES = Object.freeze([
  ByteData, Int8List, Uint8List, Uint8ClampedList, Int16List, Uint16List, Int32List, Uint32List,
  Int64List, Uint64List, Float32List, Float64List, Int32x4List, Float32x4List, Float64x2List,
]);
for (const C of CLASSES) {
  if (C.prototype._kind !== KINDS[C.kind] || C.name !== KINDS[C.kind].name) throw new Error(`multimem: class table out of order at ${C.name}`);
}

// ByteBuffer.asUint8List(offsetInBytes, length) etc., as Dart's ByteBuffer.
for (const C of CLASSES) {
  Object.defineProperty(ByteBuffer.prototype, `as${C.name}`, {
    value: function (offsetInBytes = 0, length = undefined) {
      return C.view(this, offsetInBytes, length);
    },
    writable: true,
    configurable: true,
  });
}
