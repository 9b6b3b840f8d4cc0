//! [`Runtime`]: the runtime's exports resolved once from an instance (a
//! linked module, or `runtime.wasm` on its own), and everything the host does
//! through them: buffers, views, slices, externrefs, releases, stats and
//! error decoding.
//!
//! Every method that takes the store mutably first drains the release queue
//! (see the crate docs), so handles dropped since the last call are released
//! before anything else happens.

use crate::buffer::{Buffer, ReleaseQueue, TypedList};
use crate::element::{Element, lane_size};
use crate::error::RuntimeError;
use crate::{Options, Result};
use anyhow::{Context as _, anyhow, bail};
use multimem_abi::{ErrorCode, Kind};
use wasmtime::{
    AsContext, AsContextMut, ExternRef, Instance, Memory, Rooted, StoreContext, Trap, TypedFunc, WasmParams,
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

/// The runtime's exports and memory in one instance, plus the release queue
/// shared with every handle made through it.
#[derive(Clone)]
pub struct Runtime {
    memory: Memory,
    queue: ReleaseQueue,
    last_error: TypedFunc<(), i32>,
    buffer_new: TypedFunc<i32, i32>,
    buffer_retain: TypedFunc<i32, ()>,
    buffer_release: TypedFunc<i32, i32>,
    buffer_refcount: TypedFunc<i32, i32>,
    buffer_check: TypedFunc<i32, i32>,
    view_check: TypedFunc<(i32, i32, i32, i32), i32>,
    stats: [TypedFunc<(), i32>; 4],
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
        .map_err(anyhow::Error::from)
        .with_context(|| format!("resolving runtime export `{full}`"))
}

impl Runtime {
    /// Resolves the runtime's exports in `instance` (names from
    /// `multimem_abi`, with [`Options::runtime_export_prefix`]) and, unless
    /// turned off, checks `abi_version`.
    pub fn new(mut store: impl AsContextMut, instance: &Instance, options: &Options) -> Result<Runtime> {
        let s = &mut store;
        let memory_name = options.runtime_export(multimem_abi::MEMORY_EXPORT);
        let memory = instance
            .get_memory(s.as_context_mut(), &memory_name)
            .with_context(|| format!("the instance has no runtime memory export `{memory_name}`"))?;
        let runtime = Runtime {
            memory,
            queue: ReleaseQueue::default(),
            last_error: typed(s, instance, options, "last_error")?,
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
            let v = version.call(s.as_context_mut(), ()).map_err(anyhow::Error::from)?;
            if v as u32 != multimem_abi::ABI_VERSION {
                bail!(
                    "the runtime reports ABI version {v}, this host implements version {}",
                    multimem_abi::ABI_VERSION
                );
            }
        }
        Ok(runtime)
    }

    /// The runtime memory (the `own` role).
    pub fn memory(&self) -> Memory {
        self.memory
    }

    /// Calls a runtime export, decoding a trap into a [`RuntimeError`].
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

    /// Turns a wasmtime error from a call into an error with the runtime's
    /// code when the call trapped after recording one. `before` is the code
    /// `last_error` held before a call into *app* code (`None` for a direct
    /// call of a runtime export, whose trap is always the runtime's own):
    /// if the code did not change, the trap may not be the runtime's.
    pub(crate) fn decode_trap(
        &self,
        mut store: impl AsContextMut,
        export: &'static str,
        e: wasmtime::Error,
        before: Option<Option<ErrorCode>>,
    ) -> anyhow::Error {
        let trapped = e.downcast_ref::<Trap>().is_some();
        let e = anyhow::Error::from(e);
        if trapped
            && let Ok(code) = self.last_error.call(store.as_context_mut(), ())
            && let Some(code) = ErrorCode::from_code(code as u32)
            && code != ErrorCode::Ok
        {
            let maybe_stale = before.is_some_and(|b| b == Some(code));
            return anyhow::Error::new(RuntimeError { code, export, maybe_stale }).context(format!("{e:#}"));
        }
        e.context(format!("calling `{export}`"))
    }

    /// Reads `last_error`: the code of the most recent trapping error.
    pub fn last_error(&self, mut store: impl AsContextMut) -> Result<Option<ErrorCode>> {
        let code = self.last_error.call(store.as_context_mut(), ()).map_err(anyhow::Error::from)?;
        Ok(ErrorCode::from_code(code as u32).filter(|c| *c != ErrorCode::Ok))
    }

    /// Applies every queued release (handles dropped and externrefs
    /// collected since the last call). Every `&mut`-store method does this
    /// first; call it directly after dropping handles when you want the
    /// stats to reflect them. Returns how many releases were applied.
    pub fn drain(&self, mut store: impl AsContextMut) -> Result<usize> {
        let pending = self.queue.take();
        let n = pending.len();
        for (i, address) in pending.iter().enumerate() {
            if let Err(e) = self.call(store.as_context_mut(), &self.buffer_release, "buffer_release", *address as i32) {
                // Keep the ones not yet tried, so nothing is lost.
                for a in &pending[i + 1..] {
                    self.queue.push(*a);
                }
                return Err(e.context(format!("applying the queued release of buffer {address:#x}")));
            }
        }
        Ok(n)
    }

    /// Number of releases queued and not yet applied.
    pub fn pending_releases(&self) -> usize {
        self.queue.len()
    }

    /// Runs wasmtime's GC on the store (collecting unreachable externrefs
    /// and so queueing their releases), then applies the queue.
    pub fn collect<T: 'static>(&self, store: &mut wasmtime::Store<T>) -> Result<usize> {
        store.gc(None).map_err(anyhow::Error::from).context("running wasmtime's GC")?;
        self.drain(store)
    }

    fn handle(&self, address: u32, length_in_bytes: u32) -> Buffer {
        Buffer { address, length_in_bytes, queue: Some(self.queue.clone()) }
    }

    fn check_mine(&self, buffer: &Buffer) -> Result<()> {
        if !buffer.queue().same(&self.queue) {
            bail!("buffer {:#x} belongs to another runtime instance", buffer.address);
        }
        Ok(())
    }

    /// `ByteBuffer(lengthInBytes)`: a new zero-filled buffer.
    pub fn buffer_new(&self, mut store: impl AsContextMut, length_in_bytes: u32) -> Result<Buffer> {
        self.drain(&mut store)?;
        let address = self
            .call(&mut store, &self.buffer_new, "buffer_new", length_in_bytes as i32)
            .with_context(|| format!("allocating a buffer of {length_in_bytes} bytes"))?;
        Ok(self.handle(address as u32, length_in_bytes))
    }

    /// Takes ownership of one reference to `address` that wasm code handed
    /// to the host (for example a buffer an app function returned). The
    /// address is validated with `buffer_check` first.
    pub fn adopt(&self, mut store: impl AsContextMut, address: u32) -> Result<Buffer> {
        self.drain(&mut store)?;
        let check = self.call(&mut store, &self.buffer_check, "buffer_check", address as i32)?;
        check_result(check, "buffer_check")
            .with_context(|| format!("adopting buffer {address:#x} handed to the host"))?;
        let length = self.length_of(&store, address)?;
        Ok(self.handle(address, length))
    }

    /// Reads `lengthInBytes` at `buffer - 8`.
    fn length_of(&self, store: &impl AsContext, address: u32) -> Result<u32> {
        let at = address.wrapping_add_signed(multimem_abi::header::LENGTH) as usize;
        let data = self.memory.data(store.as_context());
        let bytes = data.get(at..at + 4).context("buffer header outside the runtime memory")?;
        Ok(u32::from_le_bytes(bytes.try_into().unwrap()))
    }

    /// Adds a reference (`buffer_retain`) and returns a second handle.
    pub fn retain(&self, mut store: impl AsContextMut, buffer: &Buffer) -> Result<Buffer> {
        self.drain(&mut store)?;
        self.check_mine(buffer)?;
        self.call(&mut store, &self.buffer_retain, "buffer_retain", buffer.address as i32)
            .with_context(|| format!("retaining buffer {:#x}", buffer.address))?;
        Ok(self.handle(buffer.address, buffer.length_in_bytes))
    }

    /// Releases the handle now instead of on drop; returns the remaining
    /// refcount (0 when the buffer was freed).
    pub fn release(&self, mut store: impl AsContextMut, buffer: Buffer) -> Result<u32> {
        self.drain(&mut store)?;
        self.check_mine(&buffer)?;
        let address = buffer.into_raw();
        let left = self
            .call(&mut store, &self.buffer_release, "buffer_release", address as i32)
            .with_context(|| format!("releasing buffer {address:#x}"))?;
        Ok(left as u32)
    }

    /// The buffer's current refcount.
    pub fn refcount(&self, mut store: impl AsContextMut, buffer: &Buffer) -> Result<u32> {
        self.drain(&mut store)?;
        self.check_mine(buffer)?;
        let n = self
            .call(&mut store, &self.buffer_refcount, "buffer_refcount", buffer.address as i32)
            .with_context(|| format!("reading the refcount of buffer {:#x}", buffer.address))?;
        Ok(n as u32)
    }

    /// A new zero-filled list of `length` elements of `kind` (Dart's
    /// `Uint8List(length)` etc.), in a buffer of its own.
    pub fn list_new(&self, mut store: impl AsContextMut, kind: Kind, length: u32) -> Result<TypedList> {
        let bytes = length
            .checked_mul(kind.element_size())
            .filter(|b| *b <= multimem_abi::MAX_LENGTH)
            .with_context(|| format!("{length} elements of {} exceed the largest buffer", kind.name()))?;
        let buffer = self
            .buffer_new(&mut store, bytes)
            .with_context(|| format!("creating a {} of {length} elements", kind.name()))?;
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
        self.check_mine(buffer)?;
        let what = || {
            format!(
                "viewing buffer {:#x} as {}(offsetInBytes {offset_in_bytes}, length {length})",
                buffer.address,
                kind.name()
            )
        };
        let args = (kind.code() as i32, buffer.address as i32, offset_in_bytes as i32, length as i32);
        let check = self.call(&mut store, &self.view_check, "view_check", args).with_context(what)?;
        check_result(check, "view_check").with_context(what)?;
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
            return Err(anyhow::Error::new(RuntimeError {
                code: ErrorCode::Range,
                export: "sublistView",
                maybe_stale: false,
            })
            .context(format!(
                "sublistView({start}, {end}) of a {} of length {}",
                list.kind.name(),
                list.length
            )));
        }
        let offset = list.offset_in_bytes + start * list.kind.element_size();
        self.view(&mut store, &list.buffer, list.kind, offset, end - start)
    }

    /// The buffer's bytes, borrowed from the store: re-derived from the
    /// memory on every call, so it is valid after any growth.
    pub fn bytes<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>, buffer: &Buffer) -> Result<&'a [u8]> {
        self.check_mine(buffer)?;
        let data = self.memory.data(store);
        let (a, n) = (buffer.address as usize, buffer.length_in_bytes as usize);
        data.get(a..a + n).context("buffer lies outside the runtime memory")
    }

    /// The buffer's bytes, mutably; see [`Runtime::bytes`].
    pub fn bytes_mut<'a, T: 'static>(
        &self,
        store: impl Into<wasmtime::StoreContextMut<'a, T>>,
        buffer: &Buffer,
    ) -> Result<&'a mut [u8]> {
        self.check_mine(buffer)?;
        let data = self.memory.data_mut(store);
        let (a, n) = (buffer.address as usize, buffer.length_in_bytes as usize);
        data.get_mut(a..a + n).context("buffer lies outside the runtime memory")
    }

    fn list_range<E: Element>(&self, list: &TypedList) -> Result<(usize, usize)> {
        self.check_mine(&list.buffer)?;
        if !E::views(list.kind) {
            bail!("a {} cannot be viewed as a slice of {}", list.kind.name(), std::any::type_name::<E>());
        }
        debug_assert_eq!(lane_size(list.kind) as usize, std::mem::size_of::<E>());
        let start = list.buffer.address as usize + list.offset_in_bytes as usize;
        let lanes = list.length as usize * list.kind.lanes() as usize;
        Ok((start, lanes))
    }

    /// The list's elements (lanes for the SIMD kinds) as a slice, borrowed
    /// from the store and re-derived from the memory on every call.
    /// ByteData is viewed as `u8` or `i8` (use `from_be_bytes` for its
    /// big-endian accessors).
    pub fn elements<'a, E: Element, T: 'static>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
        list: &TypedList,
    ) -> Result<&'a [E]> {
        let (start, lanes) = self.list_range::<E>(list)?;
        let data = self.memory.data(store);
        let bytes = data
            .get(start..start + lanes * std::mem::size_of::<E>())
            .context("list lies outside the runtime memory")?;
        // SAFETY: `E` is a plain scalar of this size (Element's contract);
        // align_to only yields the middle part when it is aligned.
        let (pre, mid, _) = unsafe { bytes.align_to::<E>() };
        if !pre.is_empty() || mid.len() != lanes {
            bail!("list at {start:#x} is not aligned for {}", std::any::type_name::<E>());
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
        let data = self.memory.data_mut(store);
        let bytes = data
            .get_mut(start..start + lanes * std::mem::size_of::<E>())
            .context("list lies outside the runtime memory")?;
        // SAFETY: as in `elements`.
        let (pre, mid, _) = unsafe { bytes.align_to_mut::<E>() };
        if !pre.is_empty() || mid.len() != lanes {
            bail!("list at {start:#x} is not aligned for {}", std::any::type_name::<E>());
        }
        Ok(mid)
    }

    /// Hands the buffer to wasm as an `externref` that owns the reference:
    /// when wasmtime's GC collects it, the release is queued and applied on
    /// the next entry (or by [`Runtime::collect`]).
    pub fn to_externref(&self, mut store: impl AsContextMut, buffer: Buffer) -> Result<Rooted<ExternRef>> {
        self.drain(&mut store)?;
        self.check_mine(&buffer)?;
        let address = buffer.address;
        ExternRef::new(store.as_context_mut(), HeldBuffer(buffer))
            .map_err(anyhow::Error::from)
            .with_context(|| format!("wrapping buffer {address:#x} in an externref"))
    }

    /// The buffer held by an externref made with [`Runtime::to_externref`],
    /// as a new handle (adds a reference). `None` for other externrefs.
    pub fn from_externref(&self, mut store: impl AsContextMut, r: &Rooted<ExternRef>) -> Result<Option<Buffer>> {
        self.drain(&mut store)?;
        let held = r
            .data(store.as_context())
            .map_err(anyhow::Error::from)
            .context("reading an externref's host data")?
            .and_then(|d| d.downcast_ref::<HeldBuffer>())
            .map(|h| (h.0.address, h.0.length_in_bytes, h.0.queue().same(&self.queue)));
        match held {
            Some((address, length, true)) => {
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
            *slot = f.call(store.as_context_mut(), ()).map_err(anyhow::Error::from).context("reading stats")? as u32;
        }
        Ok(Stats { live_buffers: v[0], live_bytes: v[1], heap_bytes: v[2], pages: v[3] })
    }

    /// Fails unless every buffer has been released (after applying queued
    /// releases): the leak check every program and test ends with.
    pub fn check_no_leaks(&self, store: impl AsContextMut) -> Result<Stats> {
        let stats = self.stats(store)?;
        if stats.live_buffers != 0 || stats.live_bytes != 0 {
            bail!("leak: {} buffer(s) holding {} bytes are still live at exit", stats.live_buffers, stats.live_bytes);
        }
        Ok(stats)
    }
}

/// The result of a check export (`buffer_check`, `view_check`) that
/// returns an error code: 0 is `Ok`, anything else its [`RuntimeError`].
fn check_result(check: i32, export: &'static str) -> Result<()> {
    if check == 0 {
        return Ok(());
    }
    let code = ErrorCode::from_code(check as u32).ok_or_else(|| anyhow!("`{export}` returned unknown code {check}"))?;
    Err(anyhow::Error::new(RuntimeError { code, export, maybe_stale: false }))
}
