//! Owned handles: [`Buffer`] (one reference to a ByteBuffer) and
//! [`TypedList`] (a view `(buffer, offsetInBytes, length, kind)` that owns
//! one reference to its buffer), and the state they share with their
//! runtime ([`Shared`]): the queue of releases their `Drop` could not apply,
//! and how many references the host's handles hold per buffer, against
//! which every handle operation checks that its buffer is still its own.

use multimem_abi::{Kind, RELEASE_BATCH};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a runtime shares with all of its handles. `Send + Sync`, because
/// externref host data must be.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shared(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// `(address, lengthInBytes)` of handles dropped on the host side whose
    /// reference still has to be given back with `buffer_release`.
    queue: Vec<(u32, u32)>,
    /// References held by live handles (and queued releases), per address.
    held: HashMap<u32, u32>,
    /// Addresses of ownership tokens (`multimem:gc.own`) that wasmtime's GC
    /// collected, to release in batches (`buffer_release_batch`).
    collected: Vec<u32>,
    /// Tokens made, collected (queued) and released so far.
    tokens: TokenStats,
    /// Bytes (header included) behind the tokens made and not yet
    /// collected: what wasmtime's GC does not see.
    owned_bytes: u64,
    /// `owned_bytes` right after the last collection `own` forced (0
    /// before the first).
    owned_after_forced: u64,
}

/// What [`Shared::token_made`] found: whether `own` must force a
/// collection, and whether `RELEASE_BATCH` or more addresses are queued.
pub(crate) struct TokenMade {
    pub(crate) collect: bool,
    pub(crate) batch_due: bool,
}

/// Counters of the ownership tokens that `multimem:gc.own` made
/// (`docs/ABI.md`, "Ownership by GC objects"). Once every token is
/// collected and the queue applied, `made == released`; a token is
/// counted as released once, when the batch that released it returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenStats {
    /// Tokens made by `own`.
    pub made: u64,
    /// Tokens wasmtime's GC collected (their release queued or applied).
    pub collected: u64,
    /// References released for collected tokens.
    pub released: u64,
    /// `buffer_release_batch` calls that released them.
    pub batches: u64,
    /// Collections that `own` forced because the bytes behind uncollected
    /// tokens passed the budget ([`Options::owned_bytes_budget`](crate::Options::owned_bytes_budget)).
    pub forced_collections: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked while holding
        // it; the state is updated in single steps and stays sound.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new handle's reference to `address`.
    pub(crate) fn hold(&self, address: u32) {
        *self.lock().held.entry(address).or_insert(0) += 1;
    }

    /// A reference that leaves the host (released, or handed to wasm).
    pub(crate) fn unhold(&self, address: u32) {
        let mut s = self.lock();
        if let Some(n) = s.held.get_mut(&address) {
            *n -= 1;
            if *n == 0 {
                s.held.remove(&address);
            }
        }
    }

    /// References the host holds to `address`.
    pub(crate) fn held(&self, address: u32) -> u32 {
        self.lock().held.get(&address).copied().unwrap_or(0)
    }

    pub(crate) fn push(&self, address: u32, length_in_bytes: u32) {
        self.lock().queue.push((address, length_in_bytes));
    }

    pub(crate) fn take(&self) -> Vec<(u32, u32)> {
        std::mem::take(&mut self.lock().queue)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// A token made by `own`, holding `bytes` of runtime memory. Returns,
    /// under the one lock, whether the bytes behind uncollected tokens now
    /// exceed the budget (`floor`, or the bytes still owned after the last
    /// forced collection when that is larger, counted from that collection)
    /// and whether a batch of collected addresses is waiting.
    pub(crate) fn token_made(&self, bytes: u64, floor: Option<u64>) -> TokenMade {
        let mut s = self.lock();
        s.tokens.made += 1;
        s.owned_bytes += bytes;
        let collect = floor.is_some_and(|floor| {
            let base = s.owned_after_forced;
            s.owned_bytes.saturating_sub(base) > floor.max(base)
        });
        TokenMade { collect, batch_due: s.collected.len() >= RELEASE_BATCH as usize }
    }

    /// A collection `own` forced has run: the bytes still owned become the
    /// base of the next budget.
    pub(crate) fn forced_collection(&self) {
        let mut s = self.lock();
        s.tokens.forced_collections += 1;
        s.owned_after_forced = s.owned_bytes;
    }

    /// A collected token's address (holding `bytes`), queued for the next
    /// batch.
    pub(crate) fn token_collected(&self, address: u32, bytes: u64) {
        let mut s = self.lock();
        s.collected.push(address);
        s.tokens.collected += 1;
        s.owned_bytes = s.owned_bytes.saturating_sub(bytes);
    }

    /// How many collected tokens wait for their batch.
    pub(crate) fn collected_len(&self) -> usize {
        self.lock().collected.len()
    }

    /// The collected tokens' addresses, taken off the queue.
    pub(crate) fn take_collected(&self) -> Vec<u32> {
        std::mem::take(&mut self.lock().collected)
    }

    /// `n` token references released by one batch call.
    pub(crate) fn tokens_released(&self, n: u64) {
        let mut s = self.lock();
        s.tokens.released += n;
        s.tokens.batches += 1;
    }

    pub(crate) fn token_stats(&self) -> TokenStats {
        self.lock().tokens
    }

    pub(crate) fn same(&self, other: &Shared) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One owned reference to a live ByteBuffer in the runtime memory.
///
/// Dropping it queues one `buffer_release`. Clone it with
/// [`Runtime::retain`](crate::Runtime::retain) (which adds a reference), give
/// it to wasm with [`Buffer::into_raw`], or release it now with
/// [`Runtime::release`](crate::Runtime::release). Every operation through
/// it first checks that the buffer is still the one it was made for (see
/// [`StaleHandle`](crate::StaleHandle)).
#[derive(Debug)]
pub struct Buffer {
    pub(crate) address: u32,
    pub(crate) length_in_bytes: u32,
    pub(crate) shared: Option<Shared>,
}

impl Buffer {
    /// The buffer's address: its first data byte in the runtime memory.
    pub fn address(&self) -> u32 {
        self.address
    }

    /// `lengthInBytes` (immutable while the buffer is live).
    pub fn length_in_bytes(&self) -> u32 {
        self.length_in_bytes
    }

    /// Gives up this handle without releasing: the reference now belongs to
    /// whoever receives the address (typically wasm code, which must
    /// eventually call `buffer_release`).
    pub fn into_raw(mut self) -> u32 {
        if let Some(s) = self.shared.take() {
            s.unhold(self.address);
        }
        self.address
    }

    pub(crate) fn shared(&self) -> &Shared {
        self.shared.as_ref().expect("a live handle always has its runtime's state")
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // Still held until the release is applied (see `Runtime::drain`).
        if let Some(s) = self.shared.take() {
            s.push(self.address, self.length_in_bytes);
        }
    }
}

/// A typed list or ByteData: the view `(buffer, offsetInBytes, length,
/// kind)` of `docs/ABI.md`, validated by the runtime's `view_check` when it
/// was made. Owns one reference to its buffer (released on drop).
#[derive(Debug)]
pub struct TypedList {
    pub(crate) buffer: Buffer,
    pub(crate) offset_in_bytes: u32,
    pub(crate) length: u32,
    pub(crate) kind: Kind,
}

impl TypedList {
    /// The list's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The buffer this list views (Dart's `list.buffer`).
    pub fn buffer(&self) -> &Buffer {
        &self.buffer
    }

    /// `offsetInBytes` into the buffer.
    pub fn offset_in_bytes(&self) -> u32 {
        self.offset_in_bytes
    }

    /// Number of elements (for the SIMD kinds: of 16-byte elements, not lanes).
    pub fn length(&self) -> u32 {
        self.length
    }

    /// `elementSizeInBytes` of the kind.
    pub fn element_size_in_bytes(&self) -> u32 {
        self.kind.element_size()
    }

    /// `lengthInBytes` of the view: `length * elementSizeInBytes`.
    pub fn length_in_bytes(&self) -> u32 {
        self.length * self.kind.element_size()
    }

    /// Splits the list into its buffer handle and its view fields
    /// `(offsetInBytes, length, kind)`, e.g. to hand it to wasm.
    pub fn into_parts(self) -> (Buffer, u32, u32, Kind) {
        (self.buffer, self.offset_in_bytes, self.length, self.kind)
    }
}
