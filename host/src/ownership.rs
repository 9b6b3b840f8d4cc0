//! The host side of "Ownership by GC objects" (`docs/ABI.md`): the
//! `multimem:gc` imports, whose tokens let the compiled program's own GC
//! objects own buffer references, and the batched release of collected
//! tokens through the runtime's `buffer_release_batch`.
//!
//! Phases of a token's life, in order:
//! 1. `own(buffer)` (a host function, defined by [`define`] before the app
//!    is instantiated) makes a host `externref` whose data is a [`Token`]
//!    holding the caller's reference;
//! 2. wasmtime's GC collects the externref once no GC object, global,
//!    table or stack slot holds it, and drops the [`Token`], which queues
//!    its address ([`Shared`]); nothing calls into wasm from a drop;
//! 3. the queue is applied by [`apply_batches`] in chunks of
//!    `RELEASE_BATCH` addresses, one `buffer_release_batch` call each:
//!    inside `own` once `RELEASE_BATCH` are queued (so a long-running loop
//!    stays bounded without returning to the host), and on every entry
//!    through [`Runtime`](crate::Runtime) (`drain`).
//!
//! Besides, `own` counts the bytes behind the tokens not yet collected
//! (the buffer's `lengthInBytes` from its header, plus the header), which
//! wasmtime's GC cannot see, and past the budget of
//! [`Options::owned_bytes_budget`](crate::Options::owned_bytes_budget)
//! (at least the GC heap's capacity) forces a collection (`Caller::gc`)
//! and applies the whole queue.
//!
//! Limits: a token is released when wasmtime's GC runs, which it does
//! when its GC heap needs room, on `Store::gc`, or when `own` forces it
//! past the budget. Bytes are counted per token: two tokens of one buffer
//! count it twice, and allocator rounding is not counted. Tokens collected
//! after the store's runtime is gone (store teardown) release nothing, as
//! the ABI says.

use std::sync::{Arc, OnceLock};

use multimem_abi::{ErrorCode, GC_MODULE, HEADER_SIZE, RELEASE_BATCH};
use wasmtime::{AsContextMut, Caller, ExternRef, Rooted, TypedFunc};

use crate::Result;
use crate::buffer::Shared;
use crate::error::{Error, RuntimeError};
use crate::memory::RuntimeMemory;

/// The host data of a token: one reference to `address` (whose buffer
/// holds `bytes` of runtime memory), released (queued) when wasmtime drops
/// it.
#[derive(Debug)]
pub(crate) struct Token {
    address: u32,
    bytes: u64,
    shared: Shared,
}

impl Drop for Token {
    fn drop(&mut self) {
        self.shared.token_collected(self.address, self.bytes);
    }
}

/// What a batch needs from the runtime: its `buffer_release_batch` export,
/// its memory and the release queue's address there.
#[derive(Clone)]
pub(crate) struct Releaser {
    pub(crate) batch: TypedFunc<i32, i32>,
    pub(crate) last_error: TypedFunc<(), i32>,
    pub(crate) memory: RuntimeMemory,
    pub(crate) queue: u32,
}

/// Set once the runtime is resolved (after instantiation); `own` calls
/// before that (a start function) only queue.
pub(crate) type ReleaserCell = Arc<OnceLock<Releaser>>;

/// Whether `module` imports anything from `multimem:gc`.
pub(crate) fn imports_ownership(module: &wasmtime::Module) -> bool {
    module.imports().any(|i| i.module() == GC_MODULE)
}

/// Defines every `multimem:gc` import of `docs/ABI.md` in `linker`: `own`
/// makes [`Token`]s that queue on `shared`, forces a collection once their
/// bytes pass `budget` (the floor, raised to the GC heap's capacity, of
/// [`Options::owned_bytes_budget`](crate::Options::owned_bytes_budget)),
/// and applies the queue with `releaser` after a forced collection or once
/// it holds `RELEASE_BATCH` addresses.
pub(crate) fn define<T: 'static>(
    linker: &mut wasmtime::Linker<T>,
    shared: Shared,
    releaser: ReleaserCell,
    budget: Option<u64>,
) -> Result<()> {
    debug_assert!(multimem_abi::gc_import("own").is_some_and(|g| g.returns_token && g.params.len() == 1));
    linker
        .func_wrap(
            GC_MODULE,
            "own",
            move |mut caller: Caller<'_, T>, buffer: u32| -> wasmtime::Result<Rooted<ExternRef>> {
                let bytes = token_bytes(&caller, releaser.get(), buffer);
                // The floor rises to the GC heap's size: garbage in the runtime
                // memory may reach what the embedder lets the GC heap hold.
                let floor = budget.map(|f| f.max(caller.gc_heap_capacity() as u64));
                let made = shared.token_made(bytes, floor);
                let forced = made.collect;
                if forced {
                    // Drops the unreachable tokens, which queue their addresses.
                    caller.gc(None).map_err(|e| {
                        e.context(
                            "collecting inside `multimem:gc.own` (Options::owned_bytes_budget; None turns it off)",
                        )
                    })?;
                    shared.forced_collection();
                }
                if (forced || made.batch_due)
                    && let Some(r) = releaser.get()
                {
                    apply_batches(&mut caller, r, &shared).map_err(wasmtime::Error::from)?;
                }
                ExternRef::new(&mut caller, Token { address: buffer, bytes, shared: shared.clone() })
            },
        )
        .map_err(|e| Error::from(e).context(format!("defining `{GC_MODULE}.own`")))?;
    Ok(())
}

/// The runtime memory a token of `buffer` holds: its `lengthInBytes`
/// (one header word) plus the header. Allocator rounding is left out, so
/// this is a lower bound of the block; the header alone when the word
/// cannot be read (an `own` before the runtime is resolved, or a bad
/// address, which the release will report).
fn token_bytes<T>(caller: &Caller<'_, T>, releaser: Option<&Releaser>, buffer: u32) -> u64 {
    let length = releaser.and_then(|r| r.memory.word(caller, buffer.wrapping_sub(8))).unwrap_or(0);
    u64::from(length) + u64::from(HEADER_SIZE)
}

/// Releases every queued token address, `RELEASE_BATCH` per
/// `buffer_release_batch` call. An address the runtime refuses (the
/// program released a token's reference itself, against the ABI) is
/// skipped and the others are still released; the first such address is
/// the error.
pub(crate) fn apply_batches(mut store: impl AsContextMut, r: &Releaser, shared: &Shared) -> Result<usize> {
    let pending = shared.take_collected();
    let mut first_error = None;
    let mut rest: &[u32] = &pending;
    while !rest.is_empty() {
        let chunk = &rest[..rest.len().min(RELEASE_BATCH as usize)];
        let at = r.queue;
        for (i, a) in chunk.iter().enumerate() {
            r.memory
                .set_word(&mut store, at + 4 * i as u32, *a)
                .ok_or_else(|| Error::msg(format!("the release queue at {at:#x} lies outside the runtime memory")))?;
        }
        match r.batch.call(&mut store, chunk.len() as i32) {
            Ok(_) => {
                shared.tokens_released(chunk.len() as u64);
                rest = &rest[chunk.len()..];
            }
            Err(e) => {
                // The released slots are 0; the first non-zero is the refused one.
                let word = |i: usize| r.memory.word(&store, at + 4 * i as u32).unwrap_or(0);
                let failed = (0..chunk.len()).find(|&i| word(i) != 0).unwrap_or(chunk.len() - 1);
                shared.tokens_released(failed as u64);
                let address = chunk[failed];
                first_error.get_or_insert_with(|| {
                    let code = r.batch_code(&mut store);
                    match code {
                        Some(code) => Error::caused(
                            RuntimeError::new(code, "buffer_release_batch"),
                            format!("releasing the buffer {address:#x} of a collected token"),
                        ),
                        None => {
                            Error::from(e).context(format!("releasing the buffer {address:#x} of a collected token"))
                        }
                    }
                });
                rest = &rest[failed + 1..];
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(pending.len()),
    }
}

impl Releaser {
    /// The code the runtime recorded for a refused slot: NOT_A_BUFFER or
    /// FREED, read from `last_error` through the same instance's export.
    fn batch_code(&self, mut store: impl AsContextMut) -> Option<ErrorCode> {
        let last = self.last_error.call(&mut store, ()).ok()? as u32;
        ErrorCode::from_code(last).filter(|c| *c != ErrorCode::Ok)
    }
}
