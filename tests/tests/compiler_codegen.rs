//! What the example compiler emits, checked on the binary (wasmparser):
//! element access and the inline retain go to the runtime memory, the
//! retain is exactly one load, one add, one store at `buffer - 4`, and
//! after linking those instructions address the memory the runtime exports.

use multimem_compiler::codegen::OWN_MEMORY;
use multimem_compiler::{Options, compile};
use wasmparser::{ExternalKind, Operator, Parser, Payload, TypeRef};

fn program(name: &str) -> String {
    let path = format!("{}/../examples/compiler/programs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The operators of the function exported as `main`, and the index of the
/// memory exported as `memory` (if any), plus memory imports in order.
fn main_ops(wasm: &[u8]) -> (Vec<Operator<'_>>, Option<u32>, Vec<(String, String)>) {
    let (mut imported_funcs, mut main_index, mut memory_export) = (0u32, None, None);
    let mut memory_imports = Vec::new();
    let mut bodies = Vec::new();
    for p in Parser::new(0).parse_all(wasm) {
        match p.unwrap() {
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.unwrap();
                    match imp.ty {
                        TypeRef::Func(_) => imported_funcs += 1,
                        TypeRef::Memory(_) => memory_imports.push((imp.module.to_string(), imp.name.to_string())),
                        _ => {}
                    }
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.unwrap();
                    match (e.kind, e.name) {
                        (ExternalKind::Func, "main") => main_index = Some(e.index),
                        (ExternalKind::Memory, "memory") => memory_export = Some(e.index),
                        _ => {}
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            _ => {}
        }
    }
    let body = &bodies[(main_index.expect("main export") - imported_funcs) as usize];
    let ops = body.get_operators_reader().unwrap().into_iter().map(|o| o.unwrap()).collect();
    (ops, memory_export, memory_imports)
}

fn memory_of(op: &Operator) -> Option<u32> {
    use Operator::*;
    match op {
        I32Load { memarg }
        | I32Load8U { memarg }
        | I32Store { memarg }
        | I32Store8 { memarg }
        | I64Load { memarg }
        | F64Load { memarg }
        | F64Store { memarg } => Some(memarg.memory),
        _ => None,
    }
}

/// Positions of `i32.load M; i32.const 1; i32.add; i32.store M`.
fn retains(ops: &[Operator], mem: u32) -> usize {
    ops.windows(4)
        .filter(|w| {
            matches!(w[0], Operator::I32Load { memarg } if memarg.memory == mem)
                && matches!(w[1], Operator::I32Const { value: 1 })
                && matches!(w[2], Operator::I32Add)
                && matches!(w[3], Operator::I32Store { memarg } if memarg.memory == mem)
        })
        .count()
}

#[test]
fn retain_is_one_load_one_add_one_store_on_the_runtime_memory() {
    let app = compile(&program("retain.mm"), &Options::default()).unwrap();
    let (ops, _, mem_imports) = main_ops(&app);
    // memory 0 = multimem.memory (own), memory 1 = env.memory (external).
    assert_eq!(mem_imports, [("multimem".into(), "memory".into()), ("env".into(), "memory".into())]);
    assert_eq!(OWN_MEMORY, 0);
    assert_eq!(retains(&ops, OWN_MEMORY), 1, "exactly one reference copy in retain.mm");
    // The address is buffer - 4 (the refcount field of the ABI header).
    let at = ops.iter().position(|o| matches!(o, Operator::I32Load { .. })).unwrap();
    assert!(matches!(ops[at - 4], Operator::I32Const { value } if -value == multimem_abi::header::REFCOUNT));
    assert!(matches!(ops[at - 3], Operator::I32Sub));
    // Dropping references calls buffer_release: one per variable (a and b).
    let calls = ops.iter().filter(|o| matches!(o, Operator::Call { .. })).count();
    assert!(calls >= 3, "buffer_new, print, and two releases: {calls}");
}

#[test]
fn every_access_uses_the_runtime_memory_also_after_linking() {
    let app = compile(&program("typed_data.mm"), &Options::default()).unwrap();
    let (ops, _, _) = main_ops(&app);
    let mems: Vec<u32> = ops.iter().filter_map(memory_of).collect();
    assert!(mems.len() > 10);
    assert!(mems.iter().all(|m| *m == OWN_MEMORY), "{mems:?}");
    assert_eq!(retains(&ops, OWN_MEMORY), 3, "views of bytes and ints, and `alias = bytes`");

    let linked = multimem_compiler::run::link(&app, multimem_compiler::run::Build::MultiMemory).unwrap();
    let (ops, runtime_memory, _) = main_ops(&linked.wasm);
    let runtime_memory = runtime_memory.expect("the linked module exports the runtime memory");
    let mems: Vec<u32> = ops.iter().filter_map(memory_of).collect();
    assert!(mems.iter().all(|m| *m == runtime_memory), "{mems:?} vs runtime memory {runtime_memory}");
    assert_eq!(retains(&ops, runtime_memory), 3);
}
