//! Dead-code removal against the real runtime.wasm: an app that uses three
//! runtime functions ships those three and what they call, not the whole
//! runtime. The expected set is computed independently from runtime.wasm's
//! direct calls (it has no table, element segment or start function, so
//! calls are the only edges), and the linked module must run.

mod common;
use common::*;

use multimem_runtime_wasm::RUNTIME_WASM;
use multimem_test_harness::{Instance, engine};
use std::collections::{BTreeSet, HashMap};

const APP: &str = r#"
(module $app
  (import "multimem" "buffer_new" (func $new (param i32) (result i32)))
  (import "multimem" "buffer_release" (func $release (param i32) (result i32)))
  (import "multimem" "stats_live_buffers" (func $live (result i32)))
  (func (export "run") (result i32)
    (drop (call $release (call $new (i32.const 100))))
    (call $live)))
"#;

/// Defined functions of runtime.wasm reachable by direct calls from the
/// named exports (defined-function indices), and the number it defines.
fn reachable(names: &[&str]) -> (BTreeSet<u32>, u32) {
    let (mut imported, mut exports, mut calls) = (0u32, HashMap::new(), Vec::<Vec<u32>>::new());
    for payload in wasmparser::Parser::new(0).parse_all(RUNTIME_WASM) {
        match payload.unwrap() {
            wasmparser::Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    imported += u32::from(matches!(i.unwrap().ty, wasmparser::TypeRef::Func(_)));
                }
            }
            wasmparser::Payload::ElementSection(_) | wasmparser::Payload::StartSection { .. } => {
                panic!("runtime.wasm gained a table or start function: calls are no longer the only edges")
            }
            wasmparser::Payload::ExportSection(r) => {
                for e in r {
                    let e = e.unwrap();
                    exports.insert(e.name.to_string(), e.index);
                }
            }
            wasmparser::Payload::CodeSectionEntry(body) => {
                let mut callees = Vec::new();
                let mut ops = body.get_operators_reader().unwrap();
                while !ops.eof() {
                    if let wasmparser::Operator::Call { function_index }
                    | wasmparser::Operator::RefFunc { function_index } = ops.read().unwrap()
                    {
                        callees.push(function_index);
                    }
                }
                calls.push(callees);
            }
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    let mut work: Vec<u32> = names.iter().map(|n| exports[*n]).collect();
    while let Some(f) = work.pop() {
        // Imports are intrinsics, lowered to instructions.
        if f >= imported && seen.insert(f - imported) {
            work.extend(&calls[(f - imported) as usize]);
        }
    }
    (seen, calls.len() as u32)
}

fn defined_functions(wasm: &[u8]) -> u32 {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|p| match p.unwrap() {
            wasmparser::Payload::FunctionSection(r) => Some(r.count()),
            _ => None,
        })
        .unwrap_or(0)
}

#[test]
fn three_runtime_functions_ship_what_they_call_only() {
    let config = multimem_linker::Config::default().gc(true).export("app", "run", None);
    let out = link(config, &[("app", &wasm(APP)), ("multimem", RUNTIME_WASM)]).unwrap();
    let (needed, all) = reachable(&["buffer_new", "buffer_release", "stats_live_buffers"]);
    // The app's `run` plus exactly the runtime functions its three calls reach.
    assert_eq!(defined_functions(&out.wasm), 1 + needed.len() as u32);
    assert!(needed.len() * 3 < all as usize, "{} of the runtime's {all} functions are needed", needed.len());

    let mut inst = Instance::new(&engine::full(), &out.wasm).unwrap();
    assert_eq!(inst.call::<(), i32>("run", ()).unwrap(), 0, "the buffer was released");
}
