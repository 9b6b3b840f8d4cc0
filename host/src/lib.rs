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
//!   imports the embedder defines in its own [`wasmtime::Linker`];
//! - [`Runtime`]: the runtime's exports resolved once, with owned
//!   [`Buffer`] / [`TypedList`] handles that release on `Drop`, slices over
//!   the runtime memory for every [`Kind`](multimem_abi::Kind), externref
//!   wrapping whose release follows wasmtime's GC, [`Stats`] and decoded
//!   errors ([`RuntimeError`]);
//! - [`intrinsics`]: host implementations of the `multimem:intrinsics`
//!   imports, for running `runtime.wasm` unlinked (as `docs/ABI.md` allows).
//!
//! # Example
//!
//! `runtime.wasm` on its own (host intrinsics, no library); a linked app
//! goes through [`instantiate`] instead and is used the same way.
//!
//! ```
//! use multimem_host::{Kind, Options, Runtime, intrinsics};
//! # fn main() -> anyhow::Result<()> {
//! let engine = Options::engine()?;
//! let mut store = wasmtime::Store::new(&engine, ());
//! let module = wasmtime::Module::new(&engine, multimem_runtime_wasm::RUNTIME_WASM).map_err(anyhow::Error::from)?;
//! let mut linker = wasmtime::Linker::new(&engine);
//! intrinsics::define(&mut linker, None)?;
//! let instance = linker.instantiate(&mut store, &module).map_err(anyhow::Error::from)?;
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
//! # How `Drop` reaches the store
//!
//! A handle cannot call into wasm from `Drop` (it has no store). Every handle
//! holds an `Arc` of its runtime's *release queue*; `Drop` pushes the buffer
//! address there. Every [`Runtime`] method that takes the store mutably
//! drains the queue first (one `buffer_release` per entry), so releases are
//! applied the next time the embedder enters the store through this API, or
//! explicitly with [`Runtime::drain`]. An [`ExternRef`](wasmtime::ExternRef)
//! made by [`Runtime::to_externref`] owns a handle as its host data; when
//! wasmtime's GC collects the reference, the host data is dropped and the
//! release is queued the same way (the wasmtime analogue of a JS
//! `FinalizationRegistry`).
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

mod buffer;
mod config;
mod element;
mod error;
mod instantiate;
pub mod intrinsics;
mod runtime;

pub use buffer::{Buffer, TypedList};
pub use config::Options;
pub use element::Element;
pub use error::{RuntimeError, error_code};
pub use instantiate::{Instantiated, instantiate, instantiate_unlinked};
pub use multimem_abi::{ErrorCode, Kind};
pub use runtime::{Runtime, Stats};

/// Results of this crate: `anyhow` errors whose root cause is a
/// [`RuntimeError`] when the runtime reported one, with context saying what
/// was being done.
pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;
