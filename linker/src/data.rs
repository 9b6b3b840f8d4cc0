//! Phase 7, the data section: every live segment, its memory index and
//! offset expression renumbered, its bytes copied. Built in a buffer of
//! its own (on a helper thread when there is one: it does not depend on
//! the code) and validated there (phase 9), then placed after the code.
//!
//! Every input segment is read, live or not: inputs' data sections are
//! only checked here and in the output (`validate.rs`).

use wasm_encoder::Encode;
use wasm_encoder::reencode::Reencode;

use crate::code::leb;
use crate::error::Error;
use crate::link::{Plan, SECTION_HEADER, open_section, patch_size};

/// The whole data section (id and size included), or nothing when the
/// output has no segment.
pub(crate) fn emit(plan: &Plan<'_, '_>) -> Result<Vec<u8>, Error> {
    let parsed = plan.parsed;
    if !parsed.iter().any(|p| p.data_section.is_some()) {
        return Ok(Vec::new());
    }
    let total: usize = parsed.iter().map(|p| p.data_size + 16).sum();
    let mut out = Vec::with_capacity(total + 16);
    let size_at = open_section(&mut out, 11);
    leb(&mut out, plan.layout.num_datas as u64);
    for (m, p) in parsed.iter().enumerate() {
        let mut r = plan.remap(m);
        for (d, data) in p.datas().enumerate() {
            let data = data?;
            if !plan.live.datas[m][d] {
                continue;
            }
            match &data.kind {
                wasmparser::DataKind::Passive => out.push(0x01),
                wasmparser::DataKind::Active { memory_index, offset_expr } => {
                    let mem = r.memory_index(*memory_index)?;
                    if mem == 0 {
                        out.push(0x00);
                    } else {
                        out.push(0x02);
                        leb(&mut out, mem as u64);
                    }
                    // `i32.const N end` / `i64.const N end` (nearly all
                    // offsets; Go output has ~100k segments) carry no
                    // index: copied as they are.
                    let range = offset_expr.get_binary_reader().range();
                    let expr = &p.bytes[range];
                    if matches!(expr.first(), Some(0x41 | 0x42))
                        && expr.last() == Some(&0x0b)
                        && expr[1..expr.len() - 1].iter().position(|b| b & 0x80 == 0) == Some(expr.len() - 3)
                    {
                        out.extend_from_slice(expr);
                    } else {
                        r.const_expr(offset_expr.clone())?.encode(&mut out);
                    }
                }
            }
            leb(&mut out, data.data.len() as u64);
            out.extend_from_slice(data.data);
        }
    }
    if plan.layout.num_datas == 0 {
        return Ok(Vec::new());
    }
    let size = out.len() - SECTION_HEADER;
    patch_size(&mut out, size_at, size, "data")?;
    Ok(out)
}

/// Validates a data section built by [`emit`] that will sit at output
/// offset `at` (after the code section); the validator's message, if any.
pub(crate) fn validate(streaming: &mut crate::validate::Streaming, section: &[u8], at: usize) -> Option<String> {
    if section.is_empty() {
        None
    } else {
        streaming.data_section(&section[SECTION_HEADER..], at + SECTION_HEADER).err()
    }
}
