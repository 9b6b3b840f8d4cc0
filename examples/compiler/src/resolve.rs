//! Phase 3: name resolution. Binds every use of a variable name (and every
//! assignment target) to the [`VarId`] of its declaration, checks that
//! names are declared once per scope and before use, and finds the
//! *globals*: the top-level `var`s that some function uses.
//!
//! Scopes: a function's parameters, then one scope per block (`{ }`, the
//! branches of `if`, a loop body); a `for` loop's `init` has a scope of its
//! own around the loop. In a function, a name that no local scope declares
//! is looked up among all top-level `var`s (declared anywhere in the file,
//! as Dart's top-level variables); in the top-level code, a name is only
//! visible after its declaration. A top-level `var` that no function uses
//! stays a local of `main` (nothing else can see it), which keeps element
//! loops in the top-level code on locals.

use crate::ast::{Expr, ExprKind, Function, Pos, Program, Stmt, VarId};
use anyhow::{Result, bail};
use std::collections::{HashMap, HashSet};

/// Names the builtins take; no function may be declared with one.
pub const BUILTINS: &[&str] = &["print", "sum", "gc"];

/// What resolution found besides the bindings written into the tree.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Top-level `var`s that some function uses: they live in wasm globals.
    pub globals: HashSet<VarId>,
}

struct Resolver<'a> {
    scopes: Vec<Vec<(String, VarId)>>,
    /// Top-level declarations (visible in every function).
    top: &'a HashMap<String, VarId>,
    /// True while resolving a function body (where `top` is visible).
    in_function: bool,
    globals: HashSet<VarId>,
}

/// Resolves `program` in place.
pub fn resolve(program: &mut Program) -> Result<Resolved> {
    let mut names = HashSet::new();
    for f in &program.functions {
        if f.name == "main" {
            bail!("{}: `main` is the program's top-level code; name the function differently", f.pos);
        }
        if BUILTINS.contains(&f.name.as_str()) {
            bail!("{}: `{}` is a builtin and cannot be redeclared", f.pos, f.name);
        }
        if !names.insert(f.name.clone()) {
            bail!("{}: function `{}` is declared twice", f.pos, f.name);
        }
    }
    let mut top = HashMap::new();
    for s in &program.main {
        if let Stmt::Let { id, name, pos, .. } = s
            && top.insert(name.clone(), *id).is_some()
        {
            bail!("{pos}: `{name}` is already defined in this scope");
        }
    }
    let mut r = Resolver { scopes: vec![Vec::new()], top: &top, in_function: false, globals: HashSet::new() };
    for s in &mut program.main {
        r.stmt(s)?;
    }
    for f in &mut program.functions {
        r.function(f)?;
    }
    Ok(Resolved { globals: r.globals })
}

impl Resolver<'_> {
    fn function(&mut self, f: &mut Function) -> Result<()> {
        self.in_function = true;
        self.scopes = vec![Vec::new()];
        for p in &f.params {
            self.declare(&p.name, p.id, p.pos)?;
        }
        self.block(&mut f.body)
    }

    fn declare(&mut self, name: &str, id: VarId, pos: Pos) -> Result<()> {
        let scope = self.scopes.last_mut().expect("a scope");
        if scope.iter().any(|(n, _)| n == name) {
            bail!("{pos}: `{name}` is already defined in this scope");
        }
        scope.push((name.to_string(), id));
        Ok(())
    }

    fn lookup(&mut self, name: &str, pos: Pos) -> Result<VarId> {
        for s in self.scopes.iter().rev() {
            if let Some((_, id)) = s.iter().rev().find(|(n, _)| n == name) {
                return Ok(*id);
            }
        }
        if self.in_function
            && let Some(id) = self.top.get(name)
        {
            self.globals.insert(*id);
            return Ok(*id);
        }
        bail!("{pos}: `{name}` is not defined")
    }

    fn block(&mut self, stmts: &mut [Stmt]) -> Result<()> {
        self.scopes.push(Vec::new());
        for s in stmts {
            self.stmt(s)?;
        }
        self.scopes.pop();
        Ok(())
    }

    fn stmt(&mut self, s: &mut Stmt) -> Result<()> {
        match s {
            Stmt::Let { id, name, init, pos, .. } => {
                // The initialiser cannot see the variable it initialises.
                self.expr(init)?;
                self.declare(name, *id, *pos)
            }
            Stmt::Assign(name, id, e, pos) => {
                self.expr(e)?;
                *id = self.lookup(name, *pos)?;
                Ok(())
            }
            Stmt::SetIndex(a, b, c, _) => {
                self.expr(a)?;
                self.expr(b)?;
                self.expr(c)
            }
            Stmt::Expr(e) => self.expr(e),
            Stmt::For(init, cond, update, body, _) => {
                self.scopes.push(Vec::new());
                self.stmt(init)?;
                self.expr(cond)?;
                self.block(body)?;
                self.stmt(update)?;
                self.scopes.pop();
                Ok(())
            }
            Stmt::If(cond, then, els, _) => {
                self.expr(cond)?;
                self.block(then)?;
                self.block(els)
            }
            Stmt::Block(b) => self.block(b),
            Stmt::Return(value, pos) => {
                if !self.in_function {
                    bail!("{pos}: `return` outside a function");
                }
                value.as_mut().map_or(Ok(()), |e| self.expr(e))
            }
        }
    }

    fn expr(&mut self, e: &mut Expr) -> Result<()> {
        match &mut e.kind {
            ExprKind::Var(name, id) => {
                *id = self.lookup(name, e.pos)?;
                Ok(())
            }
            ExprKind::Int(_) | ExprKind::Double(_) | ExprKind::Bool(_) | ExprKind::Endian(_) => Ok(()),
            ExprKind::Neg(a) | ExprKind::Not(a) | ExprKind::New(_, a) | ExprKind::Getter(a, _) => self.expr(a),
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
                self.expr(a)?;
                self.expr(b)
            }
            ExprKind::SublistView(_, a, b, c) => {
                self.expr(a)?;
                self.expr(b)?;
                c.as_mut().map_or(Ok(()), |c| self.expr(c))
            }
            ExprKind::Method(a, _, args) => {
                self.expr(a)?;
                args.iter_mut().try_for_each(|a| self.expr(a))
            }
            ExprKind::ListLit(_, args) | ExprKind::Call(_, args) | ExprKind::LibCall(_, args) => {
                args.iter_mut().try_for_each(|a| self.expr(a))
            }
        }
    }
}
