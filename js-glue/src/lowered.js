// The single-memory build's reserved module, `multimem:memory`, in
// JavaScript (docs/ABI.md, "Single-memory build"; host/src/lowered.rs is the
// same module over wasmtime memories, and this one behaves exactly like it).
//
// Phases, in the order prepareLowered() runs them:
//   1. read     the module's `multimem.memories` (JSON) and `multimem.segments`
//               (binary) custom sections; a malformed one is a TypeError naming it;
//   2. memories the lowered memories: an imported one is taken from the import
//               object the multi-memory build would have used (a Memory or an
//               instance exporting one) and type-checked by the engine itself,
//               as instantiation would (a probe module importing a memory of the
//               wanted type); a defined one is created (`new WebAssembly.Memory`);
//   3. imports  one function per `multimem:memory` import of the module, built
//               from the ABI's lowered table (LOWERED in ./abi.js): the row gives
//               the kind and alignment, the instruction's name the value type,
//               width and signedness, the field the memories;
//   4. bind     once instantiated, the native memory (which copies may read or
//               write) is the instance's `multimem:native-memory` export.
//
// Behaviour, as the reference: bounds are checked before anything is written;
// atomics check alignment, then bounds
// (as engines do natively; host/src/lowered.rs checks bounds first); `wait` works only on shared memories.
// A failed check is a real wasm trap, not a JS exception: the import calls an
// export of a tiny helper module that performs a genuinely out-of-bounds load
// (or an unaligned atomic, or a wait on an unshared memory), so the engine
// raises the same RuntimeError as the instruction would, which wasm's
// `catch_all` cannot catch (a RuntimeError thrown by JS could be caught).
//
// Speed: each lowered memory has one cell holding a DataView and a
// Uint8Array over its current buffer; an access that does not fit the cached
// buffer re-reads `memory.buffer` once before it traps. That covers growth of
// any kind: memory.grow detaches an unshared memory's old buffer (length 0),
// and a shared memory only grows, so what fits the old buffer fits the new.
// 64-bit values cross as BigInts (the JS API's rule for i64); floats never
// cross (the linker rebuilds f32/f64 and v128 accesses from the integer rows).
//
// Limits:
//   - JavaScript cannot reach an instance's exports before its start function
//     has returned. A start function that copies between a lowered memory and
//     a native memory that the module defines (not imports) therefore fails
//     with a LoweredError (code MULTIMEM_NATIVE_MEMORY_DURING_START); active
//     segments of lowered memories never need the native memory.
//   - Every instruction on a lowered memory is a call from wasm into JS.

import { LOWERED, LOWERED_MODULE, MEMORIES_SECTION, NATIVE_MEMORY_EXPORT, PAGE_SIZE, SEGMENTS_SECTION, ABI_VERSION } from "./abi.js";

/** True if `module` (a WebAssembly.Module) is a single-memory build: it has the `multimem.memories` section. */
export function isSingleMemoryBuild(module) {
  return WebAssembly.Module.customSections(module, MEMORIES_SECTION).length > 0;
}

/** An error of the single-memory loader that is not a trap (a malformed section, a missing import). */
export class LoweredError extends TypeError {
  constructor(message, code) {
    super(message);
    this.name = "LoweredError";
    /** A stable string code, e.g. "MULTIMEM_NATIVE_MEMORY_DURING_START". */
    this.code = code;
  }
}

// ---------------------------------------------------------------------------
// Traps. traps.wat, compiled (memory 1; each export traps as its name says):
//   (func (export "oob") (drop (i32.load (i32.const 65536))))
//   (func (export "unaligned") (drop (i32.atomic.load (i32.const 1))))
//   (func (export "wait") (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 0))))
// (memory.atomic.wait32 on an unshared memory traps.)
const TRAPS_WASM = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 4, 3, 0, 0, 0, 5, 3, 1, 0, 1, 7, 26, 3, 3, 111, 111, 98, 0, 0, 9,
  117, 110, 97, 108, 105, 103, 110, 101, 100, 0, 1, 4, 119, 97, 105, 116, 0, 2, 10, 36, 3, 10, 0, 65, 128, 128, 4, 40, 2,
  0, 26, 11, 9, 0, 65, 1, 254, 16, 2, 0, 26, 11, 13, 0, 65, 0, 65, 0, 66, 0, 254, 1, 2, 0, 26, 11,
]);
let traps = null;
function trapper() {
  traps ??= new WebAssembly.Instance(new WebAssembly.Module(TRAPS_WASM)).exports;
  return traps;
}
/** Traps with the engine's out-of-bounds trap. Never returns. */
function trapOutOfBounds() {
  trapper().oob();
  throw new WebAssembly.RuntimeError("memory access out of bounds"); // not reached: oob() traps
}
function trapUnaligned() {
  trapper().unaligned();
  throw new WebAssembly.RuntimeError("unaligned atomic"); // not reached
}
function trapWait() {
  trapper().wait();
  throw new WebAssembly.RuntimeError("atomic wait on an unshared memory"); // not reached
}

// ---------------------------------------------------------------------------
// Phase 1: read.

/**
 * The module's `multimem.memories` and `multimem.segments` sections:
 * `{ native, memories: [{ index, initial, maximum, shared, import, exports }], segments: Map }`.
 */
export function readLowered(module) {
  const [json] = WebAssembly.Module.customSections(module, MEMORIES_SECTION);
  if (json === undefined) throw new LoweredError(`the module has no \`${MEMORIES_SECTION}\` section: not a single-memory build`, "MULTIMEM_NOT_SINGLE_MEMORY");
  const bad = (what) => new LoweredError(`the \`${MEMORIES_SECTION}\` section is malformed: ${what}`, "MULTIMEM_BAD_SECTION");
  let v;
  try {
    v = JSON.parse(utf8(new Uint8Array(json)));
  } catch (e) {
    throw bad(e.message);
  }
  if (v === null || typeof v !== "object") throw bad("not an object");
  if (v.abi !== ABI_VERSION) throw bad(`ABI version ${v.abi} (this glue has ${ABI_VERSION})`);
  if (!Array.isArray(v.memories)) throw bad("no memories");
  const int = (x, max, what) => {
    if (!Number.isInteger(x) || x < 0 || x > max) throw bad(what);
    return x;
  };
  const pages = (x, what) => int(x, 65536, what);
  const memories = v.memories.map((m) => {
    if (m === null || typeof m !== "object") throw bad("a memory is not an object");
    let imp = null;
    if (m.import !== null && m.import !== undefined) {
      if (typeof m.import.module !== "string") throw bad("import module");
      if (typeof m.import.name !== "string") throw bad("import name");
      imp = { module: m.import.module, name: m.import.name };
    }
    return {
      index: int(m.index, 0xffffffff, "index"),
      initial: pages(m.initial, "initial"),
      maximum: m.maximum === null || m.maximum === undefined ? null : pages(m.maximum, "maximum"),
      shared: m.shared === true,
      import: imp,
      exports: Array.isArray(m.exports) ? m.exports.filter((e) => typeof e === "string") : [],
    };
  });
  const native = Number.isInteger(v.native) ? v.native : null;
  const [seg] = WebAssembly.Module.customSections(module, SEGMENTS_SECTION);
  return { native, memories, segments: readSegments(seg) };
}

/** UTF-8 text (TextDecoder where the engine has it; the jsc shell does not). */
function utf8(bytes) {
  if (typeof TextDecoder === "function") return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return decodeURIComponent(escape(s)); // throws URIError on malformed UTF-8
}

/** `multimem.segments`: a u32 count, then (index u32, length u32, bytes) each, little-endian. */
function readSegments(section) {
  const out = new Map();
  if (section === undefined) return out;
  const bad = () => new LoweredError(`the \`${SEGMENTS_SECTION}\` section is malformed`, "MULTIMEM_BAD_SECTION");
  const dv = new DataView(section);
  const u32 = (at) => {
    if (at + 4 > dv.byteLength) throw bad();
    return dv.getUint32(at, true);
  };
  const count = u32(0);
  let at = 4;
  for (let i = 0; i < count; i++) {
    const index = u32(at);
    const len = u32(at + 4);
    if (at + 8 + len > dv.byteLength) throw bad();
    out.set(index, new Uint8Array(section.slice(at + 8, at + 8 + len)));
    at += 8 + len;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Phase 2: memories.

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

/** `(module (import "m" "m" (memory initial maximum? shared?)))`. */
function probeModule(d) {
  const flags = (d.maximum !== null ? 1 : 0) | (d.shared ? 2 : 0);
  const limits = [flags, ...leb(d.initial), ...(d.maximum !== null ? leb(d.maximum) : [])];
  const entry = [1, 0x6d, 1, 0x6d, 2, ...limits];
  const body = [1, ...entry];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, ...leb(body.length), ...body]);
}

const describeType = (d) => `(memory ${d.initial}${d.maximum !== null ? ` ${d.maximum}` : ""}${d.shared ? " shared" : ""})`;

/**
 * Checks `memory` against the import type `d` as instantiation would, by
 * letting the engine instantiate a probe module that imports it.
 */
function checkImportType(memory, d, name) {
  try {
    new WebAssembly.Instance(new WebAssembly.Module(probeModule(d)), { m: { m: memory } });
  } catch (e) {
    if (!(e instanceof WebAssembly.LinkError)) throw e;
    const pages = memory.buffer.byteLength / PAGE_SIZE;
    const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    throw new WebAssembly.LinkError(
      `${name}: incompatible import type: memory ${d.index} of the single-memory build wants ${describeType(d)}, ` +
        `given a memory of ${pages} pages${shared ? ", shared" : ""} (${e.message})`,
    );
  }
}

/** A memory and views over its current buffer, refreshed when an access does not fit. */
class Cell {
  constructor(memory) {
    this.memory = memory;
    this.shared = typeof SharedArrayBuffer !== "undefined" && memory !== null && memory.buffer instanceof SharedArrayBuffer;
    this.u8 = new Uint8Array(0);
    this.dv = new DataView(new ArrayBuffer(0));
    this.atomics = null;
    this.atomicsLength = 0;
    if (memory !== null) this.refresh();
  }

  refresh() {
    if (this.memory === null) this.unbound();
    const b = this.memory.buffer;
    this.u8 = new Uint8Array(b);
    this.dv = new DataView(b);
    this.atomics = null;
  }

  /** Makes `end` bytes addressable, or traps. */
  fit(end) {
    if (end > this.u8.length) {
      this.refresh();
      if (end > this.u8.length) trapOutOfBounds();
    }
  }

  /** Integer TypedArrays for Atomics, by width in bytes. */
  arrays() {
    // A resizable buffer grows in place: fixed-length arrays over it go stale.
    if (this.atomics === null || this.atomicsLength !== this.u8.length) {
      const b = this.u8.buffer;
      this.atomicsLength = this.u8.length;
      this.atomics = { 1: this.u8, 2: new Uint16Array(b, 0, b.byteLength >>> 1), 4: new Uint32Array(b, 0, b.byteLength >>> 2), 8: new BigUint64Array(b, 0, b.byteLength >>> 3) };
    }
    return this.atomics;
  }

  unbound() {
    throw new LoweredError(
      `${LOWERED_MODULE}: the start function reached the native memory, which JavaScript cannot reach before ` +
        "instantiation completes (the module defines it). Limit of the JS loader: a single-memory build's start " +
        "function may not copy between a lowered memory and a native memory the module defines",
      "MULTIMEM_NATIVE_MEMORY_DURING_START",
    );
  }
}

// ---------------------------------------------------------------------------
// Phase 3: imports. What each kind does, as a function of its memory cells.

const U = (x) => x >>> 0;
const U64 = (w) => (v) => Number(BigInt.asUintN(w * 8, v));

// Loads and stores by value type and width, on a DataView (little-endian).
const GETTERS = {
  "i32:1:s": (d, a) => d.getInt8(a),
  "i32:1:u": (d, a) => d.getUint8(a),
  "i32:2:s": (d, a) => d.getInt16(a, true),
  "i32:2:u": (d, a) => d.getUint16(a, true),
  "i32:4:s": (d, a) => d.getInt32(a, true),
  "i32:4:u": (d, a) => d.getInt32(a, true),
  "i64:1:s": (d, a) => BigInt(d.getInt8(a)),
  "i64:1:u": (d, a) => BigInt(d.getUint8(a)),
  "i64:2:s": (d, a) => BigInt(d.getInt16(a, true)),
  "i64:2:u": (d, a) => BigInt(d.getUint16(a, true)),
  "i64:4:s": (d, a) => BigInt(d.getInt32(a, true)),
  "i64:4:u": (d, a) => BigInt(d.getUint32(a, true)),
  "i64:8:s": (d, a) => d.getBigInt64(a, true),
  "i64:8:u": (d, a) => d.getBigInt64(a, true),
};
const SETTERS = {
  "i32:1": (d, a, v) => d.setUint8(a, v),
  "i32:2": (d, a, v) => d.setUint16(a, v, true),
  "i32:4": (d, a, v) => d.setInt32(a, v, true),
  "i64:1": (d, a, v) => d.setUint8(a, Number(v & 0xffn)),
  "i64:2": (d, a, v) => d.setUint16(a, Number(v & 0xffffn), true),
  "i64:4": (d, a, v) => d.setUint32(a, Number(v & 0xffffffffn), true),
  "i64:8": (d, a, v) => d.setBigInt64(a, v, true),
};

/** What the instruction's name leaves to the row: value type, width, signedness, rmw operation. */
function shape(instruction, align) {
  const num = instruction.slice(0, 3);
  const width = 2 ** align; // the natural alignment is the access width, narrow forms included
  const last = instruction.split(".").pop().replace(/_u$/, "");
  const rmw = ["add", "sub", "and", "or", "xor", "xchg", "cmpxchg"].includes(last) ? last : null;
  return { num, width, signed: instruction.endsWith("_s"), rmw };
}

/** Effective address of an access: address + offset, both unsigned, without wrapping. */
const ea = (a, o) => U(a) + U(o);

const KINDS = {
  load({ num, width, signed }, [c]) {
    const get = GETTERS[`${num}:${width}:${signed ? "s" : "u"}`];
    return (a, o) => {
      const at = ea(a, o);
      if (at + width > c.u8.length) c.fit(at + width);
      return get(c.dv, at);
    };
  },
  store({ num, width }, [c]) {
    const set = SETTERS[`${num}:${width}`];
    return (a, v, o) => {
      const at = ea(a, o);
      if (at + width > c.u8.length) c.fit(at + width);
      set(c.dv, at, v);
    };
  },
  size(_, [c]) {
    return () => c.memory.buffer.byteLength / PAGE_SIZE;
  },
  grow(_, [c]) {
    return (delta) => {
      try {
        return c.memory.grow(U(delta));
      } catch (e) {
        if (e instanceof RangeError) return -1; // beyond the maximum, or no memory left
        throw e;
      }
    };
  },
  fill(_, [c]) {
    return (dst, value, len) => {
      dst >>>= 0;
      len >>>= 0;
      c.fit(dst + len);
      c.u8.fill(value & 0xff, dst, dst + len);
    };
  },
  copy(_, [d, s]) {
    return (dst, src, len) => {
      dst >>>= 0;
      src >>>= 0;
      len >>>= 0;
      // Both checked before anything is written.
      if (dst + len > d.u8.length) d.fit(dst + len);
      if (src + len > s.u8.length) s.fit(src + len);
      if (d === s) {
        d.u8.copyWithin(dst, src, src + len); // overlap-safe
      } else if (len <= SMALL_COPY && d.u8.buffer !== s.u8.buffer) {
        // Below this a byte loop beats creating the subarray for set().
        const to = d.u8;
        const from = s.u8;
        for (let i = 0; i < len; i++) to[dst + i] = from[src + i];
      } else {
        // One bulk copy (set copies through a clone when both views share a buffer).
        d.u8.set(s.u8.subarray(src, src + len), dst);
      }
    };
  },
  init(_, [c], segments) {
    return (dst, src, len, segment) => {
      dst >>>= 0;
      src >>>= 0;
      len >>>= 0;
      const data = segments.get(U(segment)) ?? EMPTY;
      if (src + len > data.length) trapOutOfBounds();
      c.fit(dst + len);
      c.u8.set(data.subarray(src, src + len), dst);
    };
  },
  drop(_, __, segments) {
    return (segment) => {
      segments.set(U(segment), null);
    };
  },
  active(_, [c], segments) {
    return (offset, segment) => {
      offset = U(offset);
      segment = U(segment);
      const data = segments.get(segment) ?? EMPTY;
      c.fit(offset + data.length);
      c.u8.set(data, offset);
      segments.set(segment, null);
    };
  },
  atomic_load({ num, width }, [c]) {
    return (a, o) => {
      const at = ea(a, o);
      return old(num, width, Atomics.load(aligned(c, at, width), at / width));
    };
  },
  atomic_store({ num, width }, [c]) {
    const conv = operand(num, width);
    return (a, v, o) => {
      const at = ea(a, o);
      Atomics.store(aligned(c, at, width), at / width, conv(v));
    };
  },
  atomic_rmw({ num, width, rmw }, [c]) {
    const conv = operand(num, width);
    const op = { add: Atomics.add, sub: Atomics.sub, and: Atomics.and, or: Atomics.or, xor: Atomics.xor, xchg: Atomics.exchange }[rmw];
    return (a, v, o) => {
      const at = ea(a, o);
      return old(num, width, op(aligned(c, at, width), at / width, conv(v)));
    };
  },
  atomic_cmpxchg({ num, width }, [c]) {
    const conv = operand(num, width);
    return (a, expected, replacement, o) => {
      const at = ea(a, o);
      // The expected value is wrapped to the width, as the instruction does.
      return old(num, width, Atomics.compareExchange(aligned(c, at, width), at / width, conv(expected), conv(replacement)));
    };
  },
  atomic_notify({ width }, [c]) {
    return (a, count, o) => {
      const at = ea(a, o);
      const arr = aligned(c, at, width);
      if (!c.shared) return 0;
      return Atomics.notify(new Int32Array(arr.buffer, 0, arr.buffer.byteLength >>> 2), at >>> 2, U(count));
    };
  },
  atomic_wait({ width }, [c]) {
    return (a, expected, timeout, o) => {
      const at = ea(a, o);
      aligned(c, at, width);
      if (!c.shared) trapWait();
      const b = c.u8.buffer;
      const arr = width === 4 ? new Int32Array(b, 0, b.byteLength >>> 2) : new BigInt64Array(b, 0, b.byteLength >>> 3);
      const ms = timeout < 0n ? Infinity : Number(timeout) / 1e6;
      let r;
      try {
        r = Atomics.wait(arr, at / width, expected, ms);
      } catch (e) {
        if (e instanceof TypeError) trapWait(); // a thread that may not block (a browser's main thread)
        throw e;
      }
      return r === "ok" ? 0 : r === "not-equal" ? 1 : 2;
    };
  },
};
const EMPTY = new Uint8Array(0);
/** Copies of at most this many bytes between two memories are a byte loop: faster than set() up to 16 B in Node 24 and up to about 32 B in jsc, slower above (measured per call, 8 B to 256 B). */
const SMALL_COPY = 16;

/**
 * The Atomics array for `width` over `c`, after the alignment and bounds
 * checks, in that order, as engines do natively (V8, JSC and wasmtime's
 * compiled code test alignment first: an access both misaligned and out of
 * bounds is a misalignment trap).
 */
function aligned(c, at, width) {
  if (at % width !== 0) trapUnaligned();
  if (at + width > c.u8.length) c.fit(at + width);
  return c.arrays()[width];
}
/** An atomic's operand for an array of `width` bytes (BigInt only for 8-byte accesses). */
function operand(num, width) {
  if (num === "i64") return width === 8 ? (v) => v : U64(width);
  return (v) => v;
}
/** An atomic's old value as the instruction's result type, zero-extended. */
function old(num, width, v) {
  if (num !== "i64") return v;
  return width === 8 ? v : BigInt(v);
}

/** `i32.load:1` into ["i32.load", [1]]; `data.drop` into ["data.drop", []]. */
function parseField(field) {
  const [instruction, ...mems] = field.split(":");
  return [instruction, mems.map((m) => {
    if (!/^\d+$/.test(m)) throw new LoweredError(`\`${LOWERED_MODULE}.${field}\`: bad memory index \`${m}\``, "MULTIMEM_BAD_IMPORT");
    return Number(m);
  })];
}

// ---------------------------------------------------------------------------
// The loader's entry point.

/**
 * Prepares a single-memory build for instantiation (phases 1-3). `imports`
 * is the import object the multi-memory build would have used; `memoryOf(name,
 * value)` turns an import value into a WebAssembly.Memory (a Memory, or an
 * instance exporting one), throwing a TypeError naming `name` otherwise.
 * Returns `{ imports, exports, memories, bind }`: the import object to
 * instantiate with (the given one plus `multimem:memory`), the lowered
 * memories by the names the module exported them under, the lowered memories
 * by index in the multi-memory build, and `bind(instance)` (phase 4), to call
 * once the instance exists.
 */
export function prepareLowered(module, imports, memoryOf) {
  const desc = readLowered(module);
  const memories = new Map();
  const exports = Object.create(null);
  for (const d of desc.memories) {
    let memory;
    if (d.import !== null) {
      const name = `imports.${d.import.module}.${d.import.name}`;
      const value = imports[d.import.module]?.[d.import.name];
      if (value === undefined) {
        throw new TypeError(`${name}: the module imports this memory (the external library's); pass a WebAssembly.Memory or the library's instance`);
      }
      memory = memoryOf(name, value);
      checkImportType(memory, d, name);
    } else {
      memory = new WebAssembly.Memory({ initial: d.initial, ...(d.maximum !== null ? { maximum: d.maximum } : {}), ...(d.shared ? { shared: true } : {}) });
    }
    memories.set(d.index, memory);
    for (const e of d.exports) exports[e] = memory;
  }
  // The native memory: known now if the module imports it (its only memory
  // import), else bound after instantiation (phase 4).
  const native = new Cell(null);
  const described = moduleImports(module);
  const nativeImport = described?.find((i) => i.kind === "memory");
  if (nativeImport !== undefined) {
    const v = imports[nativeImport.module]?.[nativeImport.name];
    if (v !== undefined) native.memory = memoryOf(`imports.${nativeImport.module}.${nativeImport.name}`, v);
    native.shared = typeof SharedArrayBuffer !== "undefined" && native.memory?.buffer instanceof SharedArrayBuffer;
  }
  const cells = new Map([...memories].map(([i, m]) => [i, new Cell(m)]));
  /** The function for the import `multimem:memory.<field>`. */
  const make = (field) => {
    const [instruction, targets] = parseField(field);
    const row = LOWERED[instruction];
    if (row === undefined) throw new LoweredError(`\`${LOWERED_MODULE}.${field}\` is not in the ABI's lowered table`, "MULTIMEM_BAD_IMPORT");
    const mems = targets.map((t) => {
      if (t === desc.native) return native;
      const c = cells.get(t);
      if (c === undefined) throw new LoweredError(`\`${LOWERED_MODULE}.${field}\` names memory ${t}, which is not lowered`, "MULTIMEM_BAD_IMPORT");
      return c;
    });
    return KINDS[row.kind](shape(instruction, row.align), mems, desc.segments);
  };
  let fns = Object.create(null);
  if (described !== null) {
    for (const imp of described) {
      if (imp.module !== LOWERED_MODULE) continue;
      if (imp.kind !== "function") throw new LoweredError(`\`${LOWERED_MODULE}.${imp.name}\` is imported as a ${imp.kind}, not a function`, "MULTIMEM_BAD_IMPORT");
      fns[imp.name] = make(imp.name);
    }
  } else {
    // The engine cannot list the imports (see moduleImports): each function
    // is made when instantiation asks for it.
    const made = fns;
    fns = new Proxy(made, { get: (target, field) => (typeof field !== "string" ? undefined : (target[field] ??= make(field))) });
  }
  return {
    imports: { ...imports, [LOWERED_MODULE]: fns },
    exports,
    memories,
    bind(instance) {
      const m = (instance instanceof WebAssembly.Instance ? instance.exports : instance)[NATIVE_MEMORY_EXPORT];
      if (!(m instanceof WebAssembly.Memory)) throw new LoweredError(`the single-memory build exports no \`${NATIVE_MEMORY_EXPORT}\``, "MULTIMEM_BAD_SECTION");
      native.memory = m;
      native.shared = typeof SharedArrayBuffer !== "undefined" && m.buffer instanceof SharedArrayBuffer;
      native.refresh();
    },
  };
}

/**
 * `WebAssembly.Module.imports(module)`, or null where the engine cannot
 * describe them: JavaScriptCore (Safari 26, WebKitGTK 2.50) throws a
 * TypeError ("unable to produce import descriptors") for a module that
 * imports a function whose type has a non-nullable reference, such as the
 * compiler example's `multimem:gc.own: (i32) -> (ref extern)`.
 */
export function moduleImports(module) {
  try {
    return WebAssembly.Module.imports(module);
  } catch (e) {
    if (e instanceof TypeError) return null;
    throw e;
  }
}

/**
 * The exports a single-memory build's instance presents: the instance's, less
 * `multimem:native-memory`, plus the lowered memories under the names the
 * multi-memory build exported them as. Frozen, like `instance.exports`.
 */
export function presentExports(instanceExports, loweredExports) {
  const out = Object.create(null);
  for (const [name, v] of Object.entries(instanceExports)) if (name !== NATIVE_MEMORY_EXPORT) out[name] = v;
  for (const [name, m] of Object.entries(loweredExports)) out[name] = m;
  return Object.freeze(out);
}
