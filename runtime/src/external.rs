//! Copies between a buffer and the external memory (`external_copy_in`,
//! `external_copy_out`): both ranges are checked, then one `memory.copy`
//! through the intrinsics.

use crate::{Result, buffer, intrinsics};
use multimem_abi::ErrorCode;

fn check(buffer: u32, offset: u32, external: u32, len: u32) -> Result<()> {
    let blen = buffer::resolve(buffer)?;
    if offset as u64 + len as u64 > blen as u64 {
        return Err(ErrorCode::Range);
    }
    if external as u64 + len as u64 > intrinsics::external_size_bytes() {
        return Err(ErrorCode::ExternalRange);
    }
    Ok(())
}

/// Copies `len` bytes from external address `external` into `buffer` at
/// `offset`.
#[inline(always)]
pub fn copy_in(buffer: u32, offset: u32, external: u32, len: u32) -> Result<()> {
    check(buffer, offset, external, len)?;
    intrinsics::copy_in(buffer + offset, external, len);
    Ok(())
}

/// Copies `len` bytes from `buffer` at `offset` to external address
/// `external`.
#[inline(always)]
pub fn copy_out(external: u32, buffer: u32, offset: u32, len: u32) -> Result<()> {
    check(buffer, offset, external, len)?;
    intrinsics::copy_out(external, buffer + offset, len);
    Ok(())
}
