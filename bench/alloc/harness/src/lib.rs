//! Allocator benchmark harness (wasm32, `no_std`): three workloads over one
//! allocator chosen by cargo feature, so multimem, talc and dlmalloc run the
//! very same driver code in the same engine.
//!
//! Equal work: every allocation returns zero-filled memory aligned to 16
//! (multimem's `buffer::new`; `alloc_zeroed`/`calloc` with align 16 for the
//! others) and is touched once. For retain+release the alternatives keep a
//! plain refcount word in the block, as an `Rc` would; multimem's
//! `retain`/`release` also validate the address.
//!
//! Exports: `run_small(ops)`, `run_mixed(ops)`, `run_retain(ops)` (each
//! returns a checksum so nothing is optimised away), the diagnostics
//! `run_fill`, `run_small_fill`, `run_small_raw` and `run_mixed_raw`, and `pages()`;
//! and, in the talc and dlmalloc builds, runtime.wasm's `buffer_new`,
//! `buffer_retain` and `buffer_release` (module `exports`), which the
//! runner calls from the host next to the shipped runtime.wasm's.
#![no_std]

#[cfg(not(any(feature = "multimem", feature = "talc", feature = "dlmalloc")))]
compile_error!("choose one allocator feature: multimem, talc or dlmalloc");

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Blocks kept live in the mixed and retain workloads (and as background
/// in the small one).
const LIVE: usize = 1024;

#[cfg(feature = "multimem")]
mod heap {
    use multimem_runtime::buffer;

    #[inline(always)]
    pub fn alloc(len: u32) -> u32 {
        match buffer::new(len) {
            Ok(b) => b,
            Err(_) => core::arch::wasm32::unreachable(),
        }
    }
    #[inline(always)]
    pub fn free(b: u32, _len: u32) {
        if buffer::release(b).is_err() {
            core::arch::wasm32::unreachable()
        }
    }
    #[inline(always)]
    pub fn retain(b: u32) {
        if buffer::retain(b).is_err() {
            core::arch::wasm32::unreachable()
        }
    }
    #[inline(always)]
    pub fn release(b: u32, len: u32) {
        free(b, len)
    }
    /// The allocator alone: a block, no buffer header, no zero-fill.
    #[inline(always)]
    pub fn raw_alloc(len: u32) -> u32 {
        match multimem_runtime::alloc::alloc(multimem_runtime::alloc::block_size(len)) {
            Ok(b) => b + 16,
            Err(_) => core::arch::wasm32::unreachable(),
        }
    }
    #[inline(always)]
    pub fn raw_free(b: u32, _len: u32) {
        multimem_runtime::alloc::free(b - 16)
    }
}

#[cfg(feature = "talc")]
mod heap {
    use core::alloc::{GlobalAlloc, Layout};
    use talc::wasm::{WasmDynamicTalc, new_wasm_dynamic_allocator};

    // talc links Rust's `alloc` crate, which needs a global allocator; it
    // is talc itself (the harness calls it directly either way).
    #[global_allocator]
    static TALC: WasmDynamicTalc = new_wasm_dynamic_allocator();

    #[inline(always)]
    fn layout(len: u32) -> Layout {
        // +4: room for the refcount word the retain workload keeps.
        unsafe { Layout::from_size_align_unchecked(len as usize + 4, 16) }
    }
    #[inline(always)]
    pub fn alloc(len: u32) -> u32 {
        let p = unsafe { TALC.alloc_zeroed(layout(len)) };
        if p.is_null() {
            core::arch::wasm32::unreachable()
        }
        unsafe { (p.add(len as usize) as *mut u32).write_unaligned(1) };
        p as u32
    }
    #[inline(always)]
    pub fn free(b: u32, len: u32) {
        unsafe { TALC.dealloc(b as *mut u8, layout(len)) }
    }
    #[inline(always)]
    pub fn raw_alloc(len: u32) -> u32 {
        let p = unsafe { TALC.alloc(layout(len)) };
        if p.is_null() {
            core::arch::wasm32::unreachable()
        }
        p as u32
    }
    #[inline(always)]
    pub fn raw_free(b: u32, len: u32) {
        free(b, len)
    }
    #[inline(always)]
    pub fn retain(b: u32) {
        super::rc_retain(b)
    }
    #[inline(always)]
    pub fn release(b: u32, len: u32) {
        super::rc_release(b, len)
    }
}

#[cfg(feature = "dlmalloc")]
mod heap {
    use dlmalloc::Dlmalloc;

    static mut DL: Dlmalloc = Dlmalloc::new();

    #[inline(always)]
    pub fn alloc(len: u32) -> u32 {
        let p = unsafe { (*(&raw mut DL)).calloc(len as usize + 4, 16) };
        if p.is_null() {
            core::arch::wasm32::unreachable()
        }
        unsafe { (p.add(len as usize) as *mut u32).write_unaligned(1) };
        p as u32
    }
    #[inline(always)]
    pub fn free(b: u32, len: u32) {
        unsafe { (*(&raw mut DL)).free(b as *mut u8, len as usize + 4, 16) }
    }
    #[inline(always)]
    pub fn raw_alloc(len: u32) -> u32 {
        let p = unsafe { (*(&raw mut DL)).malloc(len as usize + 4, 16) };
        if p.is_null() {
            core::arch::wasm32::unreachable()
        }
        p as u32
    }
    #[inline(always)]
    pub fn raw_free(b: u32, len: u32) {
        free(b, len)
    }
    #[inline(always)]
    pub fn retain(b: u32) {
        super::rc_retain(b)
    }
    #[inline(always)]
    pub fn release(b: u32, len: u32) {
        super::rc_release(b, len)
    }
}

/// The `Rc`-style count of the alternatives: one word after the data (its
/// position is found through the length, as an `Rc<[u8]>` knows its own).
#[cfg(not(feature = "multimem"))]
static mut LENS: [u32; LIVE] = [0; LIVE];

#[cfg(not(feature = "multimem"))]
#[inline(always)]
fn rc_slot(b: u32) -> *mut u32 {
    // The retain workload passes the slot index in the low bits' place:
    // see `run_retain`, which records each block's length in LENS.
    b as *mut u32
}

#[cfg(not(feature = "multimem"))]
#[inline(always)]
fn rc_retain(counter: u32) {
    unsafe {
        let p = rc_slot(counter);
        let c = p.read_unaligned();
        if c == u32::MAX {
            core::arch::wasm32::unreachable()
        }
        p.write_unaligned(c + 1);
    }
}

#[cfg(not(feature = "multimem"))]
#[inline(always)]
fn rc_release(counter: u32, _len: u32) {
    unsafe {
        let p = rc_slot(counter);
        let c = p.read_unaligned() - 1;
        p.write_unaligned(c);
        if c == 0 {
            core::arch::wasm32::unreachable() // never reaches 0 in the workload
        }
    }
}

/// Varies every workload's random sequence (see `set_seed`).
static mut SEED: u32 = 0;

/// Selects the random sequences of the following runs: the runner gives
/// each run its own seed and all three allocators the same one, so the
/// medians (times and pages) are over several sequences, not one.
#[unsafe(no_mangle)]
pub extern "C" fn set_seed(seed: u32) {
    unsafe { SEED = seed };
}

/// A small LCG: the same sequence for every allocator.
struct Rng(u32);
impl Rng {
    /// The sequence of workload `stream` under the current seed.
    fn new(stream: u32) -> Rng {
        Rng(stream ^ unsafe { SEED }.wrapping_mul(0x9E37_79B9))
    }
    #[inline(always)]
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0 >> 8
    }
    /// A value in `0..n` by multiply-shift (no division: a divide costs
    /// about as much as a small allocation and would blur the comparison).
    #[inline(always)]
    fn below(&mut self, n: u32) -> u32 {
        ((self.next() as u64 * n as u64) >> 24) as u32
    }
}

static mut BLOCKS: [(u32, u32); LIVE] = [(0, 0); LIVE];

#[inline(always)]
fn touch(b: u32, len: u32) -> u32 {
    if len == 0 {
        return 0;
    }
    unsafe {
        let p = b as *mut u8;
        let first = p.read_volatile();
        p.write_volatile(first.wrapping_add(1));
        first as u32
    }
}

/// Size of a mixed block: log-uniform from 16 B to 64 KiB.
#[inline(always)]
fn mixed_len(rng: &mut Rng) -> u32 {
    let shift = rng.below(13); // 16 << 0..=12: 16 B ..= 64 KiB
    let base = 16u32 << shift;
    base + rng.below(base) / 2
}

/// Size of a small block: 16..=256 bytes.
#[inline(always)]
fn small_len(rng: &mut Rng) -> u32 {
    16 + rng.below(241)
}

/// Sets up the live blocks (untimed) with `alloc`. Each is written in full,
/// as a program uses its buffers: the timed phase then starts with every
/// allocator's memory in use and faulted in. (Touching one byte here would
/// leave an allocator that skips zero-filling untouched memory with the
/// first-touch page faults of the whole set-up inside the timed phase, and
/// the others without.)
#[inline(always)]
fn fill_with(rng: &mut Rng, len: impl Fn(&mut Rng) -> u32, alloc: impl Fn(u32) -> u32) {
    let blocks = unsafe { &mut *(&raw mut BLOCKS) };
    for slot in blocks.iter_mut() {
        if slot.1 == 0 && slot.0 == 0 {
            let len = len(rng);
            let b = alloc(len);
            unsafe { core::ptr::write_bytes(b as *mut u8, 0x5A, len as usize) };
            *slot = (b, len);
        }
    }
}

/// [`fill_with`] through the buffer API.
fn fill(rng: &mut Rng, small: bool) {
    fill_with(rng, if small { small_len } else { mixed_len }, heap::alloc);
}

/// The timed loop of the `small` workloads: `ops` allocate, touch, free
/// pairs. Generic (inlined per caller) so that each workload compiles to
/// the same straight loop it would have written out.
#[inline(always)]
fn pairs(rng: &mut Rng, ops: u32, alloc: impl Fn(u32) -> u32, free: impl Fn(u32, u32)) -> u32 {
    let mut sum = 0u32;
    for _ in 0..ops {
        let len = small_len(rng);
        let b = alloc(len);
        sum = sum.wrapping_add(touch(b, len));
        free(b, len);
    }
    sum
}

/// The timed loop of the `mixed` workloads: `ops` replacements of a random
/// one of the LIVE blocks by a new one of a [`mixed_len`] size.
#[inline(always)]
fn replacements(rng: &mut Rng, ops: u32, alloc: impl Fn(u32) -> u32, free: impl Fn(u32, u32)) -> u32 {
    let blocks = unsafe { &mut *(&raw mut BLOCKS) };
    let mut sum = 0u32;
    for _ in 0..ops {
        let i = rng.below(LIVE as u32) as usize;
        let (b, len) = blocks[i];
        free(b, len);
        let len = mixed_len(rng);
        let b = alloc(len);
        sum = sum.wrapping_add(touch(b, len));
        blocks[i] = (b, len);
    }
    sum
}

/// `ops` alloc+release pairs of 16..=256 bytes, with LIVE small blocks live
/// around them.
#[unsafe(no_mangle)]
pub extern "C" fn run_small(ops: u32) -> u32 {
    let mut rng = Rng::new(1);
    fill(&mut rng, true);
    pairs(&mut rng, ops, heap::alloc, heap::free)
}

/// `ops` replacements (release one of LIVE blocks, allocate a new one) with
/// sizes log-uniform in 16 B..64 KiB.
#[unsafe(no_mangle)]
pub extern "C" fn run_mixed(ops: u32) -> u32 {
    let mut rng = Rng::new(2);
    fill(&mut rng, false);
    replacements(&mut rng, ops, heap::alloc, heap::free)
}

/// `run_mixed` with the allocator alone (diagnostic): blocks without
/// zero-fill (multimem: `alloc::alloc`, no buffer header or counters; talc:
/// `alloc`; dlmalloc: `malloc`), so the difference to `run_mixed` is what
/// zero-filling cold memory costs. Set-up writes its blocks in full, as
/// `fill` does.
#[unsafe(no_mangle)]
pub extern "C" fn run_mixed_raw(ops: u32) -> u32 {
    let mut rng = Rng::new(2);
    fill_with(&mut rng, mixed_len, heap::raw_alloc);
    replacements(&mut rng, ops, heap::raw_alloc, heap::raw_free)
}

/// `run_small` with the allocator alone (diagnostic, as `run_mixed_raw`).
#[unsafe(no_mangle)]
pub extern "C" fn run_small_raw(ops: u32) -> u32 {
    let mut rng = Rng::new(1);
    fill_with(&mut rng, small_len, heap::raw_alloc);
    pairs(&mut rng, ops, heap::raw_alloc, heap::raw_free)
}

/// Scratch area for `run_fill`.
static mut SCRATCH: [u8; 100 * 1024] = [0; 100 * 1024];

/// The zero-fill share of `run_mixed`: the same size sequence, each size
/// zero-filled into one scratch area and touched, with no allocator. The
/// runner subtracts it to show the allocators' own cost.
#[unsafe(no_mangle)]
pub extern "C" fn run_fill(ops: u32) -> u32 {
    let mut rng = Rng::new(2);
    let scratch = &raw mut SCRATCH as *mut u8;
    let mut sum = 0u32;
    for _ in 0..ops {
        let _slot = rng.next();
        let len = mixed_len(&mut rng);
        unsafe { core::ptr::write_bytes(scratch, 0, len as usize) };
        sum = sum.wrapping_add(touch(scratch as u32, len));
    }
    sum
}

/// The zero-fill share of `run_small`: the same sizes zero-filled into the
/// scratch area and touched, no allocator.
#[unsafe(no_mangle)]
pub extern "C" fn run_small_fill(ops: u32) -> u32 {
    let mut rng = Rng::new(1);
    let scratch = &raw mut SCRATCH as *mut u8;
    let mut sum = 0u32;
    for _ in 0..ops {
        let len = small_len(&mut rng);
        unsafe { core::ptr::write_bytes(scratch, 0, len as usize) };
        sum = sum.wrapping_add(touch(scratch as u32, len));
    }
    sum
}

/// `ops` retain+release pairs on LIVE live blocks.
#[unsafe(no_mangle)]
pub extern "C" fn run_retain(ops: u32) -> u32 {
    let mut rng = Rng::new(3);
    fill(&mut rng, true);
    let blocks = unsafe { &mut *(&raw mut BLOCKS) };
    // The alternatives address their count word directly (data + len).
    #[cfg(not(feature = "multimem"))]
    let handles: [u32; LIVE] = {
        let lens = unsafe { &mut *(&raw mut LENS) };
        let mut h = [0; LIVE];
        for (i, (b, len)) in blocks.iter().enumerate() {
            lens[i] = *len;
            h[i] = b + len;
        }
        h
    };
    #[cfg(feature = "multimem")]
    let handles: [u32; LIVE] = core::array::from_fn(|i| blocks[i].0);
    let mut sum = 0u32;
    for _ in 0..ops {
        let i = rng.below(LIVE as u32) as usize;
        let h = handles[i];
        heap::retain(h);
        heap::release(h, 0);
        sum = sum.wrapping_add(h);
    }
    sum
}

/// Current memory size in pages.
#[unsafe(no_mangle)]
pub extern "C" fn pages() -> u32 {
    core::arch::wasm32::memory_size(0) as u32
}

/// The buffer interface of runtime.wasm (`buffer_new`, `buffer_retain`,
/// `buffer_release`) over talc or dlmalloc, for the rows of the benchmark
/// that call every operation through an export, as hosts call the shipped
/// runtime.wasm. Same work as the runtime's: a zero-filled, 16-aligned
/// block behind a 16-byte header holding `lengthInBytes` and a refcount;
/// retain checks for overflow and release frees at zero. No address
/// validation (the runtime's exports validate).
#[cfg(not(feature = "multimem"))]
mod exports {
    /// The header words before the data: length at -8, refcount at -4.
    const HEADER: u32 = 16;

    #[unsafe(no_mangle)]
    pub extern "C" fn buffer_new(len: u32) -> u32 {
        if len > 0x7FFF_FFF0 {
            core::arch::wasm32::unreachable()
        }
        // `heap::alloc` also writes a count word after the data (for the
        // harness's own rows); here it lies past the buffer, unused.
        let b = super::heap::alloc(len + HEADER) + HEADER;
        unsafe {
            ((b - 8) as *mut u32).write(len);
            ((b - 4) as *mut u32).write(1);
        }
        b
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn buffer_retain(b: u32) {
        let rc = (b - 4) as *mut u32;
        unsafe {
            let c = rc.read();
            if c >= 0x7FFF_FFFF {
                core::arch::wasm32::unreachable()
            }
            rc.write(c + 1);
        }
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn buffer_release(b: u32) -> u32 {
        let rc = (b - 4) as *mut u32;
        unsafe {
            let c = rc.read() - 1;
            rc.write(c);
            if c == 0 {
                let len = ((b - 8) as *const u32).read();
                super::heap::free(b - HEADER, len + HEADER);
            }
            c
        }
    }
}
