// Hand-written declarations for ./webgpu.js. The WebGPU types are declared
// structurally (only what the helpers use), so no @webgpu/types is needed.

import type { ByteBuffer, TypedData } from "./index.js";

/** What the helpers read from or write into: a typed list, ByteData or ByteBuffer of a Runtime. */
export type RuntimeBytes = TypedData | ByteBuffer;

/** The part of a GPUBuffer the helpers use. */
export interface GPUBufferLike {
  readonly size?: number;
  readonly mapState?: "unmapped" | "pending" | "mapped";
  mapAsync(mode: number, offset?: number, size?: number): Promise<undefined | void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
}

/** The part of a GPUQueue the helpers use. */
export interface GPUQueueLike {
  writeBuffer(buffer: any, bufferOffset: number, data: ArrayBuffer, dataOffset?: number, size?: number): void;
}

/** Counts the bytes the helpers copied in JS, and how many copies. */
export declare class CopyCounter {
  constructor();
  /** Bytes copied. */
  bytes: number;
  /** Copy operations. */
  copies: number;
  /** Records one copy of `bytes` bytes. */
  add(bytes: number): void;
  /** Back to zero. */
  reset(): void;
}

/** The destination (or source) was disposed while its GPUBuffer map was pending. */
export declare class MapTargetDisposedError extends Error {
  readonly code: "MULTIMEM_DISPOSED_WHILE_MAPPING";
}

/** Options of the helpers. */
export interface CopyOptions {
  /** Adds the bytes each helper copies in JS. */
  counter?: CopyCounter;
}

/**
 * Reads `size` bytes at `offset` of `gpuBuffer` (MAP_READ) into `destination`
 * with exactly one copy, then unmaps. Resolves to the bytes copied.
 * Rejects with MapTargetDisposedError if `destination` is disposed meanwhile.
 */
export declare function mapAsyncInto(
  gpuBuffer: GPUBufferLike,
  destination: RuntimeBytes,
  offset?: number,
  size?: number,
  options?: CopyOptions,
): Promise<number>;

/**
 * Fills `size` bytes at `offset` of `gpuBuffer` (MAP_WRITE, or already mapped)
 * from `source` with exactly one copy, then unmaps. Resolves to the bytes copied.
 */
export declare function mapAsyncFrom(
  gpuBuffer: GPUBufferLike,
  source: RuntimeBytes,
  offset?: number,
  size?: number,
  options?: CopyOptions,
): Promise<number>;

/**
 * queue.writeBuffer from the runtime memory: no copy in JS on the "refresh"
 * view path (returns 0), one counted copy through a reused staging buffer
 * (at most 4 MiB, one writeBuffer per chunk) on the "resizable" path
 * (WebGPU rejects views of resizable buffers). Returns the bytes copied in JS.
 */
export declare function writeBufferFrom(
  queue: GPUQueueLike,
  gpuBuffer: any,
  bufferOffset: number,
  source: RuntimeBytes,
  options?: CopyOptions & { size?: number },
): number;
