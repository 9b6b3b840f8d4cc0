//! The syntax tree the parser builds, [`crate::resolve`] annotates with
//! variable identities, and the later phases walk.

/// A position in the source, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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

/// The identity of one variable: every `var` declaration and every
/// parameter gets its own, numbered in source order by the parser.
/// [`crate::resolve`] binds each use of a name to one of them.
pub type VarId = u32;

/// Placeholder in [`ExprKind::Var`] and [`Stmt::Assign`] until
/// [`crate::resolve`] has bound the name.
pub const UNRESOLVED: VarId = u32::MAX;

/// A type as written in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeExpr {
    /// `int`, `double`, `bool`, `void`, or a typed-data class name.
    Named(String, Pos),
    /// `List<T>`: a growable list of objects.
    List(Box<TypeExpr>, Pos),
}

impl TypeExpr {
    /// Where the type is written.
    pub fn pos(&self) -> Pos {
        match self {
            TypeExpr::Named(_, p) | TypeExpr::List(_, p) => *p,
        }
    }
}

/// A whole program: functions, and the top-level statements that make up
/// the exported `main` (top-level `var`s used by a function are globals).
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Function declarations, in source order.
    pub functions: Vec<Function>,
    /// Top-level statements, in source order.
    pub main: Vec<Stmt>,
}

/// A function declaration `[export] T name(T1 p1, ...) { ... }`.
#[derive(Clone, Debug)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Whether it is exported to the host (`export`).
    pub export: bool,
    /// Parameters, in order.
    pub params: Vec<Param>,
    /// Declared result type (`void` for none).
    pub ret: TypeExpr,
    /// The body.
    pub body: Vec<Stmt>,
    /// Where the declaration starts.
    pub pos: Pos,
}

/// One parameter.
#[derive(Clone, Debug)]
pub struct Param {
    /// Its identity.
    pub id: VarId,
    /// Its name.
    pub name: String,
    /// Its declared type.
    pub ty: TypeExpr,
    /// Where it is declared.
    pub pos: Pos,
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
    /// `true` / `false`
    Bool(bool),
    /// `x`, bound by [`crate::resolve`] to a variable.
    Var(String, VarId),
    /// `-e`
    Neg(Box<Expr>),
    /// `!e`
    Not(Box<Expr>),
    /// `a OP b`
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// `Uint8List(n)` and friends: a constructor of a typed-data class.
    New(String, Box<Expr>),
    /// `Uint8List.sublistView(data, start, end)`; `end` optional.
    SublistView(String, Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    /// `<T>[a, b]`: a new growable list of objects.
    ListLit(TypeExpr, Vec<Expr>),
    /// `list[i]`
    Index(Box<Expr>, Box<Expr>),
    /// `e.name` (a getter: `length`, `lengthInBytes`, ...).
    Getter(Box<Expr>, String),
    /// `e.name(args)` (ByteData accessors, `add`, `removeLast`, `clear`).
    Method(Box<Expr>, String, Vec<Expr>),
    /// `name(args)`: a user function or a builtin (`sum`, `print`, `gc`).
    Call(String, Vec<Expr>),
    /// `lib.name(list, args)`: a call into the external library.
    LibCall(String, Vec<Expr>),
    /// `Endian.big` / `Endian.little`.
    Endian(bool),
}

/// A statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `var x = e;` or `T x = e;`
    Let {
        /// The variable's identity.
        id: VarId,
        /// Its name.
        name: String,
        /// The declared type, if written.
        ty: Option<TypeExpr>,
        /// The initial value.
        init: Expr,
        /// Where the declaration starts.
        pos: Pos,
    },
    /// `x = e;` (compound forms are desugared); the target's identity.
    Assign(String, VarId, Expr, Pos),
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
    /// `return;` / `return e;` (functions only).
    Return(Option<Expr>, Pos),
}
