//! The language's static types ([`Ty`]) and the module's type section
//! ([`TypeTable`]): the typed-data object struct, the arrays and structs of
//! growable lists, and function types, each defined once.

use super::Backend;
use crate::ast::TypeExpr;
use anyhow::{Result, bail};
use multimem_abi::Kind;
use wasm_encoder::{FieldType, HeapType, RefType, StorageType, TypeSection, ValType};

/// The static type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `int`: 64-bit.
    Int,
    /// `double`.
    Double,
    /// `bool`.
    Bool,
    /// A typed-data object: `Uint8List`, `Int32List`, `Float64List`, `ByteData`.
    Typed(Kind),
    /// `List<T>`: a growable list of objects; the index of `T` in
    /// [`TypeTable::elements`].
    Objects(u32),
    /// `Endian.big` / `Endian.little` (only as an argument).
    Endian,
    /// No value.
    Void,
}

/// The typed-data class named `name`, if it is one.
pub fn class_kind(name: &str) -> Option<Kind> {
    match name {
        "Uint8List" => Some(Kind::Uint8List),
        "Int32List" => Some(Kind::Int32List),
        "Float64List" => Some(Kind::Float64List),
        "ByteData" => Some(Kind::ByteData),
        _ => None,
    }
}

/// Field indices of the typed-data object struct (multimem backend):
/// `(struct i32 i32 i32 (mut (ref null extern)))`: the view is immutable,
/// the token is set once when a fresh object escapes.
pub mod list_field {
    /// The buffer address (the start of its data in the runtime memory).
    pub const BUFFER: u32 = 0;
    /// `offsetInBytes` of the view.
    pub const OFFSET: u32 = 1;
    /// Length in elements (bytes for ByteData).
    pub const LENGTH: u32 = 2;
    /// The ownership token (`multimem:gc.own`), or null while the object's
    /// buffer is released by the scope that made it (it provably does not
    /// escape) or borrowed from the host for one call.
    pub const TOKEN: u32 = 3;
}

/// Field indices of a growable list struct: `(struct (mut (ref $array)) (mut i32))`.
pub mod objects_field {
    /// The backing array (its length is the capacity).
    pub const DATA: u32 = 0;
    /// The number of elements.
    pub const LENGTH: u32 = 1;
}

#[derive(Clone, Debug, PartialEq)]
enum Def {
    /// The typed-data object struct of the multimem backend.
    List,
    /// `(array (mut T))`.
    Array(StorageType),
    /// A growable list over the array type at this index.
    Growable(u32),
    /// A function type.
    Func(Vec<ValType>, Vec<ValType>),
}

/// The module's types, numbered in the order they are first needed (an
/// array before the struct that refers to it).
pub struct TypeTable {
    backend: Backend,
    defs: Vec<Def>,
    /// Element types of the `List<T>` types, by [`Ty::Objects`] index.
    elements: Vec<Ty>,
    /// For each entry of `elements`: (array type, growable struct type).
    objects: Vec<(u32, u32)>,
}

impl TypeTable {
    /// A table for `backend`; the multimem backend's object struct is type 0.
    pub fn new(backend: Backend) -> TypeTable {
        let mut t = TypeTable { backend, defs: Vec::new(), elements: Vec::new(), objects: Vec::new() };
        if backend == Backend::Multimem {
            t.def(Def::List);
        }
        t
    }

    fn def(&mut self, d: Def) -> u32 {
        if let Some(i) = self.defs.iter().position(|x| *x == d) {
            return i as u32;
        }
        self.defs.push(d);
        self.defs.len() as u32 - 1
    }

    /// A function type's index.
    pub fn func(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        self.def(Def::Func(params.to_vec(), results.to_vec()))
    }

    /// The struct type of typed-data objects (multimem backend).
    pub fn list(&self) -> u32 {
        debug_assert_eq!(self.backend, Backend::Multimem);
        0
    }

    /// The array type of a typed-data list in the gc-array backend.
    pub fn gc_array(&mut self, k: Kind) -> u32 {
        let elem = match k {
            Kind::Uint8List => StorageType::I8,
            Kind::Int32List => StorageType::Val(ValType::I32),
            _ => StorageType::Val(ValType::F64),
        };
        self.def(Def::Array(elem))
    }

    /// `List<elem>` as a [`Ty`], defining its types on first use.
    pub fn objects(&mut self, elem: Ty) -> Result<Ty> {
        if let Some(i) = self.elements.iter().position(|t| *t == elem) {
            return Ok(Ty::Objects(i as u32));
        }
        let storage = match elem {
            Ty::Typed(_) | Ty::Objects(_) => StorageType::Val(ValType::Ref(self.ref_type(elem)?)),
            _ => bail!("a List holds typed-data objects or other Lists, not {}", self.name(elem)),
        };
        let array = self.def(Def::Array(storage));
        let growable = self.def(Def::Growable(array));
        self.elements.push(elem);
        self.objects.push((array, growable));
        Ok(Ty::Objects(self.elements.len() as u32 - 1))
    }

    /// The element type of `List<T>` number `i`.
    pub fn element(&self, i: u32) -> Ty {
        self.elements[i as usize]
    }

    /// (array type, growable struct type) of `List<T>` number `i`.
    pub fn objects_types(&self, i: u32) -> (u32, u32) {
        self.objects[i as usize]
    }

    /// The nullable reference type that holds a value of `t`.
    pub fn ref_type(&mut self, t: Ty) -> Result<RefType> {
        let index = match t {
            Ty::Typed(k) => match self.backend {
                Backend::Multimem => self.list(),
                Backend::GcArray => {
                    if k == Kind::ByteData {
                        bail!("ByteData is not supported by the gc-array baseline backend");
                    }
                    self.gc_array(k)
                }
            },
            Ty::Objects(i) => self.objects[i as usize].1,
            _ => bail!("{} is not an object type", self.name(t)),
        };
        Ok(RefType { nullable: true, heap_type: HeapType::Concrete(index) })
    }

    /// The wasm value type of `t`.
    pub fn val_type(&mut self, t: Ty) -> Result<ValType> {
        Ok(match t {
            Ty::Int => ValType::I64,
            Ty::Double => ValType::F64,
            Ty::Bool => ValType::I32,
            Ty::Typed(_) | Ty::Objects(_) => ValType::Ref(self.ref_type(t)?),
            Ty::Endian | Ty::Void => bail!("a value of type {} cannot be stored", self.name(t)),
        })
    }

    /// The wasm results of a function returning `t`.
    pub fn results(&mut self, t: Ty) -> Result<Vec<ValType>> {
        if t == Ty::Void { Ok(Vec::new()) } else { Ok(vec![self.val_type(t)?]) }
    }

    /// `t` as the source writes it.
    pub fn name(&self, t: Ty) -> String {
        match t {
            Ty::Int => "int".into(),
            Ty::Double => "double".into(),
            Ty::Bool => "bool".into(),
            Ty::Typed(k) => k.name().into(),
            Ty::Objects(i) => format!("List<{}>", self.name(self.elements[i as usize])),
            Ty::Endian => "Endian".into(),
            Ty::Void => "void".into(),
        }
    }

    /// The type a source type names.
    pub fn resolve(&mut self, t: &TypeExpr) -> Result<Ty> {
        Ok(match t {
            TypeExpr::Named(n, pos) => match n.as_str() {
                "int" => Ty::Int,
                "double" => Ty::Double,
                "bool" => Ty::Bool,
                "void" => Ty::Void,
                _ => Ty::Typed(class_kind(n).ok_or_else(|| anyhow::anyhow!("{pos}: unknown type `{n}`"))?),
            },
            TypeExpr::List(elem, pos) => {
                let e = self.resolve(elem)?;
                self.objects(e).map_err(|err| anyhow::anyhow!("{pos}: {err}"))?
            }
        })
    }

    /// The type section.
    pub fn section(&self) -> TypeSection {
        let mut types = TypeSection::new();
        let val = |ty| FieldType { element_type: StorageType::Val(ty), mutable: false };
        for d in &self.defs {
            match d {
                Def::List => {
                    let token = ValType::Ref(RefType { nullable: true, heap_type: HeapType::EXTERN });
                    // The token is mutable: a fresh object gets its token
                    // in place when it escapes (`FnGen::own_fresh`).
                    let token = FieldType { element_type: StorageType::Val(token), mutable: true };
                    types.ty().struct_([val(ValType::I32), val(ValType::I32), val(ValType::I32), token]);
                }
                Def::Array(elem) => types.ty().array(elem, true),
                Def::Growable(array) => {
                    let data = ValType::Ref(RefType { nullable: false, heap_type: HeapType::Concrete(*array) });
                    types.ty().struct_([
                        FieldType { element_type: StorageType::Val(data), mutable: true },
                        FieldType { element_type: StorageType::Val(ValType::I32), mutable: true },
                    ]);
                }
                Def::Func(p, r) => types.ty().function(p.iter().copied(), r.iter().copied()),
            }
        }
        types
    }
}
