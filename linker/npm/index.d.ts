// Declarations for index.js: the JS API of the npm build of multimem-link.

/** What `link` takes per module: wasm bytes or WAT text. */
export type LinkInput = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** The CLI's flags, in camelCase (`multimem-link --help` documents each). */
export interface LinkOptions {
  /** `--with-runtime`: add the bundled runtime.wasm as module `multimem`. */
  withRuntime?: boolean;
  /** `--runtime-variant V`: which runtime build (implies withRuntime). */
  runtimeVariant?: string;
  /** `--export M.NAME[=AS]`, repeatable: export only these. */
  export?: string | readonly string[];
  /** `--rename-conflicts`. */
  renameConflicts?: boolean;
  /** `--skip-conflicts`. */
  skipConflicts?: boolean;
  /** `--external-memory M.F`. */
  externalMemory?: string;
  /** `--own-memory M.F`. */
  ownMemory?: string;
  /** `--gc`: remove what the exports, start functions and active segments do not reach. */
  gc?: boolean;
  /** `--name-prefix clash|always|never`. */
  namePrefix?: "clash" | "always" | "never";
  /** `--strip-names`. */
  stripNames?: boolean;
  /** `--keep-dwarf`. */
  keepDwarf?: boolean;
  /** `--validate-inputs`. */
  validateInputs?: boolean;
  /** `--threads N` (the wasm build is single-threaded whatever N is; the output is the same). */
  threads?: number;
  /** `--wat`: return the text format (UTF-8 bytes). */
  wat?: boolean;
  /** Receives each warning the linker prints (without the `warning: ` prefix). */
  onWarning?: (message: string) => void;
}

/** A link the linker refused. */
export declare class LinkError extends Error {
  /** Everything the linker wrote to stderr. */
  readonly stderr: string;
  /** The CLI's exit code. */
  readonly exitCode: number;
}

/**
 * Links `inputs` (NAME -> module, in link order, as the CLI's NAME=FILE
 * arguments) and returns the linked module's bytes.
 */
export declare function link(inputs: Readonly<Record<string, LinkInput>>, options?: LinkOptions): Uint8Array;
