//! The intrinsics table against WebAssembly itself: each intrinsic "has
//! exactly the stack shape of the instruction it stands for" (docs/ABI.md),
//! so a function with the intrinsic's documented params and results whose
//! body is just that instruction, on the documented memories with the
//! documented alignment, must validate; and [`Op`] names exactly the
//! instructions the table uses.

use multimem_abi::{INTRINSICS, Intrinsic, MemoryRole, Op, ValType};

fn wat_type(v: ValType) -> &'static str {
    match v {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
    }
}

fn role(m: MemoryRole) -> &'static str {
    match m {
        MemoryRole::Own => "$own",
        MemoryRole::External => "$external",
    }
}

/// A module with both memories and one function: the intrinsic's
/// signature, its params pushed, its instruction.
fn module(i: &Intrinsic) -> String {
    let params: Vec<&str> = i.params.iter().map(|&v| wat_type(v)).collect();
    let results: Vec<&str> = i.results.iter().map(|&v| wat_type(v)).collect();
    let gets: String = (0..params.len()).map(|n| format!("local.get {n} ")).collect();
    let mems: Vec<&str> = i.memories.iter().map(|&m| role(m)).collect();
    let instr = if i.instruction.starts_with("memory.") {
        format!("{} {}", i.instruction, mems.join(" "))
    } else {
        format!("{} {} offset=0 align={}", i.instruction, mems.join(" "), 1u32 << i.align)
    };
    format!(
        "(module (memory $external 1) (memory $own 1)\n  (func (param {}) (result {})\n    {gets}{instr}))",
        params.join(" "),
        results.join(" ")
    )
}

#[test]
fn each_intrinsic_is_its_instruction_at_its_documented_signature() {
    for i in INTRINSICS {
        let text = module(i);
        let wasm = wat::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", i.name));
        wasmparser::Validator::new().validate_all(&wasm).unwrap_or_else(|e| panic!("{}: {e}\n{text}", i.name));
    }
}

#[test]
fn a_wrong_signature_or_alignment_is_caught() {
    // The check above can fail: one result too many, or an alignment above
    // the natural one, does not validate.
    let load = INTRINSICS.iter().find(|i| i.instruction == "i32.load").expect("an i32.load intrinsic");
    let wrong_results = Intrinsic { results: &[ValType::I32, ValType::I32], ..*load };
    let wrong_align = Intrinsic { align: 3, ..*load };
    for bad in [wrong_results, wrong_align] {
        let wasm = wat::parse_str(module(&bad)).unwrap();
        assert!(wasmparser::Validator::new().validate_all(&wasm).is_err(), "{}", module(&bad));
    }
}

#[test]
fn op_names_exactly_the_tables_instructions() {
    let mut used: Vec<&str> = Vec::new();
    for i in INTRINSICS {
        assert_eq!(i.op.instruction(), i.instruction, "{}", i.name);
        if !used.contains(&i.instruction) {
            used.push(i.instruction);
        }
    }
    let ops: Vec<&str> = Op::ALL.iter().map(|o| o.instruction()).collect();
    assert_eq!(ops, used);
}
