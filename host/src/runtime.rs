//! [`Runtime`]: the runtime's exports resolved once from an instance (a
//! linked module, or `runtime.wasm` on its own), and everything the host does
//! through them: buffers, views, slices, externrefs, releases, stats and
//! error decoding.
//!
//! Every method that takes the store mutably first drains the release queue
//! (see the crate docs), so handles dropped since the last call are released
//! before anything else happens. Every method that takes a handle first
//! checks that its buffer is still its own ([`Runtime::check_handle`]).

use crate::buffer::{Buffer, Shared, TokenStats, TypedList};
use crate::element::{Element, lane_size};
use crate::error::{Error, RuntimeError, Stale, StaleHandle};
use crate::memory::RuntimeMemory;
use crate::ownership::{self, Releaser};
use crate::trap::{self, TrapSite};
use crate::{Options, Result};
use multimem_abi::{ErrorCode, FREED_TAG, Kind, LIVE_TAG, MAX_LENGTH, MAX_REFCOUNT};
use wasmtime::{
    AsContext, AsContextMut, ExternRef, Instance, Memory, OwnedRooted, RootScope, StoreContext, TypedFunc, WasmParams,
    WasmResults,
};

/// Counters exported by the runtime (`stats_*` in `docs/ABI.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// Number of live buffers.
    pub live_buffers: u32,
    /// Sum of `lengthInBytes` over live buffers.
    pub live_bytes: u32,
    /// Bytes of runtime memory held by live blocks (headers and rounding included).
    pub heap_bytes: u32,
    /// Size of the runtime memory in 64 KiB pages.
    pub pages: u32,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "live buffers {}, live bytes {}, heap bytes {}, pages {}",
            self.live_buffers, self.live_bytes, self.heap_bytes, self.pages
        )
    }
}

/// The host data of an externref made by [`Runtime::to_externref`]: owns
/// the buffer handle, so collecting the externref queues its release.
#[derive(Debug)]
struct HeldBuffer(Buffer);

/// The runtime's exports and memory in one instance, plus the state shared
/// with every handle made through it.
#[derive(Clone)]
pub struct Runtime {
    memory: RuntimeMemory,
    shared: Shared,
    trap_site: TrapSite,
    last_error: TypedFunc<(), i32>,
    buffer_new: TypedFunc<i32, i32>,
    buffer_retain: TypedFunc<i32, ()>,
    buffer_release: TypedFunc<i32, i32>,
    buffer_refcount: TypedFunc<i32, i32>,
    buffer_check: TypedFunc<i32, i32>,
    view_check: TypedFunc<(i32, i32, i32, i32), i32>,
    stats: [TypedFunc<(), i32>; 4],
    /// `buffer_release_batch` and the queue: only for apps that import
    /// `multimem:gc` (a link may drop the export otherwise).
    releaser: Option<Releaser>,
}

fn typed<P: WasmParams, R: WasmResults>(
    store: &mut impl AsContextMut,
    instance: &Instance,
    options: &Options,
    name: &str,
) -> Result<TypedFunc<P, R>> {
    let full = options.runtime_export(name);
    instance
        .get_typed_func::<P, R>(store.as_context_mut(), &full)
        .map_err(|e| Error::from(e).context(format!("resolving runtime export `{full}`")))
}

/// The little-endian word at `at` of the runtime memory, if it lies inside.
fn word(data: &[u8], at: u32) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at as usize..at as usize + 4)?.try_into().ok()?))
}

/// The error of a slice method on a shared runtime memory.
fn no_slices(what: &str) -> Error {
    Error::msg(format!(
        "{what}: the runtime memory is shared with other threads, so no slice is made over it; copy with \
         Runtime::read_bytes / Runtime::write_bytes"
    ))
}

fn stale(address: u32, found: Stale) -> Error {
    Error::caused(StaleHandle { address, found }, format!("using buffer {address:#x}"))
}

impl Runtime {
    /// Resolves the runtime's exports in `instance` (names from
    /// `multimem_abi`, with [`Options::runtime_export_prefix`]) and, unless
    /// turned off, checks `abi_version`. `buffer_release_batch` is not
    /// needed here: only [`instantiate`](crate::instantiate) of an app that
    /// imports `multimem:gc` requires it.
    pub fn new(store: impl AsContextMut, instance: &Instance, options: &Options) -> Result<Runtime> {
        Self::with_shared(store, instance, options, Shared::default(), false)
    }

    /// [`Runtime::new`] with the handle state that `multimem:gc` tokens,
    /// made before the runtime was resolved, already queue on; with
    /// `ownership` (the app imports `multimem:gc`), `buffer_release_batch`
    /// is required and its queue located.
    pub(crate) fn with_shared(
        mut store: impl AsContextMut,
        instance: &Instance,
        options: &Options,
        shared: Shared,
        ownership: bool,
    ) -> Result<Runtime> {
        let s = &mut store;
        let memory_name = options.runtime_export(multimem_abi::MEMORY_EXPORT);
        let memory = RuntimeMemory::find(s.as_context_mut(), instance, &memory_name)
            .ok_or_else(|| Error::msg(format!("the instance has no runtime memory export `{memory_name}`")))?;
        let last_error: TypedFunc<(), i32> = typed(s, instance, options, "last_error")?;
        let releaser = if ownership {
            let batch: TypedFunc<i32, i32> = typed(s, instance, options, "buffer_release_batch").map_err(|e| {
                e.context(format!(
                    "the app imports `{}`, whose releases need the runtime's `buffer_release_batch` (keep it \
                     exported: --export multimem.buffer_release_batch)",
                    multimem_abi::GC_MODULE
                ))
            })?;
            // `buffer_release_batch(0)` releases nothing and returns the
            // queue's address (in the shared builds, this instance's own).
            let queue =
                batch.call(s.as_context_mut(), 0).map_err(|e| Error::from(e).context("locating the release queue"))?;
            Some(Releaser { batch, last_error: last_error.clone(), memory: memory.clone(), queue: queue as u32 })
        } else {
            None
        };
        let runtime = Runtime {
            memory,
            releaser,
            shared,
            trap_site: TrapSite::default(),
            last_error,
            buffer_new: typed(s, instance, options, "buffer_new")?,
            buffer_retain: typed(s, instance, options, "buffer_retain")?,
            buffer_release: typed(s, instance, options, "buffer_release")?,
            buffer_refcount: typed(s, instance, options, "buffer_refcount")?,
            buffer_check: typed(s, instance, options, "buffer_check")?,
            view_check: typed(s, instance, options, "view_check")?,
            stats: [
                typed(s, instance, options, "stats_live_buffers")?,
                typed(s, instance, options, "stats_live_bytes")?,
                typed(s, instance, options, "stats_heap_bytes")?,
                typed(s, instance, options, "stats_pages")?,
            ],
        };
        if options.check_abi_version {
            let version: TypedFunc<(), i32> = typed(s, instance, options, "abi_version")?;
            let v = version.call(s.as_context_mut(), ())?;
            if v as u32 != multimem_abi::ABI_VERSION {
                return Err(Error::msg(format!(
                    "the runtime reports ABI version {v}, this host implements version {}",
                    multimem_abi::ABI_VERSION
                )));
            }
        }
        Ok(runtime)
    }

    /// The runtime memory (the `own` role); `None` in the shared builds,
    /// whose memory is a [`SharedMemory`](wasmtime::SharedMemory) (see
    /// [`Runtime::runtime_memory`]).
    pub fn memory(&self) -> Option<Memory> {
        match &self.memory {
            RuntimeMemory::Unshared(m) => Some(*m),
            RuntimeMemory::Shared(_) => None,
        }
    }

    /// The runtime memory, shared or not.
    pub fn runtime_memory(&self) -> &RuntimeMemory {
        &self.memory
    }

    /// Calls a runtime export; a trap is the runtime's error (see
    /// `trap.rs`).
    fn call<P: WasmParams, R: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        f: &TypedFunc<P, R>,
        export: &'static str,
        args: P,
    ) -> Result<R> {
        match f.call(store.as_context_mut(), args) {
            Ok(r) => Ok(r),
            Err(e) => Err(self.decode_trap(store, export, e, None)),
        }
    }

    /// Turns the error of a failed call into wasm into this crate's error,
    /// with the runtime's code exactly when the runtime recorded it in this
    /// call. `before` is `last_error` read before a call into *app* code
    /// (`None` for a direct call of a runtime export). See `trap.rs`.
    pub(crate) fn decode_trap(
        &self,
        mut store: impl AsContextMut,
        export: &'static str,
        e: wasmtime::Error,
        before: Option<u32>,
    ) -> Error {
        let after = match self.last_error.call(store.as_context_mut(), ()) {
            Ok(code) => code as u32,
            Err(read) => {
                return Error::from(e)
                    .context(format!("calling `{export}` (reading `last_error` failed too: {read:#})"));
            }
        };
        let verdict = trap::verdict(&e, before, after, || {
            if !self.trap_site.known() {
                self.provoke_runtime_trap(&mut store);
            }
            self.trap_site.is_runtimes(&e)
        });
        if let trap::Verdict::Runtime(_) = verdict
            && before != Some(after)
        {
            self.trap_site.learn(&e);
        }
        trap::report(e, export, verdict)
    }

    /// Makes the runtime trap once (`buffer_new(0x80000000)` records
    /// `BAD_LENGTH`), to learn where its trap function is.
    fn provoke_runtime_trap(&self, mut store: impl AsContextMut) {
        if let Err(e) = self.buffer_new.call(store.as_context_mut(), i32::MIN) {
            self.trap_site.learn(&e);
        }
    }

    /// `last_error` as its raw value (0 when none yet).
    pub(crate) fn last_error_code(&self, mut store: impl AsContextMut) -> Result<u32> {
        Ok(self.last_error.call(store.as_context_mut(), ())? as u32)
    }

    /// Reads `last_error`: the code of the most recent trapping error.
    pub fn last_error(&self, store: impl AsContextMut) -> Result<Option<ErrorCode>> {
        let code = self.last_error_code(store)?;
        Ok(ErrorCode::from_code(code).filter(|c| *c != ErrorCode::Ok))
    }

    /// Applies every queued release (handles dropped and externrefs
    /// collected since the last call). Every `&mut`-store method does this
    /// first; call it directly after dropping handles when you want the
    /// stats to reflect them. Returns how many releases were applied.
    ///
    /// A dropped handle whose buffer is no longer its own (someone else
    /// released its reference; see [`StaleHandle`]) releases nothing: after
    /// applying the others, the first such handle is reported as this
    /// call's error.
    pub fn drain(&self, mut store: impl AsContextMut) -> Result<usize> {
        let tokens = match &self.releaser {
            Some(r) => ownership::apply_batches(&mut store, r, &self.shared)?,
            None => 0,
        };
        let pending = self.shared.take();
        let mut first_stale = None;
        let mut applied = 0;
        for (address, length) in pending {
            let r = self.check_address(&mut store, address, length).and_then(|()| {
                self.call(&mut store, &self.buffer_release, "buffer_release", address as i32).map(|_| ())
            });
            // The reference leaves the host either way.
            self.shared.unhold(address);
            match r {
                Ok(()) => applied += 1,
                Err(e) => {
                    first_stale.get_or_insert(e.context(format!("applying the dropped handle of buffer {address:#x}")));
                }
            }
        }
        match first_stale {
            Some(e) => Err(e),
            None => Ok(applied + tokens),
        }
    }

    /// Counters of the ownership tokens made by `multimem:gc.own` for this
    /// runtime (`docs/ABI.md`, "Ownership by GC objects").
    pub fn token_stats(&self) -> TokenStats {
        self.shared.token_stats()
    }

    pub(crate) fn releaser(&self) -> Option<&Releaser> {
        self.releaser.as_ref()
    }

    /// Number of releases queued and not yet applied (dropped handles and
    /// collected tokens).
    pub fn pending_releases(&self) -> usize {
        self.shared.len() + self.shared.collected_len()
    }

    /// Runs wasmtime's GC on the store (collecting unreachable externrefs
    /// and so queueing their releases), then applies the queue.
    pub fn collect<T: 'static>(&self, store: &mut wasmtime::Store<T>) -> Result<usize> {
        store.gc(None).map_err(|e| Error::from(e).context("running wasmtime's GC"))?;
        self.drain(store)
    }

    fn handle(&self, address: u32, length_in_bytes: u32) -> Buffer {
        self.shared.hold(address);
        Buffer { address, length_in_bytes, shared: Some(self.shared.clone()) }
    }

    fn check_mine(&self, buffer: &Buffer) -> Result<()> {
        if !buffer.shared().same(&self.shared) {
            return Err(Error::msg(format!("buffer {:#x} belongs to another runtime instance", buffer.address)));
        }
        Ok(())
    }

    /// Checks that `buffer` is still the buffer its handle was made for:
    /// the runtime's `buffer_check` says it is live (exact: `docs/ABI.md`,
    /// "Which addresses are buffers"), it has the handle's length, and at
    /// least as many references as the host's handles to it hold. Otherwise
    /// a [`StaleHandle`] error: its reference was released by someone else,
    /// and the host must not act on what the address holds now.
    ///
    /// What no check can tell (as `FREED` cannot, `docs/ABI.md`): that the
    /// block was freed and taken again by a buffer of the same address and
    /// length, which holds at least as many references.
    pub fn check_handle(&self, mut store: impl AsContextMut, buffer: &Buffer) -> Result<()> {
        self.check_mine(buffer)?;
        self.check_address(&mut store, buffer.address, buffer.length_in_bytes)
    }

    fn check_address(&self, mut store: impl AsContextMut, address: u32, length: u32) -> Result<()> {
        let code = self.call(&mut store, &self.buffer_check, "buffer_check", address as i32)?;
        if let Some(code) = ErrorCode::from_code(code as u32).filter(|c| *c != ErrorCode::Ok) {
            return Err(stale(address, Stale::Code(code)));
        }
        self.check_header(|at| self.memory.word(&store, at), address, length)
    }

    /// The checks of [`Runtime::check_handle`] that need no call into wasm,
    /// from the header alone (the slice methods, which only borrow the
    /// store, use them): a live tag and refcount, the handle's length,
    /// enough references.
    fn check_header(&self, word: impl Fn(u32) -> Option<u32>, address: u32, length: u32) -> Result<()> {
        use ErrorCode::{Freed, NotABuffer};
        let at = |k: u32| word(address.wrapping_sub(k));
        let (Some(tag), Some(len), Some(rc)) = (at(12), at(8), at(4)) else {
            return Err(stale(address, Stale::Code(NotABuffer)));
        };
        if tag != address ^ LIVE_TAG || !(1..=MAX_REFCOUNT).contains(&rc) {
            return Err(stale(address, Stale::Code(if tag == FREED_TAG { Freed } else { NotABuffer })));
        }
        if len != length {
            return Err(stale(address, Stale::Length { expected: length, found: len }));
        }
        let held = self.shared.held(address);
        if rc < held {
            return Err(stale(address, Stale::Refcount { held, found: rc }));
        }
        Ok(())
    }

    /// `ByteBuffer(lengthInBytes)`: a new zero-filled buffer.
    pub fn buffer_new(&self, mut store: impl AsContextMut, length_in_bytes: u32) -> Result<Buffer> {
        self.drain(&mut store)?;
        let address = self
            .call(&mut store, &self.buffer_new, "buffer_new", length_in_bytes as i32)
            .map_err(|e| e.context(format!("allocating a buffer of {length_in_bytes} bytes")))?;
        Ok(self.handle(address as u32, length_in_bytes))
    }

    /// Takes ownership of one reference to `address` that wasm code handed
    /// to the host (for example a buffer an app function returned). The
    /// address is validated with `buffer_check` first.
    pub fn adopt(&self, mut store: impl AsContextMut, address: u32) -> Result<Buffer> {
        self.drain(&mut store)?;
        let what = || format!("adopting buffer {address:#x} handed to the host");
        let check = self.call(&mut store, &self.buffer_check, "buffer_check", address as i32)?;
        check_result(check, "buffer_check", what)?;
        let length = self
            .memory
            .word(&store, address.wrapping_sub(8))
            .ok_or_else(|| Error::msg("buffer header outside the runtime memory").context(what()))?;
        Ok(self.handle(address, length))
    }

    /// Adds a reference (`buffer_retain`) and returns a second handle.
    pub fn retain(&self, mut store: impl AsContextMut, buffer: &Buffer) -> Result<Buffer> {
        self.drain(&mut store)?;
        self.check_handle(&mut store, buffer)?;
        self.call(&mut store, &self.buffer_retain, "buffer_retain", buffer.address as i32)
            .map_err(|e| e.context(format!("retaining buffer {:#x}", buffer.address)))?;
        Ok(self.handle(buffer.address, buffer.length_in_bytes))
    }

    /// Releases the handle now instead of on drop; returns the remaining
    /// refcount (0 when the buffer was freed). A stale handle releases
    /// nothing and is an error.
    pub fn release(&self, mut store: impl AsContextMut, buffer: Buffer) -> Result<u32> {
        self.drain(&mut store)?;
        self.check_mine(&buffer)?;
        let (address, length) = (buffer.address, buffer.length_in_bytes);
        let checked = self.check_address(&mut store, address, length);
        // The handle's reference leaves the host either way: a stale one is
        // not released (it is not the host's any more), nor queued.
        buffer.into_raw();
        checked?;
        let left = self
            .call(&mut store, &self.buffer_release, "buffer_release", address as i32)
            .map_err(|e| e.context(format!("releasing buffer {address:#x}")))?;
        Ok(left as u32)
    }

    /// The buffer's current refcount.
    pub fn refcount(&self, mut store: impl AsContextMut, buffer: &Buffer) -> Result<u32> {
        self.drain(&mut store)?;
        self.check_handle(&mut store, buffer)?;
        let n = self
            .call(&mut store, &self.buffer_refcount, "buffer_refcount", buffer.address as i32)
            .map_err(|e| e.context(format!("reading the refcount of buffer {:#x}", buffer.address)))?;
        Ok(n as u32)
    }

    /// A new zero-filled list of `length` elements of `kind` (Dart's
    /// `Uint8List(length)` etc.), in a buffer of its own. More than
    /// `MAX_LENGTH` bytes is `BAD_LENGTH`, as for `buffer_new`.
    pub fn list_new(&self, mut store: impl AsContextMut, kind: Kind, length: u32) -> Result<TypedList> {
        let what = || format!("creating a {} of {length} elements", kind.name());
        let Some(bytes) = length.checked_mul(kind.element_size()).filter(|b| *b <= MAX_LENGTH) else {
            return Err(Error::caused(RuntimeError::new(ErrorCode::BadLength, "list_new"), what()));
        };
        let buffer = self.buffer_new(&mut store, bytes).map_err(|e| e.context(what()))?;
        Ok(TypedList { buffer, offset_in_bytes: 0, length, kind })
    }

    /// `kind.view(buffer, offsetInBytes, length)`: a list over an existing
    /// buffer, validated by the runtime's `view_check`; adds a reference.
    pub fn view(
        &self,
        mut store: impl AsContextMut,
        buffer: &Buffer,
        kind: Kind,
        offset_in_bytes: u32,
        length: u32,
    ) -> Result<TypedList> {
        self.drain(&mut store)?;
        self.check_handle(&mut store, buffer)?;
        let what = || {
            format!(
                "viewing buffer {:#x} as {}(offsetInBytes {offset_in_bytes}, length {length})",
                buffer.address,
                kind.name()
            )
        };
        let args = (kind.code() as i32, buffer.address as i32, offset_in_bytes as i32, length as i32);
        let check = self.call(&mut store, &self.view_check, "view_check", args).map_err(|e| e.context(what()))?;
        check_result(check, "view_check", what)?;
        let buffer = self.retain(&mut store, buffer)?;
        Ok(TypedList { buffer, offset_in_bytes, length, kind })
    }

    /// Dart's `sublistView(list, start, end)`: same buffer and kind, elements
    /// `start..end`; adds a reference.
    pub fn sublist_view(
        &self,
        mut store: impl AsContextMut,
        list: &TypedList,
        start: u32,
        end: u32,
    ) -> Result<TypedList> {
        if start > end || end > list.length {
            return Err(Error::caused(
                RuntimeError::new(ErrorCode::Range, "sublistView"),
                format!("sublistView({start}, {end}) of a {} of length {}", list.kind.name(), list.length),
            ));
        }
        let offset = list.offset_in_bytes + start * list.kind.element_size();
        self.view(&mut store, &list.buffer, list.kind, offset, end - start)
    }

    /// The bytes of `buffer`, from the memory `data`, after the header
    /// checks of [`Runtime::check_handle`].
    fn range(&self, data_len: usize, buffer: &Buffer, start: usize, len: usize) -> Result<std::ops::Range<usize>> {
        let end = start.checked_add(len).filter(|e| *e <= data_len);
        end.map(|e| start..e)
            .ok_or_else(|| Error::msg(format!("buffer {:#x} lies outside the runtime memory", buffer.address)))
    }

    /// The buffer's bytes, borrowed from the store: re-derived from the
    /// memory on every call, so it is valid after any growth. The handle is
    /// checked from the header first (a live tag and refcount, its length,
    /// enough references; see [`Runtime::check_handle`]).
    pub fn bytes<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>, buffer: &Buffer) -> Result<&'a [u8]> {
        self.check_mine(buffer)?;
        let RuntimeMemory::Unshared(m) = &self.memory else { return Err(no_slices("bytes")) };
        let data = m.data(store);
        self.check_header(|at| word(data, at), buffer.address, buffer.length_in_bytes)?;
        Ok(&data[self.range(data.len(), buffer, buffer.address as usize, buffer.length_in_bytes as usize)?])
    }

    /// The buffer's bytes, mutably; see [`Runtime::bytes`].
    pub fn bytes_mut<'a, T: 'static>(
        &self,
        store: impl Into<wasmtime::StoreContextMut<'a, T>>,
        buffer: &Buffer,
    ) -> Result<&'a mut [u8]> {
        self.check_mine(buffer)?;
        let RuntimeMemory::Unshared(m) = &self.memory else { return Err(no_slices("bytes_mut")) };
        let data = m.data_mut(store);
        self.check_header(|at| word(data, at), buffer.address, buffer.length_in_bytes)?;
        let r = self.range(data.len(), buffer, buffer.address as usize, buffer.length_in_bytes as usize)?;
        Ok(&mut data[r])
    }

    /// Copies `dst.len()` bytes of `buffer` from `offset` on into `dst`,
    /// after the header checks of [`Runtime::bytes`]. Works on every build,
    /// and is the way to read a shared runtime memory (no slice is made over
    /// it; a thread writing the same bytes at the same time races).
    pub fn read_bytes(&self, store: impl AsContext, buffer: &Buffer, offset: u32, dst: &mut [u8]) -> Result<()> {
        let at = self.copy_range(&store, buffer, offset, dst.len())?;
        self.memory.read(&store, at, dst).ok_or_else(|| self.outside(buffer))
    }

    /// Copies `src` into `buffer` at `offset`; see [`Runtime::read_bytes`].
    pub fn write_bytes(&self, mut store: impl AsContextMut, buffer: &Buffer, offset: u32, src: &[u8]) -> Result<()> {
        let at = self.copy_range(&store, buffer, offset, src.len())?;
        self.memory.write(&mut store, at, src).ok_or_else(|| self.outside(buffer))
    }

    /// The memory address of `len` bytes at `offset` of `buffer`, after the
    /// header checks; `RANGE` past its end.
    fn copy_range(&self, store: &impl AsContext, buffer: &Buffer, offset: u32, len: usize) -> Result<usize> {
        self.check_mine(buffer)?;
        self.check_header(|at| self.memory.word(store, at), buffer.address, buffer.length_in_bytes)?;
        if offset as u64 + len as u64 > buffer.length_in_bytes as u64 {
            return Err(Error::caused(
                RuntimeError::new(ErrorCode::Range, "read_bytes/write_bytes"),
                format!("{len} bytes at offset {offset} of a buffer of {} bytes", buffer.length_in_bytes),
            ));
        }
        Ok(buffer.address as usize + offset as usize)
    }

    fn outside(&self, buffer: &Buffer) -> Error {
        Error::msg(format!("buffer {:#x} lies outside the runtime memory", buffer.address))
    }

    /// `instance_may_wait(1)` (shared builds only, `docs/ABI.md`
    /// "Threads"): lets this instance block in `memory.atomic.wait32` when
    /// the heap lock is contended, instead of spinning. Host threads may
    /// always block; [`SharedHeap`](crate::SharedHeap) calls it for every
    /// instance it makes. An error for a build without the export.
    pub fn set_may_wait(&self, mut store: impl AsContextMut, instance: &Instance, options: &Options) -> Result<()> {
        let f: TypedFunc<i32, ()> = typed(&mut store, instance, options, "instance_may_wait")
            .map_err(|e| e.context("only the shared builds of the runtime export `instance_may_wait`"))?;
        f.call(store.as_context_mut(), 1).map_err(|e| Error::from(e).context("calling `instance_may_wait`"))
    }

    fn list_range<E: Element>(&self, list: &TypedList) -> Result<(usize, usize)> {
        self.check_mine(&list.buffer)?;
        if !E::views(list.kind) {
            return Err(Error::msg(format!(
                "a {} cannot be viewed as a slice of {}",
                list.kind.name(),
                std::any::type_name::<E>()
            )));
        }
        debug_assert_eq!(lane_size(list.kind) as usize, std::mem::size_of::<E>());
        let start = list.buffer.address as usize + list.offset_in_bytes as usize;
        let lanes = list.length as usize * list.kind.lanes() as usize;
        Ok((start, lanes))
    }

    /// The list's elements (lanes for the SIMD kinds) as a slice, borrowed
    /// from the store and re-derived from the memory on every call, after
    /// the header checks of [`Runtime::bytes`]. ByteData is viewed as `u8`
    /// or `i8` (use `from_be_bytes` for its big-endian accessors).
    pub fn elements<'a, E: Element, T: 'static>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
        list: &TypedList,
    ) -> Result<&'a [E]> {
        let (start, lanes) = self.list_range::<E>(list)?;
        let RuntimeMemory::Unshared(m) = &self.memory else { return Err(no_slices("elements")) };
        let data = m.data(store);
        self.check_header(|at| word(data, at), list.buffer.address, list.buffer.length_in_bytes)?;
        let bytes = &data[self.range(data.len(), &list.buffer, start, lanes * std::mem::size_of::<E>())?];
        // SAFETY: `E` is a plain scalar of this size (Element's contract);
        // align_to only yields the middle part when it is aligned.
        let (pre, mid, _) = unsafe { bytes.align_to::<E>() };
        if !pre.is_empty() || mid.len() != lanes {
            return Err(Error::msg(format!("list at {start:#x} is not aligned for {}", std::any::type_name::<E>())));
        }
        Ok(mid)
    }

    /// The list's elements, mutably; see [`Runtime::elements`].
    pub fn elements_mut<'a, E: Element, T: 'static>(
        &self,
        store: impl Into<wasmtime::StoreContextMut<'a, T>>,
        list: &TypedList,
    ) -> Result<&'a mut [E]> {
        let (start, lanes) = self.list_range::<E>(list)?;
        let RuntimeMemory::Unshared(m) = &self.memory else { return Err(no_slices("elements_mut")) };
        let data = m.data_mut(store);
        self.check_header(|at| word(&*data, at), list.buffer.address, list.buffer.length_in_bytes)?;
        let r = self.range(data.len(), &list.buffer, start, lanes * std::mem::size_of::<E>())?;
        // SAFETY: as in `elements`.
        let (pre, mid, _) = unsafe { data[r].align_to_mut::<E>() };
        if !pre.is_empty() || mid.len() != lanes {
            return Err(Error::msg(format!("list at {start:#x} is not aligned for {}", std::any::type_name::<E>())));
        }
        Ok(mid)
    }

    /// Hands the buffer to wasm as an `externref` that owns the reference.
    ///
    /// The result is an [`OwnedRooted`]: it roots the externref until you
    /// drop it, whether or not a [`RootScope`] is open, and typed wasm
    /// functions take it as an argument directly. Once neither the host nor
    /// wasm holds it, wasmtime's next GC collects it and its release is
    /// queued (applied on the next entry, or by [`Runtime::collect`]). See
    /// the crate docs, "Externrefs".
    pub fn to_externref(&self, mut store: impl AsContextMut, buffer: Buffer) -> Result<OwnedRooted<ExternRef>> {
        self.drain(&mut store)?;
        self.check_handle(&mut store, &buffer)?;
        let address = buffer.address;
        let what = || format!("wrapping buffer {address:#x} in an externref");
        // The LIFO root `ExternRef::new` makes ends with this scope; only
        // the owned root leaves it.
        let mut scope = RootScope::new(&mut store);
        let r = ExternRef::new(&mut scope, HeldBuffer(buffer)).map_err(|e| Error::from(e).context(what()))?;
        r.to_owned_rooted(&mut scope).map_err(|e| Error::from(e).context(what()))
    }

    /// The buffer held by an externref made with [`Runtime::to_externref`],
    /// as a new handle (adds a reference). `None` for other externrefs.
    /// Takes a [`Rooted`](wasmtime::Rooted) or an [`OwnedRooted`] (both
    /// dereference to [`ExternRef`]).
    pub fn from_externref(&self, mut store: impl AsContextMut, r: &ExternRef) -> Result<Option<Buffer>> {
        self.drain(&mut store)?;
        let held = r
            .data(store.as_context())
            .map_err(|e| Error::from(e).context("reading an externref's host data"))?
            .and_then(|d| d.downcast_ref::<HeldBuffer>())
            .map(|h| (h.0.address, h.0.length_in_bytes, h.0.shared().same(&self.shared)));
        match held {
            Some((address, length, true)) => {
                self.check_address(&mut store, address, length)?;
                // Add the reference the new handle owns, then make the
                // handle: one made first would, on a failed retain, queue
                // a release of a reference nobody took.
                self.call(&mut store, &self.buffer_retain, "buffer_retain", address as i32)?;
                Ok(Some(self.handle(address, length)))
            }
            _ => Ok(None),
        }
    }

    /// The runtime's counters, after applying queued releases.
    pub fn stats(&self, mut store: impl AsContextMut) -> Result<Stats> {
        self.drain(&mut store)?;
        let mut v = [0u32; 4];
        for (slot, f) in v.iter_mut().zip(&self.stats) {
            *slot = f.call(store.as_context_mut(), ()).map_err(|e| Error::from(e).context("reading stats"))? as u32;
        }
        Ok(Stats { live_buffers: v[0], live_bytes: v[1], heap_bytes: v[2], pages: v[3] })
    }

    /// Fails unless every buffer has been released (after applying queued
    /// releases): the leak check every program and test ends with.
    pub fn check_no_leaks(&self, store: impl AsContextMut) -> Result<Stats> {
        let stats = self.stats(store)?;
        if stats.live_buffers != 0 || stats.live_bytes != 0 {
            return Err(Error::msg(format!(
                "leak: {} buffer(s) holding {} bytes are still live at exit",
                stats.live_buffers, stats.live_bytes
            )));
        }
        Ok(stats)
    }
}

/// The result of a check export (`buffer_check`, `view_check`) that
/// returns an error code: 0 is `Ok`, anything else its [`RuntimeError`],
/// with `what` the host was doing.
fn check_result(check: i32, export: &'static str, what: impl FnOnce() -> String) -> Result<()> {
    if check == 0 {
        return Ok(());
    }
    match ErrorCode::from_code(check as u32) {
        Some(code) => Err(Error::caused(RuntimeError::new(code, export), what())),
        None => Err(Error::msg(format!("`{export}` returned unknown code {check}")).context(what())),
    }
}
