//! The multimem linker (filled in by issue 3).
