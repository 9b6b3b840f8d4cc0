//! `List<T>`: growable lists of objects (typed data or other lists), as a
//! struct `(mut (ref $array)) (mut i32)` over `(array (mut (ref null T)))`.
//! Storing a typed-data object in one is an escape: the object is owned
//! by its token first ([`FnGen::value`]). `add` and `removeLast` are
//! helper functions, one per list type; `removeLast` clears the slot it
//! empties, so the removed object's token can be collected.

use super::expr::Borrowed;
use super::func::FnGen;
use super::types::{Ty, objects_field as F};
use crate::ast::{Expr, Pos, TypeExpr};
use anyhow::{Result, bail};
use wasm_encoder::{BlockType, Function, HeapType, Instruction as I, RefType, ValType};

impl FnGen<'_, '_> {
    fn nullable(index: u32) -> ValType {
        ValType::Ref(RefType { nullable: true, heap_type: HeapType::Concrete(index) })
    }

    /// `<T>[a, b, ...]`.
    pub fn list_literal(&mut self, elem: &TypeExpr, items: &[Expr], pos: Pos) -> Result<Ty> {
        let et = self.m.types.resolve(elem)?;
        let t = self.m.types.objects(et).map_err(|e| anyhow::anyhow!("{pos}: {e}"))?;
        let Ty::Objects(i) = t else { unreachable!("objects() gives a List type") };
        let (array, growable) = self.m.types.objects_types(i);
        for item in items {
            let it = self.value(item)?;
            if it != et {
                bail!("{}: a {} element must be a {}, found {}", item.pos, self.name(t), self.name(et), self.name(it));
            }
        }
        self.e(I::ArrayNewFixed { array_type_index: array, array_size: items.len() as u32 });
        self.e(I::I32Const(items.len() as i32));
        self.e(I::StructNew(growable));
        Ok(t)
    }

    /// Pushes `list.length` (i64).
    pub fn objects_length(&mut self, b: Borrowed) {
        let Ty::Objects(i) = b.ty else { unreachable!("a List operand") };
        let (_, growable) = self.m.types.objects_types(i);
        self.e(I::LocalGet(b.local));
        self.e(I::StructGet { struct_type_index: growable, field_index: F::LENGTH });
        self.e(I::I64ExtendI32U);
    }

    /// Traps unless the i64 in `index` is below the length of the list in `list`.
    fn objects_bounds_check(&mut self, list: u32, growable: u32, index: u32) {
        self.e(I::LocalGet(index));
        self.e(I::LocalGet(list));
        self.e(I::StructGet { struct_type_index: growable, field_index: F::LENGTH });
        self.e(I::I64ExtendI32U);
        self.e(I::I64GeU);
        self.trap_if();
    }

    /// `list[index]`: the element, owned by its own token (never fresh).
    pub fn objects_get(&mut self, b: Borrowed, i: u32, index: &Expr) -> Result<Ty> {
        let (array, growable) = self.m.types.objects_types(i);
        let ti = self.int_operand(index, "an index")?;
        self.objects_bounds_check(b.local, growable, ti);
        self.e(I::LocalGet(b.local));
        self.e(I::StructGet { struct_type_index: growable, field_index: F::DATA });
        self.e(I::LocalGet(ti));
        self.e(I::I32WrapI64);
        self.e(I::ArrayGet(array));
        Ok(self.m.types.element(i))
    }

    /// `list[index] = value`.
    pub fn objects_set(&mut self, b: Borrowed, i: u32, index: &Expr, value: &Expr, pos: Pos) -> Result<()> {
        let (array, growable) = self.m.types.objects_types(i);
        let et = self.m.types.element(i);
        let ti = self.int_operand(index, "an index")?;
        let vt = self.value(value)?;
        if vt != et {
            bail!("{pos}: cannot store a {} into a {}", self.name(vt), self.name(b.ty));
        }
        let tv = self.local_for(et)?;
        self.e(I::LocalSet(tv));
        self.objects_bounds_check(b.local, growable, ti);
        self.e(I::LocalGet(b.local));
        self.e(I::StructGet { struct_type_index: growable, field_index: F::DATA });
        self.e(I::LocalGet(ti));
        self.e(I::I32WrapI64);
        self.e(I::LocalGet(tv));
        self.e(I::ArraySet(array));
        Ok(())
    }

    /// `add(x)`, `removeLast()`, `clear()`.
    pub fn objects_method(&mut self, b: Borrowed, i: u32, name: &str, args: &[Expr], pos: Pos) -> Result<Ty> {
        let (array, growable) = self.m.types.objects_types(i);
        let et = self.m.types.element(i);
        match (name, args) {
            ("add", [x]) => {
                self.e(I::LocalGet(b.local));
                let xt = self.value(x)?;
                if xt != et {
                    bail!("{}: cannot add a {} to a {}", x.pos, self.name(xt), self.name(b.ty));
                }
                let f = self.helper_add(i)?;
                self.e(I::Call(f));
                Ok(Ty::Void)
            }
            ("removeLast", []) => {
                self.e(I::LocalGet(b.local));
                let f = self.helper_remove_last(i)?;
                self.e(I::Call(f));
                Ok(et)
            }
            ("clear", []) => {
                // A new empty array: the old one (and what it holds) becomes garbage.
                self.e(I::LocalGet(b.local));
                self.e(I::ArrayNewFixed { array_type_index: array, array_size: 0 });
                self.e(I::StructSet { struct_type_index: growable, field_index: F::DATA });
                self.e(I::LocalGet(b.local));
                self.e(I::I32Const(0));
                self.e(I::StructSet { struct_type_index: growable, field_index: F::LENGTH });
                Ok(Ty::Void)
            }
            ("add" | "removeLast" | "clear", _) => bail!("{pos}: wrong number of arguments for `{name}`"),
            _ => bail!("{pos}: {} has no method `{name}` (add, removeLast, clear)", self.name(b.ty)),
        }
    }

    /// `$add(list, x)`: appends, doubling the capacity (plus 4) when full.
    fn helper_add(&mut self, i: u32) -> Result<u32> {
        let key = format!("add {i}");
        if let Some(f) = self.m.helpers.get(&key) {
            return Ok(*f);
        }
        let (array, growable) = self.m.types.objects_types(i);
        let et = self.m.types.element(i);
        let ev = self.m.types.val_type(et)?;
        let ty = self.m.types.func(&[Self::nullable(growable), ev], &[]);
        // params: 0 list, 1 x; locals: 2 n, 3 data, 4 grown
        let mut f = Function::new_with_locals_types([ValType::I32, Self::nullable(array), Self::nullable(array)]);
        let (list, x, n, data, grown) = (0, 1, 2, 3, 4);
        for ins in [
            I::LocalGet(list),
            I::StructGet { struct_type_index: growable, field_index: F::LENGTH },
            I::LocalSet(n),
            I::LocalGet(list),
            I::StructGet { struct_type_index: growable, field_index: F::DATA },
            I::LocalTee(data),
            I::ArrayLen,
            I::LocalGet(n),
            I::I32Eq,
            I::If(BlockType::Empty),
            I::LocalGet(data),
            I::ArrayLen,
            I::I32Const(1),
            I::I32Shl,
            I::I32Const(4),
            I::I32Add,
            I::ArrayNewDefault(array),
            I::LocalTee(grown),
            I::I32Const(0),
            I::LocalGet(data),
            I::I32Const(0),
            I::LocalGet(n),
            I::ArrayCopy { array_type_index_dst: array, array_type_index_src: array },
            I::LocalGet(list),
            I::LocalGet(grown),
            I::RefAsNonNull,
            I::StructSet { struct_type_index: growable, field_index: F::DATA },
            I::LocalGet(grown),
            I::LocalSet(data),
            I::End,
            I::LocalGet(data),
            I::LocalGet(n),
            I::LocalGet(x),
            I::ArraySet(array),
            I::LocalGet(list),
            I::LocalGet(n),
            I::I32Const(1),
            I::I32Add,
            I::StructSet { struct_type_index: growable, field_index: F::LENGTH },
            I::End,
        ] {
            f.instruction(&ins);
        }
        let index = self.m.add_function(ty, f);
        self.m.helpers.insert(key, index);
        Ok(index)
    }

    /// `$removeLast(list)`: the last element, its slot cleared; traps when empty.
    fn helper_remove_last(&mut self, i: u32) -> Result<u32> {
        let key = format!("removeLast {i}");
        if let Some(f) = self.m.helpers.get(&key) {
            return Ok(*f);
        }
        let (array, growable) = self.m.types.objects_types(i);
        let et = self.m.types.element(i);
        let ev = self.m.types.val_type(et)?;
        let ValType::Ref(er) = ev else { unreachable!("List elements are references") };
        let ty = self.m.types.func(&[Self::nullable(growable)], &[ev]);
        // param 0 list; locals: 1 n, 2 data, 3 removed
        let mut f = Function::new_with_locals_types([ValType::I32, Self::nullable(array), ev]);
        let (list, n, data, removed) = (0, 1, 2, 3);
        for ins in [
            I::LocalGet(list),
            I::StructGet { struct_type_index: growable, field_index: F::LENGTH },
            I::LocalTee(n),
            I::I32Eqz,
            I::If(BlockType::Empty),
            I::Unreachable, // Dart: StateError (no element)
            I::End,
            I::LocalGet(n),
            I::I32Const(1),
            I::I32Sub,
            I::LocalSet(n),
            I::LocalGet(list),
            I::StructGet { struct_type_index: growable, field_index: F::DATA },
            I::LocalTee(data),
            I::LocalGet(n),
            I::ArrayGet(array),
            I::LocalSet(removed),
            I::LocalGet(data),
            I::LocalGet(n),
            I::RefNull(er.heap_type),
            I::ArraySet(array),
            I::LocalGet(list),
            I::LocalGet(n),
            I::StructSet { struct_type_index: growable, field_index: F::LENGTH },
            I::LocalGet(removed),
            I::End,
        ] {
            f.instruction(&ins);
        }
        let index = self.m.add_function(ty, f);
        self.m.helpers.insert(key, index);
        Ok(index)
    }
}
