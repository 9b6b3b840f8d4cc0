//! Model-based property test of the heap: 120k random operations (alloc,
//! retain, release, view, copy within and across buffers, copies through
//! the external memory, misuse of dead addresses and of headers forged
//! inside live buffers) checked against a plain
//! model after every step. Seeds are fixed so failures reproduce; set
//! `MULTIMEM_SEED` to try another.
//!
//! Checked after every operation: counters equal the model's; the new block
//! overlaps no live block. Checked on every view and at every release: the
//! bytes equal the model's (data survives other blocks being freed and
//! reused). Every 2000 operations the full heap walk checks the allocator's
//! invariants; at the end everything is released and the heap must be one
//! free block again.

use multimem_abi::ErrorCode;
use multimem_runtime::memory::{self};
use multimem_runtime::{alloc, buffer, external, intrinsics};
use std::collections::{BTreeMap, HashMap};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Model {
    /// Live buffers: address -> (refcount, contents).
    live: HashMap<u32, (u32, Vec<u8>)>,
    /// Live blocks by start: start -> end.
    blocks: BTreeMap<u32, u32>,
    /// Addresses of released buffers (candidates for misuse).
    dead: Vec<u32>,
    /// Sums over `live` and `blocks`, kept up to date.
    live_bytes: u32,
    heap_bytes: u32,
}

fn bytes(b: u32, len: u32) -> &'static mut [u8] {
    unsafe { std::slice::from_raw_parts_mut(memory::ptr(b), len as usize) }
}

fn random_len(rng: &mut Rng) -> u32 {
    match rng.below(100) {
        0..70 => rng.below(257) as u32,
        70..95 => 256 + rng.below(4096) as u32,
        _ => 4096 + rng.below(70_000) as u32,
    }
}

fn check_counters(m: &Model) {
    let s = buffer::stats();
    assert_eq!(s.live_buffers as usize, m.live.len());
    assert_eq!(s.live_bytes, m.live_bytes);
    assert_eq!(s.heap_bytes, m.heap_bytes);
    assert_eq!(s.pages, memory::pages());
}

fn run(seed: u64, ops: u32) {
    memory::reset_native();
    intrinsics::set_external(vec![0; 2 * multimem_abi::PAGE_SIZE as usize]);
    let mut ext_model = vec![0u8; 2 * multimem_abi::PAGE_SIZE as usize];
    let mut rng = Rng(seed | 1);
    let mut m = Model { live: HashMap::new(), blocks: BTreeMap::new(), dead: Vec::new(), live_bytes: 0, heap_bytes: 0 };
    let mut addrs: Vec<u32> = Vec::new();
    for step in 0..ops {
        let op = rng.below(100);
        let target = if addrs.len() > 600 { 20 } else { 45 };
        if op < target || addrs.is_empty() {
            // alloc
            let len = random_len(&mut rng);
            let b = buffer::new(len).unwrap();
            assert_eq!(b % 16, 0);
            let start = b - 16;
            let end = start + alloc::size_of_block(start);
            if let Some((&s, &e)) = m.blocks.range(..end).next_back() {
                assert!(e <= start || s >= end, "step {step}: block {start:#x}..{end:#x} overlaps {s:#x}..{e:#x}");
            }
            m.blocks.insert(start, end);
            m.heap_bytes += end - start;
            m.live_bytes += len;
            assert!(bytes(b, len).iter().all(|&x| x == 0), "step {step}: not zeroed");
            // Fill with a recognisable pattern.
            let fill = rng.next() as u8;
            let data: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
            bytes(b, len).copy_from_slice(&data);
            m.live.insert(b, (1, data));

            addrs.push(b);
        } else if op < 55 {
            // retain
            let b = addrs[rng.below(addrs.len() as u64) as usize];
            buffer::retain(b).unwrap();
            m.live.get_mut(&b).unwrap().0 += 1;
            addrs.push(b);
        } else if op < 85 {
            // release one reference
            let i = rng.below(addrs.len() as u64) as usize;
            let b = addrs.swap_remove(i);
            let (rc, data) = m.live.get_mut(&b).unwrap();
            assert_eq!(bytes(b, data.len() as u32), &data[..], "step {step}: data of {b:#x} changed");
            *rc -= 1;
            assert_eq!(buffer::release(b), Ok(*rc));
            if *rc == 0 {
                m.live_bytes -= data.len() as u32;
                m.live.remove(&b);
                m.heap_bytes -= m.blocks.remove(&(b - 16)).unwrap() - (b - 16);
                m.dead.push(b);
                if m.dead.len() > 64 {
                    m.dead.remove(0);
                }
            }
        } else if op < 92 {
            // view: read a random range through the buffer and compare
            let b = addrs[rng.below(addrs.len() as u64) as usize];
            let (rc, data) = &m.live[&b];
            assert_eq!(buffer::resolve(b), Ok(data.len() as u32));
            assert_eq!(buffer::refcount(b), Ok(*rc));
            let off = rng.below(data.len() as u64 + 1) as usize;
            let n = rng.below((data.len() - off) as u64 + 1) as usize;
            assert_eq!(&bytes(b, data.len() as u32)[off..off + n], &data[off..off + n], "step {step}");
        } else if op < 96 {
            // copy between (or within) buffers, memmove semantics
            let a = addrs[rng.below(addrs.len() as u64) as usize];
            let c = addrs[rng.below(addrs.len() as u64) as usize];
            let (alen, clen) = (m.live[&a].1.len(), m.live[&c].1.len());
            let n = rng.below(alen.min(clen) as u64 + 1) as usize;
            let so = rng.below((alen - n) as u64 + 1) as usize;
            let d_o = rng.below((clen - n) as u64 + 1) as usize;
            unsafe { std::ptr::copy(memory::ptr(a + so as u32), memory::ptr(c + d_o as u32), n) };
            let src = m.live[&a].1[so..so + n].to_vec();
            m.live.get_mut(&c).unwrap().1[d_o..d_o + n].copy_from_slice(&src);
        } else if op < 98 {
            // copies through the external memory
            let b = addrs[rng.below(addrs.len() as u64) as usize];
            let len = m.live[&b].1.len();
            let n = rng.below(len.min(4096) as u64 + 1) as usize;
            let off = rng.below((len - n) as u64 + 1) as usize;
            let ext = rng.below((ext_model.len() - n) as u64 + 1) as usize;
            if rng.below(2) == 0 {
                external::copy_out(ext as u32, b, off as u32, n as u32).unwrap();
                ext_model[ext..ext + n].copy_from_slice(&m.live[&b].1[off..off + n]);
            } else {
                external::copy_in(b, off as u32, ext as u32, n as u32).unwrap();
                m.live.get_mut(&b).unwrap().1[off..off + n].copy_from_slice(&ext_model[ext..ext + n]);
            }
            // Out-of-range variants fail and change nothing.
            assert_eq!(external::copy_in(b, len as u32 + 1, 0, 0), Err(ErrorCode::Range));
            let past_end = ext_model.len() as u32 - n as u32 + 1;
            let expected = if n + 1 > len { ErrorCode::Range } else { ErrorCode::ExternalRange };
            assert_eq!(external::copy_out(past_end, b, 0, n as u32 + 1), Err(expected));
        } else {
            // misuse of a dead address that no live buffer took over
            if let Some(&d) = m.dead.last()
                && !m.live.contains_key(&d)
            {
                let r = buffer::release(d);
                assert!(matches!(r, Err(ErrorCode::Freed) | Err(ErrorCode::NotABuffer)), "step {step}: {r:?}");
                assert!(buffer::retain(d).is_err());
            }
            let forged = (rng.next() as u32) | 1;
            assert_eq!(buffer::release(forged), Err(ErrorCode::NotABuffer));
            // A live-looking header forged inside a live buffer (data a
            // program may receive) is no buffer; its bytes are put back.
            let b = addrs[rng.below(addrs.len() as u64) as usize];
            let len = m.live[&b].1.len() as u32;
            if len >= 32 {
                let f = b + 16 + (rng.below(len as u64 / 16 - 1) as u32) * 16;
                let saved = bytes(f - 16, 16).to_vec();
                let header = [64, f ^ multimem_abi::LIVE_TAG, 8, 1];
                for (k, w) in header.iter().enumerate() {
                    bytes(f - 16 + 4 * k as u32, 4).copy_from_slice(&w.to_le_bytes());
                }
                assert_eq!(buffer::check(f), Err(ErrorCode::NotABuffer), "step {step}: forged {f:#x} in {b:#x}");
                assert_eq!(buffer::release(f), Err(ErrorCode::NotABuffer), "step {step}");
                bytes(f - 16, 16).copy_from_slice(&saved);
            }
        }
        check_counters(&m);
        if step % 2000 == 0 {
            alloc::check_heap().unwrap_or_else(|e| panic!("step {step}: {e}"));
        }
    }
    assert_eq!(intrinsics::external(), ext_model);
    // Release everything, checking contents one last time.
    for b in addrs {
        let (rc, data) = m.live.get_mut(&b).unwrap();
        assert_eq!(bytes(b, data.len() as u32), &data[..]);
        *rc -= 1;
        assert_eq!(buffer::release(b), Ok(*rc));
        if *rc == 0 {
            m.live_bytes -= data.len() as u32;
            m.live.remove(&b);
            m.heap_bytes -= m.blocks.remove(&(b - 16)).unwrap() - (b - 16);
        }
    }
    check_counters(&m);
    let s = buffer::stats();
    assert_eq!((s.live_buffers, s.live_bytes, s.heap_bytes), (0, 0, 0));
    #[cfg(feature = "checked")]
    multimem_runtime::checked::flush_quarantine();
    alloc::reclaim();
    let walk = alloc::check_heap().unwrap();
    assert_eq!((walk.used_blocks, walk.free_blocks), (0, 1), "{walk:?}");
    assert_eq!(walk.free_bytes, alloc::top() - memory::heap_start());
    // The map of buffer starts fills the memory above the heap.
    let map = multimem_runtime::starts::bytes_for(memory::size_bytes());
    assert_eq!(alloc::top() as u64 + map as u64, memory::size_bytes());
}

fn seed() -> u64 {
    std::env::var("MULTIMEM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_0001)
}

#[test]
fn random_operations_match_the_model() {
    run(seed(), 120_000);
}

#[test]
fn random_operations_match_the_model_second_seed() {
    run(seed().wrapping_mul(31).wrapping_add(7), 120_000);
}
