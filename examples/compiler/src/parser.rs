//! Phase 2: tokens to a syntax tree ([`crate::ast`]), by recursive descent
//! with one function per precedence level (Dart's operator precedence).
//! Every declaration gets a fresh [`VarId`]; names are bound later
//! ([`crate::resolve`]).

use crate::ast::{Expr, ExprKind, Function, Param, Pos, Program, Stmt, TypeExpr, UNRESOLVED, VarId};
use crate::lexer::{Tok, Token};
use anyhow::{Result, bail};

/// The typed-data classes the language knows.
pub const CLASSES: &[&str] = &["Uint8List", "Int32List", "Float64List", "ByteData"];

/// Type names other than the typed-data classes and `List<T>`.
const SCALARS: &[&str] = &["int", "double", "bool", "void"];

struct Parser {
    toks: Vec<Token>,
    at: usize,
    next_var: VarId,
}

/// Parses a whole program: function declarations and top-level statements.
pub fn parse(toks: Vec<Token>) -> Result<Program> {
    let mut p = Parser { toks, at: 0, next_var: 0 };
    let mut out = Program::default();
    while p.peek() != &Tok::Eof {
        if let Some(f) = p.function()? {
            out.functions.push(f);
        } else {
            out.main.push(p.stmt()?);
        }
    }
    Ok(out)
}

/// Whether `n` can name a type: the scalars, or a capitalised name (the
/// code generator rejects the ones it does not know, with their position).
fn is_type_name(n: &str) -> bool {
    SCALARS.contains(&n) || n.starts_with(|c: char| c.is_ascii_uppercase())
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Int(v) => format!("`{v}`"),
        Tok::Double(v) => format!("`{v}`"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::Eof => "end of input".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }
    fn pos(&self) -> Pos {
        let t = &self.toks[self.at];
        Pos { line: t.line, col: t.col }
    }
    fn next(&mut self) -> Tok {
        let t = self.toks[self.at].tok.clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.next();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) -> Result<()> {
        if self.eat(p) { Ok(()) } else { bail!("{}: expected `{p}`, found {}", self.pos(), describe(self.peek())) }
    }
    fn ident(&mut self) -> Result<String> {
        let pos = self.pos();
        match self.next() {
            Tok::Ident(s) => Ok(s),
            t => bail!("{pos}: expected a name, found {}", describe(&t)),
        }
    }

    fn fresh_var(&mut self) -> VarId {
        self.next_var += 1;
        self.next_var - 1
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w == word)
    }

    /// Consumes one `>` closing a type argument; `>>` (as in
    /// `List<List<Uint8List>>`) is split and its second half left.
    fn close_angle(&mut self) -> Result<()> {
        if self.eat(">") {
            return Ok(());
        }
        if self.is(">>") {
            self.toks[self.at].tok = Tok::Punct(">");
            self.toks[self.at].col += 1;
            return Ok(());
        }
        bail!("{}: expected `>`, found {}", self.pos(), describe(self.peek()))
    }

    /// A type: `int`, `double`, `bool`, `void`, a typed-data class, or `List<T>`.
    fn type_expr(&mut self) -> Result<TypeExpr> {
        let pos = self.pos();
        match self.next() {
            Tok::Ident(n) if n == "List" => {
                self.expect("<")?;
                let elem = self.type_expr()?;
                self.close_angle()?;
                Ok(TypeExpr::List(Box::new(elem), pos))
            }
            Tok::Ident(n) if is_type_name(&n) => Ok(TypeExpr::Named(n, pos)),
            t => bail!("{pos}: expected a type, found {}", describe(&t)),
        }
    }

    /// The index just after a type starting at token `i`, if one does;
    /// consumes nothing.
    fn skip_type(&self, mut i: usize) -> Option<usize> {
        let mut depth = 0;
        loop {
            match &self.toks[i].tok {
                Tok::Ident(n) if n == "List" => {
                    if self.toks[i + 1].tok != Tok::Punct("<") {
                        return None;
                    }
                    depth += 1;
                    i += 2;
                }
                Tok::Ident(n) if is_type_name(n) => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
        while depth > 0 {
            match self.toks[i].tok {
                Tok::Punct(">") => depth -= 1,
                Tok::Punct(">>") if depth >= 2 => depth -= 2,
                _ => return None,
            }
            i += 1;
        }
        Some(i)
    }

    /// Whether the tokens from here read `TYPE NAME` followed by `next`
    /// (`(` for a function, `=` for a typed declaration). Consumes nothing.
    fn looks_like_typed(&self, next: &'static str) -> bool {
        self.skip_type(self.at).is_some_and(|i| {
            matches!(self.toks[i].tok, Tok::Ident(_))
                && matches!(self.toks.get(i + 1), Some(t) if t.tok == Tok::Punct(next))
        })
    }

    /// A function declaration, if one starts here.
    fn function(&mut self) -> Result<Option<Function>> {
        let pos = self.pos();
        let export = self.is_ident("export");
        if !export && !self.looks_like_typed("(") {
            return Ok(None);
        }
        if export {
            self.next();
        }
        let ret = self.type_expr()?;
        let name = self.ident()?;
        self.expect("(")?;
        let mut params = Vec::new();
        if !self.eat(")") {
            loop {
                let ppos = self.pos();
                let ty = self.type_expr()?;
                let pname = self.ident()?;
                params.push(Param { id: self.fresh_var(), name: pname, ty, pos: ppos });
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        let body = self.block()?;
        Ok(Some(Function { name, export, params, ret, body, pos }))
    }

    fn block(&mut self) -> Result<Vec<Stmt>> {
        self.expect("{")?;
        let mut out = Vec::new();
        while !self.is("}") {
            if self.peek() == &Tok::Eof {
                bail!("{}: missing `}}`", self.pos());
            }
            out.push(self.stmt()?);
        }
        self.next();
        Ok(out)
    }

    fn stmt(&mut self) -> Result<Stmt> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Ident(k) if k == "var" || k == "final" || k == "let" => {
                self.next();
                let name = self.ident()?;
                self.expect("=")?;
                let init = self.expr()?;
                self.expect(";")?;
                Ok(Stmt::Let { id: self.fresh_var(), name, ty: None, init, pos })
            }
            Tok::Ident(_) if self.looks_like_typed("=") => {
                let ty = self.type_expr()?;
                let name = self.ident()?;
                self.expect("=")?;
                let init = self.expr()?;
                self.expect(";")?;
                Ok(Stmt::Let { id: self.fresh_var(), name, ty: Some(ty), init, pos })
            }
            Tok::Ident(k) if k == "return" => {
                self.next();
                let value = if self.is(";") { None } else { Some(self.expr()?) };
                self.expect(";")?;
                Ok(Stmt::Return(value, pos))
            }
            Tok::Ident(k) if k == "for" => {
                self.next();
                self.expect("(")?;
                let init = self.stmt()?; // consumes its `;`
                let cond = self.expr()?;
                self.expect(";")?;
                let update = self.simple(false)?;
                self.expect(")")?;
                let body = self.block()?;
                Ok(Stmt::For(Box::new(init), cond, Box::new(update), body, pos))
            }
            Tok::Ident(k) if k == "if" => {
                self.next();
                self.expect("(")?;
                let cond = self.expr()?;
                self.expect(")")?;
                let then = self.block()?;
                let els = if matches!(self.peek(), Tok::Ident(e) if e == "else") {
                    self.next();
                    if matches!(self.peek(), Tok::Ident(i) if i == "if") { vec![self.stmt()?] } else { self.block()? }
                } else {
                    Vec::new()
                };
                Ok(Stmt::If(cond, then, els, pos))
            }
            Tok::Punct("{") => Ok(Stmt::Block(self.block()?)),
            _ => self.simple(true),
        }
    }

    /// An assignment or expression statement; `semi` says whether it ends
    /// with `;` (not in a `for` update clause).
    fn simple(&mut self, semi: bool) -> Result<Stmt> {
        let pos = self.pos();
        let target = self.expr()?;
        let op = match self.peek() {
            Tok::Punct(p @ ("=" | "+=" | "-=" | "*=" | "++" | "--")) => Some(*p),
            _ => None,
        };
        let stmt = match op {
            None => Stmt::Expr(target),
            Some(op) => {
                self.next();
                let value = match op {
                    "=" => self.expr()?,
                    "++" | "--" => {
                        let one = Expr { kind: ExprKind::Int(1), pos };
                        let bin = if op == "++" { "+" } else { "-" };
                        Expr { kind: ExprKind::Binary(bin, Box::new(target.clone()), Box::new(one)), pos }
                    }
                    _ => {
                        let rhs = self.expr()?;
                        let bin = &op[..1];
                        let bin: &'static str = match bin {
                            "+" => "+",
                            "-" => "-",
                            _ => "*",
                        };
                        Expr { kind: ExprKind::Binary(bin, Box::new(target.clone()), Box::new(rhs)), pos }
                    }
                };
                match target.kind {
                    ExprKind::Var(name, _) => Stmt::Assign(name, UNRESOLVED, value, pos),
                    ExprKind::Index(list, index) => Stmt::SetIndex(*list, *index, value, pos),
                    _ => bail!("{pos}: cannot assign to this expression"),
                }
            }
        };
        if semi {
            self.expect(";")?;
        }
        Ok(stmt)
    }

    fn expr(&mut self) -> Result<Expr> {
        self.binary(0)
    }

    fn binary(&mut self, level: usize) -> Result<Expr> {
        const LEVELS: &[&[&str]] = &[
            &["||"],
            &["&&"],
            &["|"],
            &["^"],
            &["&"],
            &["==", "!="],
            &["<", "<=", ">", ">="],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "~/", "%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        loop {
            let pos = self.pos();
            let op = match self.peek() {
                Tok::Punct(p) if LEVELS[level].contains(p) => *p,
                _ => break,
            };
            self.next();
            let rhs = self.binary(level + 1)?;
            lhs = Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), pos };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr> {
        let pos = self.pos();
        if self.eat("-") {
            let e = self.unary()?;
            return Ok(Expr { kind: ExprKind::Neg(Box::new(e)), pos });
        }
        if self.eat("!") {
            let e = self.unary()?;
            return Ok(Expr { kind: ExprKind::Not(Box::new(e)), pos });
        }
        self.postfix()
    }

    fn args(&mut self) -> Result<Vec<Expr>> {
        self.expect("(")?;
        let mut out = Vec::new();
        if !self.eat(")") {
            loop {
                out.push(self.expr()?);
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        Ok(out)
    }

    fn postfix(&mut self) -> Result<Expr> {
        let mut e = self.primary()?;
        loop {
            let pos = self.pos();
            if self.eat("[") {
                let i = self.expr()?;
                self.expect("]")?;
                e = Expr { kind: ExprKind::Index(Box::new(e), Box::new(i)), pos };
            } else if self.eat(".") {
                let name = self.ident()?;
                if self.is("(") {
                    let args = self.args()?;
                    e = Expr { kind: ExprKind::Method(Box::new(e), name, args), pos };
                } else {
                    e = Expr { kind: ExprKind::Getter(Box::new(e), name), pos };
                }
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        let pos = self.pos();
        let kind = match self.next() {
            Tok::Int(v) => ExprKind::Int(v),
            Tok::Double(v) => ExprKind::Double(v),
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                return Ok(e);
            }
            Tok::Punct("<") => {
                let elem = self.type_expr()?;
                self.close_angle()?;
                self.expect("[")?;
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        items.push(self.expr()?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                ExprKind::ListLit(elem, items)
            }
            Tok::Ident(b) if b == "true" || b == "false" => ExprKind::Bool(b == "true"),
            Tok::Ident(name) if CLASSES.contains(&name.as_str()) => {
                if self.eat(".") {
                    let ctor = self.ident()?;
                    if ctor != "sublistView" {
                        bail!("{pos}: `{name}.{ctor}` is not supported (only `{name}.sublistView`)");
                    }
                    let mut args = self.args()?;
                    if !(1..=3).contains(&args.len()) {
                        bail!("{pos}: `{name}.sublistView` takes (data, [start, [end]])");
                    }
                    let mut it = args.drain(..);
                    let data = it.next().unwrap();
                    let start = it.next().unwrap_or(Expr { kind: ExprKind::Int(0), pos });
                    let end = it.next().map(Box::new);
                    ExprKind::SublistView(name, Box::new(data), Box::new(start), end)
                } else {
                    let mut args = self.args()?;
                    if args.len() != 1 {
                        bail!("{pos}: `{name}(length)` takes one argument");
                    }
                    ExprKind::New(name, Box::new(args.remove(0)))
                }
            }
            Tok::Ident(name) if name == "Endian" && self.is(".") => {
                self.next();
                match self.ident()?.as_str() {
                    "big" => ExprKind::Endian(false),
                    "little" => ExprKind::Endian(true),
                    other => bail!("{pos}: `Endian.{other}` does not exist (big or little)"),
                }
            }
            Tok::Ident(name) if name == "lib" && self.is(".") => {
                self.next();
                let f = self.ident()?;
                ExprKind::LibCall(f, self.args()?)
            }
            Tok::Ident(name) if self.is("(") => ExprKind::Call(name, self.args()?),
            Tok::Ident(name) => ExprKind::Var(name, UNRESOLVED),
            t => bail!("{pos}: expected an expression, found {}", describe(&t)),
        };
        Ok(Expr { kind, pos })
    }
}
