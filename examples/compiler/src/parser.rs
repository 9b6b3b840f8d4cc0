//! Phase 2: tokens to a syntax tree ([`crate::ast`]), by recursive descent
//! with one function per precedence level (Dart's operator precedence).

use crate::ast::{Expr, ExprKind, Pos, Stmt};
use crate::lexer::{Tok, Token};
use anyhow::{Result, bail};

/// The typed-data classes the language knows.
pub const CLASSES: &[&str] = &["Uint8List", "Int32List", "Float64List", "ByteData"];

struct Parser {
    toks: Vec<Token>,
    at: usize,
}

/// Parses a whole program: a list of statements.
pub fn parse(toks: Vec<Token>) -> Result<Vec<Stmt>> {
    let mut p = Parser { toks, at: 0 };
    let mut out = Vec::new();
    while p.peek() != &Tok::Eof {
        out.push(p.stmt()?);
    }
    Ok(out)
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
                let e = self.expr()?;
                self.expect(";")?;
                Ok(Stmt::Let(name, e, pos))
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
                    ExprKind::Var(name) => Stmt::Assign(name, value, pos),
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
            Tok::Ident(name) => ExprKind::Var(name),
            t => bail!("{pos}: expected an expression, found {}", describe(&t)),
        };
        Ok(Expr { kind, pos })
    }
}
