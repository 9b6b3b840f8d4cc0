// Declarations for ./threads.js: one heap shared by several workers (docs/ABI.md, "Threads").

import type { Builds, ByteBuffer, Imports, InstantiateOptions, Instantiated, Runtime, Source, TypedData } from "./index.js";

/** The import that carries the shared own memory (`--import-shared-memory`). */
export declare const SHARED_MEMORY_IMPORT: Readonly<{ module: "multimem"; name: "memory" }>;

/** True if this thread may block in Atomics.wait (workers, Node's main thread); false on a browser's main thread. */
export declare function canBlock(): boolean;

/** Limits (pages) of a module's `multimem.memory` import, read from its bytes; null without one. */
export interface SharedMemoryLimits {
  initial: number;
  maximum: number | null;
  shared: boolean;
}
export declare function sharedMemoryLimits(bytes: ArrayBuffer | ArrayBufferView): SharedMemoryLimits | null;

/** A new shared WebAssembly.Memory for the heap (pages). */
export declare function createSharedMemory(limits: { initial: number; maximum: number }): WebAssembly.Memory;

/** Options for instantiateShared(). */
export interface InstantiateSharedOptions extends InstantiateOptions {
  /** The heap's shared memory, from another thread's shareRuntime(); omitted only by the first thread. */
  memory?: WebAssembly.Memory;
  /** What `instance_may_wait` is told; "auto" (default) is canBlock(). Never true on a browser's main thread. */
  mayWait?: "auto" | boolean;
}

/** Result of instantiateShared(). */
export interface InstantiatedShared extends Instantiated {
  /** The heap's shared memory (the module's `multimem.memory`). */
  memory: WebAssembly.Memory;
  /** Whether this instance may block on the heap lock (`instance_may_wait`). */
  mayWait: boolean;
}

/** What a worker needs to join the heap; structured-cloneable. */
export interface SharedRuntime {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

/** Instantiates a module linked with the shared runtime build over one shared heap, and tells it whether it may wait. */
export declare function instantiateShared(source: Source | Builds, imports?: Imports, options?: InstantiateSharedOptions): Promise<InstantiatedShared>;

/** `{ module, memory }` to post to a worker, which passes them to instantiateShared(module, imports, { memory }). */
export declare function shareRuntime(result: InstantiatedShared): SharedRuntime;

/** What handOff() returns for ByteData and the lists. */
export interface HandedOffData {
  address: number;
  kind: number;
  offsetInBytes: number;
  length: number;
}

/** Retains a reference for another thread; returns the address (ByteBuffer) or a descriptor (typed data) to post. */
export declare function handOff(data: ByteBuffer): number;
export declare function handOff(data: TypedData): HandedOffData;

/** Takes over the reference handOff() retained, in this thread's runtime. */
export declare function receive(runtime: Runtime, message: number): ByteBuffer;
export declare function receive(runtime: Runtime, message: HandedOffData): TypedData;
