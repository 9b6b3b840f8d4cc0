//! Property test: whatever bytes go in (bit flips, truncations, splices of
//! valid modules), the linker returns an error or a module that validates;
//! it never panics.

mod common;
use common::*;

use proptest::prelude::*;

fn check(inputs: &[(&str, &[u8])]) -> Result<(), TestCaseError> {
    let result = std::panic::catch_unwind(|| link(multimem_linker::Config::default().gc(true), inputs));
    match result {
        Err(_) => Err(TestCaseError::fail("linker panicked")),
        Ok(Err(e)) => {
            prop_assert!(!e.to_string().is_empty());
            Ok(())
        }
        Ok(Ok(out)) => {
            let v = wasmparser::Validator::new_with_features(multimem_linker::features()).validate_all(&out.wasm);
            prop_assert!(v.is_ok(), "output does not validate: {:?}", v.err());
            Ok(())
        }
    }
}

fn samples() -> Vec<Vec<u8>> {
    vec![
        wasm(APP),
        wasm(RT),
        wasm(r#"(module (type $s (struct (field i32))) (func (export "f") (result (ref $s)) (struct.new $s (i32.const 1))))"#),
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
