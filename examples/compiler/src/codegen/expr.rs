//! Expressions, in the three ways a value can be used:
//! - [`FnGen::value`]: the value is kept or passed on, so a fresh object
//!   is owned first (a token from `multimem:gc.own`);
//! - [`FnGen::borrow`]: the value is used and let go; a fresh object is
//!   released right after ([`FnGen::done`]);
//! - [`FnGen::expr`]: the raw form, which says whether the object is fresh
//!   (its only reference is on the stack and nobody owns it yet).
//!
//! Also numbers, operators, calls and the builtins.

use super::func::{FnGen, Slot, internal};
use super::types::Ty;
use crate::ast::{Expr, ExprKind, Pos};
use anyhow::{Result, bail};
use multimem_abi::Kind;
use wasm_encoder::{BlockType, Instruction as I, ValType};

/// A generated value: its type and whether it is fresh (a typed-data
/// object whose only reference is this value, with no token yet).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Val {
    pub ty: Ty,
    pub fresh: bool,
}

impl Val {
    fn of(ty: Ty) -> Val {
        Val { ty, fresh: false }
    }
}

/// An object operand in a local for the duration of one use.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Borrowed {
    /// The local that holds it.
    pub local: u32,
    /// Its type.
    pub ty: Ty,
    /// A local holding a fresh object to release once the use is over (the
    /// operand itself, or the data of a borrowed view).
    pub release: Option<u32>,
}

impl FnGen<'_, '_> {
    /// Generates `e` for a use that keeps it: a fresh object gets its token.
    pub fn value(&mut self, e: &Expr) -> Result<Ty> {
        match &e.kind {
            ExprKind::Var(_, id) if self.is_scoped(*id) => {
                Err(internal(e.pos, "a scoped variable is used where it escapes"))
            }
            ExprKind::New(class, n) => Ok(self.new_typed(class, n, true, e.pos)?.ty),
            _ => {
                let v = self.expr(e)?;
                if v.fresh {
                    self.own_fresh();
                }
                Ok(v.ty)
            }
        }
    }

    /// Generates an object operand into a local for one use; release it
    /// with [`FnGen::done`] afterwards.
    pub fn borrow(&mut self, e: &Expr) -> Result<Borrowed> {
        match &e.kind {
            ExprKind::Var(name, id) => {
                let (slot, ty) = self.var(*id, name, e.pos)?;
                let local = match slot {
                    Slot::Local(l) => l,
                    Slot::Global(_) => {
                        self.get(slot);
                        let l = self.local_for(ty)?;
                        self.e(I::LocalSet(l));
                        l
                    }
                };
                Ok(Borrowed { local, ty, release: None })
            }
            ExprKind::SublistView(class, data, start, end) if self.m.multimem() => {
                self.view(class, data, start, end.as_deref(), true, e.pos)
            }
            _ => {
                let v = self.expr(e)?;
                if !matches!(v.ty, Ty::Typed(_) | Ty::Objects(_)) {
                    bail!("{}: expected a list, found {}", e.pos, self.name(v.ty));
                }
                let local = self.local_for(v.ty)?;
                self.e(I::LocalSet(local));
                Ok(Borrowed { local, ty: v.ty, release: v.fresh.then_some(local) })
            }
        }
    }

    /// Ends the use of a borrowed operand: releases what it made fresh.
    pub fn done(&mut self, b: Borrowed) {
        if let Some(l) = b.release {
            self.release_local(l);
        }
    }

    /// A typed-data operand (borrowed), or an error naming `what`.
    pub fn borrow_typed(&mut self, e: &Expr, what: &str) -> Result<(Borrowed, Kind)> {
        let b = self.borrow(e)?;
        match b.ty {
            Ty::Typed(k) => Ok((b, k)),
            t => bail!("{}: {what} needs a typed-data object, found {}", e.pos, self.name(t)),
        }
    }

    /// An expression statement: evaluated, its value dropped (a fresh
    /// object released).
    pub fn effect(&mut self, e: &Expr) -> Result<()> {
        if let ExprKind::SublistView(..) = e.kind {
            let b = self.borrow(e)?;
            self.done(b);
            return Ok(());
        }
        let v = self.expr(e)?;
        match v.ty {
            Ty::Void => {}
            Ty::Typed(_) if v.fresh => {
                let l = self.local_for(v.ty)?;
                self.e(I::LocalSet(l));
                self.release_local(l);
            }
            _ => self.e(I::Drop),
        }
        Ok(())
    }

    /// An int operand in a local (a variable's own local when it is one).
    pub fn int_operand(&mut self, e: &Expr, what: &str) -> Result<u32> {
        if let ExprKind::Var(name, id) = &e.kind
            && let (Slot::Local(l), Ty::Int) = self.var(*id, name, e.pos)?
        {
            return Ok(l);
        }
        let t = self.value(e)?;
        if t != Ty::Int {
            bail!("{}: {what} must be an int, found {}", e.pos, self.name(t));
        }
        let l = self.local(ValType::I64);
        self.e(I::LocalSet(l));
        Ok(l)
    }

    /// Generates `e`; see the module doc.
    pub fn expr(&mut self, e: &Expr) -> Result<Val> {
        let pos = e.pos;
        let t = match &e.kind {
            ExprKind::Int(v) => {
                self.e(I::I64Const(*v));
                Ty::Int
            }
            ExprKind::Double(v) => {
                self.e(I::F64Const((*v).into()));
                Ty::Double
            }
            ExprKind::Bool(b) => {
                self.e(I::I32Const(*b as i32));
                Ty::Bool
            }
            ExprKind::Endian(little) => {
                self.e(I::I32Const(*little as i32));
                Ty::Endian
            }
            ExprKind::Var(name, id) => {
                let (slot, t) = self.var(*id, name, pos)?;
                self.get(slot);
                t
            }
            ExprKind::Neg(a) => match self.value(a)? {
                Ty::Int => {
                    self.e(I::I64Const(-1));
                    self.e(I::I64Mul);
                    Ty::Int
                }
                Ty::Double => {
                    self.e(I::F64Neg);
                    Ty::Double
                }
                t => bail!("{pos}: cannot negate a {}", self.name(t)),
            },
            ExprKind::Not(a) => match self.value(a)? {
                Ty::Bool => {
                    self.e(I::I32Eqz);
                    Ty::Bool
                }
                t => bail!("{pos}: `!` needs a bool, found {}", self.name(t)),
            },
            ExprKind::Binary(op, a, b) => self.binary(op, a, b, pos)?,
            ExprKind::New(class, n) => return self.new_typed(class, n, false, pos),
            ExprKind::SublistView(class, data, start, end) => {
                if !self.m.multimem() {
                    bail!("{pos}: sublistView is not supported by the gc-array baseline backend");
                }
                let b = self.view(class, data, start, end.as_deref(), false, pos)?;
                self.e(I::LocalGet(b.local));
                b.ty
            }
            ExprKind::ListLit(elem, items) => self.list_literal(elem, items, pos)?,
            ExprKind::Index(list, index) => {
                let b = self.borrow(list)?;
                let t = match b.ty {
                    Ty::Typed(k) => self.element_get(b, k, index, pos)?,
                    Ty::Objects(i) => self.objects_get(b, i, index)?,
                    t => bail!("{pos}: `[]` needs a list, found {}", self.name(t)),
                };
                self.done(b);
                t
            }
            ExprKind::Getter(obj, name) => self.getter(obj, name, pos)?,
            ExprKind::Method(obj, name, args) => return self.method(obj, name, args, pos),
            ExprKind::Call(name, args) => return self.call(name, args, pos),
            ExprKind::LibCall(name, args) => self.lib_call(name, args, pos)?,
        };
        Ok(Val::of(t))
    }

    fn getter(&mut self, obj: &Expr, name: &str, pos: Pos) -> Result<Ty> {
        // `x.buffer.lengthInBytes`: the inline header load of docs/ABI.md.
        if name == "lengthInBytes"
            && let ExprKind::Getter(inner, b) = &obj.kind
            && b == "buffer"
        {
            if !self.m.multimem() {
                bail!("{pos}: `.buffer` is not supported by the gc-array baseline backend");
            }
            let (b, _) = self.borrow_typed(inner, "`.buffer`")?;
            self.buffer_length_in_bytes(b.local);
            self.done(b);
            return Ok(Ty::Int);
        }
        let b = self.borrow(obj)?;
        let t = match b.ty {
            Ty::Typed(k) => self.typed_getter(b.local, k, name, pos)?,
            Ty::Objects(_) if name == "length" => {
                self.objects_length(b);
                Ty::Int
            }
            t => bail!("{pos}: {} has no getter `{name}`", self.name(t)),
        };
        self.done(b);
        Ok(t)
    }

    fn method(&mut self, obj: &Expr, name: &str, args: &[Expr], pos: Pos) -> Result<Val> {
        let b = self.borrow(obj)?;
        let v = match b.ty {
            Ty::Typed(Kind::ByteData) => Val::of(self.bytedata_method(b.local, name, args, pos)?),
            Ty::Objects(i) => Val::of(self.objects_method(b, i, name, args, pos)?),
            t => bail!("{pos}: {} has no method `{name}`", self.name(t)),
        };
        self.done(b);
        Ok(v)
    }

    fn call(&mut self, name: &str, args: &[Expr], pos: Pos) -> Result<Val> {
        match name {
            "print" => {
                let [a] = args else { bail!("{pos}: print takes one argument") };
                match self.value(a)? {
                    Ty::Int => self.call_import("host.print_i64"),
                    Ty::Bool => {
                        self.e(I::I64ExtendI32U);
                        self.call_import("host.print_i64");
                    }
                    Ty::Double => self.call_import("host.print_f64"),
                    t => bail!("{pos}: print takes an int, double or bool, found {}", self.name(t)),
                }
                return Ok(Val::of(Ty::Void));
            }
            "sum" => {
                let [a] = args else { bail!("{pos}: sum takes one list") };
                return Ok(Val::of(self.sum(a, pos)?));
            }
            "gc" => {
                if !args.is_empty() {
                    bail!("{pos}: gc takes no arguments");
                }
                self.call_import("host.gc");
                return Ok(Val::of(Ty::Void));
            }
            _ => {}
        }
        let Some(sig) = self.m.sigs.get(name).cloned() else {
            bail!("{pos}: unknown function `{name}` (builtins: print, sum, gc; library calls: lib.NAME)");
        };
        if args.len() != sig.params.len() {
            bail!("{pos}: `{name}` takes {} argument(s), given {}", sig.params.len(), args.len());
        }
        let mut borrowed = Vec::new();
        for (a, (id, pt)) in args.iter().zip(&sig.params) {
            if self.m.own.borrowed_params.contains(id) {
                let b = self.borrow(a)?;
                if b.ty != *pt {
                    bail!("{}: an argument of `{name}` must be a {}, found {}", a.pos, self.name(*pt), self.name(b.ty));
                }
                self.e(I::LocalGet(b.local));
                borrowed.push(b);
            } else {
                let t = self.value(a)?;
                self.coerce(t, *pt, a.pos, &format!("an argument of `{name}`"))?;
            }
        }
        self.e(I::Call(sig.index));
        if !borrowed.is_empty() {
            // Release fresh arguments once the callee has returned.
            let tmp = if sig.ret == Ty::Void { None } else { Some(self.local_for(sig.ret)?) };
            if let Some(t) = tmp {
                self.e(I::LocalSet(t));
            }
            for b in borrowed {
                self.done(b);
            }
            if let Some(t) = tmp {
                self.e(I::LocalGet(t));
            }
        }
        let fresh = matches!(sig.ret, Ty::Typed(_)) && self.m.own.fresh_results.contains(name);
        Ok(Val { ty: sig.ret, fresh })
    }

    fn binary(&mut self, op: &str, a: &Expr, b: &Expr, pos: Pos) -> Result<Ty> {
        if op == "&&" || op == "||" {
            if self.value(a)? != Ty::Bool {
                bail!("{pos}: `{op}` needs bools");
            }
            self.e(I::If(BlockType::Result(ValType::I32)));
            if op == "&&" {
                if self.value(b)? != Ty::Bool {
                    bail!("{pos}: `{op}` needs bools");
                }
                self.e(I::Else);
                self.e(I::I32Const(0));
            } else {
                self.e(I::I32Const(1));
                self.e(I::Else);
                if self.value(b)? != Ty::Bool {
                    bail!("{pos}: `{op}` needs bools");
                }
            }
            self.e(I::End);
            return Ok(Ty::Bool);
        }
        // Evaluate both sides; promote to double when either is one (or for `/`).
        let ta = self.value(a)?;
        let a_at = self.code.len();
        let tb = self.value(b)?;
        if (op == "==" || op == "!=") && ta == Ty::Bool && tb == Ty::Bool {
            self.e(if op == "==" { I::I32Eq } else { I::I32Ne });
            return Ok(Ty::Bool);
        }
        let num = |t: Ty| matches!(t, Ty::Int | Ty::Double);
        if !num(ta) || !num(tb) {
            bail!("{pos}: `{op}` needs numbers, found {} and {}", self.name(ta), self.name(tb));
        }
        let float = ta == Ty::Double || tb == Ty::Double || op == "/";
        if float {
            if ta == Ty::Int {
                self.code.insert(a_at, I::F64ConvertI64S);
            }
            if tb == Ty::Int {
                self.e(I::F64ConvertI64S);
            }
            let (ins, t) = match op {
                "+" => (I::F64Add, Ty::Double),
                "-" => (I::F64Sub, Ty::Double),
                "*" => (I::F64Mul, Ty::Double),
                "/" => (I::F64Div, Ty::Double),
                "<" => (I::F64Lt, Ty::Bool),
                "<=" => (I::F64Le, Ty::Bool),
                ">" => (I::F64Gt, Ty::Bool),
                ">=" => (I::F64Ge, Ty::Bool),
                "==" => (I::F64Eq, Ty::Bool),
                "!=" => (I::F64Ne, Ty::Bool),
                _ => bail!("{pos}: `{op}` is not defined on doubles"),
            };
            self.e(ins);
            return Ok(t);
        }
        if op == "%" {
            // Dart's `%` is Euclidean: the result is never negative.
            let (x, y, r) = (self.local(ValType::I64), self.local(ValType::I64), self.local(ValType::I64));
            self.e(I::LocalSet(y));
            self.e(I::LocalSet(x));
            self.e(I::LocalGet(x));
            self.e(I::LocalGet(y));
            self.e(I::I64RemS);
            self.e(I::LocalSet(r));
            // r < 0 ? r + |y| : r, with |y| = y < 0 ? 0 - y : y
            self.e(I::LocalGet(r));
            self.e(I::I64Const(0));
            self.e(I::LocalGet(y));
            self.e(I::I64Sub);
            self.e(I::LocalGet(y));
            self.e(I::LocalGet(y));
            self.e(I::I64Const(0));
            self.e(I::I64LtS);
            self.e(I::Select);
            self.e(I::I64Add);
            self.e(I::LocalGet(r));
            self.e(I::LocalGet(r));
            self.e(I::I64Const(0));
            self.e(I::I64LtS);
            self.e(I::Select);
            return Ok(Ty::Int);
        }
        let (ins, t) = match op {
            "+" => (I::I64Add, Ty::Int),
            "-" => (I::I64Sub, Ty::Int),
            "*" => (I::I64Mul, Ty::Int),
            "~/" => (I::I64DivS, Ty::Int),
            "&" => (I::I64And, Ty::Int),
            "|" => (I::I64Or, Ty::Int),
            "^" => (I::I64Xor, Ty::Int),
            "<<" => (I::I64Shl, Ty::Int),
            ">>" => (I::I64ShrS, Ty::Int),
            "<" => (I::I64LtS, Ty::Bool),
            "<=" => (I::I64LeS, Ty::Bool),
            ">" => (I::I64GtS, Ty::Bool),
            ">=" => (I::I64GeS, Ty::Bool),
            "==" => (I::I64Eq, Ty::Bool),
            "!=" => (I::I64Ne, Ty::Bool),
            _ => bail!("{pos}: unknown operator `{op}`"),
        };
        self.e(ins);
        Ok(t)
    }
}
