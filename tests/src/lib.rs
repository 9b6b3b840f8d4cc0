//! Shared helpers for multimem's cross-part engine tests (see `tests/tests/`).

pub mod spec_suite;
pub mod wast_link;
pub mod wast_run;
