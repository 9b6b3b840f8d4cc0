//! Errors of this crate: [`Error`], whose typed causes are the runtime's
//! decoded codes ([`RuntimeError`], `docs/ABI.md`, "Error codes") and stale
//! handles ([`StaleHandle`]).
//!
//! [`Error`] is a `std::error::Error + Send + Sync + 'static`, so `?` turns
//! it into an `anyhow::Error` or a `wasmtime::Error` (both convert from any
//! such error); and it converts from both, so inside a function returning
//! [`crate::Result`] `?` works on wasmtime's and anyhow's results too. That
//! is how wasmtime's own API meets anyhow: no `map_err` at the call sites.
//! Each layer says what was being done (outermost first in `{:#}`); the
//! cause stays reachable with [`Error::downcast_ref`] (a wasmtime
//! [`Trap`](wasmtime::Trap), say) and [`error_code`].

use multimem_abi::ErrorCode;
use std::error::Error as StdError;
use std::fmt;

/// An error of this crate: what the host was doing when it failed, and the
/// cause (a [`RuntimeError`], a [`StaleHandle`], a wasmtime error, or a
/// misuse of this API described in words).
pub struct Error(anyhow::Error);

impl Error {
    /// An error that is just a message (a misuse of this API).
    pub(crate) fn msg<M: fmt::Display + fmt::Debug + Send + Sync + 'static>(message: M) -> Error {
        Error(anyhow::Error::msg(message))
    }

    /// An error whose cause is `cause`, said to happen while doing `context`.
    pub(crate) fn caused<E, C>(cause: E, context: C) -> Error
    where
        E: StdError + Send + Sync + 'static,
        C: fmt::Display + Send + Sync + 'static,
    {
        Error(anyhow::Error::new(cause).context(context))
    }

    /// Adds what was being done as the outermost layer.
    pub fn context<C: fmt::Display + Send + Sync + 'static>(self, context: C) -> Error {
        Error(self.0.context(context))
    }

    /// The runtime error at the root, if the runtime reported one.
    pub fn runtime_error(&self) -> Option<&RuntimeError> {
        find_runtime_error(self.chain())
    }

    /// The runtime error code at the root, if the runtime reported one.
    pub fn code(&self) -> Option<ErrorCode> {
        self.runtime_error().map(|e| e.code)
    }

    /// Every layer, outermost first: this error's message, then its causes.
    pub fn chain(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        self.0.chain()
    }

    /// The innermost cause.
    pub fn root_cause(&self) -> &(dyn StdError + 'static) {
        self.0.root_cause()
    }

    /// The layer of type `E` (a context, or a cause such as
    /// [`RuntimeError`], [`StaleHandle`] or [`wasmtime::Trap`]), if any.
    pub fn downcast_ref<E: fmt::Display + fmt::Debug + Send + Sync + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref::<E>()
    }

    /// The same error as an `anyhow::Error` with the same layers (where `?`
    /// would add this error as one more layer).
    pub fn into_anyhow(self) -> anyhow::Error {
        self.0
    }
}

impl fmt::Display for Error {
    /// The outermost layer; with `{:#}`, every layer joined by `: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() { write!(f, "{:#}", self.0) } else { write!(f, "{}", self.0) }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl StdError for Error {
    /// The layer below this error's own message.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.chain().nth(1)
    }
}

impl From<wasmtime::Error> for Error {
    fn from(e: wasmtime::Error) -> Error {
        Error(anyhow::Error::from(e))
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Error {
        Error(e)
    }
}

/// A misuse the runtime detected and reported with one of its documented
/// codes: the root cause of an [`Error`] whose layers say what the host was
/// doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeError {
    /// The decoded code.
    pub code: ErrorCode,
    /// The runtime export (or app function) that stopped with it. The code
    /// is always one the runtime recorded in that very call (see the crate
    /// docs, "Which trap is the runtime's").
    pub export: &'static str,
}

impl RuntimeError {
    pub(crate) fn new(code: ErrorCode, export: &'static str) -> RuntimeError {
        RuntimeError { code, export }
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "runtime error {} ({}) in `{}`: {}",
            self.code.name(),
            self.code.code(),
            self.export,
            self.code.meaning()
        )
    }
}

impl StdError for RuntimeError {}

/// A handle whose reference is no longer what it was made for: someone else
/// released it (the runtime says the buffer is freed or not a buffer), or
/// the address now holds another buffer (another length, or fewer
/// references than the host's handles hold). The host refuses to act
/// through such a handle, and dropping it releases nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleHandle {
    /// The buffer address the handle was made for.
    pub address: u32,
    /// What the host found there instead.
    pub found: Stale,
}

/// What [`StaleHandle`] found at the handle's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// The runtime reports this code for the address (`FREED` or
    /// `NOT_A_BUFFER`).
    Code(ErrorCode),
    /// A live buffer of another `lengthInBytes`.
    Length {
        /// The handle's length.
        expected: u32,
        /// The buffer's length now.
        found: u32,
    },
    /// A live buffer with fewer references than the host's live handles to
    /// it hold.
    Refcount {
        /// References held by the host's handles.
        held: u32,
        /// The buffer's refcount now.
        found: u32,
    },
}

impl fmt::Display for StaleHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the handle of buffer {:#x} is stale: ", self.address)?;
        match &self.found {
            Stale::Code(c) => write!(f, "the runtime says {} ({})", c.name(), c.meaning()),
            Stale::Length { expected, found } => {
                write!(f, "the address now holds a buffer of {found} bytes, not {expected}")
            }
            Stale::Refcount { held, found } => {
                write!(f, "the buffer there has {found} reference(s), fewer than the {held} the host's handles hold")
            }
        }?;
        write!(f, " (its reference was released by someone else)")
    }
}

impl StdError for StaleHandle {}

/// An error whose chain can hold a [`RuntimeError`]: this crate's
/// [`Error`], and the `anyhow::Error` or `wasmtime::Error` that `?` made of
/// one.
pub trait ErrorChain {
    /// The runtime error at the root, if any.
    fn runtime_error(&self) -> Option<&RuntimeError>;
}

impl ErrorChain for Error {
    fn runtime_error(&self) -> Option<&RuntimeError> {
        Error::runtime_error(self)
    }
}

impl ErrorChain for anyhow::Error {
    fn runtime_error(&self) -> Option<&RuntimeError> {
        find_runtime_error(self.chain())
    }
}

impl ErrorChain for wasmtime::Error {
    fn runtime_error(&self) -> Option<&RuntimeError> {
        find_runtime_error(self.chain())
    }
}

/// The first [`RuntimeError`] among `layers`, looking inside nested
/// [`Error`]s too.
fn find_runtime_error<'a>(mut layers: impl Iterator<Item = &'a (dyn StdError + 'static)>) -> Option<&'a RuntimeError> {
    layers.find_map(|e| e.downcast_ref::<RuntimeError>().or_else(|| e.downcast_ref::<Error>()?.runtime_error()))
}

/// The runtime error code at the root of `err`, if the runtime reported one:
/// for this crate's [`Error`] and for the `anyhow::Error` or
/// `wasmtime::Error` that `?` made of one.
pub fn error_code(err: &impl ErrorChain) -> Option<ErrorCode> {
    err.runtime_error().map(|e| e.code)
}
