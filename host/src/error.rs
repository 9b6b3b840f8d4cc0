//! Errors decoded from the runtime's error codes (`docs/ABI.md`, "Error
//! codes"): a trapping export records its code, the host reads it back with
//! `last_error` and reports it as a [`RuntimeError`].

use multimem_abi::ErrorCode;
use std::fmt;

/// A misuse the runtime detected and reported with one of its documented
/// codes. It is the root cause of the `anyhow` error returned by this
/// crate; the context layers above it say what the host was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeError {
    /// The decoded code.
    pub code: ErrorCode,
    /// The runtime export (or app function) that stopped with it.
    pub export: &'static str,
    /// True when the trap happened in *app* code and `last_error` already
    /// held this code before the call: the trap may be the app's own (for
    /// example a bounds check) and the code left over from an earlier one.
    pub maybe_stale: bool,
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
        )?;
        if self.maybe_stale {
            write!(f, " (`last_error` held this code before the call; may be stale)")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuntimeError {}

/// The runtime error code at the root of `err`, if the runtime reported one.
pub fn error_code(err: &anyhow::Error) -> Option<ErrorCode> {
    err.chain().find_map(|e| e.downcast_ref::<RuntimeError>()).map(|e| e.code)
}
