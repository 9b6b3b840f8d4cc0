//! Large byte buffers (whole inputs, the output, the code section): sized
//! once up front, and released page by page as they are moved.
//!
//! Why no transparent huge pages: `madvise(MADV_HUGEPAGE)` on these
//! buffers was tried and removed. It turns thousands of 4 KiB page faults
//! into a few dozen, but a huge page must come from a free 2 MiB block, and
//! on a VM with free page reporting (virtio-balloon; e.g. Firecracker with
//! `page_reporting_order=11`) the guest hands such blocks back to the host
//! about 2 s after they are freed, so a link that runs after any pause
//! faults every huge page in again on the host: 0.11-0.15 s instead of
//! 0.09-0.13 s on esbuild's 14 MB with 4 KiB pages (system time 0.05-0.08 s
//! instead of 0.02-0.03 s). Only links run back to back (within ~2 s)
//! gained (0.08-0.09 s). A user's link runs in whatever state the machine
//! is in, so the linker takes the page faults it can predict.

/// An empty `Vec` with room for `capacity` bytes.
pub(crate) fn with_capacity(capacity: usize) -> Vec<u8> {
    Vec::with_capacity(capacity)
}

/// Appends `src` to `out`, handing `src`'s pages back to the OS as they
/// are copied, so that the two never both hold the moved bytes in full
/// (peak memory: the output plus one chunk, not plus all of `src`).
pub(crate) fn append_releasing(out: &mut Vec<u8>, src: Vec<u8>) {
    append_slice_releasing(out, &src);
}

/// [`append_releasing`] for a part of a buffer (whose pages in `src` read
/// as zero afterwards; `src` is never read again).
pub(crate) fn append_slice_releasing(out: &mut Vec<u8>, src: &[u8]) {
    const CHUNK: usize = 1 << 20;
    out.reserve(src.len());
    let mut done = 0;
    while done < src.len() {
        let end = (done + CHUNK).min(src.len());
        out.extend_from_slice(&src[done..end]);
        release(src, done, end);
        done = end;
    }
}

/// Drops the whole pages of `v[from..to]` from memory (they read as zero
/// afterwards; only used on bytes that are never read again).
#[cfg(target_os = "linux")]
fn release(v: &[u8], from: usize, to: usize) {
    const PAGE: usize = 4096;
    let start = v.as_ptr() as usize;
    let (lo, hi) = ((start + from).next_multiple_of(PAGE), (start + to) / PAGE * PAGE);
    if hi > lo {
        // SAFETY: [lo, hi) lies inside `v`'s allocation, which stays
        // mapped; MADV_DONTNEED on private anonymous memory only makes the
        // pages read as zero on next access. The caller never reads these
        // bytes again and frees the buffer right after, so no live value
        // changes. Failure (ignored) just keeps the pages.
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn release(_: &[u8], _: usize, _: usize) {}

/// Reads the file at `path` into one buffer of exactly its size (plus the
/// byte `read_to_end` needs to see the end).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut v = with_capacity(len + 1);
    f.read_to_end(&mut v)?;
    Ok(v)
}
