//! Run multimem-linked modules in wasmtime: buffers, typed lists, refcounts.
//!
//! This crate is the wasmtime counterpart of `js-glue`. It owns the host side
//! of the refcount protocol in `docs/ABI.md` and nothing else: it never
//! writes a buffer header itself (all refcount changes go through the
//! runtime's exports), and it reads ABI facts only from `multimem-abi`.
//!
//! What it gives an embedder:
//!
//! - [`Options`]: every switch, with its default, plus the wasmtime
//!   [`Config`](wasmtime::Config) the modules need (GC, function references,
//!   multi-memory);
//! - [`instantiate`]: an app together with its external library instance,
//!   the library's memory imported as the app's external memory (`env.memory`
//!   by default) and its functions offered under one module name, plus any
//!   imports the embedder defines in its own [`wasmtime::Linker`]; either
//!   build of the link ([`App`], [`instantiate_wasm`]: see "Both builds");
//! - [`Runtime`]: the runtime's exports resolved once, with owned
//!   [`Buffer`] / [`TypedList`] handles that release on `Drop`, slices over
//!   the runtime memory for every [`Kind`](multimem_abi::Kind), externref
//!   wrapping whose release follows wasmtime's GC, [`Stats`] and decoded
//!   errors;
//! - [`Error`]: every error of this crate, with the runtime's codes
//!   ([`RuntimeError`], [`error_code`]) and stale handles ([`StaleHandle`])
//!   as typed causes;
//! - [`intrinsics`]: host implementations of the `multimem:intrinsics`
//!   imports, for running `runtime.wasm` unlinked (as `docs/ABI.md` allows).
//!
//! # Example
//!
//! `runtime.wasm` on its own (host intrinsics, no library); a linked app
//! goes through [`instantiate`] instead and is used the same way. `?` works
//! on this crate's, wasmtime's and anyhow's results alike.
//!
//! ```
//! use multimem_host::{Kind, Options, Runtime, intrinsics};
//! # fn main() -> wasmtime::Result<()> {
//! let engine = Options::engine()?;
//! let mut store = wasmtime::Store::new(&engine, ());
//! let module = wasmtime::Module::new(&engine, multimem_runtime_wasm::RUNTIME_WASM)?;
//! let mut linker = wasmtime::Linker::new(&engine);
//! intrinsics::define(&mut linker, None).map_err(wasmtime::Error::from_anyhow)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! let rt = Runtime::new(&mut store, &instance, &Options::default())?;
//!
//! let list = rt.list_new(&mut store, Kind::Float64List, 4)?; // Float64List(4)
//! rt.elements_mut::<f64, ()>(&mut store, &list)?.copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
//! let tail = rt.sublist_view(&mut store, &list, 2, 4)?;      // shares bytes, +1 reference
//! assert_eq!(rt.elements::<f64, ()>(&store, &tail)?, &[3.0, 4.0]);
//! drop((list, tail));                                          // releases queued...
//! assert_eq!(rt.check_no_leaks(&mut store)?.live_buffers, 0);  // ...and applied here
//! # Ok(())
//! # }
//! ```
//!
//! # Both builds: multi-memory and single-memory
//!
//! `multimem-link` writes two builds of the same link: the multi-memory
//! build, and the single-memory build (`--single-memory`, `docs/ABI.md`
//! "Single-memory build") for engines without multi-memory. This crate
//! runs both, and everything after instantiation is the same for them:
//! the runtime's exports, [`Buffer`]/[`TypedList`] handles, slices over the
//! runtime memory (in the single-memory build it is the one native
//! memory), [`Instantiated::external_memory`] (the library's memory, a real
//! wasmtime memory in both builds) and errors.
//!
//! The only difference is how the module is handed over. A single-memory
//! build describes its lowered memories in custom sections, which a
//! wasmtime [`Module`](wasmtime::Module) does not keep, so give its bytes:
//! [`App::new`] (or [`instantiate_wasm`], which compiles and instantiates
//! in one call) reads them, and [`instantiate`] then makes or takes its
//! lowered memories and defines the `multimem:memory` functions
//! ([`lowered`]). Run it in an engine from
//! [`Options::single_memory_engine`] (multi-memory off, as Safari) or
//! [`Options::engine`]. A multi-memory build may also be given as a plain
//! `Module`.
//!
//! ```
//! use multimem_host::{Kind, Options, instantiate_wasm};
//! # fn main() -> multimem_host::Result<()> {
//! # let app = wat::parse_str(r#"(module (import "multimem" "memory" (memory 0)) (import "env" "memory" (memory 1))
//! #   (func (export "peek") (param i32) (result i32) (i32.load8_u 0 (local.get 0)))
//! #   (func (export "poke") (param i32 i32) (i32.store8 1 (local.get 0) (local.get 1))))"#).unwrap();
//! # let lib = wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap();
//! # let link = |single| {
//! #     let mut l = multimem_linker::Linker::new(multimem_linker::Config::default().single_memory(single));
//! #     l.add_module("app", &app).unwrap();
//! #     l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM).unwrap();
//! #     l.link().unwrap().wasm
//! # };
//! // `single` and `multi` are the two builds of one link (multimem-link with
//! // and without --single-memory); the app imports the library's memory.
//! # let (single, multi) = (link(true), link(false));
//! for (engine, wasm) in [(Options::single_memory_engine()?, &single), (Options::engine()?, &multi)] {
//!     let mut store = wasmtime::Store::new(&engine, ());
//!     let lib = wasmtime::Module::new(&engine, &lib)?;
//!     let lib = wasmtime::Instance::new(&mut store, &lib, &[])?;
//!     let mut linker = wasmtime::Linker::new(&engine);
//!     let app = instantiate_wasm(&mut store, &mut linker, wasm, Some(lib), &Options::default())?;
//!     let rt = &app.runtime;
//!     let list = rt.list_new(&mut store, Kind::Uint8List, 4)?;
//!     rt.elements_mut::<u8, ()>(&mut store, &list)?.copy_from_slice(&[1, 2, 3, 4]);
//!     let second: i32 = app.call(&mut store, "peek", list.buffer().address() as i32 + 1)?;
//!     assert_eq!(second, 2);                                  // the app reads the runtime memory
//!     app.call::<_, ()>(&mut store, "poke", (7, 42))?;        // and writes the library's
//!     assert_eq!(app.external_memory.unwrap().data(&store)[7], 42);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # How `Drop` reaches the store
//!
//! A handle cannot call into wasm from `Drop` (it has no store). Every handle
//! shares its runtime's *release queue*; `Drop` pushes the buffer address
//! there. Every [`Runtime`] method that takes the store mutably drains the
//! queue first (one `buffer_release` per entry), so releases are applied
//! the next time the embedder enters the store through this API, or
//! explicitly with [`Runtime::drain`].
//!
//! # Externrefs
//!
//! [`Runtime::to_externref`] wraps a handle in an `externref` and returns it
//! as an [`OwnedRooted`](wasmtime::OwnedRooted), rooted exactly as long as
//! the Rust value lives, whether or not a [`RootScope`](wasmtime::RootScope)
//! is open: the rule is simply that the reference is released once nothing
//! holds the externref (the host dropped it and no wasm global, table or
//! GC object refers to it) and wasmtime's GC has run ([`Runtime::collect`],
//! or any collection wasmtime does on its own) — the wasmtime analogue of a
//! JS `FinalizationRegistry`. Typed wasm functions take an `OwnedRooted`
//! directly. Converting it to a [`Rooted`](wasmtime::Rooted) (for a `Val`,
//! say) makes a LIFO root that lasts until the enclosing `RootScope` ends,
//! or, outside any scope, until the store is dropped: do that inside a
//! `RootScope`.
//!
//! # Buffers owned by the program's GC objects
//!
//! A compiled program's list objects own their buffers through tokens
//! (`docs/ABI.md`, "Ownership by GC objects"): the app imports
//! `multimem:gc.own`, and [`instantiate`] defines it whenever the app
//! imports it. `own(buffer)` takes the caller's reference and returns a
//! host `externref` holding it; the program stores it in its object, and
//! views copy it. When wasmtime's GC collects the externref (its GC heap
//! needed room, or [`Runtime::collect`] / `Store::gc`), the token's drop
//! queues the address; the queue is applied in batches of
//! `RELEASE_BATCH` addresses, one `buffer_release_batch` call each,
//! inside `own` once that many are queued (so a loop allocating millions
//! of lists stays in bounded memory without returning to the host) and on
//! every entry through [`Runtime`].
//!
//! wasmtime's GC sees a token as a small externref, not the buffer behind
//! it, so with a large GC heap it would seldom run while the runtime
//! memory filled with buffers nobody can reach. `own` therefore counts
//! the bytes behind the tokens not yet collected (each buffer's
//! `lengthInBytes`, read from its header, plus the header) and, once they
//! have grown by more than a budget since its last forced collection,
//! collects (`Caller::gc`) and applies the queue before it returns, as
//! V8's external memory accounting does. The budget adapts: 8 MiB, the GC
//! heap's capacity or the bytes still owned after that collection,
//! whichever is largest ([`Options::owned_bytes_budget`], which also turns
//! it off).
//! [`Runtime::token_stats`] counts tokens made, collected and released,
//! and the collections forced. A token whose reference the program
//! released itself (against the ABI) is reported by the batch that finds
//! it (`FREED` or `NOT_A_BUFFER`), and the others are still released.
//!
//! # Stale handles
//!
//! A handle owns one reference, so its buffer stays live, unless someone
//! else (wasm code, or a raw `buffer_release`) releases the host's
//! reference. Every operation through a handle therefore first checks that
//! the buffer is still its own ([`Runtime::check_handle`]: `buffer_check`,
//! its length, and at least as many references as the host's handles hold)
//! and otherwise fails with [`StaleHandle`], acting on nothing; a stale
//! handle's drop releases nothing (the next [`Runtime::drain`] reports it).
//! The slice methods, which only borrow the store, check the header words
//! instead of calling `buffer_check`. Not detectable, as `FREED` is not
//! (`docs/ABI.md`): a block freed and taken again by a buffer at the same
//! address with the same length and at least as many references.
//!
//! # Which trap is the runtime's
//!
//! A runtime export that fails records its code and traps. An error carries
//! that code ([`error_code`]) exactly when the runtime recorded it in the
//! call that failed: for calls into app code ([`Instantiated::call`]) the
//! host compares `last_error` before and after, and when it did not change
//! asks the wasm backtrace whether the trap happened in the runtime's trap
//! function. An app's own trap (a bounds check, a plain `unreachable`)
//! never carries an earlier call's code. With wasm backtraces turned off,
//! such an unchanged code cannot be attributed and is not reported (the
//! error says so).
//!
//! # Slices stay valid across memory growth
//!
//! The runtime memory can grow (and move) on any call into wasm. Slices are
//! therefore never stored: [`Runtime::bytes`], [`Runtime::elements`] and
//! their `_mut` forms re-derive them from the [`Memory`](wasmtime::Memory)
//! on each access and borrow the store for the slice's lifetime, so the
//! borrow checker forbids calling into wasm while a slice is alive.
#![cfg(target_endian = "little")]
#![deny(missing_docs)]

mod app;
mod buffer;
mod config;
mod element;
mod error;
mod instantiate;
pub mod intrinsics;
pub mod lowered;
mod memory;
mod ownership;
mod runtime;
mod threads;
mod trap;

pub use app::App;
pub use buffer::{Buffer, TokenStats, TypedList};
pub use config::Options;
pub use element::Element;
pub use error::{Error, ErrorChain, RuntimeError, Stale, StaleHandle, error_code};
pub use instantiate::{Instantiated, instantiate, instantiate_unlinked, instantiate_wasm};
pub use memory::RuntimeMemory;
pub use multimem_abi::{ErrorCode, Kind};
pub use runtime::{Runtime, Stats};
pub use threads::SharedHeap;

/// Results of this crate, with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
