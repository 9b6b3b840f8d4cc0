//! Ownership by GC objects (`docs/ABI.md`), in wasmtime through
//! multimem-host: a WasmGC program whose list objects own their buffers
//! through `multimem:gc.own` tokens, released by wasmtime's GC in batches
//! (`buffer_release_batch`). One million lists allocated and dropped with
//! forced GCs in bounded runtime memory; live buffers exactly the reachable
//! ones; every buffer released exactly once, including buffers shared by
//! several list objects and buffers the host holds too. With a GC heap
//! large enough that wasmtime seldom collects on its own, the bytes behind
//! uncollected tokens force collections past `Options::owned_bytes_budget`
//! (and without the budget the runtime memory grows past the bound). Both
//! builds.

use multimem_host::{ErrorCode, Instantiated, Kind, Options, error_code, instantiate_wasm};
use wasmtime::{Engine, Store};

/// A list object is `(struct base length token)`: the token keeps the
/// buffer; views copy the token, with no refcount change.
const APP: &str = r#"(module
  (import "multimem" "memory" (memory $own 0))
  (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
  (import "multimem:gc" "own" (func $own (param i32) (result (ref extern))))
  (import "multimem" "buffer_release" (func $release (param i32) (result i32)))
  (type $list (struct (field $base i32) (field $len i32) (field $token (ref extern))))
  (type $lists (array (mut (ref null $list))))
  (global $kept (mut (ref null $lists)) (ref.null $lists))
  (global $views (mut (ref null $lists)) (ref.null $lists))
  (global $ring (mut (ref null $lists)) (ref.null $lists))
  (func $make (param $len i32) (result (ref $list))
    (local $b i32)
    (local.set $b (call $new (local.get $len)))
    (struct.new $list (local.get $b) (local.get $len) (call $own (local.get $b))))
  ;; n lists of len bytes, each written and read once, then dropped.
  (func (export "churn") (param $n i32) (param $len i32) (result i64)
    (local $i i32) (local $l (ref null $list)) (local $sum i64)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $l (call $make (local.get $len)))
      (i32.store8 $own (struct.get $list $base (local.get $l)) (local.get $i))
      (local.set $sum (i64.add (local.get $sum)
        (i64.load8_u $own (struct.get $list $base (local.get $l)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $sum))
  ;; k lists kept in a global list of lists.
  (func (export "keep") (param $k i32) (param $len i32)
    (local $i i32) (local $a (ref $lists))
    (local.set $a (array.new_default $lists (local.get $k)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $k)))
      (array.set $lists (local.get $a) (local.get $i) (call $make (local.get $len)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (global.set $kept (local.get $a)))
  ;; Views (sublistView(kept[i], 1)) of the first k kept lists, in another global.
  (func (export "view_kept") (param $k i32)
    (local $i i32) (local $a (ref $lists)) (local $l (ref $list))
    (local.set $a (array.new_default $lists (local.get $k)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $k)))
      (local.set $l (ref.as_non_null (array.get $lists (global.get $kept) (local.get $i))))
      (array.set $lists (local.get $a) (local.get $i)
        (struct.new $list (i32.add (struct.get $list $base (local.get $l)) (i32.const 1))
          (i32.sub (struct.get $list $len (local.get $l)) (i32.const 1))
          (struct.get $list $token (local.get $l))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (global.set $views (local.get $a)))
;; n lists of len bytes stored in a ring of 64 slots until replaced
  ;; (every one escapes), each written and read once.
  (func (export "ring") (param $n i32) (param $len i32) (result i64)
    (local $i i32) (local $l (ref $list)) (local $sum i64)
    (global.set $ring (array.new_default $lists (i32.const 64)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $l (call $make (local.get $len)))
      (array.set $lists (ref.as_non_null (global.get $ring)) (i32.and (local.get $i) (i32.const 63)) (local.get $l))
      (i32.store8 $own (i32.add (struct.get $list $base (local.get $l)) (i32.const 4095)) (local.get $i))
      (local.set $sum (i64.add (local.get $sum)
        (i64.load8_u $own (i32.add (struct.get $list $base (local.get $l)) (i32.const 4095)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $sum))
  (func (export "clear_ring") (global.set $ring (ref.null $lists)))
  (func (export "clear_kept") (global.set $kept (ref.null $lists)))
  (func (export "clear_views") (global.set $views (ref.null $lists)))
  ;; Owns a reference the host hands in (a second owner of that buffer).
  (func (export "adopt") (param $b i32) (param $len i32)
    (global.set $views (array.new_fixed $lists 1
      (struct.new $list (local.get $b) (local.get $len) (call $own (local.get $b))))))
  ;; Against the ABI: owns a buffer, then releases that same reference itself.
  (func (export "misuse")
    (local $b i32)
    (local.set $b (call $new (i32.const 8)))
    (drop (call $own (local.get $b)))
    (drop (call $release (local.get $b)))))"#;

fn link(single: bool) -> Vec<u8> {
    let mut l = multimem_linker::Linker::new(multimem_linker::Config::default().single_memory(single));
    l.add_module("app", &wat::parse_str(APP).unwrap()).unwrap();
    l.add_module("multimem", multimem_runtime_wasm::RUNTIME_WASM).unwrap();
    l.link().unwrap().wasm
}

fn setup(single: bool) -> (Store<()>, Instantiated) {
    let engine: Engine = if single { Options::single_memory_engine() } else { Options::engine() }.unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    let inst = instantiate_wasm(&mut store, &mut linker, &link(single), None, &Options::default()).unwrap();
    (store, inst)
}

/// A store whose GC heap starts at `gc_heap` bytes (so wasmtime collects
/// only when that fills), the app instantiated with `options`.
fn setup_with(single: bool, gc_heap: usize, options: &Options) -> (Store<()>, Instantiated) {
    let mut config = if single { Options::single_memory_engine_config() } else { Options::engine_config() };
    config.gc_heap_initial_size(gc_heap as u64);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    let inst = instantiate_wasm(&mut store, &mut linker, &link(single), None, options).unwrap();
    (store, inst)
}

fn live(store: &mut Store<()>, inst: &Instantiated) -> u32 {
    inst.runtime.collect(store).unwrap();
    inst.runtime.stats(store).unwrap().live_buffers
}

/// One million lists of 64 bytes, allocated and dropped by the program in
/// 100 calls of 10,000, with a forced GC after each call, and then one
/// million more in a single call, where only wasmtime's own collections
/// (and the batches `own` applies) release them. The bound: the runtime
/// memory never exceeds `BOUND_PAGES` (its size never shrinks, so the
/// final size is the peak; measured: 3 pages, 192 KiB, in both builds),
/// while 2M x 64 B unreleased would be 2,000+
/// pages (and 80 B blocks more).
const BOUND_PAGES: u32 = 8;

#[test]
fn a_million_lists_with_forced_gcs_stay_in_bounded_memory() {
    for single in [false, true] {
        let (mut store, inst) = setup(single);
        let mut sum = 0i64;
        for _ in 0..100 {
            sum += inst.call::<(i32, i32), i64>(&mut store, "churn", (10_000, 64)).unwrap();
            assert_eq!(live(&mut store, &inst), 0, "after a forced GC nothing is reachable");
        }
        let want: i64 = 100 * (0..10_000i64).map(|i| i & 0xff).sum::<i64>();
        assert_eq!(sum, want);
        let after_forced = inst.runtime.stats(&mut store).unwrap().pages;
        let one_call = inst.call::<(i32, i32), i64>(&mut store, "churn", (1_000_000, 64)).unwrap();
        assert_eq!(one_call, (0..1_000_000i64).map(|i| i & 0xff).sum::<i64>());
        let peak = inst.runtime.stats(&mut store).unwrap().pages;
        let t = inst.runtime.token_stats();
        eprintln!(
            "[single {single}] pages after 100 x 10k with forced GCs: {after_forced}; after 1M in one call: {peak}; tokens {t:?}"
        );
        assert!(peak <= BOUND_PAGES, "[single {single}] runtime memory grew to {peak} pages");
        assert!(t.batches > 1000, "releases were batched while the loop ran: {t:?}");
        assert_eq!(live(&mut store, &inst), 0);
        let t = inst.runtime.token_stats();
        assert_eq!((t.made, t.collected, t.released), (2_000_000, 2_000_000, 2_000_000), "{t:?}");
        inst.runtime.check_no_leaks(&mut store).unwrap();
    }
}

#[test]
fn live_buffers_are_exactly_the_reachable_ones() {
    for single in [false, true] {
        let (mut store, inst) = setup(single);
        inst.call::<(i32, i32), ()>(&mut store, "keep", (100, 32)).unwrap();
        inst.call::<(i32, i32), i64>(&mut store, "churn", (5_000, 32)).unwrap();
        assert_eq!(live(&mut store, &inst), 100, "the kept lists only");
        // Views share the kept lists' tokens: no new buffer, no new reference.
        inst.call::<i32, ()>(&mut store, "view_kept", 7).unwrap();
        assert_eq!(live(&mut store, &inst), 100);
        // The kept lists go; the 7 viewed buffers stay, held by the views alone.
        inst.call::<(), ()>(&mut store, "clear_kept", ()).unwrap();
        assert_eq!(live(&mut store, &inst), 7);
        inst.call::<(), ()>(&mut store, "clear_views", ()).unwrap();
        assert_eq!(live(&mut store, &inst), 0);
        let t = inst.runtime.token_stats();
        assert_eq!((t.made, t.released), (5_100, 5_100), "{t:?}");
        inst.runtime.check_no_leaks(&mut store).unwrap();
    }
}

#[test]
fn a_buffer_held_by_the_host_and_by_a_token_is_released_once_by_each() {
    for single in [false, true] {
        let (mut store, inst) = setup(single);
        let rt = inst.runtime.clone();
        let list = rt.list_new(&mut store, Kind::Uint8List, 16).unwrap();
        // The program gets a reference of its own and owns it with a token.
        let second = rt.retain(&mut store, list.buffer()).unwrap();
        let address = second.into_raw();
        inst.call::<(i32, i32), ()>(&mut store, "adopt", (address as i32, 16)).unwrap();
        assert_eq!(rt.refcount(&mut store, list.buffer()).unwrap(), 2);
        // The token dies first: one reference left, the host's.
        inst.call::<(), ()>(&mut store, "clear_views", ()).unwrap();
        assert_eq!(live(&mut store, &inst), 1);
        assert_eq!(rt.refcount(&mut store, list.buffer()).unwrap(), 1);
        rt.elements_mut::<u8, ()>(&mut store, &list).unwrap()[3] = 9;
        drop(list);
        assert_eq!(live(&mut store, &inst), 0);
        let t = rt.token_stats();
        assert_eq!((t.made, t.released), (1, 1));
    }
}

#[test]
fn a_program_that_releases_a_tokens_reference_itself_is_reported() {
    let (mut store, inst) = setup(false);
    inst.call::<(), ()>(&mut store, "misuse", ()).unwrap();
    let e = inst.runtime.collect(&mut store).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::Freed), "{e:#}");
    assert!(format!("{e:#}").contains("of a collected token"), "{e:#}");
    // Nothing else was disturbed.
    inst.call::<(i32, i32), i64>(&mut store, "churn", (1000, 16)).unwrap();
    assert_eq!(live(&mut store, &inst), 0);
}

#[test]
fn buffer_release_batch_follows_the_abi() {
    let (mut store, inst) = setup(false);
    let batch = inst.app.get_typed_func::<i32, i32>(&mut store, "buffer_release_batch").unwrap();
    let queue = batch.call(&mut store, 0).unwrap() as usize;
    let rt = inst.runtime.clone();
    let bufs: Vec<u32> = (0..3).map(|_| rt.buffer_new(&mut store, 8).unwrap().into_raw()).collect();
    let memory = rt.memory().expect("an unshared runtime memory");
    let write = |store: &mut Store<()>, words: &[u32]| {
        for (i, w) in words.iter().enumerate() {
            memory.data_mut(&mut *store)[queue + 4 * i..queue + 4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
    };
    let read = |store: &Store<()>, n: usize| -> Vec<u32> {
        (0..n)
            .map(|i| u32::from_le_bytes(memory.data(store)[queue + 4 * i..queue + 4 * i + 4].try_into().unwrap()))
            .collect()
    };
    // More than RELEASE_BATCH: RANGE, nothing released.
    let e =
        inst.call::<i32, i32>(&mut store, "buffer_release_batch", multimem_abi::RELEASE_BATCH as i32 + 1).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::Range), "{e:#}");
    assert_eq!(rt.stats(&mut store).unwrap().live_buffers, 3);
    // A bad slot stops the call there: the ones before are released and zeroed.
    write(&mut store, &[bufs[0], bufs[0] + 16, bufs[1]]);
    let e = inst.call::<i32, i32>(&mut store, "buffer_release_batch", 3).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::NotABuffer), "{e:#}");
    assert_eq!(read(&store, 3), vec![0, bufs[0] + 16, bufs[1]]);
    assert_eq!(rt.stats(&mut store).unwrap().live_buffers, 2);
    // The rest in one call.
    write(&mut store, &[bufs[1], bufs[2]]);
    assert_eq!(inst.call::<i32, i32>(&mut store, "buffer_release_batch", 2).unwrap() as usize, queue);
    assert_eq!(read(&store, 2), vec![0, 0]);
    rt.check_no_leaks(&mut store).unwrap();
}

/// `ring` with 4 KiB lists in a GC heap of 16 MiB or more: 20,000 tokens
/// and structs fill a few MiB of it, so wasmtime never collects on its
/// own. Without the budget all 20,000 buffers (80 MiB, 1,250+ pages) stay
/// until the host collects; with the default budget (the GC heap's 16 MiB
/// here, above the 8 MiB floor) `own` forces a collection about every
/// 4,000 lists, and the runtime memory stays under `RING_BOUND_PAGES`
/// (24 MiB). Measured: 266 pages and 4 forced collections per call with
/// the default budget in a 16 MiB heap (both builds), 1,279 pages
/// without a budget.
const RING_BOUND_PAGES: u32 = 384;
const RING_N: i32 = 20_000;
const MIB: usize = 1 << 20;

/// Runs `ring(RING_N, 4096)` in a GC heap of `gc_heap` bytes, checks its
/// sum and that every token is released once, and returns (peak pages,
/// forced collections).
fn ring_in_large_gc_heap(single: bool, gc_heap: usize, options: &Options, budget: &str) -> (u32, u64) {
    let (mut store, inst) = setup_with(single, gc_heap, options);
    let sum = inst.call::<(i32, i32), i64>(&mut store, "ring", (RING_N, 4096)).unwrap();
    assert_eq!(sum, (0..RING_N as i64).map(|i| i & 0xff).sum::<i64>(), "the program's result");
    let peak = inst.runtime.stats(&mut store).unwrap().pages;
    let forced = inst.runtime.token_stats().forced_collections;
    assert_eq!(live(&mut store, &inst), 64, "the ring's 64 lists only");
    inst.call::<(), ()>(&mut store, "clear_ring", ()).unwrap();
    assert_eq!(live(&mut store, &inst), 0);
    let t = inst.runtime.token_stats();
    assert_eq!((t.made, t.collected, t.released), (RING_N as u64, RING_N as u64, RING_N as u64), "{t:?}");
    inst.runtime.check_no_leaks(&mut store).unwrap();
    eprintln!("[single {single}] GC heap {} MiB, budget {budget}: {peak} pages, tokens {t:?}", gc_heap / MIB);
    (peak, forced)
}

#[test]
fn the_bytes_behind_tokens_force_collections_past_the_budget() {
    assert_eq!(Options::DEFAULT_OWNED_BYTES_BUDGET, 8 << 20);
    for single in [false, true] {
        let (peak, forced) = ring_in_large_gc_heap(single, 16 * MIB, &Options::default(), "default");
        assert!(peak <= RING_BOUND_PAGES, "[single {single}] runtime memory grew to {peak} pages");
        // 20,000 x 4,112 bytes over a 16 MiB budget: about 4 collections.
        assert!((3..=8).contains(&forced), "[single {single}] {forced} forced collections");
    }
}

#[test]
fn without_the_budget_the_runtime_memory_grows_past_the_bound() {
    let (peak, forced) = ring_in_large_gc_heap(false, 16 * MIB, Options::new().owned_bytes_budget(None), "none");
    assert_eq!(forced, 0);
    assert!(peak > RING_BOUND_PAGES, "without the budget: {peak} pages");
}

#[test]
fn the_budget_is_at_least_the_gc_heaps_size() {
    // A 1 MiB floor in a 16 MiB heap: the heap's size decides.
    let (small_peak, small) =
        ring_in_large_gc_heap(false, 16 * MIB, Options::new().owned_bytes_budget(Some(MIB as u64)), "1 MiB");
    let (peak_16, forced_16) = ring_in_large_gc_heap(false, 16 * MIB, &Options::default(), "default");
    assert_eq!((small_peak, small), (peak_16, forced_16));
    // A 48 MiB heap lets 48 MiB of buffers wait: fewer collections, more memory.
    let (peak_48, forced_48) = ring_in_large_gc_heap(false, 48 * MIB, &Options::default(), "default");
    assert!(forced_48 < forced_16 && forced_48 >= 1, "48 MiB: {forced_48} collections, 16 MiB: {forced_16}");
    assert!(peak_48 > peak_16 && peak_48 <= 1000, "48 MiB: {peak_48} pages, 16 MiB: {peak_16}");
}
