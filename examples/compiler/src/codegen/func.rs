//! One function's code: locals, variables, scopes (and the scope-based
//! releases of scoped variables), statements and `return`.

use super::Module;
use super::types::Ty;
use crate::ast::{Expr, ExprKind, Function, Pos, Stmt, TypeExpr, VarId};
use anyhow::{Result, anyhow, bail};
use std::collections::HashMap;
use wasm_encoder::{BlockType, Function as Body, Instruction as I, ValType};

/// Where a variable lives.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    /// A wasm local.
    Local(u32),
    /// A wasm global (a top-level `var` that functions use).
    Global(u32),
}

/// The generator of one function body.
pub(crate) struct FnGen<'a, 'p> {
    pub m: &'a mut Module<'p>,
    n_params: u32,
    /// Locals after the parameters.
    locals: Vec<ValType>,
    pub code: Vec<I<'static>>,
    /// Per open scope: the locals of scoped variables, released when it ends.
    scopes: Vec<Vec<u32>>,
    vars: HashMap<VarId, (Slot, Ty)>,
    /// The declared result.
    ret: Ty,
    /// Whether the caller receives the result unowned ([`crate::escape`]).
    fresh_result: bool,
}

/// `main`: the program's top-level statements.
pub(crate) fn main(m: &mut Module, stmts: &[Stmt]) -> Result<Body> {
    let mut g = FnGen::new(m, &[], Ty::Void, false);
    g.scopes.push(Vec::new());
    for s in stmts {
        g.stmt(s)?;
    }
    g.pop_scope();
    Ok(g.finish())
}

/// A user function.
pub(crate) fn function(m: &mut Module, f: &Function) -> Result<Body> {
    let sig = m.sigs[&f.name].clone();
    let fresh = m.own.fresh_results.contains(&f.name);
    let mut g = FnGen::new(m, &sig.params, sig.ret, fresh);
    if sig.ret != Ty::Void && !returns(&f.body) {
        bail!("{}: function `{}` can reach its end without returning a {}", f.pos, f.name, g.name(sig.ret));
    }
    g.scopes.push(Vec::new());
    for s in &f.body {
        g.stmt(s)?;
    }
    g.pop_scope();
    if sig.ret != Ty::Void {
        // Never reached (every path returns); the validator needs it.
        g.e(I::Unreachable);
    }
    Ok(g.finish())
}

/// Whether every path through `stmts` ends in a `return`.
fn returns(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Return(..) => true,
        Stmt::If(_, a, b, _) => returns(a) && returns(b),
        Stmt::Block(b) => returns(b),
        _ => false,
    })
}

impl<'a, 'p> FnGen<'a, 'p> {
    fn new(m: &'a mut Module<'p>, params: &[(VarId, Ty)], ret: Ty, fresh_result: bool) -> Self {
        let vars = params.iter().enumerate().map(|(i, (id, t))| (*id, (Slot::Local(i as u32), *t))).collect();
        FnGen {
            m,
            n_params: params.len() as u32,
            locals: Vec::new(),
            code: Vec::new(),
            scopes: Vec::new(),
            vars,
            ret,
            fresh_result,
        }
    }

    /// A generator for a function with `n_params` wasm parameters and no
    /// variables (the export wrappers).
    pub fn raw(m: &'a mut Module<'p>, n_params: u32) -> Self {
        let mut g = FnGen::new(m, &[], Ty::Void, false);
        g.n_params = n_params;
        g
    }

    /// The finished body.
    pub fn finish(mut self) -> Body {
        self.code.push(I::End);
        let mut body = Body::new_with_locals_types(self.locals.iter().copied());
        for ins in &self.code {
            body.instruction(ins);
        }
        body
    }

    /// Emits one instruction.
    pub fn e(&mut self, i: I<'static>) {
        self.code.push(i);
    }

    /// A fresh local of type `t`.
    pub fn local(&mut self, t: ValType) -> u32 {
        self.locals.push(t);
        self.n_params + self.locals.len() as u32 - 1
    }

    /// A fresh local holding a value of `t`.
    pub fn local_for(&mut self, t: Ty) -> Result<u32> {
        let vt = self.m.types.val_type(t)?;
        Ok(self.local(vt))
    }

    /// `t` as the source writes it.
    pub fn name(&self, t: Ty) -> String {
        self.m.types.name(t)
    }

    /// Calls an imported function by key (`multimem.buffer_new`, `gc.own`, ...).
    pub fn call_import(&mut self, key: &str) {
        let f = self.m.import(key);
        self.e(I::Call(f));
    }

    /// The slot and type of a resolved variable.
    pub fn var(&self, id: VarId, name: &str, pos: Pos) -> Result<(Slot, Ty)> {
        if let Some(v) = self.vars.get(&id) {
            return Ok(*v);
        }
        if let Some((g, t)) = self.m.globals.get(&id) {
            return Ok((Slot::Global(*g), *t));
        }
        // A global whose declaration the top-level code has not reached
        // when it calls this function would be null: Dart's lazy globals
        // are not modelled, so the declaration must come first in main.
        bail!("{pos}: `{name}` is used before the top-level code declares it")
    }

    /// Whether `id` is a scoped variable (released by its scope).
    pub fn is_scoped(&self, id: VarId) -> bool {
        self.m.own.scoped.contains(&id)
    }

    /// Pushes a variable's value.
    pub fn get(&mut self, slot: Slot) {
        self.e(match slot {
            Slot::Local(l) => I::LocalGet(l),
            Slot::Global(g) => I::GlobalGet(g),
        });
    }

    fn set(&mut self, slot: Slot) {
        self.e(match slot {
            Slot::Local(l) => I::LocalSet(l),
            Slot::Global(g) => I::GlobalSet(g),
        });
    }

    /// Converts the value on the stack from `have` to `want` (ints widen to
    /// doubles), or fails naming `what`.
    pub fn coerce(&mut self, have: Ty, want: Ty, pos: Pos, what: &str) -> Result<()> {
        match (have, want) {
            (a, b) if a == b => Ok(()),
            (Ty::Int, Ty::Double) => {
                self.e(I::F64ConvertI64S);
                Ok(())
            }
            _ => bail!("{pos}: {what} must be a {}, found {}", self.name(want), self.name(have)),
        }
    }

    fn pop_scope(&mut self) {
        let scope = self.scopes.pop().expect("scope stack underflow");
        if !self.m.opts.leak {
            for l in scope.iter().rev() {
                self.release_local(*l);
            }
        }
    }

    /// Releases every open scope's scoped variables except `keep` (a
    /// `return` leaves all of them).
    fn release_all_scopes(&mut self, keep: Option<u32>) {
        if self.m.opts.leak {
            return;
        }
        let all: Vec<u32> = self.scopes.iter().rev().flat_map(|s| s.iter().rev().copied()).collect();
        for l in all.into_iter().filter(|l| Some(*l) != keep) {
            self.release_local(l);
        }
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<()> {
        self.scopes.push(Vec::new());
        for s in stmts {
            self.stmt(s)?;
        }
        self.pop_scope();
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<()> {
        match s {
            Stmt::Let { id, name, ty, init, pos } => self.let_(*id, name, ty.as_ref(), init, *pos),
            Stmt::Assign(name, id, e, pos) => {
                let (slot, vt) = self.var(*id, name, *pos)?;
                if self.is_scoped(*id) {
                    return Err(internal(*pos, "a scoped variable is assigned"));
                }
                let t = self.value(e)?;
                if self.coerce(t, vt, *pos, "").is_err() {
                    bail!("{pos}: cannot assign a {} to `{name}` of type {}", self.name(t), self.name(vt));
                }
                self.set(slot);
                Ok(())
            }
            Stmt::SetIndex(list, index, value, pos) => self.set_index(list, index, value, *pos),
            Stmt::Expr(e) => self.effect(e),
            Stmt::For(init, cond, update, body, pos) => {
                self.scopes.push(Vec::new());
                self.stmt(init)?;
                self.e(I::Block(BlockType::Empty));
                self.e(I::Loop(BlockType::Empty));
                let t = self.value(cond)?;
                if t != Ty::Bool {
                    bail!("{pos}: a `for` condition must be a bool, found {}", self.name(t));
                }
                self.e(I::I32Eqz);
                self.e(I::BrIf(1));
                self.block(body)?;
                self.stmt(update)?;
                self.e(I::Br(0));
                self.e(I::End);
                self.e(I::End);
                self.pop_scope();
                Ok(())
            }
            Stmt::If(cond, then, els, pos) => {
                let t = self.value(cond)?;
                if t != Ty::Bool {
                    bail!("{pos}: an `if` condition must be a bool, found {}", self.name(t));
                }
                self.e(I::If(BlockType::Empty));
                self.block(then)?;
                if !els.is_empty() {
                    self.e(I::Else);
                    self.block(els)?;
                }
                self.e(I::End);
                Ok(())
            }
            Stmt::Block(b) => self.block(b),
            Stmt::Return(value, pos) => self.return_(value.as_ref(), *pos),
        }
    }

    fn let_(&mut self, id: VarId, name: &str, declared: Option<&TypeExpr>, init: &Expr, pos: Pos) -> Result<()> {
        let declared = declared.map(|t| self.m.types.resolve(t)).transpose()?;
        let scoped = self.is_scoped(id);
        let t = if scoped {
            // The initialiser is fresh: keep its only reference, with no
            // token, and release it when the scope ends.
            let v = self.expr(init)?;
            if !v.fresh {
                return Err(internal(pos, "a scoped variable's initialiser is not fresh"));
            }
            v.ty
        } else {
            self.value(init)?
        };
        let t = match declared {
            Some(d) => {
                self.coerce(t, d, pos, &format!("the initial value of `{name}`"))?;
                d
            }
            None => t,
        };
        if matches!(t, Ty::Void | Ty::Endian) {
            bail!("{pos}: `{name}` cannot hold a value of type {}", self.name(t));
        }
        let vt = self.m.types.val_type(t)?;
        let slot = if self.m.global_ids.contains(&id) {
            let g = self.m.global_defs.len() as u32;
            self.m.global_defs.push((name.to_string(), vt));
            self.m.globals.insert(id, (g, t));
            Slot::Global(g)
        } else {
            let l = self.local(vt);
            self.vars.insert(id, (Slot::Local(l), t));
            if scoped {
                self.scopes.last_mut().expect("a scope").push(l);
            }
            Slot::Local(l)
        };
        self.set(slot);
        Ok(())
    }

    fn return_(&mut self, value: Option<&Expr>, pos: Pos) -> Result<()> {
        let Some(e) = value else {
            if self.ret != Ty::Void {
                bail!("{pos}: this function must return a {}", self.name(self.ret));
            }
            self.release_all_scopes(None);
            self.e(I::Return);
            return Ok(());
        };
        if self.ret == Ty::Void {
            bail!("{pos}: a void function cannot return a value");
        }
        let mut keep = None;
        let t = if self.fresh_result {
            // The caller receives the only reference: a scoped variable
            // (not released here) or a fresh object.
            if let ExprKind::Var(name, id) = &e.kind
                && self.is_scoped(*id)
            {
                let (slot, t) = self.var(*id, name, e.pos)?;
                if let Slot::Local(l) = slot {
                    keep = Some(l);
                }
                self.get(slot);
                t
            } else {
                let v = self.expr(e)?;
                if !v.fresh {
                    return Err(internal(pos, "a fresh result is not fresh"));
                }
                v.ty
            }
        } else {
            self.value(e)?
        };
        self.coerce(t, self.ret, pos, "the returned value")?;
        let tmp = self.local_for(self.ret)?;
        self.e(I::LocalSet(tmp));
        self.release_all_scopes(keep);
        self.e(I::LocalGet(tmp));
        self.e(I::Return);
        Ok(())
    }
}

/// An inconsistency between the escape analysis and the code generator.
pub(crate) fn internal(pos: Pos, what: &str) -> anyhow::Error {
    anyhow!("{pos}: internal error: {what} (the escape analysis and the code generator disagree)")
}
