//! Large byte buffers and the files behind them: inputs mapped rather
//! than read ([`map_file`]), the output written over an existing file in
//! place ([`write_file`]), buffers sized once up front and released page
//! by page as they are moved. On this project's VM, page faults on fresh
//! memory dominate what the linker spends outside the code section.
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

/// Reads the regular file at `path` into one buffer of exactly its size.
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    read_open(f, len)
}

/// The bytes of a whole input file: memory-mapped ([`map_file`]) or
/// owned.
pub struct FileBytes(Bytes);

enum Bytes {
    Owned(Vec<u8>),
    #[cfg(unix)]
    Mapped {
        ptr: *const u8,
        len: usize,
    },
}

// SAFETY: a `Mapped` is a private read-only mapping owned by this value
// (never written through, unmapped once in `drop`), so sharing or moving
// it across threads is as safe as for a `Box<[u8]>`.
unsafe impl Send for FileBytes {}
unsafe impl Sync for FileBytes {}

impl From<Vec<u8>> for FileBytes {
    fn from(v: Vec<u8>) -> Self {
        FileBytes(Bytes::Owned(v))
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Bytes::Owned(v) => v,
            // SAFETY: `ptr..ptr+len` is a live read-only mapping of the
            // file (see `map_file` for what a concurrent writer can do).
            #[cfg(unix)]
            Bytes::Mapped { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
        }
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Bytes::Mapped { ptr, len } = self.0 {
            // SAFETY: the mapping made in `map_file`, unmapped once; no
            // slice of it outlives `self`.
            unsafe {
                libc::munmap(ptr as *mut libc::c_void, len);
            }
        }
    }
}

/// The largest input read from a pipe: pipes have no size to check up
/// front, and a module is never near this (the largest seen, swc, is
/// 18 MB).
pub const MAX_PIPE_INPUT: u64 = 1 << 30;

/// The whole file at `path`, mapped into memory (private, read-only) when
/// it is a non-empty regular file, else read. Same bytes as
/// [`std::fs::read`]. A pipe (`<(cmd)`) is read up to [`MAX_PIPE_INPUT`]
/// bytes; anything else that is not a regular file (a directory, a device
/// such as `/dev/zero`, a socket) is an [`std::io::ErrorKind::InvalidInput`]
/// error that says what it is, instead of a read without end.
///
/// Why map: reading a 16 MB input costs 10-16 ms on this project's VM, the
/// kernel copying it into freshly faulted pages; mapping the page cache
/// costs 2 ms (`MAP_POPULATE`). lld and mold map their inputs too.
///
/// The file must not change while it is mapped. If another process
/// rewrites it, the linker may see either version of any byte; every read
/// is bounds-checked, so that is an error or a wrong output but no access
/// outside the mapping. If it is truncated, reading past its new end
/// kills the process with `SIGBUS`, as it does lld.
pub fn map_file(path: &std::path::Path) -> std::io::Result<FileBytes> {
    let f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return read_special(f, &meta.file_type());
    }
    #[cfg(unix)]
    if meta.len() > 0 && meta.len() <= isize::MAX as u64 {
        use std::os::unix::io::AsRawFd;
        let len = meta.len() as usize;
        // Linux maps every page at once (one call instead of a fault
        // per 64 KiB); elsewhere pages fault in as they are read.
        #[cfg(target_os = "linux")]
        let flags = libc::MAP_PRIVATE | libc::MAP_POPULATE;
        #[cfg(not(target_os = "linux"))]
        let flags = libc::MAP_PRIVATE;
        // SAFETY: a new private read-only mapping of `len` bytes of an
        // open file; checked for failure below. The fd may be closed
        // once the mapping exists.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, flags, f.as_raw_fd(), 0) };
        if ptr != libc::MAP_FAILED {
            return Ok(FileBytes(Bytes::Mapped { ptr: ptr as *const u8, len }));
        }
    }
    read_open(f, meta.len()).map(FileBytes::from)
}

/// An input that is not a regular file: a pipe is read up to
/// [`MAX_PIPE_INPUT`], anything else is refused by what it is (off unix,
/// where the kind of a special file is not known, every one is refused).
fn read_special(f: std::fs::File, ty: &std::fs::FileType) -> std::io::Result<FileBytes> {
    let refuse = |what: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file (inputs are .wasm or .wat files)"),
        ))
    };
    if ty.is_dir() {
        return refuse("a directory");
    }
    #[cfg(unix)]
    {
        use std::io::Read;
        use std::os::unix::fs::FileTypeExt;
        if ty.is_char_device() {
            return refuse("a character device");
        }
        if ty.is_block_device() {
            return refuse("a block device");
        }
        if ty.is_socket() {
            return refuse("a socket");
        }
        if ty.is_fifo() {
            let mut v = Vec::new();
            f.take(MAX_PIPE_INPUT + 1).read_to_end(&mut v)?;
            if v.len() as u64 > MAX_PIPE_INPUT {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("the pipe gave more than {MAX_PIPE_INPUT} bytes, the most the linker reads from a pipe"),
                ));
            }
            return Ok(FileBytes::from(v));
        }
    }
    let _ = f;
    refuse("a special file (a device, pipe or socket)")
}

/// Reads an open regular file of `len` bytes into one buffer of exactly
/// its size (plus the byte `read_to_end` needs to see the end).
fn read_open(mut f: std::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut v = Vec::with_capacity(len as usize + 1);
    f.read_to_end(&mut v)?;
    Ok(v)
}

/// Writes `bytes` to `path`: over an existing file's contents, in place,
/// then cut to length, rather than truncating it first. Same file as
/// [`std::fs::write`] (through symlinks and hard links, permissions kept).
///
/// Why: truncating frees the old file's page cache and the write then
/// fills freshly allocated pages: 7-10 ms for 14 MB on this project's VM
/// (12-40 ms for 18 MB in the link benchmark), against about 2 ms when the
/// pages are reused, which is the common case of a relink. mold overwrites
/// its output in place for the same reason. A process killed while writing
/// leaves new bytes followed by old ones instead of a short file: either
/// is a broken output, and the next link rewrites it.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    write_file_parts(path, &[bytes])
}

/// [`write_file`] for contents in several parts, written in order.
pub(crate) fn write_file_parts(path: &std::path::Path, parts: &[&[u8]]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
    let mut len = 0u64;
    for part in parts {
        f.write_all(part)?;
        len += part.len() as u64;
    }
    f.set_len(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_and_read_files_have_the_same_bytes() {
        let dir = std::env::temp_dir().join(format!("multimem-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in [
            ("empty", vec![]),
            ("small", b"\0asm\x01\0\0\0".to_vec()),
            ("big", (0..5_000_000u32).map(|i| (i % 251) as u8).collect()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(&*map_file(&path).unwrap(), &bytes[..], "{name}");
            assert_eq!(read_file(&path).unwrap(), bytes, "{name}");
        }
        // A directory or a device is refused by what it is, before any read.
        let e = map_file(&dir).err().expect("a directory cannot be read");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("it is a directory, not a regular file"), "{e}");
        #[cfg(unix)]
        {
            let e = map_file(std::path::Path::new("/dev/zero")).err().expect("/dev/zero is refused");
            assert!(e.to_string().contains("it is a character device, not a regular file"), "{e}");
        }
        assert_eq!(map_file(&dir.join("missing")).err().map(|e| e.kind()), Some(std::io::ErrorKind::NotFound));
        // Written over a longer file, a shorter one, and none.
        let out = dir.join("out");
        for bytes in [&b"a longer first version"[..], b"short", b"", b"then longer again"] {
            write_file(&out, bytes).unwrap();
            assert_eq!(std::fs::read(&out).unwrap(), bytes);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
