// multimem js-glue, WebGPU helpers: move bytes between runtime buffers and
// GPUBuffers with the fewest copies the WebGPU API allows today.
//
// `GPUBuffer.mapAsync` hands out a *new* ArrayBuffer (`getMappedRange`), so a
// wasm program usually copies it twice: `getMappedRange().slice()` and then
// `set()` into its memory (and the reverse before `unmap()` in WRITE mode).
// The helpers here do one copy, straight between the mapped range and the
// list's bytes in the runtime memory. They have the shape of the proposed
// `GPUBuffer.mapAsyncInto(buffer)` (map, then copy into a caller's buffer),
// so code written against them maps onto the proposal if it ships:
//
//   mapAsyncInto(gpuBuffer, destination, offset?, size?, options?)
//       readback: mapAsync(READ) + getMappedRange + ONE set() into destination + unmap;
//   mapAsyncFrom(gpuBuffer, source, offset?, size?, options?)
//       write mapping: mapAsync(WRITE) (or an already mapped buffer, e.g.
//       mappedAtCreation) + ONE set() from source + unmap;
//   writeBufferFrom(queue, gpuBuffer, bufferOffset, source, options?)
//       upload with queue.writeBuffer straight from a view of the runtime
//       memory: no copy in JS on the "refresh" view path. WebGPU rejects
//       views of resizable ArrayBuffers ("must not be resizable", Chromium),
//       so on the "resizable" path the bytes go through one copy into a
//       reused staging buffer of at most 4 MiB (one writeBuffer per chunk),
//       which is counted; pass `{ viewPath: "refresh" }` to the Runtime for
//       zero-copy uploads.
//
// Bookkeeping: every helper returns the bytes it copied in JS and adds them
// to `options.counter` (a CopyCounter). A destination or source is a typed
// list, ByteData or ByteBuffer of a multimem Runtime; its bytes are looked up
// again after every await, so the helpers work on both view paths and after
// `memory.grow`. While a map is pending the helper holds its own reference
// on the buffer, so the bytes cannot be freed under it; if the caller
// disposes the list in that time, the helper unmaps, drops its reference and
// rejects with a `MapTargetDisposedError`: nothing is copied, nothing leaks.
//
// Limits: mapAsync's rules apply (offset a multiple of 8, size of 4; the
// GPUBuffer needs MAP_READ or MAP_WRITE usage); checked here first, for
// messages that name the argument.

import { ByteBuffer, TypedData } from "./index.js";

const MAP_READ = 1;
const MAP_WRITE = 2;

/** Largest staging buffer of writeBufferFrom on the resizable path. */
const STAGING_BYTES = 4 << 20;
// Reused by every call: writeBuffer copies synchronously, so one buffer per
// realm suffices. Allocated on first use, at most STAGING_BYTES.
let staging = null;

function stagingBuffer(size) {
  const want = Math.min(Math.max(size, 1 << 16), STAGING_BYTES);
  if (staging === null || staging.byteLength < want) staging = new ArrayBuffer(want);
  return staging;
}

/** Counts the bytes the helpers copied in JS, and how many copies. */
export class CopyCounter {
  constructor() {
    /** Bytes copied. */
    this.bytes = 0;
    /** Copy operations (one `set()` or one staging copy each). */
    this.copies = 0;
  }

  /** Records one copy of `bytes` bytes. */
  add(bytes) {
    this.bytes += bytes;
    this.copies += 1;
  }

  /** Back to zero. */
  reset() {
    this.bytes = 0;
    this.copies = 0;
  }
}

/** The destination (or source) was disposed while its GPUBuffer map was pending. */
export class MapTargetDisposedError extends Error {
  constructor(what, target) {
    super(
      `${what}: the ${target} was disposed while the GPUBuffer map was pending; nothing was copied, ` +
        `the GPUBuffer is unmapped and the helper's reference is released`,
    );
    this.name = "MapTargetDisposedError";
    /** Stable code for programs. */
    this.code = "MULTIMEM_DISPOSED_WHILE_MAPPING";
  }
}

function describe(v) {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return String(v);
  return v.constructor?.name ?? typeof v;
}

function gpuBufferArg(what, b) {
  if (b === null || typeof b !== "object" || typeof b.mapAsync !== "function" || typeof b.getMappedRange !== "function" || typeof b.unmap !== "function") {
    throw new TypeError(`${what}: gpuBuffer: expected a GPUBuffer, got ${describe(b)}`);
  }
}

function dataArg(what, name, d) {
  if (!(d instanceof TypedData) && !(d instanceof ByteBuffer)) {
    throw new TypeError(`${what}: ${name}: expected a typed list, ByteData or ByteBuffer of a multimem Runtime, got ${describe(d)}`);
  }
  if (d.disposed) throw new TypeError(`${what}: ${name}: the ${describe(d)} is already disposed`);
}

function intArg(what, name, v, min, max) {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`${what}: ${name}: expected an integer, got ${describe(v)}`);
  if (v < min || v > max) throw new RangeError(`${what}: ${name}: ${v} is out of range ${min}..${max}`);
}

/** The bytes of a list / ByteData / ByteBuffer as a Uint8Array over the runtime memory, taken now. */
function bytesOf(d) {
  const v = d.view();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Checks offset and size for mapAsync (offset % 8, size % 4, inside both buffers). */
function mapRange(what, gpuBuffer, data, offset, size) {
  const gpuSize = typeof gpuBuffer.size === "number" ? gpuBuffer.size : Number.MAX_SAFE_INTEGER;
  intArg(what, "offset", offset, 0, gpuSize);
  if (offset % 8 !== 0) throw new RangeError(`${what}: offset: ${offset} is not a multiple of 8 (GPUBuffer.mapAsync)`);
  const available = data.lengthInBytes;
  if (size === undefined) size = Math.min(available, gpuSize - offset);
  intArg(what, "size", size, 0, gpuSize - offset);
  if (size % 4 !== 0) throw new RangeError(`${what}: size: ${size} is not a multiple of 4 (GPUBuffer.mapAsync)`);
  if (size > available) throw new RangeError(`${what}: size: ${size} bytes do not fit in the ${describe(data)} of ${available} bytes`);
  return size;
}

/**
 * One extra reference on the data's buffer for the time of a map: a wrapper
 * of our own from `runtime.wrap` (not `list.buffer`, which is the list's
 * cached wrapper that the caller may hold too, so disposing it would be
 * disposing theirs).
 */
function pin(d) {
  return d.runtime.wrap(d.address);
}

async function mapped(what, gpuBuffer, mode, offset, size, data, reference) {
  try {
    if (!(mode === MAP_WRITE && gpuBuffer.mapState === "mapped")) await gpuBuffer.mapAsync(mode, offset, size);
  } catch (e) {
    reference.dispose();
    throw new Error(`${what}: GPUBuffer.mapAsync(${mode === MAP_READ ? "READ" : "WRITE"}, ${offset}, ${size}) failed: ${e.message}`, { cause: e });
  }
  if (data.disposed) {
    gpuBuffer.unmap();
    reference.dispose();
    throw new MapTargetDisposedError(what, describe(data));
  }
}

/**
 * Reads `size` bytes at `offset` of `gpuBuffer` (MAP_READ usage) into
 * `destination` (its first `size` bytes) with exactly one copy, then unmaps.
 * Resolves to the bytes copied. The shape of the proposed
 * `GPUBuffer.mapAsyncInto(buffer)`.
 */
export async function mapAsyncInto(gpuBuffer, destination, offset = 0, size = undefined, options = {}) {
  const what = "mapAsyncInto";
  gpuBufferArg(what, gpuBuffer);
  dataArg(what, "destination", destination);
  size = mapRange(what, gpuBuffer, destination, offset, size);
  const reference = pin(destination);
  await mapped(what, gpuBuffer, MAP_READ, offset, size, destination, reference);
  try {
    // The view is taken after the await: memory.grow may have replaced the buffer meanwhile.
    bytesOf(destination).set(new Uint8Array(gpuBuffer.getMappedRange(offset, size)));
    options.counter?.add(size);
  } finally {
    gpuBuffer.unmap();
    reference.dispose();
  }
  return size;
}

/**
 * Fills `size` bytes at `offset` of `gpuBuffer` from `source` (its first
 * `size` bytes) with exactly one copy into the mapped range, then unmaps.
 * Maps it for WRITE unless it is already mapped (for example
 * `mappedAtCreation: true`). Resolves to the bytes copied.
 */
export async function mapAsyncFrom(gpuBuffer, source, offset = 0, size = undefined, options = {}) {
  const what = "mapAsyncFrom";
  gpuBufferArg(what, gpuBuffer);
  dataArg(what, "source", source);
  size = mapRange(what, gpuBuffer, source, offset, size);
  const reference = pin(source);
  await mapped(what, gpuBuffer, MAP_WRITE, offset, size, source, reference);
  try {
    new Uint8Array(gpuBuffer.getMappedRange(offset, size)).set(bytesOf(source).subarray(0, size));
    options.counter?.add(size);
  } finally {
    gpuBuffer.unmap();
    reference.dispose();
  }
  return size;
}

/**
 * `queue.writeBuffer(gpuBuffer, bufferOffset, ...)` with the bytes of
 * `source` (all of them, or `options.size`): straight from the runtime
 * memory on the "refresh" view path (returns 0: no copy in JS; the browser
 * copies into its staging memory as for any writeBuffer); through one
 * counted copy through a reused staging buffer (at most 4 MiB, one
 * writeBuffer per chunk) on the "resizable" path, whose views WebGPU rejects.
 * Synchronous, like writeBuffer: nothing can grow the memory meanwhile.
 */
export function writeBufferFrom(queue, gpuBuffer, bufferOffset, source, options = {}) {
  const what = "writeBufferFrom";
  if (queue === null || typeof queue !== "object" || typeof queue.writeBuffer !== "function") {
    throw new TypeError(`${what}: queue: expected a GPUQueue, got ${describe(queue)}`);
  }
  dataArg(what, "source", source);
  intArg(what, "bufferOffset", bufferOffset, 0, Number.MAX_SAFE_INTEGER);
  if (bufferOffset % 4 !== 0) throw new RangeError(`${what}: bufferOffset: ${bufferOffset} is not a multiple of 4 (GPUQueue.writeBuffer)`);
  const size = options.size ?? source.lengthInBytes;
  intArg(what, "options.size", size, 0, source.lengthInBytes);
  if (size % 4 !== 0) throw new RangeError(`${what}: size: ${size} is not a multiple of 4 (GPUQueue.writeBuffer)`);
  const bytes = bytesOf(source);
  if (!bytes.buffer.resizable) {
    queue.writeBuffer(gpuBuffer, bufferOffset, bytes.buffer, bytes.byteOffset, size);
    return 0;
  }
  // Fresh allocations of `size` bytes cost more than the copy (page faults),
  // so the bytes go through the reused staging buffer, chunk by chunk.
  const st = stagingBuffer(size);
  const chunk = st.byteLength - (st.byteLength % 4);
  for (let done = 0; done < size; done += chunk) {
    const k = Math.min(chunk, size - done);
    new Uint8Array(st, 0, k).set(bytes.subarray(done, done + k));
    queue.writeBuffer(gpuBuffer, bufferOffset + done, st, 0, k);
  }
  options.counter?.add(size);
  return size;
}
