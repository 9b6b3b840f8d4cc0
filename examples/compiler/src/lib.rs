//! A worked compiler backend for multimem: a tiny Dart-like typed-data
//! language compiled to a WasmGC module that keeps its objects in GC
//! structs and their bytes in the multimem runtime's linear memory.
//!
//! It owns the language, the code generator and the example driver; it may
//! not touch the runtime's heap except through what `docs/ABI.md` allows
//! compilers to do ("What compilers may inline": element loads/stores, the
//! `lengthInBytes` load and the inline retain; `buffer_release` and the other
//! exports by call) and the ownership protocol ("Ownership by GC objects":
//! a `multimem:gc.own` token in every object whose buffer may escape).
//!
//! Pipeline, in order:
//! 1. [`lexer`]: source to tokens;
//! 2. [`parser`]: tokens to an [`ast`];
//! 3. [`resolve`]: names bound to variables; globals found;
//! 4. [`escape`]: which objects provably do not escape (released by scope
//!    instead of owned by a token);
//! 5. [`codegen`]: type check and emit a module (wasm-encoder) importing
//!    `multimem.*` (runtime exports and its memory), `multimem:gc.own`
//!    (ownership tokens), `env.memory` (the external library's memory),
//!    `lib.*` (library functions) and `host.*` (printing, `gc`);
//!    validated with wasmparser;
//! 6. [`run`]: link it with `runtime.wasm` (`multimem-linker`), instantiate
//!    it with the external library ([`EXTLIB_WASM`]) in wasmtime through
//!    `multimem-host`, call `main`, and check that the live buffers are
//!    exactly the ones the program still reaches, and none once it reaches
//!    none.
//!
//! The language (see `programs/*.mm` and the README): functions with typed
//! parameters and results (`Uint8List f(int n, Uint8List a) { ... }`,
//! recursion allowed, `export` for the host), `var x = e;` and `T x = e;`,
//! top-level `var`s (globals when functions use them), assignment (`=`,
//! `+=`, `-=`, `*=`, `++`, `--`), `for`, `if/else`, `return`, int (64-bit),
//! double and bool arithmetic with Dart's operators (`~/`, Euclidean `%`),
//! `Uint8List(n)`, `Int32List(n)`, `Float64List(n)`, `ByteData(n)`,
//! `K.sublistView(data, start, [end])`, `list[i]`, `list[i] = v`,
//! `.length`, `.lengthInBytes`, `.offsetInBytes`, `.elementSizeInBytes`,
//! `.buffer.lengthInBytes`, ByteData `getX`/`setX` with optional
//! `Endian.little`, growable `List<T>` of objects (`<T>[...]`, `[]`, `[]=`,
//! `.length`, `add`, `removeLast`, `clear`), `sum(list)`, `print(x)`,
//! `gc()` and `lib.NAME(list, ints...)`. Out-of-range indices, views and
//! lengths trap (Dart would throw).

#![deny(missing_docs)]

pub mod ast;
pub mod codegen;
pub mod escape;
pub mod lexer;
pub mod parser;
pub mod resolve;
pub mod run;

pub use codegen::{Backend, Options};

/// The external library (`examples/extlib`) compiled to wasm32.
pub const EXTLIB_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/extlib.wasm"));

/// Compiles a program to a validated WasmGC module.
pub fn compile(source: &str, options: &Options) -> anyhow::Result<Vec<u8>> {
    let tokens = lexer::lex(source)?;
    let mut program = parser::parse(tokens)?;
    let resolved = resolve::resolve(&mut program)?;
    let ownership = escape::analyse(&program, &resolved.globals);
    codegen::generate(&program, &resolved, &ownership, options)
}
