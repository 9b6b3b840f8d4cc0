//! Compiled programs whose buffers are owned by their GC objects
//! (`docs/ABI.md`, "Ownership by GC objects"), in wasmtime through
//! multimem-host, in both builds: a million lists allocated and dropped
//! with forced GCs in bounded runtime memory; live buffers exactly the
//! reachable ones (counted here and walked through wasmtime's GC API), and
//! none at the end; every buffer released exactly once, including buffers
//! shared by views and buffers the host holds too; the same output in both
//! builds.

use multimem_compiler::run::{Build, HostState, Mode, Prepared, drop_globals, prepare, reachable_buffers, run};
use multimem_compiler::{Options, compile};
use multimem_host::Kind;

const BUILDS: [Build; 2] = [Build::MultiMemory, Build::SingleMemory];

fn program(name: &str) -> String {
    let path = format!("{}/../examples/compiler/programs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The bound on the runtime memory of the million-list runs: 8 pages
/// (512 KiB; measured: 2 pages in both builds). Its size never shrinks, so
/// the size at the end is the peak. A million lists of 16-63 bytes that
/// were never released would take over 600 pages.
const BOUND_PAGES: u32 = 8;

/// What `churn.mm` prints, computed here.
fn churn_expected() -> Vec<String> {
    let make = |i: i64| {
        let len = 16 + i % 48;
        let mut l = vec![0u8; len as usize];
        l[0] = i as u8;
        l[len as usize - 1] = (i >> 8) as u8;
        l
    };
    let mut ring: Vec<Vec<u8>> = (0..64).map(make).collect();
    let mut check = 0i64;
    for i in 64..1_000_000i64 {
        let l = make(i);
        let old = std::mem::replace(&mut ring[(i % 64) as usize], l);
        check = (check + old[0] as i64 + old[old.len() - 1] as i64) % 1_000_000_007;
    }
    vec![check.to_string(), "64".into(), ring[5][0].to_string()]
}

#[test]
fn a_million_lists_with_forced_gcs_stay_in_bounded_memory() {
    let app = compile(&program("churn.mm"), &Options::default()).unwrap();
    let want = churn_expected();
    let mut outcomes = Vec::new();
    for build in BUILDS {
        let o = run(&app, Mode::Linked, build).unwrap();
        eprintln!(
            "[{}] {} / after GC {} / final {} / tokens {:?}",
            build.name(),
            o.stats,
            o.after_gc,
            o.final_stats,
            o.tokens
        );
        assert_eq!(o.printed, want, "{}", build.name());
        assert!(
            o.final_stats.pages <= BOUND_PAGES,
            "{}: runtime memory grew to {} pages",
            build.name(),
            o.final_stats.pages
        );
        // Every list escaped into the ring: one token each, all released,
        // in batches while the loop ran.
        assert_eq!((o.tokens.made, o.tokens.collected, o.tokens.released), (1_000_000, 1_000_000, 1_000_000));
        assert!(o.tokens.batches > 1000, "{:?}", o.tokens);
        // The ring's 64 lists are what the globals reach after main.
        assert_eq!((o.after_gc.live_buffers, o.reachable), (64, 64));
        assert_eq!(o.final_stats.live_buffers, 0);
        o.leak_check.as_ref().unwrap();
        outcomes.push(o);
    }
    assert_eq!(outcomes[0].printed, outcomes[1].printed);
    assert_eq!(
        (outcomes[0].stats, outcomes[0].after_gc, outcomes[0].final_stats),
        (outcomes[1].stats, outcomes[1].after_gc, outcomes[1].final_stats)
    );
}

/// A program the host drives: lists kept in global Lists, views of them,
/// temporaries, fresh results and escaping lists, and lists the host hands
/// in or takes out.
const DRIVEN: &str = "
var kept = <Uint8List>[];
var views = <Uint8List>[];
var ring = <Uint8List>[];

Uint8List make(int i, int len) {
  var l = Uint8List(len);
  l[0] = i;
  return l;
}

export void keep(int k, int len) {
  for (var i = 0; i < k; i++) {
    kept.add(make(i, len));
  }
}

export void viewKept(int k) {
  for (var i = 0; i < k; i++) {
    views.add(Uint8List.sublistView(kept[i], 1));
  }
}

export void clearKept() { kept.clear(); }
export void clearViews() { views.clear(); }

// n lists: a temporary, a fresh result and one that escapes into a ring
// of 16 (the last 16 stay reachable).
export int churn(int n, int len) {
  if (ring.length == 0) {
    for (var k = 0; k < 16; k++) { ring.add(Uint8List(len)); }
  }
  var check = 0;
  for (var i = 0; i < n; i++) {
    var t = Uint8List(len);
    t[0] = i;
    check += t[0] + make(i, len)[0];
    ring[i % 16] = make(i, len);
  }
  return check;
}

export void clearRing() { ring.clear(); }

export void adopt(Uint8List data) { kept.add(data); }
export int total(Uint8List data) { return sum(data); }
export Uint8List first() { return kept[0]; }
export Uint8List fresh(int n) { var l = Uint8List(n); l[0] = 7; return l; }
";

/// The driven program, instantiated and its `main` run (which initialises
/// the globals, as the host-import contract says).
fn setup(build: Build) -> Prepared {
    let mut p = prepare(&compile(DRIVEN, &Options::default()).unwrap(), Mode::Linked, build).unwrap();
    call::<_, ()>(&mut p, "main", ());
    p
}

/// Live buffers after a forced GC, checked against the buffers the host
/// finds reachable from the globals.
fn live(p: &mut Prepared) -> u32 {
    p.instance.runtime.collect(&mut p.store).unwrap();
    let live = p.instance.runtime.stats(&mut p.store).unwrap().live_buffers;
    let reachable = reachable_buffers(&mut p.store, &p.instance.app).unwrap().len();
    assert_eq!(live as usize, reachable, "live buffers are the reachable ones");
    live
}

fn call<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(p: &mut Prepared, name: &'static str, args: P) -> R {
    p.instance.call::<P, R>(&mut p.store, name, args).unwrap()
}

#[test]
fn live_buffers_are_exactly_the_reachable_ones() {
    for build in BUILDS {
        let mut p = setup(build);
        call::<_, ()>(&mut p, "keep", (100i64, 32i64));
        assert_eq!(live(&mut p), 100);
        // Temporaries and fresh results need no token; the ring's lists do.
        let check = call::<_, i64>(&mut p, "churn", (5_000i64, 32i64));
        assert_eq!(check, 2 * (0..5_000i64).map(|i| i & 0xff).sum::<i64>());
        assert_eq!(live(&mut p), 116, "the kept lists and the ring's 16");
        assert_eq!(p.instance.runtime.token_stats().made, 100 + 16 + 5_000);
        // Views share the kept lists' tokens: no new buffer, no new token.
        call::<_, ()>(&mut p, "viewKept", 7i64);
        assert_eq!(live(&mut p), 116);
        assert_eq!(p.instance.runtime.token_stats().made, 5_116);
        // The kept lists go; the 7 viewed buffers stay, held by the views alone.
        call::<_, ()>(&mut p, "clearKept", ());
        assert_eq!(live(&mut p), 23);
        call::<_, ()>(&mut p, "clearViews", ());
        assert_eq!(live(&mut p), 16);
        call::<_, ()>(&mut p, "clearRing", ());
        assert_eq!(live(&mut p), 0);
        let t = p.instance.runtime.token_stats();
        assert_eq!((t.made, t.collected, t.released), (5_116, 5_116, 5_116), "{t:?}");
        p.instance.runtime.check_no_leaks(&mut p.store).unwrap();
    }
}

#[test]
fn a_million_lists_driven_by_the_host_with_a_gc_after_each_call() {
    for build in BUILDS {
        let mut p = setup(build);
        let mut check = 0i64;
        for _ in 0..100 {
            check += call::<_, i64>(&mut p, "churn", (10_000i64, 64i64));
            assert_eq!(live(&mut p), 16);
        }
        assert_eq!(check, 100 * 2 * (0..10_000i64).map(|i| i & 0xff).sum::<i64>());
        let stats = p.instance.runtime.stats(&mut p.store).unwrap();
        assert!(stats.pages <= BOUND_PAGES, "{}: {} pages", build.name(), stats.pages);
        let t = p.instance.runtime.token_stats();
        assert_eq!((t.made, t.released), (1_000_016, 1_000_000));
        drop_globals(&mut p.store, &p.instance.app).unwrap();
        assert_eq!(live(&mut p), 0);
        assert_eq!(p.instance.runtime.token_stats().released, 1_000_016);
    }
}

fn refcount(p: &mut Prepared, list: &multimem_host::TypedList) -> u32 {
    p.instance.runtime.refcount(&mut p.store, list.buffer()).unwrap()
}

#[test]
fn a_buffer_held_by_the_host_and_the_program_is_released_once_by_each() {
    for build in BUILDS {
        let mut p = setup(build);
        let rt = p.instance.runtime.clone();
        let list = rt.list_new(&mut p.store, Kind::Uint8List, 16).unwrap();
        rt.elements_mut::<u8, HostState>(&mut p.store, &list).unwrap()[3] = 9;
        let view = (list.buffer().address() as i32, 0i32, 16i32);
        // Borrowed for one call: no reference, no token.
        assert_eq!(call::<_, i64>(&mut p, "total", view), 9);
        assert_eq!(refcount(&mut p, &list), 1);
        assert_eq!(rt.token_stats().made, 0);
        // Kept by the program: a reference of its own, owned by a token.
        call::<_, ()>(&mut p, "adopt", view);
        assert_eq!(refcount(&mut p, &list), 2);
        assert_eq!(rt.token_stats().made, 1);
        // Taken out again: one more reference, for the host.
        let (b, o, l) = call::<_, (i32, i32, i32)>(&mut p, "first", ());
        assert_eq!((b as u32, o, l), (list.buffer().address(), 0, 16));
        let out = rt.adopt(&mut p.store, b as u32).unwrap();
        assert_eq!(refcount(&mut p, &list), 3);
        // The host's two handles go first: the program's reference remains.
        drop(list);
        rt.release(&mut p.store, out).unwrap();
        assert_eq!(live(&mut p), 1);
        // Then the program drops its list: the token's release frees it.
        call::<_, ()>(&mut p, "clearKept", ());
        assert_eq!(live(&mut p), 0);
        let t = rt.token_stats();
        assert_eq!((t.made, t.released), (1, 1));
        rt.check_no_leaks(&mut p.store).unwrap();

        // A fresh result hands its only reference to the host: no token.
        let (b, o, l) = call::<_, (i32, i32, i32)>(&mut p, "fresh", 8i64);
        assert_eq!((o, l), (0, 8));
        let handle = rt.adopt(&mut p.store, b as u32).unwrap();
        assert_eq!(rt.refcount(&mut p.store, &handle).unwrap(), 1);
        assert_eq!(rt.bytes(&p.store, &handle).unwrap()[0], 7);
        assert_eq!(rt.token_stats().made, 1);
        drop(handle);
        assert_eq!(live(&mut p), 0);
    }
}

#[test]
fn a_bad_view_from_the_host_is_refused_before_it_is_touched() {
    let mut p = setup(Build::MultiMemory);
    let rt = p.instance.runtime.clone();
    let list = rt.list_new(&mut p.store, Kind::Uint8List, 16).unwrap();
    let address = list.buffer().address() as i32;
    for view in [(address + 16, 0, 1), (address, 8, 9), (address, -1, 1), (0, 0, 0)] {
        let e = p.instance.call::<(i32, i32, i32), ()>(&mut p.store, "adopt", view).unwrap_err();
        assert!(format!("{e:#}").contains("unreachable"), "{view:?}: {e:#}");
    }
    assert_eq!(refcount(&mut p, &list), 1);
    assert_eq!(rt.token_stats().made, 0);
}

#[test]
fn output_and_counts_are_the_same_in_both_builds_and_with_tokens_everywhere() {
    for name in ["functions.mm", "lists.mm", "globals.mm", "bench_alloc.mm"] {
        let src = program(name);
        let mut seen: Option<Vec<String>> = None;
        for tokens_everywhere in [false, true] {
            let app = compile(&src, &Options { tokens_everywhere, ..Default::default() }).unwrap();
            let multi = run(&app, Mode::Linked, Build::MultiMemory).unwrap();
            let single = run(&app, Mode::Linked, Build::SingleMemory).unwrap();
            assert_eq!(multi.printed, single.printed, "{name}");
            assert_eq!(
                (multi.after_gc, multi.final_stats, multi.tokens),
                (single.after_gc, single.final_stats, single.tokens)
            );
            multi.leak_check.unwrap();
            single.leak_check.unwrap();
            if tokens_everywhere {
                // Every buffer had a token, and each was released once.
                assert_eq!(multi.tokens.made, multi.tokens.released);
                assert!(multi.tokens.made > 0);
            }
            match &seen {
                None => seen = Some(multi.printed),
                Some(s) => assert_eq!(s, &multi.printed, "{name}: tokens everywhere prints differently"),
            }
        }
    }
}
