// Declarations for ./lowered.js: the single-memory build's reserved module
// `multimem:memory` in JavaScript (docs/ABI.md, "Single-memory build").

/** True if `module` is a single-memory build (it has the `multimem.memories` section). */
export declare function isSingleMemoryBuild(module: WebAssembly.Module): boolean;

/** An error of the single-memory loader that is not a trap (a malformed section, a bad import). */
export declare class LoweredError extends TypeError {
  /** A stable code, e.g. "MULTIMEM_BAD_SECTION" or "MULTIMEM_NATIVE_MEMORY_DURING_START". */
  readonly code: string;
}

/** A lowered memory as `multimem.memories` describes it. */
export interface LoweredMemoryDescription {
  /** Its index in the multi-memory build. */
  index: number;
  initial: number;
  maximum: number | null;
  shared: boolean;
  import: { module: string; name: string } | null;
  exports: string[];
}

/** The module's `multimem.memories` and `multimem.segments` sections, read. */
export declare function readLowered(module: WebAssembly.Module): {
  native: number | null;
  memories: LoweredMemoryDescription[];
  segments: Map<number, Uint8Array | null>;
};

/** Turns an import value into a Memory (a Memory, or an instance exporting one), or throws a TypeError naming `name`. */
export type MemoryOf = (name: string, value: unknown) => WebAssembly.Memory;

/** What prepareLowered() returns. */
export interface Lowered {
  /** The import object to instantiate with: the given one plus `multimem:memory`. */
  imports: WebAssembly.Imports;
  /** The lowered memories by the names the module exported them under. */
  exports: Record<string, WebAssembly.Memory>;
  /** The lowered memories by their index in the multi-memory build. */
  memories: Map<number, WebAssembly.Memory>;
  /** Binds the native memory (the instance's `multimem:native-memory` export); call once instantiated. */
  bind(instance: WebAssembly.Instance | WebAssembly.Exports): void;
}

/** Prepares a single-memory build for instantiation with `imports` (as the multi-memory build would take them). */
export declare function prepareLowered(module: WebAssembly.Module, imports: WebAssembly.Imports, memoryOf: MemoryOf): Lowered;

/** The instance's exports less `multimem:native-memory`, plus the lowered memories' exports; frozen. */
export declare function presentExports(instanceExports: WebAssembly.Exports, loweredExports: Record<string, WebAssembly.Memory>): WebAssembly.Exports;

/** `WebAssembly.Module.imports(module)`, or null where the engine cannot describe them (JSC, for non-nullable reference types in imported functions' types). */
export declare function moduleImports(module: WebAssembly.Module): WebAssembly.ModuleImportDescriptor[] | null;
