//! The example compiler end to end: programs in `examples/compiler/programs`
//! compiled, linked with runtime.wasm by multimem-linker, run in wasmtime
//! (GC + multi-memory) next to the wasm32 external library through
//! multimem-host, and again as the single-memory build in wasmtime with
//! multi-memory off. Every expected output is computed here independently,
//! in plain Rust; every run must end with the live buffers exactly the
//! ones the globals reach after a GC, and none once the globals are
//! dropped; both builds must print the same bytes and count the same
//! stats; and owning every buffer by a token (no scope-based release)
//! must not change what a program prints.

use multimem_abi::ErrorCode;
use multimem_compiler::run::{Build, Mode, Outcome, run, run_baseline};
use multimem_compiler::{Backend, Options, compile};

fn program(name: &str) -> String {
    let path = format!("{}/../examples/compiler/programs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What two runs must agree on: output, stats after main, after a GC,
/// reachable buffers, final stats, tokens.
fn same(a: &Outcome, b: &Outcome, what: &str) {
    assert_eq!(a.printed.join("\n"), b.printed.join("\n"), "{what}: output differs");
    assert_eq!(
        (a.stats, a.after_gc, a.reachable, a.final_stats, a.tokens),
        (b.stats, b.after_gc, b.reachable, b.final_stats, b.tokens),
        "{what}: stats differ"
    );
}

fn clean(o: &Outcome) {
    o.leak_check.as_ref().unwrap();
    assert_eq!((o.final_stats.live_buffers, o.final_stats.live_bytes), (0, 0));
    assert_eq!(o.after_gc.live_buffers as usize, o.reachable);
    assert_eq!(o.tokens.made, o.tokens.released);
}

/// Runs `src` linked and unlinked, each in both builds, and with tokens
/// everywhere; all must print the same and end clean, and the two builds
/// of each mode must end with the same stats.
fn run_both(src: &str) -> Vec<String> {
    let app = compile(src, &Options::default()).unwrap();
    let mut printed = None;
    for mode in [Mode::Linked, Mode::Unlinked] {
        let multi = run(&app, mode, Build::MultiMemory).unwrap();
        let single = run(&app, mode, Build::SingleMemory).unwrap();
        clean(&multi);
        clean(&single);
        same(&multi, &single, &format!("{mode:?}: the single-memory build"));
        match &printed {
            None => printed = Some(multi.printed),
            Some(p) => assert_eq!(p, &multi.printed, "linked and unlinked runs differ"),
        }
    }
    let tokens = compile(src, &Options { tokens_everywhere: true, ..Default::default() }).unwrap();
    let o = run(&tokens, Mode::Linked, Build::MultiMemory).unwrap();
    clean(&o);
    assert_eq!(printed.as_ref(), Some(&o.printed), "tokens everywhere prints differently");
    printed.unwrap()
}

#[test]
fn every_program_prints_and_counts_the_same_in_both_builds() {
    let dir = format!("{}/../examples/compiler/programs", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mm"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "{names:?}");
    for name in &names {
        let app = compile(&program(name), &Options::default()).unwrap();
        let multi = run(&app, Mode::Linked, Build::MultiMemory).unwrap();
        let single = run(&app, Mode::Linked, Build::SingleMemory).unwrap();
        assert!(!multi.printed.is_empty(), "{name} prints nothing");
        // Byte-identical output: the same lines, joined as the driver prints them.
        same(&multi, &single, name);
        clean(&multi);
        clean(&single);
        assert!(single.module_bytes != multi.module_bytes, "{name}: the two builds are different modules");
    }
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn brighten(bytes: &mut [u8], amount: u32) -> u32 {
    let mut n = 0;
    for b in bytes {
        if *b as u32 + amount > 255 {
            n += 1;
        }
        *b = (*b as u32 + amount).min(255) as u8;
    }
    n
}

fn s<T: ToString>(v: T) -> String {
    v.to_string()
}

#[test]
fn typed_data_tour() {
    let mut bytes: Vec<u8> = (0..64u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut want = vec![s(bytes[8..40].iter().map(|&b| b as i64).sum::<i64>()), s(8)];
    let ints: Vec<i32> = (0..16).map(|i| i * i - 50).collect();
    want.push(s(ints.iter().map(|&v| v as i64).sum::<i64>()));
    want.push(s(8));
    want.push(s((ints[2] as u32 & 0xff) + (ints[3] as u32 & 0xff)));
    want.push(format!("{:?}", (0..10).fold(0.0f64, |acc, i| acc + i as f64 / 4.0)));
    let be = 0xDEADBEEFu32.to_be_bytes();
    want.push(s(be[0]));
    want.push(s(u32::from_le_bytes(be)));
    want.push(format!("{:?}", 2.5f64));
    bytes[0] = 255;
    want.push(s(255));
    want.push(s(adler32(&bytes)));
    want.push(s(brighten(&mut bytes[8..40], 200)));
    want.push(s(bytes[8..40].iter().map(|&b| b as i64).sum::<i64>()));
    want.push(s(64));
    assert_eq!(run_both(&program("typed_data.mm")), want);
}

#[test]
fn image_with_external_library() {
    let (w, h) = (16usize, 16usize);
    let mut img: Vec<u8> = (0..h).flat_map(|y| (0..w).map(move |x| (x * 16 + y) as u8)).collect();
    let mut want = vec![s(adler32(&img))];
    want.push(s(brighten(&mut img[3 * w..4 * w], 100)));
    img[(h - 1) * w..].reverse();
    want.push(s(16));
    want.push(s(img[(h - 1) * w]));
    want.push(s(img[3 * w + 15]));
    want.push(s(adler32(&img)));
    want.push(s(1)); // total == sum(img)
    want.push(s(img.iter().map(|&b| b as i64).sum::<i64>()));
    assert_eq!(run_both(&program("image.mm")), want);
}

#[test]
fn refcounts_in_loops() {
    let data: Vec<f64> = (0..100).map(|i| i as f64 * 0.5).collect();
    let mut acc = 0.0f64;
    for i in 0..90 {
        acc += data[i..i + 10].iter().fold(0.0, |a, v| a + v);
    }
    let want = vec![format!("{acc:?}"), s(49), s(50)];
    assert_eq!(run_both(&program("refcounts.mm")), want);
}

#[test]
fn sum_loop_matches_gc_array_baseline() {
    let total: i64 = 2000 * (0..4096i64).map(|i| i * 3 - 7).sum::<i64>();
    let src = program("sum_loop.mm");
    assert_eq!(run_both(&src), vec![s(total)]);
    let baseline = compile(&src, &Options { backend: Backend::GcArray, ..Default::default() }).unwrap();
    assert_eq!(run_baseline(&baseline).unwrap(), vec![s(total)]);

    let total: i64 = 1000 * (0..4096i64).map(|i| (i * 3 - 7) + (5 - i)).sum::<i64>();
    let src = program("bench_alias.mm");
    assert_eq!(run_both(&src), vec![s(total)]);
    let baseline = compile(&src, &Options { backend: Backend::GcArray, ..Default::default() }).unwrap();
    assert_eq!(run_baseline(&baseline).unwrap(), vec![s(total)]);
}

fn run_linked(src: &str, leak: bool) -> anyhow::Result<Outcome> {
    let app = compile(src, &Options { leak, ..Default::default() })?;
    run(&app, Mode::Linked, Build::MultiMemory)
}

#[test]
fn a_leaking_program_is_caught_by_the_stats_check() {
    // The compiler's debug switch drops the scope-based releases: `a` and
    // `b` never escape, so only their scopes release them.
    let src = "var a = Uint8List(100); var b = Float64List(10); print(sum(a) + sum(b));";
    let o = run_linked(src, true).unwrap();
    assert_eq!((o.after_gc.live_buffers, o.after_gc.live_bytes), (2, 180));
    assert_eq!(o.reachable, 0);
    let e = o.leak_check.unwrap_err();
    assert!(format!("{e}").contains("2 buffer(s) holding 180 bytes are live but the globals reach 0"), "{e}");
    // Same program without the switch: clean, and no token was needed.
    let o = run_linked(src, false).unwrap();
    o.leak_check.unwrap();
    assert_eq!(o.tokens.made, 0);
}

#[test]
fn runtime_errors_in_app_code_are_decoded() {
    let e = run_linked("var a = Uint8List(-1);", false).unwrap_err();
    assert_eq!(multimem_host::error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
    assert!(!format!("{e:#}").contains("may be stale"), "a fresh code: {e:#}");
    assert!(format!("{e:#}").contains("running app function `main`"), "{e:#}");
    let e = run_linked("var b = ByteData(4); print(b.getUint32(1));", false).unwrap_err();
    assert_eq!(multimem_host::error_code(&e), Some(ErrorCode::Range), "{e:#}");
}

#[test]
fn out_of_range_access_traps() {
    for src in [
        "var a = Uint8List(4); print(a[4]);",
        "var a = Int32List(4); a[-1] = 3;",
        "var a = Int32List(4); var v = Int32List.sublistView(a, 3, 5);",
        "var a = Uint8List(6); var v = Int32List.sublistView(a, 1, 5);",
    ] {
        let e = run_linked(src, false).unwrap_err();
        assert!(format!("{e:#}").contains("unreachable"), "{src}: {e:#}");
    }
}

#[test]
fn compile_errors_name_the_position() {
    for (src, want) in [
        ("var a = Uint8List(4);\nprint(b);", "2:7: `b` is not defined"),
        ("var a = Uint8List(4); a[0] = 1.5;", "cannot store a double into a Uint8List"),
        ("var a = 1; a = Uint8List(3);", "cannot assign a Uint8List"),
        ("var a = ByteData(4); print(a[0]);", "ByteData has no `[]`"),
        ("var x = 1 +;", "expected an expression"),
        ("var a = Uint8List(2); print(lib.adler32(a), 1);", "print takes one argument"),
        ("var x = 99999999999999999999;", "does not fit"),
    ] {
        let e = compile(src, &Options::default()).unwrap_err();
        assert!(format!("{e:#}").contains(want), "{src}: {e:#}");
    }
}

#[test]
fn language_semantics() {
    let src = r#"
        var a = Uint8List(10);
        for (var i = 0; i < 10; i++) { a[i] = i; }
        a = Uint8List.sublistView(a, 2);        // reassign from a view of itself
        a = Uint8List.sublistView(a, 1, 5);
        print(sum(a));
        print(a.offsetInBytes);
        var c = 0;
        for (var i = 0; i < 20; i++) {
          if (i % 3 == 0 && i > 0) { c += 1; } else if (i == 7) { c += 100; } else { c -= 1; }
        }
        print(c);
        print(-7 % 3);
        print(7 ~/ 2);
        print(ByteData(4).lengthInBytes);
        print(sum(Float64List(3)));
        var b = ByteData(8);
        b.setInt32(0, -2);
        print(b.getInt32(0));
        print(b.getUint8(3));
        print(b.getInt8(0));
        var u = Uint8List(2);
        u[0] = 300;
        print(u[0]);
    "#;
    let mut c = 0i64;
    for i in 0..20 {
        if i % 3 == 0 && i > 0 {
            c += 1
        } else if i == 7 {
            c += 100
        } else {
            c -= 1
        }
    }
    let be = (-2i32).to_be_bytes();
    let want = vec![
        s((3..7).sum::<i64>()),
        s(3),
        s(c),
        s((-7i64).rem_euclid(3)),
        s(7 / 2),
        s(4),
        format!("{:?}", 0.0f64),
        s(-2),
        s(be[3]),
        s(be[0] as i8),
        s(300u32 as u8),
    ];
    assert_eq!(run_both(src), want);
}

#[test]
fn an_apps_own_trap_never_carries_an_earlier_runtime_code() {
    // An app that traps on its own bounds check (no runtime error involved).
    let app = compile("var a = Uint8List(2); print(a[5]);", &Options::default()).unwrap();
    let mut p = multimem_compiler::run::prepare(&app, Mode::Linked, Build::MultiMemory).unwrap();
    let e = p.instance.call::<(), ()>(&mut p.store, "main", ()).unwrap_err();
    assert_eq!(multimem_host::error_code(&e), None, "no runtime code recorded yet: {e:#}");
    // A real runtime error.
    let e = p.instance.runtime.buffer_new(&mut p.store, 0x8000_0000).unwrap_err();
    assert_eq!(multimem_host::error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
    // The app's own trap again: last_error still says BAD_LENGTH, but the
    // trap is the app's (multimem-host tells them apart), so no code.
    let e = p.instance.call::<(), ()>(&mut p.store, "main", ()).unwrap_err();
    assert_eq!(multimem_host::error_code(&e), None, "{e:#}");
    assert_eq!(p.instance.runtime.last_error(&mut p.store).unwrap(), Some(ErrorCode::BadLength));
}

#[test]
fn functions_parameters_results_and_recursion() {
    let data: Vec<i64> = (0..1000i64).map(|i| (42 * 7919 + i * 104729) % 1000).collect();
    let mut sorted = data.clone();
    sorted.sort();
    let checksum = sorted.iter().fold(0i64, |h, v| (h * 31 + v) % 1_000_000_007);
    fn fib(n: i64) -> i64 {
        if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
    }
    let want = vec![s(checksum), s(1), s(1), s(sorted[0]), s(sorted[999]), s(8), s(4), s(fib(20))];
    assert_eq!(run_both(&program("functions.mm")), want);
}

#[test]
fn lists_of_lists_and_views_in_lists() {
    let rows: Vec<Vec<u8>> = (0..8).map(|y| (0..16).map(|x| (x * y) as u8).collect()).collect();
    let total: i64 = rows.iter().flatten().map(|&b| b as i64).sum();
    let block: Vec<i64> = (0..64).collect();
    let quarter = |q: usize| block[q * 16..q * 16 + 16].iter().sum::<i64>();
    let grid: Vec<Vec<i64>> = (0..3).map(|i| (0..3).map(|j| i * 3 + j).collect()).collect();
    let want = vec![
        s(8),
        s(total),
        s(quarter(3)),
        s(quarter(0) + quarter(1)),
        s(32),
        s(64),
        s(7),
        s(rows[7][15]),
        s(grid[2][1]),
        s(grid[2][0] + grid[1][2]),
        s(0),
    ];
    assert_eq!(run_both(&program("lists.mm")), want);
}

#[test]
fn globals_keep_what_they_reach() {
    let table = |n: usize| (0..n).map(|i| (i * i) as f64 * 0.5).collect::<Vec<f64>>();
    let mut acc = 0.0f64;
    for r in 0..100 {
        let n = r % 5 + 3;
        acc += table(n)[n / 2..].iter().fold(0.0, |a, v| a + v);
    }
    let current = table(7);
    let want = vec![format!("{acc:?}"), s(5), s(7), format!("{:?}", current.iter().fold(0.0, |a, v| a + v)), s(4)];
    assert_eq!(run_both(&program("globals.mm")), want);
    // After main and a GC: the 5 memoised tables (`current` and `tail` are
    // one of them and a view of it); the first `current` is gone.
    let app = compile(&program("globals.mm"), &Options::default()).unwrap();
    let o = run(&app, Mode::Linked, Build::MultiMemory).unwrap();
    assert_eq!((o.after_gc.live_buffers, o.reachable), (5, 5));
    assert_eq!(o.after_gc.live_bytes, 8 * (3 + 4 + 5 + 6 + 7));
    assert_eq!((o.tokens.made, o.tokens.released), (6, 6));
}

#[test]
fn function_errors_name_the_position() {
    for (src, want) in [
        ("int f(int a) { if (a > 0) { return 1; } }", "1:1: function `f` can reach its end without returning a int"),
        ("int f() { return 1; }\nprint(f(2));", "2:7: `f` takes 0 argument(s), given 1"),
        ("void f(Uint8List a) {}\nf(Int32List(2));", "an argument of `f` must be a Uint8List, found Int32List"),
        ("Strings f() { return 1; }", "unknown type `Strings`"),
        ("var x = <int>[];", "a List holds typed-data objects or other Lists, not int"),
        ("export List<Uint8List> f() { return <Uint8List>[]; }", "only numbers and typed data cross to the host"),
        ("return 1;", "1:1: `return` outside a function"),
        ("void f() {}\nvoid f() {}", "function `f` is declared twice"),
        ("void print() {}", "`print` is a builtin"),
        ("export void buffer_new() {}", "cannot be exported"),
        ("void f() { return 1; }", "a void function cannot return a value"),
        ("var xs = <Uint8List>[]; xs.add(Int32List(1));", "cannot add a Int32List to a List<Uint8List>"),
        ("var xs = <Uint8List>[]; xs.push(Uint8List(1));", "has no method `push`"),
        ("void f() { g(); }", "unknown function `g`"),
        ("var a = 1; var a = 2;", "`a` is already defined in this scope"),
        ("int f() { return y; }", "`y` is not defined"),
    ] {
        let e = compile(src, &Options::default()).unwrap_err();
        assert!(format!("{e:#}").contains(want), "{src}: {e:#}");
    }
}

#[test]
fn lists_trap_out_of_range() {
    for src in [
        "var xs = <Uint8List>[]; print(xs[0].length);",
        "var xs = <Uint8List>[Uint8List(1)]; xs[1] = Uint8List(2);",
        "var xs = <Uint8List>[]; xs.removeLast();",
    ] {
        let e = run_linked(src, false).unwrap_err();
        assert!(format!("{e:#}").contains("unreachable"), "{src}: {e:#}");
    }
}

#[test]
fn allocation_benchmark_matches_gc_array_baseline() {
    // bench_alloc.mm: temporaries, factory and ring, 1000 lists of 16 bytes each.
    let list_sum = |i: i64| (0..16).map(|j| (i + j) & 0xff).sum::<i64>();
    let temporaries: i64 = (0..1000).map(list_sum).sum();
    let ring: i64 = (0..1000 - 64).map(list_sum).sum();
    let want = vec![s(2 * temporaries + ring)];
    let src = program("bench_alloc.mm");
    assert_eq!(run_both(&src), want);
    let baseline = compile(&src, &Options { backend: Backend::GcArray, ..Default::default() }).unwrap();
    assert_eq!(run_baseline(&baseline).unwrap(), want);
}
