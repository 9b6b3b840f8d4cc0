//! Which trap is the runtime's: a wasmtime error from a call into wasm
//! becomes an [`Error`] carrying the runtime's code only when the runtime
//! recorded that code in the very call that failed.
//!
//! A runtime error records its code in `last_error` and executes
//! `unreachable` (`docs/ABI.md`, "Error codes"); the code stays there until
//! the next runtime error, and the ABI has no way to clear it. So:
//!
//! 1. a direct call of a runtime export that traps is the runtime's;
//! 2. for a call into app code (which may trap on its own), the host reads
//!    `last_error` before and after. A trap that is not wasm's `unreachable`,
//!    or a code of 0, is the app's; a code that changed is the runtime's
//!    (the runtime records right before it traps, and the trap ends the
//!    call);
//! 3. the same nonzero code before and after is decided by the wasm
//!    backtrace: the trap is the runtime's iff its innermost frame is the
//!    runtime's trap function (same module, same function index). That
//!    function is learned from the first runtime trap the host decodes, or,
//!    the first time case 3 needs it, by provoking one
//!    (`buffer_new(0x80000000)`, which records `BAD_LENGTH`).
//!
//! Limit: with wasm backtraces turned off
//! (`Config::wasm_backtrace_max_frames(None)`),
//! case 3 cannot be decided; the trap is then reported without a code, with
//! a note saying so. A stale code is never reported.

use crate::error::{Error, RuntimeError};
use multimem_abi::ErrorCode;
use std::sync::{Arc, Mutex};
use wasmtime::{Module, Trap, WasmBacktrace};

/// The runtime's trap function, once known: shared by the clones of a
/// [`Runtime`](crate::Runtime).
#[derive(Clone, Default)]
pub(crate) struct TrapSite(Arc<Mutex<Option<(Module, u32)>>>);

/// The module and function index of the innermost wasm frame of `e`, if
/// wasmtime captured a backtrace.
fn innermost(e: &wasmtime::Error) -> Option<(Module, u32)> {
    let frame = e.downcast_ref::<WasmBacktrace>()?.frames().first()?;
    Some((frame.module().clone(), frame.func_index()))
}

impl TrapSite {
    /// Remembers where `e`, a trap of the runtime, happened.
    pub(crate) fn learn(&self, e: &wasmtime::Error) {
        let mut site = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if site.is_none() {
            *site = innermost(e);
        }
    }

    pub(crate) fn known(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Whether `e` happened in the runtime's trap function; `None` when
    /// that cannot be told (no backtrace, or the function is not known).
    pub(crate) fn is_runtimes(&self, e: &wasmtime::Error) -> Option<bool> {
        let (module, func) = innermost(e)?;
        let site = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (m, f) = site.as_ref()?;
        Some(Module::same(m, &module) && *f == func)
    }
}

/// How a failed call is to be attributed (see the module docs).
pub(crate) enum Verdict {
    /// The runtime's error, with its code.
    Runtime(ErrorCode),
    /// Not a runtime error.
    App,
    /// Case 3 without a backtrace: `last_error` holds this earlier code.
    Undecided(ErrorCode),
}

/// Decides case 1 (`before` is `None`) or 2 and 3 for a failed call whose
/// `last_error` is `after`; `site_says` answers case 3 (see
/// [`TrapSite::is_runtimes`]).
pub(crate) fn verdict(
    e: &wasmtime::Error,
    before: Option<u32>,
    after: u32,
    site_says: impl FnOnce() -> Option<bool>,
) -> Verdict {
    let Some(code) = ErrorCode::from_code(after).filter(|c| *c != ErrorCode::Ok) else { return Verdict::App };
    if e.downcast_ref::<Trap>() != Some(&Trap::UnreachableCodeReached) {
        return Verdict::App;
    }
    match before {
        None => Verdict::Runtime(code),
        Some(b) if b != after => Verdict::Runtime(code),
        Some(_) => match site_says() {
            Some(true) => Verdict::Runtime(code),
            Some(false) => Verdict::App,
            None => Verdict::Undecided(code),
        },
    }
}

/// The error to report for `e` under `verdict`, from `export`.
pub(crate) fn report(e: wasmtime::Error, export: &'static str, verdict: Verdict) -> Error {
    match verdict {
        Verdict::Runtime(code) => Error::caused(RuntimeError::new(code, export), format!("{e:#}")),
        Verdict::App => Error::from(e).context(format!("calling `{export}`")),
        Verdict::Undecided(code) => Error::from(e).context(format!(
            "calling `{export}` (`last_error` still holds {} from an earlier trap; without a wasm backtrace this \
             trap cannot be told apart from it, so no runtime code is reported)",
            code.name()
        )),
    }
}
