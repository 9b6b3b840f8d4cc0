//! Link errors. Every message names the module and the item it is about and,
//! for mismatches, both sides' types; the [`ErrorKind`] lets callers match
//! on what went wrong without parsing text, and [`std::error::Error::source`]
//! gives the underlying cause where there is one (wasmparser's error for an
//! input that does not decode or validate, the validator's for an output
//! that does not validate).

use std::fmt;

/// What went wrong, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An input is not a valid wasm module (truncated, not wasm, fails validation).
    InvalidModule,
    /// Two inputs were given the same name.
    DuplicateModule,
    /// An import names an input module that lacks the export.
    UnknownExport,
    /// An import binds to an export of another kind (function vs memory ...).
    KindMismatch,
    /// An import binds to an export whose type does not match.
    TypeMismatch,
    /// Imports and re-exports form a cycle with no definition, or global
    /// initialisers of several inputs read each other in a cycle.
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
    /// Valid inputs that the requested output cannot express: the message
    /// names the item and the limit (see the crate docs, "Semantics and
    /// limits").
    Unsupported,
    /// Input or output exceeds an implementation limit.
    Limit,
    /// A linker bug: the linker reached a state it should not, or its output
    /// failed validation although every input is valid. Please report it
    /// with the inputs.
    Internal,
}

/// A link error: its [`ErrorKind`], a message naming the module, the item
/// and (for mismatches) both types, and the underlying cause, if any, as
/// [`std::error::Error::source`].
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), source: None }
    }

    /// The same error with `cause` as its [`std::error::Error::source`].
    pub(crate) fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(cause));
        self
    }

    /// A linker bug (see [`ErrorKind::Internal`]): `what` says which state.
    pub(crate) fn internal(what: impl fmt::Display) -> Error {
        Error::new(ErrorKind::Internal, format!("internal linker error: {what}; please report this with the inputs"))
    }

    /// Input `name` is not a valid module: `why` is wasmparser's message
    /// (or the parser's), as when the input is validated on its own.
    pub(crate) fn invalid_module(name: &str, why: impl fmt::Display) -> Error {
        Error::new(ErrorKind::InvalidModule, format!("module `{name}` is not a valid wasm module: {why}"))
    }

    /// As [`Error::invalid_module`], keeping wasmparser's error as the source.
    pub(crate) fn invalid_module_from(name: &str, cause: wasmparser::BinaryReaderError) -> Error {
        Error::invalid_module(name, &cause).with_source(cause)
    }

    /// This error with `context` (what was being done) in front of its
    /// message, as `context: message`.
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Reencoding errors carry a link [`Error`] (the linker's `Reencode`
/// implementations use it as their error type).
impl From<wasm_encoder::reencode::Error<Error>> for Error {
    fn from(e: wasm_encoder::reencode::Error<Error>) -> Error {
        use wasm_encoder::reencode::Error as R;
        match e {
            R::UserError(e) => e,
            R::ParseError(p) => Error::new(ErrorKind::InvalidModule, format!("malformed input: {p}")).with_source(p),
            other => Error::new(ErrorKind::Unsupported, other.to_string()),
        }
    }
}
