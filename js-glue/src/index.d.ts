// Hand-written declarations for ./index.js (type-checked in CI by
// `tsc -p js-glue/tsconfig.json` together with test/types/usage.ts; the
// per-kind literal types below are checked against docs/ABI.md's kinds table
// by test/abi-facts.test.js).
//
// `Symbol.dispose` and `Disposable` come from TypeScript's lib
// "esnext.disposable" (TypeScript >= 5.2): add it (or "esnext") to
// compilerOptions.lib, as tsconfig.json here does.

import type { ERRORS as ABI_ERRORS, ExportName, IntrinsicName, KINDS as ABI_KINDS } from "./abi.js";

export { ABI_VERSION, ERROR, ERRORS, KIND, KINDS } from "./abi.js";
export { LoweredError, isSingleMemoryBuild, moduleImports, prepareLowered, presentExports } from "./lowered.js";
export type { Lowered, MemoryOf } from "./lowered.js";
export { Ownership, ReleaseError, Token } from "./ownership.js";
export type { OwnershipOptions, OwnershipStats } from "./ownership.js";
import type { Ownership, OwnershipOptions } from "./ownership.js";
export type { KindName } from "./abi.js";

/** Byte order for ByteData accessors, as Dart's `Endian`. `host` is little-endian (wasm). */
export declare const Endian: Readonly<{ big: "big"; little: "little"; host: "little" }>;
/** One of the `Endian` values. */
export type Endian = "big" | "little";

/** An error code reported by the runtime (see "Error codes" in docs/ABI.md). */
export declare class MultimemError extends Error {
  /** Numeric code from the ABI error table. */
  readonly code: number;
  /** Name from the ABI error table, e.g. "RANGE". */
  readonly codeName: (typeof ABI_ERRORS)[number]["name"] | "UNKNOWN";
  /** Meaning from the ABI error table. */
  readonly meaning: string;
}

/** Runtime exports every Runtime needs (besides the `memory` export). */
export declare const REQUIRED_EXPORTS: readonly ExportName[];
/** Runtime exports only some methods need, and which. */
export declare const OPTIONAL_EXPORTS: Readonly<Partial<Record<ExportName, string>>>;

/** True if this engine validates modules with more than one memory. */
export declare function supportsMultiMemory(): boolean;

/** What `instantiate` accepts as one build of the module (a URL is fetched). */
export type Source =
  | ArrayBuffer
  | ArrayBufferView
  | Response
  | PromiseLike<Response>
  | URL
  | WebAssembly.Module;

/**
 * Both builds of one link: `multiMemory` (`multimem-link`) and `singleMemory`
 * (`multimem-link --single-memory`, for engines without multi-memory such as
 * Safari). instantiate() fetches and compiles only the one it runs.
 */
export interface Builds {
  multiMemory?: Source | null;
  singleMemory?: Source | null;
}

/** Which build of a link runs. */
export type Build = "multi-memory" | "single-memory";

/** Import object; a memory import may be given as the instance that exports it. */
export type Imports = Record<string, Record<string, WebAssembly.ImportValue | WebAssembly.Instance>>;

/** Options for a Runtime. */
export interface RuntimeOptions {
  /**
   * "auto" (default): use memory.toResizableBuffer() when the engine has it and the
   * memory has a maximum, else re-create views after growth. "resizable" requires
   * the first path; "refresh" forces the second.
   */
  viewPath?: "auto" | "resizable" | "refresh";
}

/** Options for instantiate(). */
export interface InstantiateOptions extends RuntimeOptions {
  /**
   * "auto" (default): the multi-memory build where the engine has multi-memory
   * and it is given, else the single-memory build. The others force one.
   */
  build?: "auto" | Build;
  /** How the `multimem:gc` tokens' releases are applied (when the module imports it). */
  ownership?: OwnershipOptions;
}

/** Result of instantiateUnlinked(). */
export interface InstantiatedUnlinked {
  module: WebAssembly.Module;
  instance: WebAssembly.Instance;
  runtime: Runtime;
}

/** Result of instantiate(). */
export interface Instantiated extends InstantiatedUnlinked {
  /**
   * The exports as the multi-memory build has them, whichever build runs (the
   * single-memory build's lowered memories under their export names, without
   * `multimem:native-memory`). `instance.exports` are the module's own.
   */
  exports: WebAssembly.Exports;
  /** The build that runs. */
  build: Build;
}

/**
 * Compiles and instantiates a module linked with the multimem runtime: one
 * build, or both (`{ multiMemory, singleMemory }`, of which it loads the one
 * this engine runs). Wires memory imports (e.g. `env.memory`) given as a
 * Memory or an instance, supplies the single-memory build's `multimem:memory`
 * imports, and checks `abi_version`. A multi-memory build on an engine
 * without multi-memory is an Error with code "MULTIMEM_NO_MULTI_MEMORY".
 */
export declare function instantiate(source: Source | Builds, imports?: Imports, options?: InstantiateOptions): Promise<Instantiated>;

/** Instantiates an unlinked runtime.wasm with the intrinsics implemented in JS over `external`. */
export declare function instantiateUnlinked(
  runtimeSource: Source,
  external: WebAssembly.Memory | WebAssembly.Instance,
  imports?: Imports,
  options?: RuntimeOptions,
): Promise<InstantiatedUnlinked>;

/** The `multimem:intrinsics` imports as JS functions over `external`: one per row of the ABI's intrinsics table. */
export declare function intrinsicImports(
  external: WebAssembly.Memory,
  own: () => WebAssembly.Memory | null,
): Record<IntrinsicName, (...args: any[]) => any>;

/** Figures from stats(). */
export interface Stats {
  /** Live buffers, from the runtime. */
  liveBuffers: number;
  /** Sum of lengthInBytes over live buffers, from the runtime. */
  liveBytes: number;
  /** Bytes of own memory held by live blocks, from the runtime. */
  heapBytes: number;
  /** Size of the own memory in 64 KiB pages, from the runtime. */
  pages: number;
  /** Which view path this runtime uses. */
  viewPath: "resizable" | "refresh";
  /** References the glue added (wrap, view, buffer, call). */
  retains: number;
  /** References the glue dropped (dispose, finalizer, call). */
  releases: number;
  /** Of `releases`, the ones done by the FinalizationRegistry. */
  finalized: number;
  /** Releases from the finalizer that the runtime refused (should stay 0). */
  finalizerErrors: number;
  /** Wrappers whose FinalizationRegistry entry has not run yet (live, or disposed and not yet collected). */
  registered: number;
  /** Chunk copies done by readInto. */
  streamCopies: number;
  /** Bytes copied by readInto. */
  streamBytes: number;
  /** Times readInto grew its target buffer. */
  streamGrowths: number;
}

/** Options for readInto(). */
export interface ReadIntoOptions {
  /** Write into this buffer (never grown) instead of a new one. */
  buffer?: ByteBuffer;
  /** Start offset in `buffer`. */
  offset?: number;
  /** Expected total length when the source has no Content-Length. */
  length?: number;
  /** Size of the reused scratch buffer (default 64 KiB). */
  scratchBytes?: number;
  /** First capacity of a new target when the length is unknown (default 64 KiB). */
  initialBytes?: number;
}

/** The glue's state for one instance. */
export declare class Runtime {
  constructor(instance: WebAssembly.Instance | WebAssembly.Exports, options?: RuntimeOptions);
  /** The instance's exports. */
  readonly exports: WebAssembly.Exports;
  /** The runtime's own memory. */
  readonly memory: WebAssembly.Memory;
  /** "resizable": views follow memory.grow; "refresh": views are re-created after growth. */
  readonly viewPath: "resizable" | "refresh";
  /** The build of the instance: "single-memory" when its other memories are the glue's (lowered.js). */
  readonly build: Build;
  /** Why the resizable path is not used, or null. */
  readonly viewPathReason: string | null;
  /** A new zero-filled buffer. */
  allocate(lengthInBytes: number): ByteBuffer;
  /** Wraps a buffer address from wasm, retaining it. TypeError for foreign or freed addresses. */
  wrap(address: number): ByteBuffer;
  /** Wraps a buffer address whose reference the caller hands over (no retain). */
  adopt(address: number): ByteBuffer;
  /** A new buffer holding a copy of `source`. */
  copyIn(source: ArrayBuffer | SharedArrayBuffer | ArrayBufferView): ByteBuffer;
  /**
   * Calls `fn` with wrappers replaced by buffer addresses, each retained for
   * the call. A trap inside a runtime export during the call throws a
   * MultimemError (the runtime's code, name and meaning).
   */
  call<R>(fn: (...args: any[]) => R, ...args: unknown[]): R;
  /** The exports with every function wrapped as by call(). */
  wrapExports<E extends object = WebAssembly.Exports>(exports?: E): WrappedExports<E>;
  /** Reads a stream into runtime memory with one copy per byte. */
  readInto(source: ReadableStream<Uint8Array> | Response, options?: ReadIntoOptions): Promise<Uint8List>;
  /** Runtime and glue figures. */
  stats(): Stats;
  /** The `multimem:gc` tokens' state, set by instantiate() when the module imports `multimem:gc`; else null. */
  ownership: Ownership | null;
}

/** What wrapExports() returns: functions take wrappers where they take addresses. */
export type WrappedExports<E> = {
  readonly [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: { [I in keyof P]: P[I] | ByteBuffer | TypedData }) => R
    : E[K] extends Function
      ? (...args: unknown[]) => unknown
      : E[K];
};

/** A refcounted buffer in the runtime memory, as Dart's ByteBuffer. */
export declare class ByteBuffer implements Disposable {
  private constructor();
  /** A new zero-filled buffer. */
  static create(runtime: Runtime, lengthInBytes: number): ByteBuffer;
  /** Address of the first data byte in the runtime memory. */
  readonly address: number;
  readonly lengthInBytes: number;
  /** Current refcount, read from the runtime. */
  readonly refcount: number;
  readonly runtime: Runtime;
  /** True once dispose() ran. */
  readonly disposed: boolean;
  /** A zero-copy Uint8Array over the bytes. */
  view(): Uint8Array;
  /** A view Web APIs accept: view() on the refresh path, else a copy (see README). */
  fixedView(): Uint8Array;
  /** Calls `fn` with fixedView(); a copy is written back after `fn` returns (for APIs that write). */
  withFixedView<R>(fn: (view: Uint8Array) => R): R;
  /** A fresh Uint8Array (ordinary ArrayBuffer) with a copy of the bytes. */
  copyTo(): Uint8Array;
  /** A fresh, transferable ArrayBuffer with a copy of the bytes. */
  copyOut(): ArrayBuffer;
  /** Copies `source` into this buffer at `offset`. */
  copyIn(source: ArrayBuffer | SharedArrayBuffer | ArrayBufferView, offset?: number): this;
  /** Releases this wrapper's reference; a second call does nothing. */
  dispose(): void;
  [Symbol.dispose](): void;
  asByteData(offsetInBytes?: number, length?: number): ByteData;
  asInt8List(offsetInBytes?: number, length?: number): Int8List;
  asUint8List(offsetInBytes?: number, length?: number): Uint8List;
  asUint8ClampedList(offsetInBytes?: number, length?: number): Uint8ClampedList;
  asInt16List(offsetInBytes?: number, length?: number): Int16List;
  asUint16List(offsetInBytes?: number, length?: number): Uint16List;
  asInt32List(offsetInBytes?: number, length?: number): Int32List;
  asUint32List(offsetInBytes?: number, length?: number): Uint32List;
  asInt64List(offsetInBytes?: number, length?: number): Int64List;
  asUint64List(offsetInBytes?: number, length?: number): Uint64List;
  asFloat32List(offsetInBytes?: number, length?: number): Float32List;
  asFloat64List(offsetInBytes?: number, length?: number): Float64List;
  asInt32x4List(offsetInBytes?: number, length?: number): Int32x4List;
  asFloat32x4List(offsetInBytes?: number, length?: number): Float32x4List;
  asFloat64x2List(offsetInBytes?: number, length?: number): Float64x2List;
}

/** Base of ByteData and the typed lists: a view (buffer, offsetInBytes, length, kind). */
export declare abstract class TypedData implements Disposable {
  protected constructor();
  /** Elements (ByteData: bytes). */
  readonly length: number;
  readonly lengthInBytes: number;
  readonly offsetInBytes: number;
  readonly elementSizeInBytes: number;
  /**
   * The ByteBuffer of this view, the same wrapper while it is not disposed
   * (the one given to `X.view(buffer)`, or made on first use with its own reference).
   */
  readonly buffer: ByteBuffer;
  /** Address of the underlying buffer. */
  readonly address: number;
  readonly runtime: Runtime;
  readonly disposed: boolean;
  /** A fresh, transferable ArrayBuffer with a copy of this view's bytes. */
  copyOut(): ArrayBuffer;
  dispose(): void;
  [Symbol.dispose](): void;
  /** Dart's `X.view(buffer, [offsetInBytes, length])`; retains the buffer. */
  static view<T extends TypedData>(
    this: { prototype: T },
    buffer: ByteBuffer,
    offsetInBytes?: number,
    length?: number,
  ): T;
  /** Dart's `X.sublistView(data, [start, end])`. */
  static sublistView<T extends TypedData>(
    this: { prototype: T },
    data: TypedData,
    start?: number,
    end?: number,
  ): T;
}

/** Dart's ByteData: any width at any byte offset, big-endian by default. */
export declare class ByteData extends TypedData {
  static readonly bytesPerElement: 1;
  static readonly kind: 0;
  static create(runtime: Runtime, length: number): ByteData;
  /** A zero-copy DataView over the bytes. */
  view(): DataView;
  /** A DataView Web APIs accept: view() on the refresh path, else a copy (see README). */
  fixedView(): DataView;
  /** Calls `fn` with fixedView(); a copy is written back after `fn` returns (for APIs that write). */
  withFixedView<R>(fn: (view: DataView) => R): R;
  /** A DataView over a fresh copy (for APIs that reject resizable buffers). */
  copyTo(): DataView;
  getInt8(byteOffset: number): number;
  getUint8(byteOffset: number): number;
  getInt16(byteOffset: number, endian?: Endian): number;
  getUint16(byteOffset: number, endian?: Endian): number;
  getInt32(byteOffset: number, endian?: Endian): number;
  getUint32(byteOffset: number, endian?: Endian): number;
  getInt64(byteOffset: number, endian?: Endian): bigint;
  getUint64(byteOffset: number, endian?: Endian): bigint;
  getFloat32(byteOffset: number, endian?: Endian): number;
  getFloat64(byteOffset: number, endian?: Endian): number;
  setInt8(byteOffset: number, value: number): void;
  setUint8(byteOffset: number, value: number): void;
  setInt16(byteOffset: number, value: number, endian?: Endian): void;
  setUint16(byteOffset: number, value: number, endian?: Endian): void;
  setInt32(byteOffset: number, value: number, endian?: Endian): void;
  setUint32(byteOffset: number, value: number, endian?: Endian): void;
  setInt64(byteOffset: number, value: bigint | number, endian?: Endian): void;
  setUint64(byteOffset: number, value: bigint | number, endian?: Endian): void;
  setFloat32(byteOffset: number, value: number, endian?: Endian): void;
  setFloat64(byteOffset: number, value: number, endian?: Endian): void;
}

/** TypedArrays of number elements. */
export type NumberTypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array;
/** Any TypedArray. */
export type AnyTypedArray = NumberTypedArray | BigInt64Array | BigUint64Array;
/** Views of the `int` kinds (ABI.md kinds table, `number` column). */
export type IntKindArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;
/** Views of the `float` kinds. */
export type FloatKindArray = Float32Array | Float64Array;
/**
 * A list that setRange may copy from into a list viewed as `A` with
 * elements `E`: for scalar kinds, a scalar list of the same `number` class
 * (int from int, float from float), as in Dart; for SIMD kinds, the same kind.
 */
export type SetRangeSource<A extends AnyTypedArray, E> = [E] extends [number | bigint]
  ? TypedList<[A] extends [FloatKindArray] ? FloatKindArray : IntKindArray, number | bigint, any, any>
  : TypedList<A, E, any, any>;

/**
 * Base of the 14 typed lists. `A` is the zero-copy TypedArray type, `E` what
 * get() returns, `V` the scalar (lane) type, `In` what set/fill accept.
 */
export declare abstract class TypedList<A extends AnyTypedArray, E, V extends number | bigint, In> extends TypedData {
  /** A new zero-filled list. */
  static create<T extends TypedList<any, any, any, any>>(this: { prototype: T }, runtime: Runtime, length: number): T;
  /** A zero-copy TypedArray over the elements (lanes for SIMD kinds). */
  view(): A;
  /** Element `index`; RangeError outside 0..length-1. */
  get(index: number): E;
  set(index: number, value: In): void;
  /** Dart's fillRange(start, end, value). */
  fillRange(start: number, end: number, value: In): void;
  fill(value: In, start?: number, end?: number): this;
  /**
   * Dart's setRange(start, end, source, [skipCount]): from a list of the
   * same number class (int from int, float from float), an array or a TypedArray.
   */
  setRange(start: number, end: number, source: SetRangeSource<A, E> | ArrayLike<V>, skipCount?: number): void;
  /** Copies `source` in at element `start`. */
  copyFrom(source: ArrayLike<V>, start?: number): this;
  /** A fresh TypedArray copy (ordinary ArrayBuffer), or copies into `target` (any TypedArray of number, or of bigint for 64-bit kinds). */
  copyTo(): A;
  copyTo<T extends (V extends bigint ? BigInt64Array | BigUint64Array : NumberTypedArray)>(target: T, targetOffset?: number): T;
  /** A view Web APIs accept: view() on the refresh path, else a copy (see README). */
  fixedView(): A;
  /** Calls `fn` with fixedView(); a copy is written back after `fn` returns (for APIs that write). */
  withFixedView<R>(fn: (view: A) => R): R;
  /** The elements (lanes) as a plain array. */
  toArray(): V[];
  /** The elements as get() returns them: `for..of`, spread, `Array.from`. */
  [Symbol.iterator](): IterableIterator<E>;
}

export declare class Int8List extends TypedList<Int8Array, number, number, number> { static readonly bytesPerElement: 1; static readonly kind: 1; }
export declare class Uint8List extends TypedList<Uint8Array, number, number, number> { static readonly bytesPerElement: 1; static readonly kind: 2; }
export declare class Uint8ClampedList extends TypedList<Uint8ClampedArray, number, number, number> { static readonly bytesPerElement: 1; static readonly kind: 3; }
export declare class Int16List extends TypedList<Int16Array, number, number, number> { static readonly bytesPerElement: 2; static readonly kind: 4; }
export declare class Uint16List extends TypedList<Uint16Array, number, number, number> { static readonly bytesPerElement: 2; static readonly kind: 5; }
export declare class Int32List extends TypedList<Int32Array, number, number, number> { static readonly bytesPerElement: 4; static readonly kind: 6; }
export declare class Uint32List extends TypedList<Uint32Array, number, number, number> { static readonly bytesPerElement: 4; static readonly kind: 7; }
export declare class Int64List extends TypedList<BigInt64Array, bigint, bigint, bigint | number> { static readonly bytesPerElement: 8; static readonly kind: 8; }
export declare class Uint64List extends TypedList<BigUint64Array, bigint, bigint, bigint | number> { static readonly bytesPerElement: 8; static readonly kind: 9; }
export declare class Float32List extends TypedList<Float32Array, number, number, number> { static readonly bytesPerElement: 4; static readonly kind: 10; }
export declare class Float64List extends TypedList<Float64Array, number, number, number> { static readonly bytesPerElement: 8; static readonly kind: 11; }
/** Elements are 4 Int32 lanes; get() returns a fresh Int32Array(4). setRange copies only from the same kind (or lanes). */
export declare class Int32x4List extends TypedList<Int32Array, Int32Array, number, ArrayLike<number>> { static readonly bytesPerElement: 16; static readonly kind: 12; }
/** Elements are 4 Float32 lanes; get() returns a fresh Float32Array(4). setRange copies only from the same kind (or lanes). */
export declare class Float32x4List extends TypedList<Float32Array, Float32Array, number, ArrayLike<number>> { static readonly bytesPerElement: 16; static readonly kind: 13; }
/** Elements are 2 Float64 lanes; get() returns a fresh Float64Array(2). setRange copies only from the same kind (or lanes). */
export declare class Float64x2List extends TypedList<Float64Array, Float64Array, number, ArrayLike<number>> { static readonly bytesPerElement: 16; static readonly kind: 14; }

/** The 15 typed-data classes by kind code. */
export declare const CLASSES: readonly [
  typeof ByteData, typeof Int8List, typeof Uint8List, typeof Uint8ClampedList, typeof Int16List,
  typeof Uint16List, typeof Int32List, typeof Uint32List, typeof Int64List, typeof Uint64List,
  typeof Float32List, typeof Float64List, typeof Int32x4List, typeof Float32x4List, typeof Float64x2List,
];

/** Kind facts (re-exported from the generated ABI table). */
export type KindInfo = (typeof ABI_KINDS)[number];
