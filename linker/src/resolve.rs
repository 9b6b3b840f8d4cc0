//! Phase 3: binds every import to what it finally names. An import `m.f`
//! whose `m` is an input follows that input's export `f`, through chains of
//! re-exported imports, to a definition; an import from
//! `multimem:intrinsics` becomes an intrinsic; anything else stays an
//! external import, deduplicated by module, name and (merged) type. Each
//! hop is type-checked with the spec's import matching rules in the merged
//! type space (so GC subtyping works across modules).

use std::collections::HashMap;

use multimem_abi::Intrinsic;
use wasm_encoder::EntityType;
use wasm_encoder::reencode::Reencode;
use wasmparser::TypeRef;

use crate::error::{Error, ErrorKind};
use crate::parse::{Import, KINDS, Kind, Parsed};
use crate::types::{MergedTypes, TypeMap, describe_val, remap_ref, remap_val};

/// What an import finally refers to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// Item `index` (module-local, counting imports) of input `module`, a definition.
    Defined { module: usize, index: u32 },
    /// Output import number `n` of its kind.
    External(u32),
    /// A `multimem:intrinsics` function.
    Intrinsic(&'static Intrinsic),
}

/// An import the output keeps.
pub(crate) struct External {
    pub module: String,
    pub name: String,
    pub ty: EntityType,
}

/// Result of resolution.
pub(crate) struct Resolution {
    /// Per input, per kind: target of each import (index = import's index in its kind).
    pub targets: Vec<[Vec<Target>; 5]>,
    /// Output imports per kind, in first-seen order.
    pub externals: [Vec<External>; 5],
}

#[derive(Clone, Copy)]
enum State {
    Todo,
    Active,
    Done(Target),
}

pub(crate) struct Resolver<'p, 'a> {
    inputs: &'p [Parsed<'a>],
    types: &'p MergedTypes,
    by_name: HashMap<&'a str, usize>,
    state: Vec<[Vec<State>; 5]>,
    externals: [Vec<External>; 5],
    ext_keys: HashMap<(String, String, String), u32>,
}

impl<'p, 'a> Resolver<'p, 'a> {
    pub(crate) fn new(inputs: &'p [Parsed<'a>], types: &'p MergedTypes) -> Self {
        let by_name = inputs.iter().enumerate().map(|(i, p)| (p.name, i)).collect();
        let state = inputs.iter().map(|p| KINDS.map(|k| vec![State::Todo; p.num_imported(k) as usize])).collect();
        Resolver { inputs, types, by_name, state, externals: Default::default(), ext_keys: HashMap::new() }
    }

    pub(crate) fn input_named(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The resolution, once every import has been resolved through [`Resolver::item`].
    pub(crate) fn finish(self) -> Resolution {
        let targets = self
            .state
            .iter()
            .map(|s| {
                s.clone().map(|v| {
                    v.into_iter()
                        .map(|st| match st {
                            State::Done(t) => t,
                            _ => Target::External(u32::MAX),
                        })
                        .collect()
                })
            })
            .collect();
        Resolution { targets, externals: self.externals }
    }

    /// Adds (or finds) an output import.
    pub(crate) fn external(&mut self, module: &str, name: &str, kind: Kind, ty: EntityType) -> u32 {
        let key = (module.to_string(), name.to_string(), format!("{ty:?}"));
        if let Some(&n) = self.ext_keys.get(&key) {
            return n;
        }
        let list = &mut self.externals[kind as usize];
        let n = list.len() as u32;
        list.push(External { module: module.to_string(), name: name.to_string(), ty });
        self.ext_keys.insert(key, n);
        n
    }

    /// Output imports found so far for `kind`.
    pub(crate) fn externals(&self, kind: Kind) -> &[External] {
        &self.externals[kind as usize]
    }

    /// Target of item `index` of `kind` in input `m` (definition or import).
    pub(crate) fn item(&mut self, m: usize, kind: Kind, index: u32) -> Result<Target, Error> {
        if index < self.inputs[m].num_imported(kind) {
            self.resolve(m, kind, index, &mut Vec::new())
        } else {
            Ok(Target::Defined { module: m, index })
        }
    }

    fn resolve(&mut self, m: usize, kind: Kind, i: u32, chain: &mut Vec<String>) -> Result<Target, Error> {
        match self.state[m][kind as usize][i as usize] {
            State::Done(t) => return Ok(t),
            State::Active => {
                let imp = self.inputs[m].import_at(kind, i).copied();
                let here = imp.map(|i| format!("{}.{}", i.module, i.name)).unwrap_or_default();
                chain.push(format!("`{}` imports `{here}`", self.inputs[m].name));
                return Err(Error::new(
                    ErrorKind::ImportCycle,
                    format!("import cycle with no definition: {}", chain.join(" -> ")),
                ));
            }
            State::Todo => {}
        }
        self.state[m][kind as usize][i as usize] = State::Active;
        let p = &self.inputs[m];
        let Some(&imp) = p.import_at(kind, i) else {
            return Err(Error::new(
                ErrorKind::InvalidModule,
                format!("internal: {} import {i} of module `{}` out of range", kind.name(), p.name),
            ));
        };
        chain.push(format!("`{}` imports `{}.{}`", p.name, imp.module, imp.name));
        let target = if imp.module == multimem_abi::INTRINSICS_MODULE {
            self.intrinsic(m, &imp)?
        } else if let Some(&m2) = self.by_name.get(imp.module) {
            let p2 = &self.inputs[m2];
            let Some(export) = p2.exports.iter().find(|e| e.name == imp.name) else {
                return Err(Error::new(
                    ErrorKind::UnknownExport,
                    format!(
                        "module `{}` imports {} `{}.{}`, but module `{}` has no export named `{}`",
                        p.name,
                        kind.name(),
                        imp.module,
                        imp.name,
                        imp.module,
                        imp.name
                    ),
                ));
            };
            let k2 = Kind::of_export(export.kind);
            if k2 != kind {
                return Err(Error::new(
                    ErrorKind::KindMismatch,
                    format!(
                        "module `{}` imports `{}.{}` as a {}, but module `{}` exports `{}` as a {}",
                        p.name,
                        imp.module,
                        imp.name,
                        kind.name(),
                        p2.name,
                        imp.name,
                        k2.name()
                    ),
                ));
            }
            self.check_match(m, &imp, m2, export.index)?;
            if export.index < p2.num_imported(kind) {
                let t = self.resolve(m2, kind, export.index, chain)?;
                if let Target::Intrinsic(intr) = t {
                    return Err(Error::new(
                        ErrorKind::IntrinsicMisuse,
                        format!(
                            "module `{}` exports intrinsic `{}.{}` as `{}` (imported by module `{}`); intrinsics can only be called by the module that imports them",
                            p2.name,
                            multimem_abi::INTRINSICS_MODULE,
                            intr.name,
                            imp.name,
                            p.name
                        ),
                    ));
                }
                t
            } else {
                Target::Defined { module: m2, index: export.index }
            }
        } else {
            let ty = self.entity_type(m, imp.ty).map_err(|e| Error::new(ErrorKind::InvalidModule, e))?;
            Target::External(self.external(imp.module, imp.name, kind, ty))
        };
        chain.pop();
        self.state[m][kind as usize][i as usize] = State::Done(target);
        Ok(target)
    }

    fn intrinsic(&self, m: usize, imp: &Import<'a>) -> Result<Target, Error> {
        let p = &self.inputs[m];
        let Some(intr) = multimem_abi::intrinsic(imp.name) else {
            return Err(Error::new(
                ErrorKind::UnknownIntrinsic,
                format!(
                    "module `{}` imports `{}.{}`, which is not an intrinsic of ABI version {} (see docs/ABI.md)",
                    p.name,
                    imp.module,
                    imp.name,
                    multimem_abi::ABI_VERSION
                ),
            ));
        };
        let TypeRef::Func(t) = imp.ty else {
            return Err(Error::new(
                ErrorKind::UnknownIntrinsic,
                format!(
                    "module `{}` imports intrinsic `{}.{}` as a {}; intrinsics are functions",
                    p.name,
                    imp.module,
                    imp.name,
                    Kind::of_type_ref(&imp.ty).name()
                ),
            ));
        };
        let merged = self.types.maps[m][t as usize];
        let want = wasm_encoder::FuncType::new(
            intr.params.iter().map(|v| abi_val(*v)),
            intr.results.iter().map(|v| abi_val(*v)),
        );
        let ok = matches!(&self.types.funcs[merged as usize], Some(f) if *f == want);
        if !ok {
            return Err(Error::new(
                ErrorKind::UnknownIntrinsic,
                format!(
                    "module `{}` imports intrinsic `{}.{}` with type {}, but the ABI defines it as {}",
                    p.name,
                    imp.module,
                    imp.name,
                    self.types.describe(merged),
                    crate::types::describe_func(&want)
                ),
            ));
        }
        Ok(Target::Intrinsic(intr))
    }

    /// An import's type, in the merged type space.
    pub(crate) fn entity_type(&self, m: usize, ty: TypeRef) -> Result<EntityType, String> {
        TypeMap::new(&self.types.maps[m]).entity_type(ty).map_err(|e| e.to_string())
    }

    /// Checks that item `index` of input `m2` (the export) matches `imp` of input `m`.
    fn check_match(&self, m: usize, imp: &Import<'a>, m2: usize, index: u32) -> Result<(), Error> {
        let (p, p2) = (&self.inputs[m], &self.inputs[m2]);
        let map1 = &self.types.maps[m];
        let map2 = &self.types.maps[m2];
        let t = self.types;
        let e = |s: String| Error::new(ErrorKind::InvalidModule, s);
        let (ok, want, have) = match imp.ty {
            TypeRef::Func(ti) | TypeRef::FuncExact(ti) => {
                let want = map1[ti as usize];
                let have = map2[p2.func_types[index as usize] as usize];
                let ok = if matches!(imp.ty, TypeRef::FuncExact(_)) { want == have } else { t.is_subtype(have, want) };
                (ok, t.describe(want), t.describe(have))
            }
            TypeRef::Table(want) => {
                let have = p2.table_type(index);
                let (we, he) =
                    (remap_ref(map1, want.element_type).map_err(e)?, remap_ref(map2, have.element_type).map_err(e)?);
                let ok = t.ref_subtype(we, he)
                    && t.ref_subtype(he, we)
                    && want.table64 == have.table64
                    && limits_match(want.initial, want.maximum, have.initial, have.maximum);
                let d = |x: &wasmparser::TableType, r| {
                    format!(
                        "(table{} {}{} {})",
                        if x.table64 { " i64" } else { "" },
                        x.initial,
                        x.maximum.map(|m| format!(" {m}")).unwrap_or_default(),
                        describe_val(wasm_encoder::ValType::Ref(r))
                    )
                };
                (ok, t.expand(&d(&want, we)), t.expand(&d(&have, he)))
            }
            TypeRef::Memory(want) => {
                let have = p2.memory_type(index);
                let ok = want.memory64 == have.memory64
                    && want.shared == have.shared
                    && want.page_size_log2 == have.page_size_log2
                    && limits_match(want.initial, want.maximum, have.initial, have.maximum);
                (ok, describe_memory(&want), describe_memory(&have))
            }
            TypeRef::Global(want) => {
                let have = p2.global_type(index);
                let (wv, hv) =
                    (remap_val(map1, want.content_type).map_err(e)?, remap_val(map2, have.content_type).map_err(e)?);
                let ok = want.mutable == have.mutable
                    && want.shared == have.shared
                    && if want.mutable { wv == hv } else { t.val_subtype(hv, wv) };
                let d = |g: &wasmparser::GlobalType, v| {
                    if g.mutable {
                        format!("(global (mut {}))", describe_val(v))
                    } else {
                        format!("(global {})", describe_val(v))
                    }
                };
                (ok, t.expand(&d(&want, wv)), t.expand(&d(&have, hv)))
            }
            TypeRef::Tag(want) => {
                let have = p2.tag_type(index);
                let (w, h) = (map1[want.func_type_idx as usize], map2[have.func_type_idx as usize]);
                (w == h, format!("(tag {})", t.describe(w)), format!("(tag {})", t.describe(h)))
            }
        };
        if ok {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::TypeMismatch,
            format!(
                "type mismatch: module `{}` imports {} `{}.{}` with type {want}, but module `{}` exports it with type {have}",
                p.name,
                Kind::of_type_ref(&imp.ty).name(),
                imp.module,
                imp.name,
                p2.name
            ),
        ))
    }
}

fn limits_match(wmin: u64, wmax: Option<u64>, hmin: u64, hmax: Option<u64>) -> bool {
    hmin >= wmin
        && match wmax {
            None => true,
            Some(w) => matches!(hmax, Some(h) if h <= w),
        }
}

pub(crate) fn describe_memory(m: &wasmparser::MemoryType) -> String {
    format!(
        "(memory{} {}{}{})",
        if m.memory64 { " i64" } else { "" },
        m.initial,
        m.maximum.map(|x| format!(" {x}")).unwrap_or_default(),
        if m.shared { " shared" } else { "" }
    )
}

pub(crate) fn abi_val(v: multimem_abi::ValType) -> wasm_encoder::ValType {
    match v {
        multimem_abi::ValType::I32 => wasm_encoder::ValType::I32,
        multimem_abi::ValType::I64 => wasm_encoder::ValType::I64,
        multimem_abi::ValType::F32 => wasm_encoder::ValType::F32,
        multimem_abi::ValType::F64 => wasm_encoder::ValType::F64,
    }
}
