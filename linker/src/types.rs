//! Phase 2: the merged type space. Every input's rec groups are
//! canonicalised (their structure, with references to earlier types
//! rewritten to merged indices and references inside the group made
//! relative) and an identical group is emitted once. Also owns subtype
//! matching across modules, which import checking needs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;

use wasm_encoder::reencode::Reencode;
use wasm_encoder::{AbstractHeapType as A, HeapType, RefType, ValType};

use crate::parse::Parsed;

/// Marks a reference to a type inside the rec group being keyed; such
/// references are relative, so equal groups key equally wherever they sit.
const IN_GROUP: u32 = 0x4000_0000;

/// What a merged type is, for abstract heap-type matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Func,
    Struct,
    Array,
    Cont,
}

/// The merged type section and the per-input maps into it.
pub(crate) struct MergedTypes {
    pub section: wasm_encoder::TypeSection,
    pub count: u32,
    /// Declared supertype of each merged type.
    pub supers: Vec<Option<u32>>,
    pub shapes: Vec<Shape>,
    /// Signature of each merged func type (empty for other shapes).
    pub funcs: Vec<Option<wasm_encoder::FuncType>>,
    /// One-level text form of each merged type, for error messages.
    pub texts: Vec<String>,
    /// Whether each merged type is final.
    pub finals: Vec<bool>,
    /// Per input: module-local type index -> merged index.
    pub maps: Vec<Vec<u32>>,
    keys: HashMap<Vec<u8>, u32>,
    key_buf: Vec<u8>,
}

/// Rewrites type indices of one input into the merged space.
pub(crate) struct TypeMap<'m> {
    pub map: &'m [u32],
    pub group_start: u32,
    pub group_len: u32,
    pub group_base: u32,
}

impl Reencode for TypeMap<'_> {
    type Error = Infallible;
    fn type_index(&mut self, ty: u32) -> Result<u32, wasm_encoder::reencode::Error<Infallible>> {
        if ty >= self.group_start && ty - self.group_start < self.group_len {
            Ok(self.group_base + (ty - self.group_start))
        } else {
            Ok(self.map[ty as usize])
        }
    }
}

impl<'m> TypeMap<'m> {
    pub(crate) fn new(map: &'m [u32]) -> TypeMap<'m> {
        TypeMap { map, group_start: 0, group_len: 0, group_base: 0 }
    }
}

fn infallible<T>(r: Result<T, wasm_encoder::reencode::Error<Infallible>>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

impl MergedTypes {
    pub(crate) fn new() -> MergedTypes {
        MergedTypes {
            section: wasm_encoder::TypeSection::new(),
            count: 0,
            supers: Vec::new(),
            shapes: Vec::new(),
            funcs: Vec::new(),
            texts: Vec::new(),
            finals: Vec::new(),
            maps: Vec::new(),
            keys: HashMap::new(),
            key_buf: Vec::new(),
        }
    }

    /// Adds one input's types; its map goes to `self.maps`.
    pub(crate) fn add_module(&mut self, p: &Parsed<'_>) -> Result<(), String> {
        let mut map: Vec<u32> = Vec::with_capacity(p.num_types as usize);
        for (start, group) in &p.rec_groups {
            let len = group.types().len() as u32;
            let subtypes: Vec<wasm_encoder::SubType> = {
                let mut key_map = TypeMap { map: &map, group_start: *start, group_len: len, group_base: IN_GROUP };
                group.clone().into_types().map(|t| infallible(key_map.sub_type(t))).collect::<Result<_, _>>()?
            };
            let explicit = group.is_explicit_rec_group();
            let base = self.intern(&subtypes, |this, base| {
                let mut emit = TypeMap { map: &map, group_start: *start, group_len: len, group_base: base };
                let mut out = Vec::with_capacity(len as usize);
                for t in group.clone().into_types() {
                    out.push(infallible(emit.sub_type(t))?);
                }
                if explicit {
                    this.section.ty().rec(out.iter().cloned());
                } else {
                    this.section.ty().subtype(&out[0]);
                }
                Ok(out)
            })?;
            for i in 0..len {
                map.push(base + i);
            }
        }
        self.maps.push(map);
        Ok(())
    }

    /// Looks up a group by its key form; if new, `emit` writes it (given
    /// its base index) and returns its subtypes with merged indices.
    fn intern(
        &mut self,
        key_types: &[wasm_encoder::SubType],
        emit: impl FnOnce(&mut MergedTypes, u32) -> Result<Vec<wasm_encoder::SubType>, String>,
    ) -> Result<u32, String> {
        let mut key_section = wasm_encoder::TypeSection::new();
        key_section.ty().rec(key_types.iter().cloned());
        self.key_buf.clear();
        wasm_encoder::Encode::encode(&key_section, &mut self.key_buf);
        if let Some(&base) = self.keys.get(&self.key_buf) {
            return Ok(base);
        }
        let base = self.count;
        let subtypes = emit(self, base)?;
        for st in &subtypes {
            self.supers.push(st.supertype_idx);
            let (shape, func) = match &st.composite_type.inner {
                wasm_encoder::CompositeInnerType::Func(f) => (Shape::Func, Some(f.clone())),
                wasm_encoder::CompositeInnerType::Struct(_) => (Shape::Struct, None),
                wasm_encoder::CompositeInnerType::Array(_) => (Shape::Array, None),
                wasm_encoder::CompositeInnerType::Cont(_) => (Shape::Cont, None),
            };
            self.shapes.push(shape);
            self.texts.push(describe_composite(&st.composite_type.inner));
            self.finals.push(st.is_final);
            self.funcs.push(func);
        }
        self.count += subtypes.len() as u32;
        self.keys.insert(self.key_buf.clone(), base);
        Ok(base)
    }

    /// The merged index of the final, supertype-less func type
    /// `params -> results`, adding it if no input defined it.
    pub(crate) fn func_type(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let st = wasm_encoder::SubType {
            is_final: true,
            supertype_idx: None,
            composite_type: wasm_encoder::CompositeType {
                inner: wasm_encoder::CompositeInnerType::Func(wasm_encoder::FuncType::new(
                    params.iter().copied(),
                    results.iter().copied(),
                )),
                shared: false,
                descriptor: None,
                describes: None,
            },
        };
        let key = [st.clone()];
        self.intern(&key, |this, _| {
            this.section.ty().subtype(&st);
            Ok(vec![st.clone()])
        })
        .unwrap_or(0)
    }

    /// Whether merged type `sub` is `sup` or declares it as a (transitive) supertype.
    pub(crate) fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        let mut t = Some(sub);
        let mut steps = 0;
        while let Some(i) = t {
            if i == sup {
                return true;
            }
            steps += 1;
            if steps > 64 || i as usize >= self.supers.len() {
                return false;
            }
            t = self.supers[i as usize];
        }
        false
    }

    fn heap_subtype(&self, a: HeapType, b: HeapType) -> bool {
        use HeapType::*;
        match (a, b) {
            (Concrete(x) | Exact(x), Concrete(y)) => self.is_subtype(x, y),
            (Concrete(_), Exact(_)) => false,
            (Exact(x), Exact(y)) => x == y,
            (Concrete(x) | Exact(x), Abstract { ty, shared: _ }) => {
                let shape = self.shapes.get(x as usize).copied();
                matches!(
                    (shape, ty),
                    (Some(Shape::Func), A::Func)
                        | (Some(Shape::Struct), A::Struct | A::Eq | A::Any)
                        | (Some(Shape::Array), A::Array | A::Eq | A::Any)
                        | (Some(Shape::Cont), A::Cont)
                )
            }
            (Abstract { ty, .. }, Concrete(y) | Exact(y)) => {
                let shape = self.shapes.get(y as usize).copied();
                matches!(
                    (ty, shape),
                    (A::None, Some(Shape::Struct | Shape::Array))
                        | (A::NoFunc, Some(Shape::Func))
                        | (A::NoCont, Some(Shape::Cont))
                )
            }
            (Abstract { ty: x, shared: sx }, Abstract { ty: y, shared: sy }) => {
                sx == sy && (x == y || abstract_subtype(x, y))
            }
        }
    }

    /// Value-type matching (GC subtyping for references), both sides in the merged space.
    pub(crate) fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        match (a, b) {
            (ValType::Ref(x), ValType::Ref(y)) => self.ref_subtype(x, y),
            (x, y) => x == y,
        }
    }

    pub(crate) fn ref_subtype(&self, x: RefType, y: RefType) -> bool {
        (!x.nullable || y.nullable) && self.heap_subtype(x.heap_type, y.heap_type)
    }

    /// Text form of a merged func type, for error messages.
    pub(crate) fn describe(&self, ty: u32) -> String {
        let base = match self.funcs.get(ty as usize) {
            Some(Some(f)) => self.expand(&describe_func(f)),
            _ => self.texts.get(ty as usize).cloned().unwrap_or_else(|| format!("(type {ty})")),
        };
        // Declared subtyping makes structurally equal types differ; say so.
        match self.supers.get(ty as usize) {
            Some(Some(s)) => format!("{base} [type {ty}, declared subtype of type {s}]"),
            Some(None) if !self.finals.get(ty as usize).copied().unwrap_or(true) => {
                format!("{base} [type {ty}, open for subtyping, no supertype]")
            }
            _ => base,
        }
    }

    /// Replaces `(type N)` references by `(type N = <structure>)`, one level deep.
    pub(crate) fn expand(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("(type ") {
            out.push_str(&rest[..at]);
            let tail = &rest[at + 6..];
            let end = tail.find(')').unwrap_or(tail.len());
            match tail[..end].parse::<u32>().ok().and_then(|n| self.texts.get(n as usize).map(|t| (n, t))) {
                Some((n, t)) if end < tail.len() => {
                    let _ = write!(out, "(type {n} = {t})");
                    rest = &tail[end + 1..];
                }
                _ => {
                    out.push_str("(type ");
                    rest = tail;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn abstract_subtype(x: A, y: A) -> bool {
    matches!(
        (x, y),
        (A::I31 | A::Struct | A::Array | A::Eq | A::None, A::Any)
            | (A::I31 | A::Struct | A::Array | A::None, A::Eq)
            | (A::None, A::I31 | A::Struct | A::Array)
            | (A::NoFunc, A::Func)
            | (A::NoExtern, A::Extern)
            | (A::NoExn, A::Exn)
            | (A::NoCont, A::Cont)
    )
}

/// Text form of a value type (references to merged type indices).
pub(crate) fn describe_val(v: ValType) -> String {
    match v {
        ValType::I32 => "i32".into(),
        ValType::I64 => "i64".into(),
        ValType::F32 => "f32".into(),
        ValType::F64 => "f64".into(),
        ValType::V128 => "v128".into(),
        ValType::Ref(r) => {
            let heap = match r.heap_type {
                HeapType::Concrete(i) => format!("(type {i})"),
                HeapType::Exact(i) => format!("(exact (type {i}))"),
                HeapType::Abstract { shared, ty } => {
                    let s = format!("{ty:?}").to_lowercase();
                    if shared { format!("(shared {s})") } else { s }
                }
            };
            format!("(ref {}{heap})", if r.nullable { "null " } else { "" })
        }
    }
}

fn describe_storage(s: &wasm_encoder::StorageType) -> String {
    match s {
        wasm_encoder::StorageType::I8 => "i8".into(),
        wasm_encoder::StorageType::I16 => "i16".into(),
        wasm_encoder::StorageType::Val(v) => describe_val(*v),
    }
}

fn describe_field(f: &wasm_encoder::FieldType) -> String {
    if f.mutable { format!("(mut {})", describe_storage(&f.element_type)) } else { describe_storage(&f.element_type) }
}

fn describe_composite(c: &wasm_encoder::CompositeInnerType) -> String {
    match c {
        wasm_encoder::CompositeInnerType::Func(f) => describe_func(f),
        wasm_encoder::CompositeInnerType::Array(a) => format!("(array {})", describe_field(&a.0)),
        wasm_encoder::CompositeInnerType::Struct(s) => {
            let mut t = String::from("(struct");
            for f in s.fields.iter() {
                let _ = write!(t, " (field {})", describe_field(f));
            }
            t.push(')');
            t
        }
        wasm_encoder::CompositeInnerType::Cont(_) => "(cont)".into(),
    }
}

pub(crate) fn describe_func(f: &wasm_encoder::FuncType) -> String {
    let mut s = String::from("(func");
    if !f.params().is_empty() {
        s.push_str(" (param");
        for p in f.params() {
            let _ = write!(s, " {}", describe_val(*p));
        }
        s.push(')');
    }
    if !f.results().is_empty() {
        s.push_str(" (result");
        for p in f.results() {
            let _ = write!(s, " {}", describe_val(*p));
        }
        s.push(')');
    }
    s.push(')');
    s
}

/// Rewrites a value type of an input into the merged space.
pub(crate) fn remap_val(map: &[u32], v: wasmparser::ValType) -> Result<ValType, String> {
    infallible(TypeMap::new(map).val_type(v))
}

/// Rewrites a ref type of an input into the merged space.
pub(crate) fn remap_ref(map: &[u32], v: wasmparser::RefType) -> Result<RefType, String> {
    infallible(TypeMap::new(map).ref_type(v))
}
