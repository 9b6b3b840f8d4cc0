//! Typed-data objects: construction (with a token, or fresh), views,
//! ownership (`multimem:gc.own`, scope-based `buffer_release`, the inline
//! retain), the inline element access and header load of `docs/ABI.md`,
//! getters, `sum`, ByteData accessors and library calls. In the gc-array
//! backend the same operations on plain WasmGC arrays.

use super::OWN_MEMORY;
use super::expr::{Borrowed, Val};
use super::func::FnGen;
use super::types::{Ty, class_kind, list_field as F};
use crate::ast::{Expr, ExprKind, Pos};
use anyhow::{Result, anyhow, bail};
use multimem_abi::{Kind, Number};
use wasm_encoder::{BlockType, HeapType, Instruction as I, MemArg, ValType};

fn own_arg(align: u32) -> MemArg {
    MemArg { offset: 0, align, memory_index: OWN_MEMORY }
}

fn log2(n: u32) -> i32 {
    n.trailing_zeros() as i32
}

impl FnGen<'_, '_> {
    fn list_type(&self) -> u32 {
        self.m.types.list()
    }

    /// Pushes field `field` of the typed-data object in `local`.
    pub fn field(&mut self, local: u32, field: u32) {
        let list = self.list_type();
        self.e(I::LocalGet(local));
        self.e(I::StructGet { struct_type_index: list, field_index: field });
    }

    /// `Uint8List(n)` and friends. With `owned` (or when scope-based release
    /// is off) the buffer gets its token at once; otherwise the object is
    /// fresh: no token, the only reference on the stack.
    pub fn new_typed(&mut self, class: &str, n: &Expr, owned: bool, pos: Pos) -> Result<Val> {
        let k = class_kind(class).ok_or_else(|| anyhow!("{pos}: unknown class `{class}`"))?;
        let tn = self.int_operand(n, "a length")?;
        if !self.m.multimem() {
            if k == Kind::ByteData {
                bail!("{pos}: ByteData is not supported by the gc-array baseline backend");
            }
            self.i32_for_runtime(tn);
            let arr = self.m.types.gc_array(k);
            self.e(I::ArrayNewDefault(arr));
            return Ok(Val { ty: Ty::Typed(k), fresh: false });
        }
        // lengthInBytes, or -1 (BAD_LENGTH from the runtime) when the
        // element count is negative or too large.
        let max = (multimem_abi::MAX_LENGTH / k.element_size()) as i64;
        let b = self.local(ValType::I32);
        self.e(I::LocalGet(tn));
        self.e(I::I32WrapI64);
        self.e(I::I32Const(log2(k.element_size())));
        self.e(I::I32Shl);
        self.e(I::I32Const(-1));
        self.e(I::LocalGet(tn));
        self.e(I::I64Const(max));
        self.e(I::I64LeU);
        self.e(I::Select);
        self.call_import("multimem.buffer_new");
        self.e(I::LocalTee(b));
        self.e(I::I32Const(0));
        self.e(I::LocalGet(tn));
        self.e(I::I32WrapI64);
        let fresh = !owned && self.m.scoped_release();
        if fresh {
            self.e(I::RefNull(HeapType::EXTERN));
        } else {
            self.e(I::LocalGet(b));
            self.call_import("gc.own");
        }
        let list = self.list_type();
        self.e(I::StructNew(list));
        Ok(Val { ty: Ty::Typed(k), fresh })
    }

    /// Gives the fresh object on the stack its token, in place:
    /// `list.token = own(list.buffer)`. The object stays on the stack.
    pub fn own_fresh(&mut self) {
        let list = self.list_type();
        let l = self.local(ValType::Ref(wasm_encoder::RefType { nullable: true, heap_type: HeapType::Concrete(list) }));
        self.e(I::LocalTee(l));
        self.field(l, F::BUFFER);
        self.call_import("gc.own");
        self.e(I::StructSet { struct_type_index: list, field_index: F::TOKEN });
        self.e(I::LocalGet(l));
    }

    /// `buffer_release(buffer)` of the object in `local` (scope-based release).
    pub fn release_local(&mut self, local: u32) {
        self.field(local, F::BUFFER);
        self.call_import("multimem.buffer_release");
        self.e(I::Drop);
    }

    /// The inline retain of `docs/ABI.md`: one load, one add, one store at
    /// `buffer - 4`, for the buffer address in the i32 `local`.
    pub fn retain_address(&mut self, local: u32) {
        let addr = self.local(ValType::I32);
        self.e(I::LocalGet(local));
        self.e(I::I32Const(-multimem_abi::header::REFCOUNT));
        self.e(I::I32Sub);
        self.e(I::LocalTee(addr));
        self.e(I::LocalGet(addr));
        self.e(I::I32Load(own_arg(2)));
        self.e(I::I32Const(1));
        self.e(I::I32Add);
        self.e(I::I32Store(own_arg(2)));
    }

    /// `K.sublistView(data, start, [end])` into a local: the view holds its
    /// data's token (or none, when borrowed from a fresh or scoped object).
    /// `borrowed`: the view is used once and let go, so its data is only
    /// borrowed (and a fresh data object is released after the use).
    pub fn view(
        &mut self,
        class: &str,
        data: &Expr,
        start: &Expr,
        end: Option<&Expr>,
        borrowed: bool,
        pos: Pos,
    ) -> Result<Borrowed> {
        let k = class_kind(class).ok_or_else(|| anyhow!("{pos}: unknown class `{class}`"))?;
        let plain_var = matches!(&data.kind, ExprKind::Var(_, id) if !self.is_scoped(*id));
        let (db, sk) = if borrowed || plain_var {
            self.borrow_typed(data, "sublistView")?
        } else {
            let t = self.value(data)?;
            let Ty::Typed(sk) = t else {
                bail!("{}: sublistView needs a typed-data object, found {}", data.pos, self.name(t))
            };
            let local = self.local_for(t)?;
            self.e(I::LocalSet(local));
            (Borrowed { local, ty: t, release: None }, sk)
        };
        let tl = db.local;
        let ts = self.int_operand(start, "a start index")?;
        let te = match end {
            Some(end) => self.int_operand(end, "an end index")?,
            None => {
                let te = self.local(ValType::I64);
                self.field(tl, F::LENGTH);
                self.e(I::I64ExtendI32U);
                self.e(I::LocalSet(te));
                te
            }
        };
        // 0 <= start <= end <= data.length (unsigned compares also reject negatives).
        self.e(I::LocalGet(ts));
        self.e(I::LocalGet(te));
        self.e(I::I64GtU);
        self.e(I::LocalGet(te));
        self.field(tl, F::LENGTH);
        self.e(I::I64ExtendI32U);
        self.e(I::I64GtU);
        self.e(I::I32Or);
        self.trap_if();
        let es = log2(sk.element_size());
        let (off, len) = (self.local(ValType::I32), self.local(ValType::I32));
        self.field(tl, F::OFFSET);
        self.e(I::LocalGet(ts));
        self.e(I::I32WrapI64);
        self.e(I::I32Const(es));
        self.e(I::I32Shl);
        self.e(I::I32Add);
        self.e(I::LocalSet(off));
        self.e(I::LocalGet(te));
        self.e(I::LocalGet(ts));
        self.e(I::I64Sub);
        self.e(I::I32WrapI64);
        self.e(I::I32Const(es));
        self.e(I::I32Shl);
        self.e(I::LocalSet(len));
        if k.element_size() > 1 {
            // Dart: offsetInBytes and lengthInBytes must be multiples of
            // the new elementSizeInBytes.
            self.e(I::LocalGet(off));
            self.e(I::LocalGet(len));
            self.e(I::I32Or);
            self.e(I::I32Const(k.element_size() as i32 - 1));
            self.e(I::I32And);
            self.trap_if();
        }
        self.field(tl, F::BUFFER);
        self.e(I::LocalGet(off));
        self.e(I::LocalGet(len));
        self.e(I::I32Const(log2(k.element_size())));
        self.e(I::I32ShrU);
        self.field(tl, F::TOKEN);
        let list = self.list_type();
        self.e(I::StructNew(list));
        let view = self.local_for(Ty::Typed(k))?;
        self.e(I::LocalSet(view));
        Ok(Borrowed { local: view, ty: Ty::Typed(k), release: db.release })
    }

    /// Traps if the i32 on the stack is non-zero (Dart would throw).
    pub fn trap_if(&mut self) {
        self.e(I::If(BlockType::Empty));
        self.e(I::Unreachable);
        self.e(I::End);
    }

    /// Pushes the i64 in `local` as an i32 for the runtime: values outside
    /// `0..=i32::MAX` become -1, which every export rejects (BAD_LENGTH or
    /// RANGE) instead of silently wrapping to a small number.
    pub fn i32_for_runtime(&mut self, local: u32) {
        self.e(I::LocalGet(local));
        self.e(I::I32WrapI64);
        self.e(I::I32Const(-1));
        self.e(I::LocalGet(local));
        self.e(I::I64Const(i32::MAX as i64));
        self.e(I::I64LeU);
        self.e(I::Select);
    }

    /// Pushes the length (elements) of the typed-data object in `local`, as i32.
    fn length_i32(&mut self, local: u32) {
        if self.m.multimem() {
            self.field(local, F::LENGTH);
        } else {
            self.e(I::LocalGet(local));
            self.e(I::ArrayLen);
        }
    }

    /// Traps unless `index <u list.length` (Dart's RangeError).
    fn bounds_check(&mut self, list: u32, index: u32) {
        self.e(I::LocalGet(index));
        self.length_i32(list);
        self.e(I::I64ExtendI32U);
        self.e(I::I64GeU);
        self.trap_if();
    }

    /// Pushes `buffer + offsetInBytes` of the object in `local`.
    fn base(&mut self, local: u32) {
        self.field(local, F::BUFFER);
        self.field(local, F::OFFSET);
        self.e(I::I32Add);
    }

    /// Adds `index << log2(elementSizeInBytes)` (the i32 on the stack) to the
    /// base under it.
    fn scale_add(&mut self, k: Kind) {
        let s = log2(k.element_size());
        if s > 0 {
            self.e(I::I32Const(s));
            self.e(I::I32Shl);
        }
        self.e(I::I32Add);
    }

    /// Load of one element at the address on the stack, as the language type.
    fn load(&mut self, k: Kind) -> Ty {
        match k {
            Kind::Uint8List => {
                self.e(I::I32Load8U(own_arg(0)));
                self.e(I::I64ExtendI32U);
                Ty::Int
            }
            Kind::Int32List => {
                self.e(I::I32Load(own_arg(2)));
                self.e(I::I64ExtendI32S);
                Ty::Int
            }
            _ => {
                self.e(I::F64Load(own_arg(3)));
                Ty::Double
            }
        }
    }

    /// `array.get` of the gc-array backend, as the language type.
    fn array_get(&mut self, k: Kind) -> Ty {
        let arr = self.m.types.gc_array(k);
        match k {
            Kind::Uint8List => {
                self.e(I::ArrayGetU(arr));
                self.e(I::I64ExtendI32U);
                Ty::Int
            }
            Kind::Int32List => {
                self.e(I::ArrayGet(arr));
                self.e(I::I64ExtendI32S);
                Ty::Int
            }
            _ => {
                self.e(I::ArrayGet(arr));
                Ty::Double
            }
        }
    }

    /// Converts the value on the stack of type `have` to the element type of
    /// `k` (as it is stored).
    fn coerce_element(&mut self, k: Kind, have: Ty, pos: Pos) -> Result<()> {
        match (k.number(), have) {
            (Number::Int, Ty::Int) => self.e(I::I32WrapI64),
            (Number::Float, Ty::Int) => self.e(I::F64ConvertI64S),
            (Number::Float, Ty::Double) => {}
            _ => bail!("{pos}: cannot store a {} into a {}", self.name(have), k.name()),
        }
        Ok(())
    }

    /// `list[index]` of a typed-data object: the inline load.
    pub fn element_get(&mut self, b: Borrowed, k: Kind, index: &Expr, pos: Pos) -> Result<Ty> {
        if k == Kind::ByteData {
            bail!("{pos}: ByteData has no `[]`; use getUint8 and friends");
        }
        let ti = self.int_operand(index, "an index")?;
        self.bounds_check(b.local, ti);
        Ok(if self.m.multimem() {
            self.base(b.local);
            self.e(I::LocalGet(ti));
            self.e(I::I32WrapI64);
            self.scale_add(k);
            self.load(k)
        } else {
            self.e(I::LocalGet(b.local));
            self.e(I::LocalGet(ti));
            self.e(I::I32WrapI64);
            self.array_get(k)
        })
    }

    /// `list[index] = value`, for typed data and `List<T>`.
    pub fn set_index(&mut self, list: &Expr, index: &Expr, value: &Expr, pos: Pos) -> Result<()> {
        let b = self.borrow(list)?;
        let k = match b.ty {
            Ty::Typed(k) => k,
            Ty::Objects(i) => {
                self.objects_set(b, i, index, value, pos)?;
                self.done(b);
                return Ok(());
            }
            t => bail!("{pos}: `[]=` needs a list, found {}", self.name(t)),
        };
        if k == Kind::ByteData {
            bail!("{pos}: ByteData has no `[]=`; use setUint8 and friends");
        }
        let ti = self.int_operand(index, "an index")?;
        let vt = self.value(value)?;
        self.coerce_element(k, vt, value.pos)?;
        let tv = self.local(if k.number() == Number::Float { ValType::F64 } else { ValType::I32 });
        self.e(I::LocalSet(tv));
        // The address is computed after the value: evaluating the value may
        // allocate, and so run the GC, but `b` keeps the object reachable.
        self.bounds_check(b.local, ti);
        if self.m.multimem() {
            self.base(b.local);
            self.e(I::LocalGet(ti));
            self.e(I::I32WrapI64);
            self.scale_add(k);
            self.e(I::LocalGet(tv));
            match k {
                Kind::Uint8List => self.e(I::I32Store8(own_arg(0))),
                Kind::Int32List => self.e(I::I32Store(own_arg(2))),
                _ => self.e(I::F64Store(own_arg(3))),
            }
        } else {
            self.e(I::LocalGet(b.local));
            self.e(I::LocalGet(ti));
            self.e(I::I32WrapI64);
            self.e(I::LocalGet(tv));
            let arr = self.m.types.gc_array(k);
            self.e(I::ArraySet(arr));
        }
        self.done(b);
        Ok(())
    }

    /// `x.buffer.lengthInBytes`: `i32.load` at `buffer - 8`.
    pub fn buffer_length_in_bytes(&mut self, local: u32) {
        self.field(local, F::BUFFER);
        self.e(I::I32Const(-multimem_abi::header::LENGTH));
        self.e(I::I32Sub);
        self.e(I::I32Load(own_arg(2)));
        self.e(I::I64ExtendI32U);
    }

    /// `length`, `lengthInBytes`, `offsetInBytes`, `elementSizeInBytes`.
    pub fn typed_getter(&mut self, local: u32, k: Kind, name: &str, pos: Pos) -> Result<Ty> {
        match name {
            "length" => {
                self.length_i32(local);
                self.e(I::I64ExtendI32U);
            }
            "lengthInBytes" => {
                self.length_i32(local);
                self.e(I::I64ExtendI32U);
                self.e(I::I64Const(k.element_size() as i64));
                self.e(I::I64Mul);
            }
            "offsetInBytes" => {
                if !self.m.multimem() {
                    bail!("{pos}: `.offsetInBytes` is not supported by the gc-array baseline backend");
                }
                self.field(local, F::OFFSET);
                self.e(I::I64ExtendI32U);
            }
            "elementSizeInBytes" => self.e(I::I64Const(k.element_size() as i64)),
            _ => bail!("{pos}: {} has no getter `{name}`", k.name()),
        }
        Ok(Ty::Int)
    }

    /// `sum(list)`: an inline loop over the elements.
    pub fn sum(&mut self, list: &Expr, pos: Pos) -> Result<Ty> {
        let (b, k) = self.borrow_typed(list, "sum")?;
        if k == Kind::ByteData {
            bail!("{pos}: sum needs a list, not ByteData");
        }
        let tl = b.local;
        let float = k.number() == Number::Float;
        let acc = self.local(if float { ValType::F64 } else { ValType::I64 });
        let (i, n) = (self.local(ValType::I32), self.local(ValType::I32));
        // Locals are only zeroed on function entry; this code may run in a loop.
        self.e(if float { I::F64Const(0.0.into()) } else { I::I64Const(0) });
        self.e(I::LocalSet(acc));
        self.e(I::I32Const(0));
        self.e(I::LocalSet(i));
        self.length_i32(tl);
        self.e(I::LocalSet(n));
        let base = self.local(ValType::I32);
        if self.m.multimem() {
            // The loop allocates nothing, so no GC can run while the
            // address is in use; `tl` keeps the object reachable anyway.
            self.base(tl);
            self.e(I::LocalSet(base));
        }
        self.e(I::Block(BlockType::Empty));
        self.e(I::Loop(BlockType::Empty));
        self.e(I::LocalGet(i));
        self.e(I::LocalGet(n));
        self.e(I::I32GeU);
        self.e(I::BrIf(1));
        self.e(I::LocalGet(acc));
        if self.m.multimem() {
            self.e(I::LocalGet(base));
            self.e(I::LocalGet(i));
            self.scale_add(k);
            self.load(k);
        } else {
            self.e(I::LocalGet(tl));
            self.e(I::LocalGet(i));
            self.array_get(k);
        }
        self.e(if float { I::F64Add } else { I::I64Add });
        self.e(I::LocalSet(acc));
        self.e(I::LocalGet(i));
        self.e(I::I32Const(1));
        self.e(I::I32Add);
        self.e(I::LocalSet(i));
        self.e(I::Br(0));
        self.e(I::End);
        self.e(I::End);
        self.e(I::LocalGet(acc));
        self.done(b);
        Ok(if float { Ty::Double } else { Ty::Int })
    }

    /// ByteData `getX(byteOffset, [endian])` / `setX(byteOffset, value, [endian])`.
    pub fn bytedata_method(&mut self, tl: u32, name: &str, args: &[Expr], pos: Pos) -> Result<Ty> {
        if !self.m.multimem() {
            bail!("{pos}: ByteData is not supported by the gc-array baseline backend");
        }
        let (set, ty_name_part) = if let Some(r) = name.strip_prefix("get") {
            (false, r)
        } else if let Some(r) = name.strip_prefix("set") {
            (true, r)
        } else {
            bail!("{pos}: ByteData has no method `{name}`");
        };
        let kind = Kind::ALL
            .iter()
            .copied()
            .find(|k| k.name().strip_suffix("List") == Some(ty_name_part) && (1..=11).contains(&k.code()))
            .ok_or_else(|| anyhow!("{pos}: ByteData has no method `{name}`"))?;
        let want = if set { 2 } else { 1 };
        if args.len() != want && args.len() != want + 1 {
            bail!("{pos}: `{name}` takes {want} argument(s) and an optional Endian");
        }
        let off = self.int_operand(&args[0], "a byte offset")?;
        let float = kind.number() == Number::Float;
        let value = if set {
            let t = self.value(&args[1])?;
            match (t, float) {
                (Ty::Int, false) | (Ty::Double, true) => {}
                (Ty::Int, true) => self.e(I::F64ConvertI64S),
                _ => bail!("{pos}: `{name}` cannot store a {}", self.name(t)),
            }
            let v = self.local(if float { ValType::F64 } else { ValType::I64 });
            self.e(I::LocalSet(v));
            Some(v)
        } else {
            None
        };
        let little = self.local(ValType::I32);
        if let Some(endian) = args.get(want) {
            if self.value(endian)? != Ty::Endian {
                bail!("{}: expected Endian.big or Endian.little", endian.pos);
            }
        } else {
            self.e(I::I32Const(0)); // Dart's default: Endian.big
        }
        self.e(I::LocalSet(little));
        self.field(tl, F::BUFFER);
        self.field(tl, F::OFFSET);
        self.field(tl, F::LENGTH);
        self.i32_for_runtime(off);
        self.e(I::I32Const(kind.code() as i32));
        self.e(I::LocalGet(little));
        Ok(match (value, float) {
            (Some(v), false) => {
                self.e(I::LocalGet(v));
                self.call_import("multimem.bytedata_set_i64");
                Ty::Void
            }
            (Some(v), true) => {
                self.e(I::LocalGet(v));
                self.call_import("multimem.bytedata_set_f64");
                Ty::Void
            }
            (None, false) => {
                self.call_import("multimem.bytedata_get_i64");
                Ty::Int
            }
            (None, true) => {
                self.call_import("multimem.bytedata_get_f64");
                Ty::Double
            }
        })
    }

    /// `lib.f(list, ints...)`: copy the list's bytes into the library's
    /// memory, call, copy them back (the library may work in place).
    pub fn lib_call(&mut self, name: &str, args: &[Expr], pos: Pos) -> Result<Ty> {
        if !self.m.multimem() {
            bail!("{pos}: a library call is not supported by the gc-array baseline backend");
        }
        let (b, k) = self.borrow_typed(&args[0], &format!("`lib.{name}`"))?;
        let tl = b.local;
        let (p, n) = (self.local(ValType::I32), self.local(ValType::I32));
        self.field(tl, F::LENGTH);
        self.e(I::I32Const(log2(k.element_size())));
        self.e(I::I32Shl);
        self.e(I::LocalSet(n));
        self.e(I::LocalGet(n));
        self.call_import("lib.alloc");
        self.e(I::LocalTee(p));
        self.e(I::I32Eqz);
        self.trap_if(); // the library is out of memory
        self.e(I::LocalGet(p));
        self.base_parts(tl);
        self.e(I::LocalGet(n));
        self.call_import("multimem.external_copy_out");
        let mut extra = Vec::new();
        for a in &args[1..] {
            extra.push(self.int_operand(a, "a library argument")?);
        }
        self.e(I::LocalGet(p));
        self.e(I::LocalGet(n));
        for l in extra {
            self.i32_for_runtime(l);
        }
        debug_assert_eq!(self.m.lib_arity[name], args.len() - 1);
        self.call_import(&format!("lib.{name}"));
        let r = self.local(ValType::I32);
        self.e(I::LocalSet(r));
        self.base_parts(tl);
        self.e(I::LocalGet(p));
        self.e(I::LocalGet(n));
        self.call_import("multimem.external_copy_in");
        self.e(I::LocalGet(p));
        self.e(I::LocalGet(n));
        self.call_import("lib.dealloc");
        self.e(I::LocalGet(r));
        self.e(I::I64ExtendI32U);
        self.done(b);
        Ok(Ty::Int)
    }

    /// Pushes `buffer, offsetInBytes` of the object in `local` (the two
    /// arguments of the runtime's copy exports).
    fn base_parts(&mut self, local: u32) {
        self.field(local, F::BUFFER);
        self.field(local, F::OFFSET);
    }
}
