//! Owned handles: [`Buffer`] (one reference to a ByteBuffer) and
//! [`TypedList`] (a view `(buffer, offsetInBytes, length, kind)` that owns
//! one reference to its buffer). Dropping a handle queues its release on the
//! runtime's [`ReleaseQueue`]; the queue is applied the next time the store
//! is entered through [`Runtime`](crate::Runtime).

use multimem_abi::Kind;
use std::sync::{Arc, Mutex};

/// Addresses whose reference was dropped on the host side and still has to
/// be given back with `buffer_release`. Shared by a runtime and all of its
/// handles; `Send + Sync` because externref host data must be.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReleaseQueue(pub(crate) Arc<Mutex<Vec<u32>>>);

impl ReleaseQueue {
    pub(crate) fn push(&self, address: u32) {
        // A poisoned lock only means another thread panicked while pushing;
        // the Vec itself is still sound.
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(address);
    }

    pub(crate) fn take(&self) -> Vec<u32> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub(crate) fn same(&self, other: &ReleaseQueue) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One owned reference to a live ByteBuffer in the runtime memory.
///
/// Dropping it queues one `buffer_release`. Clone it with
/// [`Runtime::retain`](crate::Runtime::retain) (which adds a reference), give
/// it to wasm with [`Buffer::into_raw`], or release it now with
/// [`Runtime::release`](crate::Runtime::release).
#[derive(Debug)]
pub struct Buffer {
    pub(crate) address: u32,
    pub(crate) length_in_bytes: u32,
    pub(crate) queue: Option<ReleaseQueue>,
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
        self.queue = None;
        self.address
    }

    pub(crate) fn queue(&self) -> &ReleaseQueue {
        self.queue.as_ref().expect("a live handle always has its queue")
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(q) = self.queue.take() {
            q.push(self.address);
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
