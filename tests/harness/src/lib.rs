//! The one test harness of multimem's engine tests, shared by
//! `multimem-tests` (`tests/tests/*.rs`) and the linker's integration tests
//! (`linker/tests/*.rs`).
//!
//! - [`engine`]: the wasmtime engines: [`engine::runtime`] (what an
//!   embedder of `multimem-host` gets) and [`engine::full`] (every proposal
//!   a linked module may use);
//! - [`runtime`]: one instance of one build of `runtime.wasm` ([`Rt`]), the
//!   shared builds included (one instance over its shared memory), its
//!   intrinsics implemented by `multimem-host`, with calls whose traps are decoded
//!   through `last_error` into [`multimem_abi::ErrorCode`]s;
//! - [`instance`]: any module (a linker output) instantiated with every
//!   import given a fresh default ([`Imports`], [`Instance`]);
//! - [`skip`]: a suite that cannot run says so, at the end of `./test.sh`,
//!   and fails under `CI=true` ([`skip::not_run`]).
//!
//! It depends on neither the linker nor `multimem-tests`, so both can use it
//! without a dependency cycle.

pub mod engine;
pub mod instance;
pub mod runtime;
pub mod skip;

pub use instance::{Imports, Instance};
pub use runtime::{Outcome, Rt, Setup};
