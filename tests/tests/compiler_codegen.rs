//! What the example compiler emits, checked on the binary (wasmparser):
//! element access goes to the runtime memory (also after linking); a copy
//! of a reference is a copy of a GC pointer; a buffer that may escape gets
//! a `multimem:gc.own` token, one that provably does not is released by
//! its scope (`buffer_release`) and never owned; a host list the program
//! keeps gets exactly one inline retain (one load, one add, one store at
//! `buffer - 4`) and a token. And the escape analysis's decisions, by name.

use multimem_compiler::codegen::OWN_MEMORY;
use multimem_compiler::escape::{Ownership, analyse};
use multimem_compiler::{Options, compile, lexer, parser, resolve};
use std::collections::HashMap;
use wasmparser::{ExternalKind, Operator, Parser, Payload, TypeRef};

fn program(name: &str) -> String {
    let path = format!("{}/../examples/compiler/programs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A module's functions: imported function names by index, exported
/// function indices by name, and every body's operators by function index.
struct Funcs<'a> {
    imports: HashMap<u32, String>,
    exports: HashMap<String, u32>,
    bodies: HashMap<u32, Vec<Operator<'a>>>,
    memory_export: Option<u32>,
    memory_imports: Vec<(String, String)>,
}

fn funcs(wasm: &[u8]) -> Funcs<'_> {
    let mut f = Funcs {
        imports: HashMap::new(),
        exports: HashMap::new(),
        bodies: HashMap::new(),
        memory_export: None,
        memory_imports: Vec::new(),
    };
    let mut n = 0u32;
    for p in Parser::new(0).parse_all(wasm) {
        match p.unwrap() {
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.unwrap();
                    match imp.ty {
                        TypeRef::Func(_) => {
                            f.imports.insert(n, format!("{}.{}", imp.module, imp.name));
                            n += 1;
                        }
                        TypeRef::Memory(_) => f.memory_imports.push((imp.module.to_string(), imp.name.to_string())),
                        _ => {}
                    }
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.unwrap();
                    match e.kind {
                        ExternalKind::Func => {
                            f.exports.insert(e.name.to_string(), e.index);
                        }
                        ExternalKind::Memory if e.name == "memory" => f.memory_export = Some(e.index),
                        _ => {}
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let ops = body.get_operators_reader().unwrap().into_iter().map(|o| o.unwrap()).collect();
                f.bodies.insert(n, ops);
                n += 1;
            }
            _ => {}
        }
    }
    f
}

impl Funcs<'_> {
    fn ops(&self, export: &str) -> &[Operator<'_>] {
        &self.bodies[&self.exports[export]]
    }

    /// Calls to the import `module.name` in the body of `export`.
    fn calls(&self, export: &str, import: &str) -> usize {
        self.ops(export)
            .iter()
            .filter(|o| matches!(o, Operator::Call { function_index } if self.imports.get(function_index).is_some_and(|n| n == import)))
            .count()
    }

    /// Calls to the import `module.name` anywhere in the module.
    fn calls_anywhere(&self, import: &str) -> usize {
        self.bodies
            .values()
            .flatten()
            .filter(|o| matches!(o, Operator::Call { function_index } if self.imports.get(function_index).is_some_and(|n| n == import)))
            .count()
    }
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

/// Positions of the inline retain: `i32.const 4; i32.sub; local.tee; local.get;
/// i32.load M; i32.const 1; i32.add; i32.store M` (buffer - 4).
fn retains(ops: &[Operator], mem: u32) -> usize {
    ops.windows(8)
        .filter(|w| {
            matches!(w[0], Operator::I32Const { value } if -value == multimem_abi::header::REFCOUNT)
                && matches!(w[1], Operator::I32Sub)
                && matches!(w[4], Operator::I32Load { memarg } if memarg.memory == mem)
                && matches!(w[5], Operator::I32Const { value: 1 })
                && matches!(w[6], Operator::I32Add)
                && matches!(w[7], Operator::I32Store { memarg } if memarg.memory == mem)
        })
        .count()
}

const OWN: &str = "multimem:gc.own";
const RELEASE: &str = "multimem.buffer_release";

#[test]
fn every_access_uses_the_runtime_memory_also_after_linking() {
    let app = compile(&program("typed_data.mm"), &Options::default()).unwrap();
    let f = funcs(&app);
    // memory 0 = multimem.memory (own), memory 1 = env.memory (external).
    assert_eq!(f.memory_imports, [("multimem".into(), "memory".into()), ("env".into(), "memory".into())]);
    assert_eq!(OWN_MEMORY, 0);
    let mems: Vec<u32> = f.ops("main").iter().filter_map(memory_of).collect();
    assert!(mems.len() > 10);
    assert!(mems.iter().all(|m| *m == OWN_MEMORY), "{mems:?}");

    let linked = multimem_compiler::run::link(&app, multimem_compiler::run::Build::MultiMemory).unwrap();
    let f = funcs(&linked.wasm);
    let runtime_memory = f.memory_export.expect("the linked module exports the runtime memory");
    let mems: Vec<u32> = f.ops("main").iter().filter_map(memory_of).collect();
    assert!(mems.len() > 10);
    assert!(mems.iter().all(|m| *m == runtime_memory), "{mems:?} vs runtime memory {runtime_memory}");
}

#[test]
fn copying_a_reference_copies_a_gc_pointer() {
    // `b = a` aliases, so the buffer escapes its variable: one token, no
    // refcount change, no release by the program.
    let app = compile("var a = Uint8List(16); var b = a; print(b.length);", &Options::default()).unwrap();
    let f = funcs(&app);
    assert_eq!(retains(f.ops("main"), OWN_MEMORY), 0);
    assert_eq!(f.calls("main", OWN), 1);
    assert_eq!(f.calls("main", RELEASE), 0);
}

#[test]
fn an_object_that_does_not_escape_is_released_by_its_scope() {
    let src = "var t = Uint8List(4); t[0] = 1; print(sum(t) + t.length);";
    let app = compile(src, &Options::default()).unwrap();
    let f = funcs(&app);
    assert_eq!((f.calls("main", OWN), f.calls("main", RELEASE)), (0, 1));
    // With tokens everywhere the same object is owned instead.
    let app = compile(src, &Options { tokens_everywhere: true, ..Default::default() }).unwrap();
    let f = funcs(&app);
    assert_eq!((f.calls("main", OWN), f.calls("main", RELEASE)), (1, 0));
}

#[test]
fn a_fresh_result_needs_no_token_until_it_escapes() {
    // bench_alloc.mm: `make` returns a fresh list; `temporaries` and
    // `factory` never let one escape; `ring` stores them in a List.
    let app = compile(&program("bench_alloc.mm"), &Options::default()).unwrap();
    let f = funcs(&app);
    assert_eq!(f.calls("temporaries", OWN), 0);
    assert_eq!(f.calls("factory", OWN), 0);
    assert!(f.calls("temporaries", RELEASE) >= 1);
    assert!(f.calls("factory", RELEASE) >= 1);
    // ring: the 64 initial lists and each fresh result stored in the List.
    assert_eq!(f.calls("ring", OWN), 2);
    // The merge sort of functions.mm is token-free; only pick's arguments are owned.
    let app = compile(&program("functions.mm"), &Options::default()).unwrap();
    let f = funcs(&app);
    assert_eq!(f.calls_anywhere(OWN), 2);
}

#[test]
fn a_host_list_the_program_keeps_gets_one_inline_retain_and_a_token() {
    let src = "var kept = <Uint8List>[];
        export void keep(Uint8List a) { kept.add(a); }
        export int total(Uint8List a) { return sum(a); }
        export Uint8List first() { return kept[0]; }
        export Uint8List make(int n) { var l = Uint8List(n); l[0] = 1; return l; }";
    let app = compile(src, &Options::default()).unwrap();
    let f = funcs(&app);
    // keep: a second owner of the host's buffer: retain + own.
    assert_eq!(retains(f.ops("keep"), OWN_MEMORY), 1);
    assert_eq!(f.calls("keep", OWN), 1);
    assert_eq!(f.calls("keep", "multimem.view_check"), 1);
    // total: borrowed for the call, nothing to retain or own.
    assert_eq!(retains(f.ops("total"), OWN_MEMORY), 0);
    assert_eq!(f.calls("total", OWN), 0);
    // first: a new reference for the host (the token keeps its own).
    assert_eq!(retains(f.ops("first"), OWN_MEMORY), 1);
    // make: a fresh result hands its only reference over.
    assert_eq!(retains(f.ops("make"), OWN_MEMORY), 0);
}

/// The escape analysis of `src`, with variable ids by name.
fn analysis(src: &str) -> (Ownership, HashMap<String, u32>) {
    let mut p = parser::parse(lexer::lex(src).unwrap()).unwrap();
    let r = resolve::resolve(&mut p).unwrap();
    let mut ids = HashMap::new();
    fn walk(stmts: &[multimem_compiler::ast::Stmt], ids: &mut HashMap<String, u32>) {
        use multimem_compiler::ast::Stmt;
        for s in stmts {
            match s {
                Stmt::Let { id, name, .. } => {
                    ids.insert(name.clone(), *id);
                }
                Stmt::For(init, _, _, body, _) => {
                    walk(std::slice::from_ref(init), ids);
                    walk(body, ids);
                }
                Stmt::If(_, a, b, _) => {
                    walk(a, ids);
                    walk(b, ids);
                }
                Stmt::Block(b) => walk(b, ids),
                _ => {}
            }
        }
    }
    walk(&p.main, &mut ids);
    for f in &p.functions {
        for prm in &f.params {
            ids.insert(format!("{}.{}", f.name, prm.name), prm.id);
        }
        walk(&f.body, &mut ids);
    }
    (analyse(&p, &r.globals), ids)
}

#[test]
fn the_escape_analysis_releases_by_scope_only_what_cannot_escape() {
    let (own, ids) = analysis(
        "var g = <Uint8List>[];
         void store(Uint8List s) { g.add(s); }
         int peek(Uint8List p) { return p[0] + Uint8List.sublistView(p, 1).length; }
         Uint8List fresh(int n) { var f = Uint8List(n); f[0] = 1; return f; }
         Uint8List passOn(Uint8List q) { return q; }
         Uint8List viaCall(int n) { return fresh(n); }
         var temp = Uint8List(4);
         print(peek(temp));
         var kept = Uint8List(4);
         store(kept);
         var aliased = Uint8List(4);
         var other = aliased;
         var assigned = Uint8List(4);
         assigned = Uint8List(5);
         var view = Uint8List.sublistView(Uint8List(8), 2);
         var fromCall = fresh(3);
         print(fromCall.length);
         var returned = passOn(Uint8List(2));
         var chained = viaCall(2);
         print(chained[0]);",
    );
    let scoped = |n: &str| own.scoped.contains(&ids[n]);
    assert!(scoped("temp"), "only borrowed (peek borrows its parameter)");
    assert!(scoped("fromCall"), "a fresh result, only borrowed");
    assert!(scoped("chained"), "a fresh result through another function");
    assert!(!scoped("kept"), "passed to a parameter that is stored");
    assert!(!scoped("aliased"), "copied into another variable");
    assert!(!scoped("assigned"), "assigned");
    assert!(!scoped("returned"), "passOn's result is its parameter, not fresh");
    assert!(!scoped("view") && !scoped("other"), "not made fresh");
    assert!(!scoped("g"), "a global");
    assert!(own.borrowed_params.contains(&ids["peek.p"]));
    assert!(!own.borrowed_params.contains(&ids["store.s"]));
    assert!(!own.borrowed_params.contains(&ids["passOn.q"]));
    let fresh: Vec<&str> =
        ["fresh", "viaCall", "passOn"].into_iter().filter(|f| own.fresh_results.contains(*f)).collect();
    assert_eq!(fresh, ["fresh", "viaCall"]);
}
