//! The syntax tree the parser builds and the code generator walks.

/// A position in the source, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub col: usize,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it starts.
    pub pos: Pos,
}

/// The forms of [`Expr`].
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `42`
    Int(i64),
    /// `1.5`
    Double(f64),
    /// `x`
    Var(String),
    /// `-e`
    Neg(Box<Expr>),
    /// `a OP b`
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// `Uint8List(n)` and friends: a constructor of a typed-data class.
    New(String, Box<Expr>),
    /// `Uint8List.sublistView(data, start, end)`; `end` optional.
    SublistView(String, Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    /// `list[i]`
    Index(Box<Expr>, Box<Expr>),
    /// `e.name` (a getter: `length`, `lengthInBytes`, ...).
    Getter(Box<Expr>, String),
    /// `e.name(args)` (ByteData accessors).
    Method(Box<Expr>, String, Vec<Expr>),
    /// `name(args)` (the builtins `sum` and `print`).
    Call(String, Vec<Expr>),
    /// `lib.name(list, args)`: a call into the external library.
    LibCall(String, Vec<Expr>),
    /// `Endian.big` / `Endian.little`.
    Endian(bool),
}

/// A statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `var x = e;`
    Let(String, Expr, Pos),
    /// `x = e;` (compound forms are desugared).
    Assign(String, Expr, Pos),
    /// `list[i] = e;`
    SetIndex(Expr, Expr, Expr, Pos),
    /// An expression evaluated for its effect (calls).
    Expr(Expr),
    /// `for (init; cond; update) { body }`
    For(Box<Stmt>, Expr, Box<Stmt>, Vec<Stmt>, Pos),
    /// `if (cond) { .. } else { .. }`
    If(Expr, Vec<Stmt>, Vec<Stmt>, Pos),
    /// `{ ... }`
    Block(Vec<Stmt>),
}
