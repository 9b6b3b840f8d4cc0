//! Property test: whatever bytes go in (bit flips, truncations, splices of
//! valid modules), the linker returns an error or a module that validates;
//! it never panics.

mod common;
use common::*;

use proptest::prelude::*;

fn check(inputs: &[(&str, &[u8])]) -> Result<(), TestCaseError> {
    for gc in [true, false] {
        check_with(inputs, multimem_linker::Config::default().gc(gc))?;
    }
    Ok(())
}

fn check_with(inputs: &[(&str, &[u8])], config: multimem_linker::Config) -> Result<(), TestCaseError> {
    let result = std::panic::catch_unwind(|| link(config, inputs));
    // Bodies are validated only in the output, yet an invalid input must
    // still be the error, named, as if it had been validated when added.
    let first_invalid = inputs.iter().find(|(_, b)| validate(b).is_err());
    match result {
        Err(_) => Err(TestCaseError::fail("linker panicked")),
        Ok(Err(e)) => {
            prop_assert!(!e.to_string().is_empty());
            if let Some((name, _)) = first_invalid {
                prop_assert_eq!(e.kind(), multimem_linker::ErrorKind::InvalidModule, "{}", e);
                let prefix = format!("module `{name}` is not a valid wasm module: ");
                prop_assert!(e.to_string().starts_with(&prefix), "{}", e);
            }
            Ok(())
        }
        Ok(Ok(out)) => {
            prop_assert!(
                first_invalid.is_none(),
                "input `{}` is invalid, yet it linked",
                first_invalid.map_or("", |i| i.0)
            );
            let v = validate(&out.wasm);
            prop_assert!(v.is_ok(), "output does not validate: {:?}", v.err());
            Ok(())
        }
    }
}

fn samples() -> Vec<Vec<u8>> {
    vec![
        wasm(APP),
        wasm(RT),
        wasm(
            r#"(module (type $s (struct (field i32))) (func (export "f") (result (ref $s)) (struct.new $s (i32.const 1))))"#,
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn bit_flips(which in 0usize..3, flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4)) {
        let s = samples();
        let mut bytes = s[which].clone();
        for (i, bit) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        check(&[("app", &bytes), ("rt", &s[1])])?;
    }

    #[test]
    fn truncations(which in 0usize..3, cut in any::<prop::sample::Index>()) {
        let s = samples();
        let bytes = &s[which][..cut.index(s[which].len())];
        check(&[("app", bytes), ("rt", &s[1])])?;
    }

    #[test]
    fn splices(a in 0usize..3, b in 0usize..3, i in any::<prop::sample::Index>(), j in any::<prop::sample::Index>()) {
        let s = samples();
        let mut bytes = s[a][..i.index(s[a].len())].to_vec();
        bytes.extend_from_slice(&s[b][j.index(s[b].len())..]);
        check(&[("app", &bytes), ("rt", &s[1])])?;
    }
}

/// Every single bit flip of every sample, exhaustively (the proptests
/// above sample combinations). A flip that turns `i32.const` into
/// `f32.const` swallows the function's `end`: such a body must be an
/// error, not a module that ends early.
#[test]
fn every_single_bit_flip() {
    let s = samples();
    for sample in &s {
        for i in 0..sample.len() {
            for bit in 0..8 {
                let mut bytes = sample.clone();
                bytes[i] ^= 1 << bit;
                if let Err(e) = check(&[("app", &bytes), ("rt", &s[1])]) {
                    panic!("byte {i} bit {bit} of {}: {e}", wasmprinter::print_bytes(sample).unwrap_or_default());
                }
            }
        }
    }
}

const EXTRA: &str = r#"
(module $extra
  (import "env" "memory" (memory 1))
  (import "app" "run" (func $run (param i32) (result i32)))
  (type $s (struct (field i32)))
  (global $g (export "g") (mut i32) (i32.const 7))
  (func (export "twice") (param i32) (result i32) (call $run (local.get 0)))
  (func (export "mk") (result (ref $s)) (struct.new $s (global.get $g))))
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, .. ProptestConfig::default() })]

    /// Any configuration over any input order links deterministically to a
    /// valid module or fails with an error; never a panic.
    #[test]
    fn configurations(order in Just(vec![0usize, 1, 2]).prop_shuffle(), gc in any::<bool>(), policy in 0u8..3,
                      prefix in 0u8..3, threads in 1usize..4, names in any::<bool>(), list in any::<bool>()) {
        let mods = [("app", wasm(APP)), ("rt", wasm(RT)), ("extra", wasm(EXTRA))];
        let mut config = multimem_linker::Config::default()
            .gc(gc)
            .threads(threads)
            .keep_names(names)
            .export_conflict([multimem_linker::ExportConflict::Error, multimem_linker::ExportConflict::Skip, multimem_linker::ExportConflict::Rename][policy as usize])
            .name_prefix([multimem_linker::NamePrefix::OnClash, multimem_linker::NamePrefix::Always, multimem_linker::NamePrefix::Never][prefix as usize]);
        if list {
            config = config.export("app", "run", Some("main")).export("extra", "mk", None);
        }
        let inputs: Vec<(&str, &[u8])> = order.iter().map(|&i| (mods[i].0, mods[i].1.as_slice())).collect();
        let a = std::panic::catch_unwind(|| link(config.clone(), &inputs)).map_err(|_| TestCaseError::fail("panic"))?;
        let b = link(config.clone(), &inputs);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(&a.wasm, &b.wasm);
                let v = validate(&a.wasm);
                prop_assert!(v.is_ok(), "{:?}", v.err());
            }
            (Err(a), Err(b)) => {
                prop_assert_eq!(a.to_string(), b.to_string());
                // Only export conflicts can fail here (all exports, `Error` policy).
                prop_assert_eq!(a.kind(), multimem_linker::ErrorKind::ExportConflict, "{}", a);
            }
            (a, b) => prop_assert!(false, "nondeterministic: {:?} vs {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }
}

/// An input whose only fault is code naming a data segment without a data
/// count section: the output would have one (from the other input), so
/// only the linker's own check can report it; it must name the input.
#[test]
fn missing_data_count_is_reported_although_the_output_would_validate() {
    let with_count = wasm(r#"(module (memory 1) (data $d "a") (func (export "a") (data.drop $d)))"#);
    let text = wasm(r#"(module (memory 1) (data $d "b") (func (export "b") (data.drop $d)))"#);
    // Drop its data count section (id 12).
    let mut stripped = text[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(&text) {
        if let Some((id, range)) = payload.unwrap().as_section()
            && id != 12
        {
            // The section header (id, size) precedes the contents.
            let mut size = Vec::new();
            let mut n = range.len();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                size.push(if n == 0 { b } else { b | 0x80 });
                if n == 0 {
                    break;
                }
            }
            stripped.push(id);
            stripped.extend_from_slice(&size);
            stripped.extend_from_slice(&text[range]);
        }
    }
    assert!(validate(&stripped).is_err());
    let e = link(multimem_linker::Config::default(), &[("a", &with_count), ("b", &stripped)]).unwrap_err();
    assert_eq!(e.kind(), multimem_linker::ErrorKind::InvalidModule);
    assert!(e.to_string().starts_with("module `b` is not a valid wasm module: "), "{e}");
}

/// With dead-code removal, an invalid body of a function that is removed
/// never reaches the output's validation; it must still be reported.
#[test]
fn invalid_dead_function_is_reported_with_gc() {
    let bad = wasm(r#"(module (func (export "f")) (func $dead (result i32) (i64.const 0)))"#);
    for gc in [false, true] {
        let e = link(multimem_linker::Config::default().gc(gc), &[("a", &bad)]).unwrap_err();
        assert_eq!(e.kind(), multimem_linker::ErrorKind::InvalidModule);
        assert!(e.to_string().starts_with("module `a` is not a valid wasm module: type mismatch"), "{e}");
    }
}
