//! Large byte buffers (whole inputs, the output, the code section) backed
//! by transparent huge pages where Linux allows it.
//!
//! Why: a linker touches each byte of its buffers once, so for 15-20 MB
//! modules the kernel's per-4-KiB page faults on fresh memory are a
//! visible share of the CPU time (system time 0.03-0.05 s of ~0.2 s on
//! swc's 18 MB). `madvise(MADV_HUGEPAGE)` turns thousands of faults into a
//! few dozen where THP is in `madvise` mode (about halving system time in
//! those runs; wall time is within this machine's noise), and does nothing
//! elsewhere. Cost: up to one partly used 2 MiB page per buffer of RSS.

/// An empty `Vec` with room for `capacity` bytes, advised to use huge pages.
pub(crate) fn with_capacity(capacity: usize) -> Vec<u8> {
    let v: Vec<u8> = Vec::with_capacity(capacity);
    advise_huge(&v);
    v
}

#[cfg(target_os = "linux")]
fn advise_huge(v: &Vec<u8>) {
    const HUGE: usize = 2 << 20;
    if v.capacity() < 2 * HUGE {
        return;
    }
    let start = v.as_ptr() as usize;
    let end = start + v.capacity();
    // Only whole huge pages inside the allocation.
    let (lo, hi) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
    if hi > lo {
        // SAFETY: [lo, hi) lies inside the Vec's own allocation, and
        // MADV_HUGEPAGE is advice only: it never changes the contents or
        // the validity of the mapping. The result is ignored on purpose
        // (an older kernel or THP off is fine).
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_: &Vec<u8>) {}

/// Appends `src` to `out`, handing `src`'s pages back to the OS as they
/// are copied, so that the two never both hold the moved bytes in full
/// (peak memory: the output plus one chunk, not plus all of `src`).
pub(crate) fn append_releasing(out: &mut Vec<u8>, src: Vec<u8>) {
    const CHUNK: usize = 1 << 20;
    out.reserve(src.len());
    let mut done = 0;
    while done < src.len() {
        let end = (done + CHUNK).min(src.len());
        out.extend_from_slice(&src[done..end]);
        release(&src, done, end);
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

/// Reads the file at `path` into a buffer from [`with_capacity`].
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut v = with_capacity(len + 1);
    f.read_to_end(&mut v)?;
    Ok(v)
}
