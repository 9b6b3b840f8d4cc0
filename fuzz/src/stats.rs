//! What the generated cases contain, to check that the generator covers
//! what the linker must handle (`fuzz-link --stats`): how many cases have
//! each kind of item, imports between inputs, several memories, GC types,
//! segments, start functions.

use crate::generate::Case;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use wasmparser::{Operator, Parser, Payload, TypeRef};

/// Per-feature counts over many cases: the number of cases where the
/// feature occurs in some input, and the total number of occurrences.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Cases counted.
    pub cases: u64,
    /// Feature name to (cases with it, occurrences).
    pub features: BTreeMap<&'static str, (u64, u64)>,
}

impl Coverage {
    /// Counts one case's inputs.
    pub fn add(&mut self, case: &Case) {
        self.cases += 1;
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        if case.modules.len() > 1 {
            *counts.entry("pair").or_default() += 1;
        }
        if case.importer_first {
            *counts.entry("pair linked importer first").or_default() += 1;
        }
        for input in case.modules.iter().chain([&case.unrelated]) {
            count_module(&input.wasm, &mut counts);
        }
        for (name, n) in counts {
            if n > 0 {
                let e = self.features.entry(name).or_default();
                e.0 += 1;
                e.1 += n;
            }
        }
    }

    /// The table as text.
    pub fn render(&self) -> String {
        let mut s = format!("{} cases\n{:<28} {:>8} {:>10}\n", self.cases, "feature", "% cases", "total");
        for (name, (cases, total)) in &self.features {
            let pct = 100.0 * *cases as f64 / self.cases.max(1) as f64;
            let _ = writeln!(s, "{name:<28} {pct:>7.1}% {total:>10}");
        }
        s
    }
}

fn count_module(wasm: &[u8], counts: &mut BTreeMap<&'static str, u64>) {
    let mut add = |k: &'static str, n: u64| *counts.entry(k).or_default() += n;
    let mut memories = 0;
    for payload in Parser::new(0).parse_all(wasm).flatten() {
        match payload {
            Payload::TypeSection(r) => {
                for g in r.into_iter().flatten() {
                    for t in g.types() {
                        match &t.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(_) => {}
                            _ => add("GC struct/array type", 1),
                        }
                    }
                }
            }
            Payload::ImportSection(r) => {
                for i in r.into_imports().flatten() {
                    let from_a = i.module == "a";
                    add(if from_a { "import from a (any)" } else { "import from env" }, 1);
                    if from_a {
                        add(
                            match i.ty {
                                TypeRef::Func(_) | TypeRef::FuncExact(_) => "import from a: func",
                                TypeRef::Table(_) => "import from a: table",
                                TypeRef::Memory(_) => "import from a: memory",
                                TypeRef::Global(_) => "import from a: global",
                                TypeRef::Tag(_) => "import from a: tag",
                            },
                            1,
                        );
                    }
                    if matches!(i.ty, TypeRef::Memory(_)) {
                        memories += 1;
                    }
                }
            }
            Payload::FunctionSection(r) => add("function", r.count().into()),
            Payload::MemorySection(r) => memories += r.count(),
            Payload::TableSection(r) => {
                for t in r.into_iter().flatten() {
                    add("table (defined)", 1);
                    if let wasmparser::TableInit::Expr(e) = &t.init {
                        add(if reads_global(e) { "table init reads a global" } else { "table init (other)" }, 1);
                    }
                }
            }
            Payload::GlobalSection(r) => {
                for g in r.into_iter().flatten() {
                    add("global (defined)", 1);
                    if reads_global(&g.init_expr) {
                        add("global init reads a global", 1);
                    }
                }
            }
            Payload::TagSection(r) => add("tag (defined)", r.count().into()),
            Payload::ExportSection(r) => add("export", r.count().into()),
            Payload::StartSection { .. } => add("start function", 1),
            Payload::ElementSection(r) => {
                for e in r.into_iter().flatten() {
                    add(
                        match e.kind {
                            wasmparser::ElementKind::Active { .. } => "elem segment: active",
                            wasmparser::ElementKind::Passive => "elem segment: passive",
                            wasmparser::ElementKind::Declared => "elem segment: declared",
                        },
                        1,
                    );
                }
            }
            Payload::DataSection(r) => {
                for d in r.into_iter().flatten() {
                    add(
                        match d.kind {
                            wasmparser::DataKind::Active { .. } => "data segment: active",
                            wasmparser::DataKind::Passive => "data segment: passive",
                        },
                        1,
                    );
                }
            }
            Payload::CodeSectionEntry(body) => {
                let Ok(mut ops) = body.get_operators_reader() else { continue };
                while !ops.eof() {
                    let Ok(op) = ops.read() else { break };
                    if let Some(name) = op_class(&op) {
                        add(name, 1);
                    }
                }
            }
            _ => {}
        }
    }
    if memories >= 2 {
        add("module with 2+ memories", 1);
    }
}

fn op_class(op: &Operator<'_>) -> Option<&'static str> {
    use Operator as O;
    Some(match op {
        O::Call { .. } | O::ReturnCall { .. } => "op: call",
        O::CallIndirect { .. } | O::ReturnCallIndirect { .. } | O::CallRef { .. } => "op: indirect call",
        O::MemoryInit { .. } | O::DataDrop { .. } | O::ArrayNewData { .. } | O::ArrayInitData { .. } => {
            "op: uses a data segment"
        }
        O::TableInit { .. } | O::ElemDrop { .. } | O::ArrayNewElem { .. } | O::ArrayInitElem { .. } => {
            "op: uses an elem segment"
        }
        O::MemoryCopy { .. } | O::MemoryFill { .. } => "op: memory.copy/fill",
        O::RefFunc { .. } => "op: ref.func",
        O::Throw { .. } | O::ThrowRef | O::TryTable { .. } => "op: exceptions",
        O::StructNew { .. } | O::StructNewDefault { .. } | O::ArrayNew { .. } | O::ArrayNewFixed { .. } => {
            "op: GC allocation"
        }
        O::GlobalGet { .. } | O::GlobalSet { .. } => "op: global.get/set",
        O::I32Load { memarg } | O::I64Load { memarg } | O::I32Store { memarg } | O::V128Load { memarg }
            if memarg.memory > 0 =>
        {
            "op: load/store on memory > 0"
        }
        _ => return None,
    })
}

fn reads_global(e: &wasmparser::ConstExpr<'_>) -> bool {
    e.get_operators_reader().into_iter().flatten().any(|op| matches!(op, Operator::GlobalGet { .. }))
}
