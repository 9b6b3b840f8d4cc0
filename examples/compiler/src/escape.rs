//! Phase 4: escape analysis. Decides which typed-data objects the code
//! generator may release at the end of a scope instead of owning them with
//! a `multimem:gc.own` token (`docs/ABI.md`, "Ownership by GC objects":
//! "Scope-based release is an optimisation for a buffer that provably does
//! not escape").
//!
//! Three facts, computed together as the greatest fixed point (start from
//! "everything qualifies", remove what a use disproves, repeat until
//! nothing changes; each round only removes, so it ends):
//!
//! - a **scoped variable**: a `var` (not a global) initialised with a
//!   *fresh* object (a constructor `Uint8List(n)`, or a call of a function
//!   with a fresh result), never assigned, and whose every use *borrows*
//!   it: the receiver of `[]`, `[]=`, a getter or a ByteData method, the
//!   list of `sum` or `lib.f`, an argument for a borrowed parameter, the
//!   data of a `sublistView` that itself is used that way, or `return` of
//!   it from a function with a fresh result. Its buffer is released when
//!   its scope ends (or at a `return`);
//! - a **borrowed parameter**: a typed-data parameter never assigned and
//!   only borrowed in its function. The caller keeps the object alive
//!   across the call, so a scoped variable or a temporary may be passed;
//! - a **fresh result**: a function returning a typed-data object whose
//!   every `return` gives a fresh object (a constructor, a scoped
//!   variable, or a call of a function with a fresh result). The caller
//!   receives the only reference and decides: release it (a temporary or
//!   a scoped variable) or own it with a token (anything else).
//!
//! Everything else is owned by a token. The analysis is intraprocedural
//! but for these two summaries per function, and knows no more than the
//! syntax: an object stored anywhere (a list, a global, a variable that
//! is assigned) escapes, even when a human could see it does not.

use crate::ast::{Expr, ExprKind, Function, Program, Stmt, TypeExpr, VarId};
use crate::codegen::types::class_kind;
use std::collections::{HashMap, HashSet};

/// What the code generator may release by scope instead of owning.
#[derive(Clone, Debug, Default)]
pub struct Ownership {
    /// Variables released when their scope ends.
    pub scoped: HashSet<VarId>,
    /// Parameters their function only borrows.
    pub borrowed_params: HashSet<VarId>,
    /// Functions whose result the caller receives unowned (fresh).
    pub fresh_results: HashSet<String>,
}

fn is_typed(t: &TypeExpr) -> bool {
    matches!(t, TypeExpr::Named(n, _) if class_kind(n).is_some())
}

/// How a use of a value treats it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Used and let go: the object need not outlive the expression.
    Borrow,
    /// Stored, copied or passed on: the object may outlive its scope.
    Escape,
    /// Returned from a function assumed to have a fresh result.
    Return,
}

struct Round<'a> {
    own: &'a Ownership,
    signatures: &'a HashMap<String, &'a Function>,
    assigned: HashSet<VarId>,
    escaped: HashSet<VarId>,
    /// Whether the current function is assumed to have a fresh result.
    assumed_fresh: bool,
    /// Per function: whether every `return` so far gave a fresh object.
    returns_fresh: bool,
    /// Variables returned by the current function (fresh only if scoped).
    returned: Vec<VarId>,
}

/// Runs the analysis over a resolved program. `globals` (from
/// [`crate::resolve`]) are never scoped.
pub fn analyse(program: &Program, globals: &HashSet<VarId>) -> Ownership {
    let signatures: HashMap<String, &Function> = program.functions.iter().map(|f| (f.name.clone(), f)).collect();
    let mut own = Ownership {
        scoped: HashSet::new(),
        borrowed_params: program
            .functions
            .iter()
            .flat_map(|f| f.params.iter().filter(|p| is_typed(&p.ty)).map(|p| p.id))
            .collect(),
        fresh_results: program.functions.iter().filter(|f| is_typed(&f.ret)).map(|f| f.name.clone()).collect(),
    };
    loop {
        let mut r = Round {
            own: &own,
            signatures: &signatures,
            assigned: HashSet::new(),
            escaped: HashSet::new(),
            assumed_fresh: false,
            returns_fresh: true,
            returned: Vec::new(),
        };
        // Candidates for scoped variables: lets with a fresh initialiser.
        let mut candidates = HashSet::new();
        for s in &program.main {
            r.stmt(s, &mut candidates);
        }
        let mut fresh_results = HashSet::new();
        let mut returned = Vec::new();
        for f in &program.functions {
            r.assumed_fresh = own.fresh_results.contains(&f.name);
            r.returns_fresh = true;
            r.returned.clear();
            for s in &f.body {
                r.stmt(s, &mut candidates);
            }
            if r.assumed_fresh && r.returns_fresh {
                returned.push((f.name.clone(), std::mem::take(&mut r.returned)));
            }
        }
        let scoped: HashSet<VarId> = candidates
            .into_iter()
            .filter(|v| !globals.contains(v) && !r.assigned.contains(v) && !r.escaped.contains(v))
            .collect();
        for (name, vars) in returned {
            if vars.iter().all(|v| scoped.contains(v)) {
                fresh_results.insert(name);
            }
        }
        let borrowed_params: HashSet<VarId> =
            own.borrowed_params.iter().copied().filter(|p| !r.assigned.contains(p) && !r.escaped.contains(p)).collect();
        let next = Ownership { scoped, borrowed_params, fresh_results };
        let stable = next.scoped == own.scoped
            && next.borrowed_params == own.borrowed_params
            && next.fresh_results == own.fresh_results;
        own = next;
        if stable {
            return own;
        }
    }
}

impl Round<'_> {
    /// Whether `e` makes a fresh object: the caller holds its only reference.
    fn fresh(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::New(class, _) => class_kind(class).is_some(),
            ExprKind::Call(name, _) => self.own.fresh_results.contains(name),
            _ => false,
        }
    }

    fn stmt(&mut self, s: &Stmt, candidates: &mut HashSet<VarId>) {
        match s {
            Stmt::Let { id, init, .. } => {
                if self.fresh(init) {
                    candidates.insert(*id);
                    self.children(init);
                } else {
                    self.expr(init, Use::Escape);
                }
            }
            Stmt::Assign(_, id, e, _) => {
                self.assigned.insert(*id);
                self.expr(e, Use::Escape);
            }
            Stmt::SetIndex(list, index, value, _) => {
                self.expr(list, Use::Borrow);
                self.expr(index, Use::Escape);
                self.expr(value, Use::Escape);
            }
            Stmt::Expr(e) => self.expr(e, Use::Borrow),
            Stmt::For(init, cond, update, body, _) => {
                self.stmt(init, candidates);
                self.expr(cond, Use::Escape);
                self.stmt(update, candidates);
                body.iter().for_each(|s| self.stmt(s, candidates));
            }
            Stmt::If(cond, then, els, _) => {
                self.expr(cond, Use::Escape);
                then.iter().chain(els).for_each(|s| self.stmt(s, candidates));
            }
            Stmt::Block(b) => b.iter().for_each(|s| self.stmt(s, candidates)),
            Stmt::Return(None, _) => {}
            Stmt::Return(Some(e), _) if !self.assumed_fresh => self.expr(e, Use::Escape),
            Stmt::Return(Some(e), _) => {
                if let ExprKind::Var(_, id) = &e.kind {
                    // Fresh only if the variable turns out scoped.
                    self.returned.push(*id);
                    self.expr(e, Use::Return);
                } else if self.fresh(e) {
                    self.children(e);
                } else {
                    self.returns_fresh = false;
                    self.expr(e, Use::Escape);
                }
            }
        }
    }

    /// The operands of a fresh-making expression (its own value is not a use).
    fn children(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::New(_, n) => self.expr(n, Use::Escape),
            ExprKind::Call(name, args) => self.args(name, args),
            _ => unreachable!("not a fresh-making expression"),
        }
    }

    fn args(&mut self, name: &str, args: &[Expr]) {
        match name {
            "sum" => args.iter().for_each(|a| self.expr(a, Use::Borrow)),
            _ => {
                let f = self.signatures.get(name);
                for (i, a) in args.iter().enumerate() {
                    let borrowed =
                        f.and_then(|f| f.params.get(i)).is_some_and(|p| self.own.borrowed_params.contains(&p.id));
                    self.expr(a, if borrowed { Use::Borrow } else { Use::Escape });
                }
            }
        }
    }

    fn expr(&mut self, e: &Expr, how: Use) {
        match &e.kind {
            ExprKind::Var(_, id) => match how {
                Use::Borrow => {}
                // Returned from a function assumed fresh: if the variable
                // is not scoped, the result is not fresh (see `analyse`),
                // and the next round counts this return as an escape.
                Use::Return => {}
                Use::Escape => {
                    self.escaped.insert(*id);
                }
            },
            ExprKind::Int(_) | ExprKind::Double(_) | ExprKind::Bool(_) | ExprKind::Endian(_) => {}
            ExprKind::Neg(a) | ExprKind::Not(a) | ExprKind::New(_, a) => self.expr(a, Use::Escape),
            ExprKind::Binary(_, a, b) => {
                self.expr(a, Use::Escape);
                self.expr(b, Use::Escape);
            }
            ExprKind::SublistView(_, data, start, end) => {
                // A view shares its data's buffer: it borrows the data only
                // if the view itself is only borrowed.
                self.expr(data, if how == Use::Borrow { Use::Borrow } else { Use::Escape });
                self.expr(start, Use::Escape);
                if let Some(end) = end {
                    self.expr(end, Use::Escape);
                }
            }
            ExprKind::ListLit(_, items) => items.iter().for_each(|a| self.expr(a, Use::Escape)),
            ExprKind::Index(list, index) => {
                self.expr(list, Use::Borrow);
                self.expr(index, Use::Escape);
            }
            ExprKind::Getter(obj, _) => self.expr(obj, Use::Borrow),
            ExprKind::Method(obj, _, args) => {
                self.expr(obj, Use::Borrow);
                args.iter().for_each(|a| self.expr(a, Use::Escape));
            }
            ExprKind::Call(name, args) => self.args(name, args),
            ExprKind::LibCall(_, args) => {
                for (i, a) in args.iter().enumerate() {
                    self.expr(a, if i == 0 { Use::Borrow } else { Use::Escape });
                }
            }
        }
    }
}
