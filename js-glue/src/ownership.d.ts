// Declarations for ./ownership.js: the JS host's side of "Ownership by GC
// objects" (docs/ABI.md): `multimem:gc` tokens and batched releases.

/** A `multimem:gc` token: an empty object (frozen prototype) whose collection releases one reference. */
export declare class Token {
  private constructor();
}

/** Options for the ownership imports (instantiate's `options.ownership`). */
export interface OwnershipOptions {
  /**
   * "microtask" (default): the releases a GC cleanup task queues are applied
   * in one microtask right after it. "manual": only inside own() (once
   * RELEASE_BATCH are queued) and on flush().
   */
  flush?: "microtask" | "manual";
  /**
   * Called with each error of a flush nobody called (the microtask), a
   * ReleaseError for each slot the runtime refused. Default: reported as an
   * uncaught error (reportError, else thrown from a timer).
   */
  onReleaseError?: (error: Error) => void;
}

/** Counters of one instance's tokens. */
export interface OwnershipStats {
  /** Tokens made by own(). */
  tokensMade: number;
  /** Tokens whose finalizer has not run yet (alive, or collected and not yet reported). */
  tokensOutstanding: number;
  /** Tokens the FinalizationRegistry reported collected. */
  collected: number;
  /** Addresses queued in JS, not yet released. */
  queued: number;
  /** References released through buffer_release_batch. */
  released: number;
  /** buffer_release_batch calls made with a non-zero count. */
  batchCalls: number;
  /** Slots the runtime refused (a ReleaseError each; 0 unless wasm code broke the ABI's rules). */
  refused: number;
  /** Addresses not released because of close() (teardown). */
  dropped: number;
  /** Flushes done inside own() because RELEASE_BATCH or more were queued. */
  ownFlushes: number;
}

/** A slot buffer_release_batch refused: the address a collected token held and the runtime's code. */
export declare class ReleaseError extends Error {
  readonly name: "ReleaseError";
  /** The address the token held. */
  readonly address: number;
  /** The runtime's error code, or 0 if it recorded none. */
  readonly code: number;
  /** The code's name in the ABI's error table, e.g. "NOT_A_BUFFER". */
  readonly codeName: string;
}

/** The ownership state of one instance (runtime.ownership). */
export declare class Ownership {
  constructor(options?: OwnershipOptions);
  /** "microtask" or "manual". */
  readonly mode: "microtask" | "manual";
  /** The `multimem:gc` namespace for an import object. */
  imports(): { own(buffer: number): Token };
  /** Binds to the instance's runtime exports (buffer_release_batch, last_error) and memory. */
  bind(exports: WebAssembly.Exports, memory: WebAssembly.Memory, speculative?: boolean): void;
  /** `multimem:gc.own`: a token holding the caller's reference to `buffer`. */
  own(buffer: number): Token;
  /** Applies the queue now; returns how many were released. Throws ReleaseError (AggregateError if several) for refused slots, after applying the rest. */
  flush(): number;
  /**
   * Forces a collection where the host offers one (`globalThis.gc`), yields
   * `turns` macrotasks (default 2) so finalizers run, then flush(). With JSPI,
   * `new WebAssembly.Suspending(() => ownership.collect())` is a forced-GC
   * import under which a synchronous wasm loop stays in bounded memory.
   */
  collect(options?: { turns?: number }): Promise<number>;
  /** Teardown: queued and later-collected addresses release nothing. */
  close(): void;
  /** Counters. */
  stats(): OwnershipStats;
}

/** The `multimem:gc` import names in a module's import list (null if the engine cannot list them); TypeError for names not in the ABI. */
export declare function ownershipImports(described: WebAssembly.ModuleImportDescriptor[] | null): string[] | null;
