//! The multimem runtime ABI as Rust items, generated from `docs/ABI.md`.
//!
//! This crate owns no facts of its own: `build.rs` parses the tables of
//! `docs/ABI.md` (constants, header fields, kinds, error codes, exports,
//! intrinsics and the instructions they stand for, builds of the runtime,
//! the single-memory build's reserved module, the ownership imports)
//! and this file only declares the types they are written in.
//! The runtime, the linker and the host read the ABI from here; the JS glue
//! gets [`JS_MODULE`] (committed as `js-glue/src/abi.js`, checked by this
//! crate's tests). It may not depend on any other multimem crate.
#![no_std]

include!(concat!(env!("OUT_DIR"), "/abi.rs"));

/// `js-glue/src/abi.js`: the same tables as an ES module.
pub const JS_MODULE: &str = include_str!(concat!(env!("OUT_DIR"), "/abi.js"));
/// `js-glue/src/abi.d.ts`: TypeScript declarations for [`JS_MODULE`].
pub const JS_TYPES: &str = include_str!(concat!(env!("OUT_DIR"), "/abi.d.ts"));

/// A wasm value type in an export or intrinsic signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

/// How an export reports misuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OnError {
    /// Records the code (see `last_error`) and traps.
    Traps,
    /// Returns the code as its result; never traps.
    Returns,
    /// Cannot fail.
    Never,
}

/// Which scalar exports apply to a [`Kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Number {
    /// Integer kinds: the `_i64` exports.
    Int,
    /// Floating-point kinds: the `_f64` exports.
    Float,
    /// ByteData: the `bytedata_*` exports.
    Bytes,
}

/// One export of `runtime.wasm`.
#[derive(Clone, Copy, Debug)]
pub struct Export {
    /// Export name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
    /// Whether it traps or returns error codes.
    pub on_error: OnError,
    /// The codes it can produce.
    pub errors: &'static [ErrorCode],
    /// Its semantics, as documented.
    pub doc: &'static str,
    /// What concurrent calls from several instances of a shared build may
    /// expect (docs/ABI.md, "Threads").
    pub threads: ThreadSafety,
}

/// Thread safety of an export in the shared builds (the threads table of
/// `docs/ABI.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThreadSafety {
    /// Any instance may call it at any time, concurrently with any other
    /// export in any other instance.
    Any,
    /// As `Any`, but it reads or writes state of the calling instance only
    /// (its `last_error`, its release queue, whether it may block).
    Instance,
}

/// A memory named by its role; the linker resolves roles to indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryRole {
    /// The runtime's own memory.
    Own,
    /// The imported memory of the external library.
    External,
}

/// One import of the `multimem:intrinsics` module.
#[derive(Clone, Copy, Debug)]
pub struct Intrinsic {
    /// Import field name.
    pub name: &'static str,
    /// Parameter types (the instruction's operands).
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
    /// The instruction it is lowered to.
    pub op: Op,
    /// The instruction's text-format name, e.g. `"memory.copy"`.
    pub instruction: &'static str,
    /// Memory immediates by role, in instruction order (destination first).
    pub memories: &'static [MemoryRole],
    /// log2 of the alignment immediate for loads, stores and atomics.
    pub align: u32,
}

/// One import of the single-memory build's reserved module
/// (`LOWERED_MODULE`): the operation an instruction on a lowered memory
/// becomes ("Single-memory build" in `docs/ABI.md`).
#[derive(Clone, Copy, Debug)]
pub struct Lowered {
    /// The instruction's text-format name, which is also the import field
    /// before `:` and the memory index.
    pub instruction: &'static str,
    /// Parameter types (the instruction's operands, then the static
    /// offset or segment where its kind has one).
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
    /// What it does.
    pub kind: LoweredKind,
    /// log2 of the natural alignment (required for atomics).
    pub align: u32,
}

/// The row of the lowered-memory table for `instruction` (text format).
pub fn lowered(instruction: &str) -> Option<&'static Lowered> {
    LOWERED.iter().find(|l| l.instruction == instruction)
}

/// One import of the ownership module (`GC_MODULE`, "Ownership by GC
/// objects" in `docs/ABI.md`), which the host provides.
#[derive(Clone, Copy, Debug)]
pub struct GcImport {
    /// Import field name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Whether it returns a token: a non-null externref, `(ref extern)`.
    pub returns_token: bool,
    /// Its semantics, as documented.
    pub doc: &'static str,
}

/// Looks up an import of `GC_MODULE` by name.
pub fn gc_import(name: &str) -> Option<&'static GcImport> {
    GC_IMPORTS.iter().find(|g| g.name == name)
}

/// One build of `runtime.wasm` ("Builds of the runtime" in `docs/ABI.md`),
/// compiled by `multimem-runtime-wasm`.
#[derive(Clone, Copy, Debug)]
pub struct Build {
    /// Its name: what `multimem-runtime-wasm --variant` and
    /// `multimem-link --runtime-variant` take.
    pub name: &'static str,
    /// The cargo features of `multimem-runtime` it is compiled with.
    pub cargo_features: &'static [&'static str],
    /// The wasm target features it is compiled with (`-C target-feature=+F`).
    pub target_features: &'static [&'static str],
    /// Its release size budget in bytes, if it has one.
    pub size_budget: Option<u32>,
    /// What changes in it, as documented.
    pub doc: &'static str,
}

impl Build {
    /// Whether it is a shared build (cargo feature `shared`): a shared own
    /// memory, several instances at once (docs/ABI.md, "Threads").
    pub fn is_shared(&self) -> bool {
        self.cargo_features.contains(&"shared")
    }
}

/// Looks up a build by name.
pub fn build(name: &str) -> Option<&'static Build> {
    BUILDS.iter().find(|b| b.name == name)
}

/// Looks up an intrinsic by its import name.
pub fn intrinsic(name: &str) -> Option<&'static Intrinsic> {
    INTRINSICS.iter().find(|i| i.name == name)
}

/// Looks up an export by name, among every build's exports and then the
/// shared builds' extra ones ([`SHARED_EXPORTS`]).
pub fn export(name: &str) -> Option<&'static Export> {
    EXPORTS.iter().chain(SHARED_EXPORTS).find(|e| e.name == name)
}
