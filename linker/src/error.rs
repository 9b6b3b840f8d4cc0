//! Link errors. Every message names the module and the item it is about and,
//! for mismatches, both sides' types; the `kind` lets callers match on what
//! went wrong without parsing text.

use std::fmt;

/// What went wrong, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An input is not a valid wasm module (truncated, not wasm, fails validation).
    InvalidModule,
    /// Two inputs were given the same name, or a name is empty.
    DuplicateModule,
    /// An import names an input module that lacks the export.
    UnknownExport,
    /// An import binds to an export of another kind (function vs memory ...).
    KindMismatch,
    /// An import binds to an export whose type does not match.
    TypeMismatch,
    /// Imports and re-exports form a cycle with no definition.
    ImportCycle,
    /// An import from `multimem:intrinsics` that the ABI does not define, or
    /// with the wrong signature.
    UnknownIntrinsic,
    /// An intrinsic used other than by `call` (exported, `ref.func`, element
    /// segment), or a module importing intrinsics has no memory for `own`.
    IntrinsicMisuse,
    /// Two exports with the same output name.
    ExportConflict,
    /// An explicitly requested export does not exist.
    MissingExport,
    /// The output failed validation: a linker bug (please report it).
    InvalidOutput,
    /// Input or output exceeds an implementation limit.
    Limit,
}

/// A link error: its [`ErrorKind`] and a message naming the module, the item
/// and (for mismatches) both types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into() }
    }

    /// Input `name` is not a valid module: `why` is wasmparser's message
    /// (or the parser's), as when the input is validated on its own.
    pub(crate) fn invalid_module(name: &str, why: impl fmt::Display) -> Error {
        Error::new(ErrorKind::InvalidModule, format!("module `{name}` is not a valid wasm module: {why}"))
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The full message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
