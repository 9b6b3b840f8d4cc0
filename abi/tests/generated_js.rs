//! The JS glue's copy of the ABI must be exactly what `docs/ABI.md` generates.
//! Run with `MULTIMEM_BLESS=1` to rewrite the files after changing the document.

use std::path::PathBuf;

fn check(rel: &str, expected: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    if std::env::var_os("MULTIMEM_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{rel} is out of date with docs/ABI.md; run `MULTIMEM_BLESS=1 cargo test -p multimem-abi`"
    );
}

#[test]
fn js_module_matches_abi_md() {
    check("js-glue/src/abi.js", multimem_abi::JS_MODULE);
}

#[test]
fn js_types_match_abi_md() {
    check("js-glue/src/abi.d.ts", multimem_abi::JS_TYPES);
}

#[test]
fn tables_are_consistent() {
    use multimem_abi::*;
    assert_eq!(Kind::ALL.len(), 15);
    assert_eq!(ErrorCode::from_code(3), Some(ErrorCode::NotABuffer));
    assert_eq!(ErrorCode::NotABuffer.name(), "NOT_A_BUFFER");
    assert_eq!(Kind::Float64x2List.element_size(), 16);
    assert_eq!(Kind::Float64x2List.lanes(), 2);
    assert_eq!(header::REFCOUNT, -4);
    assert_eq!(HEADER_SIZE, DATA_ALIGN);
    assert_eq!(INTRINSICS_MODULE, "multimem:intrinsics");
    // Every kind's size is lanes * a power-of-two scalar width.
    for k in Kind::ALL {
        assert!(k.element_size().is_power_of_two(), "{k:?}");
        assert_eq!(k.element_size() % k.lanes(), 0, "{k:?}");
    }
    // Export names are unique; so are intrinsic names.
    for (i, e) in EXPORTS.iter().enumerate() {
        assert!(EXPORTS[i + 1..].iter().all(|x| x.name != e.name), "{}", e.name);
    }
    for (i, e) in INTRINSICS.iter().enumerate() {
        assert!(INTRINSICS[i + 1..].iter().all(|x| x.name != e.name), "{}", e.name);
        assert_eq!(intrinsic(e.name).unwrap().op, e.op);
    }
    let copy = intrinsic("memory_copy_external_own").unwrap();
    assert_eq!(copy.memories, &[MemoryRole::External, MemoryRole::Own]);
}
