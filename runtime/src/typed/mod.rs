//! Typed data: views over buffers in the 15 `dart:typed_data` kinds
//! (ByteData and the 14 lists), element access, bulk operations and their
//! SIMD kernels (docs/ABI.md, "Typed-data kinds" and the exports from
//! `view_check` to `list_mul`).
//!
//! This half of the runtime owns no memory and no allocator state: it reads
//! and writes bytes of live buffers, which it validates through
//! [`crate::buffer::resolve`] before touching anything, and reaches them
//! through [`crate::memory::ptr`]. Kind facts (element sizes, lanes, number
//! classes) come from [`multimem_abi::Kind`], never restated here.
//!
//! Modules, bottom up:
//! - [`convert`]: store rules (truncate, clamp, round to f32) and
//!   byte-order reads and writes;
//! - [`view`]: Dart's range and alignment rules, `sublistView`, lanes;
//! - [`kernels`]: fill, copy, add and mul, in `simd128` or scalar;
//! - [`element`]: list and ByteData element get/set;
//! - [`bulk`]: `fillRange`, `setRange`, byte copy and fill, add and mul;
//! - [`calls`]: the exports' bodies with their ABI parameters, returning
//!   `Result` (natively testable);
//! - `exports`: the `#[no_mangle]` wasm exports (feature `exports`).

pub mod bulk;
pub mod calls;
pub mod convert;
pub mod element;
pub mod kernels;
pub mod view;

#[cfg(feature = "exports")]
mod exports;

#[cfg(test)]
mod tests;

pub use kernels::Op;
pub use view::View;
