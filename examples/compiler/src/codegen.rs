//! Phase 3: syntax tree to a WasmGC module, type checking as it goes.
//!
//! Object model (the `Multimem` backend):
//! - every typed-data object is a GC struct `$list = (struct i32 i32 i32)`
//!   holding the buffer address, `offsetInBytes` and `length` (elements; for
//!   ByteData, bytes). The kind is static, so it is not stored.
//! - element access is inlined against the runtime memory as
//!   `docs/ABI.md` ("What compilers may inline") says: check `i <u length`,
//!   then load/store at `buffer + offsetInBytes + i * elementSizeInBytes`.
//! - every variable of list type owns one reference. Copying a reference
//!   (binding a variable to another variable's list, or making a view)
//!   is the inline retain: `i32.load` at `buffer - 4`, `i32.add 1`,
//!   `i32.store`. Dropping one (end of scope, reassignment, temporaries)
//!   calls `multimem.buffer_release`.
//! - ByteData accessors call the runtime's `bytedata_*` exports (they are
//!   big-endian by default, like Dart); calls into the external library copy
//!   the list's bytes into the library's memory with `external_copy_out`,
//!   call, and copy them back with `external_copy_in`.
//!
//! The `GcArray` backend is the benchmark baseline: the same programs (only
//! constructors, `[]`, `[]=`, `.length`, `sum`) with lists as plain WasmGC
//! arrays, no runtime and no linear memory.

use crate::ast::{Expr, ExprKind, Pos, Stmt};
use anyhow::{Result, anyhow, bail};
use multimem_abi::{Kind, Number};
use std::collections::HashMap;
use wasm_encoder::{
    BlockType, CodeSection, EntityType, ExportKind, ExportSection, FieldType, Function, FunctionSection, HeapType,
    ImportSection, Instruction as I, MemArg, MemoryType, Module, RefType, StorageType, TypeSection, ValType,
};

/// Which object model the generated code uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// Lists in the multimem runtime's linear memory (the real backend).
    #[default]
    Multimem,
    /// Lists as plain WasmGC arrays (benchmark baseline; subset of the language).
    GcArray,
}

/// Code generation switches.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The object model; default [`Backend::Multimem`].
    pub backend: Backend,
    /// Debug switch: omit the releases at the end of scopes, so the program
    /// leaks its variables' buffers (used to prove the leak check works).
    pub leak: bool,
}

/// Memory index of the runtime memory (`multimem.memory`) in the app
/// module. It is memory 0 so that the app linked *alone* with
/// `--single-memory` keeps it native (the linker's default is memory 0
/// when no runtime is in the link): the unlinked single-memory build.
pub const OWN_MEMORY: u32 = 0;
/// Memory index of the external memory (`env.memory`) in the app module.
pub const EXTERNAL_MEMORY: u32 = 1;
/// Module name of the runtime imports (the linker input name of runtime.wasm).
pub const RUNTIME_MODULE: &str = "multimem";
/// Module name of the external library imports.
pub const LIB_MODULE: &str = "lib";
/// Module name of the host's print functions.
pub const HOST_MODULE: &str = "host";

const T_LIST: u32 = 0;
const T_ARR_U8: u32 = 1;
const T_ARR_I32: u32 = 2;
const T_ARR_F64: u32 = 3;
const FIRST_FUNC_TYPE: u32 = 4;

// struct field indices of $list
const F_BUF: u32 = 0;
const F_OFF: u32 = 1;
const F_LEN: u32 = 2;

/// The static type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Int,
    Double,
    Bool,
    List(Kind),
    Endian,
    Void,
}

fn ty_name(t: Ty) -> String {
    match t {
        Ty::Int => "int".into(),
        Ty::Double => "double".into(),
        Ty::Bool => "bool".into(),
        Ty::List(k) => k.name().into(),
        Ty::Endian => "Endian".into(),
        Ty::Void => "void".into(),
    }
}

fn class_kind(name: &str) -> Option<Kind> {
    match name {
        "Uint8List" => Some(Kind::Uint8List),
        "Int32List" => Some(Kind::Int32List),
        "Float64List" => Some(Kind::Float64List),
        "ByteData" => Some(Kind::ByteData),
        _ => None,
    }
}

fn abi_val(t: multimem_abi::ValType) -> ValType {
    match t {
        multimem_abi::ValType::I32 => ValType::I32,
        multimem_abi::ValType::I64 => ValType::I64,
        multimem_abi::ValType::F32 => ValType::F32,
        multimem_abi::ValType::F64 => ValType::F64,
    }
}

fn log2(n: u32) -> i32 {
    n.trailing_zeros() as i32
}

/// The runtime exports the generated code may import, in import order.
const RUNTIME_IMPORTS: &[&str] = &[
    "buffer_new",
    "buffer_release",
    "bytedata_get_i64",
    "bytedata_set_i64",
    "bytedata_get_f64",
    "bytedata_set_f64",
    "external_copy_out",
    "external_copy_in",
];

struct Scope {
    vars: Vec<(String, u32, Ty)>,
}

struct Gen {
    opts: Options,
    locals: Vec<ValType>,
    code: Vec<I<'static>>,
    scopes: Vec<Scope>,
    funcs: HashMap<String, u32>,
    lib_arity: HashMap<String, usize>,
}

/// Compiles a parsed program to a validated module exporting `main: [] -> []`.
pub fn generate(program: &[Stmt], opts: &Options) -> Result<Vec<u8>> {
    // Pre-scan: the external library functions called, with their arity,
    // so import indices are fixed before code is generated.
    let mut lib_arity = HashMap::new();
    for s in program {
        scan_stmt(s, &mut lib_arity)?;
    }
    let multimem = opts.backend == Backend::Multimem;
    if !multimem && !lib_arity.is_empty() {
        bail!("the gc-array baseline backend cannot call the external library");
    }

    let mut types = TypeSection::new();
    let list_fields =
        [F_BUF, F_OFF, F_LEN].map(|_| FieldType { element_type: StorageType::Val(ValType::I32), mutable: false });
    types.ty().struct_(list_fields);
    types.ty().array(&StorageType::I8, true);
    types.ty().array(&StorageType::Val(ValType::I32), true);
    types.ty().array(&StorageType::Val(ValType::F64), true);
    let mut func_types: Vec<(Vec<ValType>, Vec<ValType>)> = Vec::new();
    let mut type_of = |p: Vec<ValType>, r: Vec<ValType>| -> u32 {
        let i = func_types.iter().position(|t| t.0 == p && t.1 == r).unwrap_or_else(|| {
            func_types.push((p, r));
            func_types.len() - 1
        });
        FIRST_FUNC_TYPE + i as u32
    };

    let mut imports = ImportSection::new();
    let mut funcs = HashMap::new();
    let mut n_imports = 0u32;
    let mut import_func = |imports: &mut ImportSection, module: &str, name: &str, ty: u32, key: String| {
        imports.import(module, name, EntityType::Function(ty));
        funcs.insert(key, n_imports);
        n_imports += 1;
    };
    if multimem {
        let mem = MemoryType { minimum: 0, maximum: None, memory64: false, shared: false, page_size_log2: None };
        // In index order: OWN_MEMORY, then EXTERNAL_MEMORY.
        imports.import(RUNTIME_MODULE, multimem_abi::MEMORY_EXPORT, EntityType::Memory(mem));
        imports.import("env", "memory", EntityType::Memory(mem));
        for name in RUNTIME_IMPORTS {
            let e = multimem_abi::export(name).ok_or_else(|| anyhow!("ABI has no export `{name}`"))?;
            let ty = type_of(
                e.params.iter().copied().map(abi_val).collect(),
                e.results.iter().copied().map(abi_val).collect(),
            );
            import_func(&mut imports, RUNTIME_MODULE, name, ty, format!("multimem.{name}"));
        }
    }
    let t = type_of(vec![ValType::I64], vec![]);
    import_func(&mut imports, HOST_MODULE, "print_i64", t, "host.print_i64".into());
    let t = type_of(vec![ValType::F64], vec![]);
    import_func(&mut imports, HOST_MODULE, "print_f64", t, "host.print_f64".into());
    if !lib_arity.is_empty() {
        let t = type_of(vec![ValType::I32], vec![ValType::I32]);
        import_func(&mut imports, LIB_MODULE, "alloc", t, "lib.alloc".into());
        let t = type_of(vec![ValType::I32, ValType::I32], vec![]);
        import_func(&mut imports, LIB_MODULE, "dealloc", t, "lib.dealloc".into());
        let mut names: Vec<_> = lib_arity.iter().collect();
        names.sort();
        for (name, extra) in names {
            let t = type_of(vec![ValType::I32; 2 + extra], vec![ValType::I32]);
            import_func(&mut imports, LIB_MODULE, name, t, format!("lib.{name}"));
        }
    }
    let main_ty = type_of(vec![], vec![]);

    let mut g = Gen { opts: opts.clone(), locals: Vec::new(), code: Vec::new(), scopes: Vec::new(), funcs, lib_arity };
    g.scopes.push(Scope { vars: Vec::new() });
    for s in program {
        g.stmt(s)?;
    }
    g.pop_scope()?;
    g.code.push(I::End);

    for (p, r) in &func_types {
        types.ty().function(p.iter().copied(), r.iter().copied());
    }
    let mut functions = FunctionSection::new();
    functions.function(main_ty);
    let mut exports = ExportSection::new();
    exports.export("main", ExportKind::Func, n_imports);
    let mut body = Function::new_with_locals_types(g.locals.iter().copied());
    for ins in &g.code {
        body.instruction(ins);
    }
    let mut code = CodeSection::new();
    code.function(&body);

    let mut module = Module::new();
    module.section(&types).section(&imports).section(&functions).section(&exports).section(&code);
    let bytes = module.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(|e| anyhow!("internal error: the generated module is invalid: {e}"))?;
    Ok(bytes)
}

fn scan_expr(e: &Expr, lib: &mut HashMap<String, usize>) -> Result<()> {
    match &e.kind {
        ExprKind::LibCall(name, args) => {
            if args.is_empty() {
                bail!("{}: `lib.{name}` needs a list as its first argument", e.pos);
            }
            if name == "alloc" || name == "dealloc" || name == "memory" {
                bail!("{}: `lib.{name}` is the library's own plumbing, not callable", e.pos);
            }
            let extra = args.len() - 1;
            if let Some(prev) = lib.insert(name.clone(), extra)
                && prev != extra
            {
                bail!("{}: `lib.{name}` called with {} arguments here and {} elsewhere", e.pos, extra + 1, prev + 1);
            }
            args.iter().try_for_each(|a| scan_expr(a, lib))
        }
        ExprKind::Neg(a) | ExprKind::New(_, a) | ExprKind::Getter(a, _) => scan_expr(a, lib),
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
            scan_expr(a, lib)?;
            scan_expr(b, lib)
        }
        ExprKind::SublistView(_, a, b, c) => {
            scan_expr(a, lib)?;
            scan_expr(b, lib)?;
            c.iter().try_for_each(|c| scan_expr(c, lib))
        }
        ExprKind::Method(a, _, args) => {
            scan_expr(a, lib)?;
            args.iter().try_for_each(|a| scan_expr(a, lib))
        }
        ExprKind::Call(_, args) => args.iter().try_for_each(|a| scan_expr(a, lib)),
        _ => Ok(()),
    }
}

fn scan_stmt(s: &Stmt, lib: &mut HashMap<String, usize>) -> Result<()> {
    match s {
        Stmt::Let(_, e, _) | Stmt::Assign(_, e, _) | Stmt::Expr(e) => scan_expr(e, lib),
        Stmt::SetIndex(a, b, c, _) => {
            scan_expr(a, lib)?;
            scan_expr(b, lib)?;
            scan_expr(c, lib)
        }
        Stmt::For(i, c, u, body, _) => {
            scan_stmt(i, lib)?;
            scan_expr(c, lib)?;
            scan_stmt(u, lib)?;
            body.iter().try_for_each(|s| scan_stmt(s, lib))
        }
        Stmt::If(c, a, b, _) => {
            scan_expr(c, lib)?;
            a.iter().chain(b).try_for_each(|s| scan_stmt(s, lib))
        }
        Stmt::Block(b) => b.iter().try_for_each(|s| scan_stmt(s, lib)),
    }
}

fn own_arg(align: u32) -> MemArg {
    MemArg { offset: 0, align, memory_index: OWN_MEMORY }
}

impl Gen {
    fn multimem(&self) -> bool {
        self.opts.backend == Backend::Multimem
    }

    fn e(&mut self, i: I<'static>) {
        self.code.push(i);
    }

    fn local(&mut self, t: ValType) -> u32 {
        self.locals.push(t);
        self.locals.len() as u32 - 1
    }

    fn list_type_index(&self, k: Kind) -> u32 {
        if self.multimem() {
            T_LIST
        } else {
            match k {
                Kind::Uint8List => T_ARR_U8,
                Kind::Int32List => T_ARR_I32,
                _ => T_ARR_F64,
            }
        }
    }

    fn val_type(&self, t: Ty) -> Result<ValType> {
        Ok(match t {
            Ty::Int => ValType::I64,
            Ty::Double => ValType::F64,
            Ty::Bool => ValType::I32,
            Ty::List(k) => {
                ValType::Ref(RefType { nullable: true, heap_type: HeapType::Concrete(self.list_type_index(k)) })
            }
            Ty::Endian | Ty::Void => bail!("a value of type {} cannot be stored", ty_name(t)),
        })
    }

    fn call(&mut self, name: &str) {
        let f = self.funcs[name];
        self.e(I::Call(f));
    }

    fn lookup(&self, name: &str, pos: Pos) -> Result<(u32, Ty)> {
        for s in self.scopes.iter().rev() {
            if let Some((_, l, t)) = s.vars.iter().rev().find(|v| v.0 == name) {
                return Ok((*l, *t));
            }
        }
        bail!("{pos}: `{name}` is not defined")
    }

    fn pop_scope(&mut self) -> Result<()> {
        let scope = self.scopes.pop().expect("scope stack underflow");
        for (_, local, ty) in scope.vars.iter().rev() {
            if let Ty::List(_) = ty
                && self.multimem()
                && !self.opts.leak
            {
                self.release_local(*local);
            }
        }
        Ok(())
    }

    /// `buffer_release(list.buffer)` for the list in `local`.
    fn release_local(&mut self, local: u32) {
        self.e(I::LocalGet(local));
        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_BUF });
        self.call("multimem.buffer_release");
        self.e(I::Drop);
    }

    /// The inline retain of `docs/ABI.md`: one load, one add, one store at
    /// `buffer - 4`, for the list in `local`.
    fn retain_local(&mut self, local: u32) {
        let addr = self.local(ValType::I32);
        self.e(I::LocalGet(local));
        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_BUF });
        self.e(I::I32Const(-multimem_abi::header::REFCOUNT));
        self.e(I::I32Sub);
        self.e(I::LocalTee(addr));
        self.e(I::LocalGet(addr));
        self.e(I::I32Load(own_arg(2)));
        self.e(I::I32Const(1));
        self.e(I::I32Add);
        self.e(I::I32Store(own_arg(2)));
    }

    /// Evaluates a list-typed expression into a local: a variable's own
    /// local when it is one (borrowed), else a fresh temporary (owned).
    fn list_operand(&mut self, e: &Expr, what: &str) -> Result<(u32, Kind, bool)> {
        if let ExprKind::Var(name) = &e.kind {
            let (l, t) = self.lookup(name, e.pos)?;
            let Ty::List(k) = t else {
                bail!("{}: {what} needs a typed-data object, `{name}` is {}", e.pos, ty_name(t))
            };
            return Ok((l, k, false));
        }
        let (t, owned) = self.expr(e)?;
        let Ty::List(k) = t else { bail!("{}: {what} needs a typed-data object, found {}", e.pos, ty_name(t)) };
        let l = self.local(self.val_type(t)?);
        self.e(I::LocalSet(l));
        Ok((l, k, owned))
    }

    /// Releases a temporary made by [`Gen::list_operand`] if it owned its reference.
    fn done_with(&mut self, local: u32, owned: bool) {
        if owned && self.multimem() {
            self.release_local(local);
        }
    }

    fn int_operand(&mut self, e: &Expr, what: &str) -> Result<u32> {
        if let ExprKind::Var(name) = &e.kind {
            let (l, t) = self.lookup(name, e.pos)?;
            if t == Ty::Int {
                return Ok(l);
            }
        }
        let (t, _) = self.expr(e)?;
        if t != Ty::Int {
            bail!("{}: {what} must be an int, found {}", e.pos, ty_name(t));
        }
        let l = self.local(ValType::I64);
        self.e(I::LocalSet(l));
        Ok(l)
    }

    /// Pushes the i64 in `local` as an i32 for the runtime: values outside
    /// `0..=i32::MAX` become -1, which every export rejects (BAD_LENGTH or
    /// RANGE) instead of silently wrapping to a small number.
    fn i32_for_runtime(&mut self, local: u32) {
        self.e(I::LocalGet(local));
        self.e(I::I32WrapI64);
        self.e(I::I32Const(-1));
        self.e(I::LocalGet(local));
        self.e(I::I64Const(i32::MAX as i64));
        self.e(I::I64LeU);
        self.e(I::Select);
    }

    /// Traps unless `index <u list.length` (Dart's RangeError).
    fn bounds_check(&mut self, list: u32, k: Kind, index: u32) {
        self.e(I::LocalGet(index));
        self.e(I::LocalGet(list));
        self.length_i32(k);
        self.e(I::I64ExtendI32U);
        self.e(I::I64GeU);
        self.e(I::If(BlockType::Empty));
        self.e(I::Unreachable);
        self.e(I::End);
    }

    /// Pushes the list's length (elements) as i32.
    fn length_i32(&mut self, k: Kind) {
        if self.multimem() {
            self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_LEN });
        } else {
            let _ = k;
            self.e(I::ArrayLen);
        }
    }

    /// Pushes `buffer + offsetInBytes` of the list in `local`.
    fn base(&mut self, local: u32) {
        self.e(I::LocalGet(local));
        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_BUF });
        self.e(I::LocalGet(local));
        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_OFF });
        self.e(I::I32Add);
    }

    /// Pushes the address of element `index` (an i32 on the stack is
    /// expected *after* the base); consumes base and index.
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

    /// Converts the value on the stack of type `have` to the element type of `k`
    /// (as it is stored).
    fn coerce_element(&mut self, k: Kind, have: Ty, pos: Pos) -> Result<()> {
        match (k.number(), have) {
            (Number::Int, Ty::Int) => {
                if self.multimem() || k != Kind::Float64List {
                    self.e(I::I32WrapI64);
                }
            }
            (Number::Float, Ty::Int) => self.e(I::F64ConvertI64S),
            (Number::Float, Ty::Double) => {}
            _ => bail!("{pos}: cannot store a {} into a {}", ty_name(have), k.name()),
        }
        Ok(())
    }

    fn store(&mut self, k: Kind) {
        match k {
            Kind::Uint8List => self.e(I::I32Store8(own_arg(0))),
            Kind::Int32List => self.e(I::I32Store(own_arg(2))),
            _ => self.e(I::F64Store(own_arg(3))),
        }
    }

    fn stmt(&mut self, s: &Stmt) -> Result<()> {
        match s {
            Stmt::Let(name, e, pos) => {
                if self.scopes.last().unwrap().vars.iter().any(|v| &v.0 == name) {
                    bail!("{pos}: `{name}` is already defined in this scope");
                }
                let (t, owned) = self.expr(e)?;
                let l = self.local(self.val_type(t).map_err(|err| anyhow!("{pos}: {err}"))?);
                self.e(I::LocalSet(l));
                if let Ty::List(_) = t
                    && !owned
                    && self.multimem()
                {
                    self.retain_local(l);
                }
                self.scopes.last_mut().unwrap().vars.push((name.clone(), l, t));
            }
            Stmt::Assign(name, e, pos) => {
                let (l, vt) = self.lookup(name, *pos)?;
                let (t, owned) = self.expr(e)?;
                match (vt, t) {
                    (a, b) if a == b => {}
                    (Ty::Double, Ty::Int) => self.e(I::F64ConvertI64S),
                    _ => bail!("{pos}: cannot assign a {} to `{name}` of type {}", ty_name(t), ty_name(vt)),
                }
                if let Ty::List(_) = t
                    && self.multimem()
                {
                    let tmp = self.local(self.val_type(t)?);
                    self.e(I::LocalSet(tmp));
                    if !owned {
                        self.retain_local(tmp);
                    }
                    self.release_local(l);
                    self.e(I::LocalGet(tmp));
                }
                self.e(I::LocalSet(l));
            }
            Stmt::SetIndex(list, index, value, pos) => {
                let (tl, k, owned) = self.list_operand(list, "`[]=`")?;
                if k == Kind::ByteData {
                    bail!("{pos}: ByteData has no `[]=`; use setUint8 and friends");
                }
                let ti = self.int_operand(index, "an index")?;
                let (vt, _) = self.expr(value)?;
                self.coerce_element(k, vt, value.pos)?;
                let tv = self.local(if k.number() == Number::Float { ValType::F64 } else { ValType::I32 });
                self.e(I::LocalSet(tv));
                self.bounds_check(tl, k, ti);
                if self.multimem() {
                    self.base(tl);
                    self.e(I::LocalGet(ti));
                    self.e(I::I32WrapI64);
                    self.scale_add(k);
                    self.e(I::LocalGet(tv));
                    self.store(k);
                } else {
                    self.e(I::LocalGet(tl));
                    self.e(I::LocalGet(ti));
                    self.e(I::I32WrapI64);
                    self.e(I::LocalGet(tv));
                    self.e(I::ArraySet(self.list_type_index(k)));
                }
                self.done_with(tl, owned);
            }
            Stmt::Expr(e) => {
                let (t, owned) = self.expr(e)?;
                match t {
                    Ty::Void => {}
                    Ty::List(_) if owned && self.multimem() => {
                        let l = self.local(self.val_type(t)?);
                        self.e(I::LocalSet(l));
                        self.release_local(l);
                    }
                    _ => self.e(I::Drop),
                }
            }
            Stmt::For(init, cond, update, body, pos) => {
                self.scopes.push(Scope { vars: Vec::new() });
                self.stmt(init)?;
                self.e(I::Block(BlockType::Empty));
                self.e(I::Loop(BlockType::Empty));
                let (t, _) = self.expr(cond)?;
                if t != Ty::Bool {
                    bail!("{pos}: a `for` condition must be a bool, found {}", ty_name(t));
                }
                self.e(I::I32Eqz);
                self.e(I::BrIf(1));
                self.scopes.push(Scope { vars: Vec::new() });
                for s in body {
                    self.stmt(s)?;
                }
                self.pop_scope()?;
                self.stmt(update)?;
                self.e(I::Br(0));
                self.e(I::End);
                self.e(I::End);
                self.pop_scope()?;
            }
            Stmt::If(cond, then, els, pos) => {
                let (t, _) = self.expr(cond)?;
                if t != Ty::Bool {
                    bail!("{pos}: an `if` condition must be a bool, found {}", ty_name(t));
                }
                self.e(I::If(BlockType::Empty));
                self.scopes.push(Scope { vars: Vec::new() });
                for s in then {
                    self.stmt(s)?;
                }
                self.pop_scope()?;
                if !els.is_empty() {
                    self.e(I::Else);
                    self.scopes.push(Scope { vars: Vec::new() });
                    for s in els {
                        self.stmt(s)?;
                    }
                    self.pop_scope()?;
                }
                self.e(I::End);
            }
            Stmt::Block(b) => {
                self.scopes.push(Scope { vars: Vec::new() });
                for s in b {
                    self.stmt(s)?;
                }
                self.pop_scope()?;
            }
        }
        Ok(())
    }

    fn need_multimem(&self, pos: Pos, what: &str) -> Result<()> {
        if !self.multimem() {
            bail!("{pos}: {what} is not supported by the gc-array baseline backend");
        }
        Ok(())
    }

    /// Generates `e`; returns its type and, for lists, whether the value
    /// owns a reference (true) or borrows a variable's (false).
    fn expr(&mut self, e: &Expr) -> Result<(Ty, bool)> {
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
            ExprKind::Endian(little) => {
                self.e(I::I32Const(*little as i32));
                Ty::Endian
            }
            ExprKind::Var(name) => {
                let (l, t) = self.lookup(name, pos)?;
                self.e(I::LocalGet(l));
                return Ok((t, false));
            }
            ExprKind::Neg(a) => match self.expr(a)?.0 {
                Ty::Int => {
                    self.e(I::I64Const(-1));
                    self.e(I::I64Mul);
                    Ty::Int
                }
                Ty::Double => {
                    self.e(I::F64Neg);
                    Ty::Double
                }
                t => bail!("{pos}: cannot negate a {}", ty_name(t)),
            },
            ExprKind::Binary(op, a, b) => self.binary(op, a, b, pos)?,
            ExprKind::New(class, n) => {
                let k = class_kind(class).ok_or_else(|| anyhow!("{pos}: unknown class `{class}`"))?;
                let tn = self.int_operand(n, "a length")?;
                if self.multimem() {
                    // lengthInBytes, or -1 (BAD_LENGTH from the runtime) when
                    // the element count is negative or too large.
                    let max = (multimem_abi::MAX_LENGTH / k.element_size()) as i64;
                    self.e(I::LocalGet(tn));
                    self.e(I::I32WrapI64);
                    self.e(I::I32Const(log2(k.element_size())));
                    self.e(I::I32Shl);
                    self.e(I::I32Const(-1));
                    self.e(I::LocalGet(tn));
                    self.e(I::I64Const(max));
                    self.e(I::I64LeU);
                    self.e(I::Select);
                    self.call("multimem.buffer_new");
                    self.e(I::I32Const(0));
                    self.e(I::LocalGet(tn));
                    self.e(I::I32WrapI64);
                    self.e(I::StructNew(T_LIST));
                } else {
                    if k == Kind::ByteData {
                        bail!("{pos}: ByteData is not supported by the gc-array baseline backend");
                    }
                    self.i32_for_runtime(tn);
                    self.e(I::ArrayNewDefault(self.list_type_index(k)));
                }
                return Ok((Ty::List(k), true));
            }
            ExprKind::SublistView(class, data, start, end) => {
                self.need_multimem(pos, "sublistView")?;
                let k = class_kind(class).ok_or_else(|| anyhow!("{pos}: unknown class `{class}`"))?;
                let (tl, sk, owned) = self.list_operand(data, "sublistView")?;
                let ts = self.int_operand(start, "a start index")?;
                let te = match end {
                    Some(end) => self.int_operand(end, "an end index")?,
                    None => {
                        let te = self.local(ValType::I64);
                        self.e(I::LocalGet(tl));
                        self.length_i32(sk);
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
                self.e(I::LocalGet(tl));
                self.length_i32(sk);
                self.e(I::I64ExtendI32U);
                self.e(I::I64GtU);
                self.e(I::I32Or);
                self.e(I::If(BlockType::Empty));
                self.e(I::Unreachable);
                self.e(I::End);
                let es = log2(sk.element_size());
                let (off, len) = (self.local(ValType::I32), self.local(ValType::I32));
                self.e(I::LocalGet(tl));
                self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_OFF });
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
                    // Dart: offsetInBytes and lengthInBytes must be multiples
                    // of the new elementSizeInBytes.
                    self.e(I::LocalGet(off));
                    self.e(I::LocalGet(len));
                    self.e(I::I32Or);
                    self.e(I::I32Const(k.element_size() as i32 - 1));
                    self.e(I::I32And);
                    self.e(I::If(BlockType::Empty));
                    self.e(I::Unreachable);
                    self.e(I::End);
                }
                if !owned {
                    // The view is a new reference to the same buffer.
                    self.retain_local(tl);
                }
                self.e(I::LocalGet(tl));
                self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_BUF });
                self.e(I::LocalGet(off));
                self.e(I::LocalGet(len));
                self.e(I::I32Const(log2(k.element_size())));
                self.e(I::I32ShrU);
                self.e(I::StructNew(T_LIST));
                return Ok((Ty::List(k), true));
            }
            ExprKind::Index(list, index) => {
                let (tl, k, owned) = self.list_operand(list, "`[]`")?;
                if k == Kind::ByteData {
                    bail!("{pos}: ByteData has no `[]`; use getUint8 and friends");
                }
                let ti = self.int_operand(index, "an index")?;
                self.bounds_check(tl, k, ti);
                let t = if self.multimem() {
                    self.base(tl);
                    self.e(I::LocalGet(ti));
                    self.e(I::I32WrapI64);
                    self.scale_add(k);
                    self.load(k)
                } else {
                    self.e(I::LocalGet(tl));
                    self.e(I::LocalGet(ti));
                    self.e(I::I32WrapI64);
                    match k {
                        Kind::Uint8List => {
                            self.e(I::ArrayGetU(T_ARR_U8));
                            self.e(I::I64ExtendI32U);
                            Ty::Int
                        }
                        Kind::Int32List => {
                            self.e(I::ArrayGet(T_ARR_I32));
                            self.e(I::I64ExtendI32S);
                            Ty::Int
                        }
                        _ => {
                            self.e(I::ArrayGet(T_ARR_F64));
                            Ty::Double
                        }
                    }
                };
                self.done_with(tl, owned);
                t
            }
            ExprKind::Getter(obj, name) => {
                // `x.buffer.lengthInBytes`: the inline header load of docs/ABI.md.
                if name == "lengthInBytes"
                    && let ExprKind::Getter(inner, b) = &obj.kind
                    && b == "buffer"
                {
                    self.need_multimem(pos, "`.buffer`")?;
                    let (tl, _, owned) = self.list_operand(inner, "`.buffer`")?;
                    self.e(I::LocalGet(tl));
                    self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_BUF });
                    self.e(I::I32Const(-multimem_abi::header::LENGTH));
                    self.e(I::I32Sub);
                    self.e(I::I32Load(own_arg(2)));
                    self.e(I::I64ExtendI32U);
                    self.done_with(tl, owned);
                    return Ok((Ty::Int, false));
                }
                let (tl, k, owned) = self.list_operand(obj, &format!("`.{name}`"))?;
                match name.as_str() {
                    "length" => {
                        self.e(I::LocalGet(tl));
                        self.length_i32(k);
                        self.e(I::I64ExtendI32U);
                    }
                    "lengthInBytes" => {
                        self.e(I::LocalGet(tl));
                        self.length_i32(k);
                        self.e(I::I64ExtendI32U);
                        self.e(I::I64Const(k.element_size() as i64));
                        self.e(I::I64Mul);
                    }
                    "offsetInBytes" => {
                        self.need_multimem(pos, "`.offsetInBytes`")?;
                        self.e(I::LocalGet(tl));
                        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_OFF });
                        self.e(I::I64ExtendI32U);
                    }
                    "elementSizeInBytes" => self.e(I::I64Const(k.element_size() as i64)),
                    _ => bail!("{pos}: {} has no getter `{name}`", k.name()),
                }
                self.done_with(tl, owned);
                Ty::Int
            }
            ExprKind::Method(obj, name, args) => return self.method(obj, name, args, pos),
            ExprKind::Call(name, args) => match name.as_str() {
                "print" => {
                    let [a] = &args[..] else { bail!("{pos}: print takes one argument") };
                    match self.expr(a)?.0 {
                        Ty::Int => self.call("host.print_i64"),
                        Ty::Bool => {
                            self.e(I::I64ExtendI32U);
                            self.call("host.print_i64");
                        }
                        Ty::Double => self.call("host.print_f64"),
                        t => bail!("{pos}: print takes an int, double or bool, found {}", ty_name(t)),
                    }
                    Ty::Void
                }
                "sum" => {
                    let [a] = &args[..] else { bail!("{pos}: sum takes one list") };
                    self.sum(a, pos)?
                }
                _ => bail!("{pos}: unknown function `{name}` (builtins: print, sum; library calls: lib.NAME)"),
            },
            ExprKind::LibCall(name, args) => {
                self.need_multimem(pos, "a library call")?;
                let (tl, k, owned) = self.list_operand(&args[0], &format!("`lib.{name}`"))?;
                let (p, n) = (self.local(ValType::I32), self.local(ValType::I32));
                self.e(I::LocalGet(tl));
                self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_LEN });
                self.e(I::I32Const(log2(k.element_size())));
                self.e(I::I32Shl);
                self.e(I::LocalSet(n));
                self.e(I::LocalGet(n));
                self.call("lib.alloc");
                self.e(I::LocalTee(p));
                self.e(I::I32Eqz);
                self.e(I::If(BlockType::Empty));
                self.e(I::Unreachable); // the library is out of memory
                self.e(I::End);
                let buf_off = |g: &mut Gen| {
                    g.e(I::LocalGet(tl));
                    g.e(I::StructGet { struct_type_index: T_LIST, field_index: F_BUF });
                    g.e(I::LocalGet(tl));
                    g.e(I::StructGet { struct_type_index: T_LIST, field_index: F_OFF });
                };
                self.e(I::LocalGet(p));
                buf_off(self);
                self.e(I::LocalGet(n));
                self.call("multimem.external_copy_out");
                let mut extra = Vec::new();
                for a in &args[1..] {
                    extra.push(self.int_operand(a, "a library argument")?);
                }
                self.e(I::LocalGet(p));
                self.e(I::LocalGet(n));
                for l in extra {
                    self.i32_for_runtime(l);
                }
                debug_assert_eq!(self.lib_arity[name], args.len() - 1);
                self.call(&format!("lib.{name}"));
                let r = self.local(ValType::I32);
                self.e(I::LocalSet(r));
                // Copy back: library functions may work in place.
                buf_off(self);
                self.e(I::LocalGet(p));
                self.e(I::LocalGet(n));
                self.call("multimem.external_copy_in");
                self.e(I::LocalGet(p));
                self.e(I::LocalGet(n));
                self.call("lib.dealloc");
                self.e(I::LocalGet(r));
                self.e(I::I64ExtendI32U);
                self.done_with(tl, owned);
                Ty::Int
            }
        };
        Ok((t, false))
    }

    /// `sum(list)`: an inline loop over the elements.
    fn sum(&mut self, list: &Expr, pos: Pos) -> Result<Ty> {
        let (tl, k, owned) = self.list_operand(list, "sum")?;
        if k == Kind::ByteData {
            bail!("{pos}: sum needs a list, not ByteData");
        }
        let float = k.number() == Number::Float;
        let acc = self.local(if float { ValType::F64 } else { ValType::I64 });
        let (i, n) = (self.local(ValType::I32), self.local(ValType::I32));
        // Locals are only zeroed on function entry; this code may run in a loop.
        self.e(if float { I::F64Const(0.0.into()) } else { I::I64Const(0) });
        self.e(I::LocalSet(acc));
        self.e(I::I32Const(0));
        self.e(I::LocalSet(i));
        self.e(I::LocalGet(tl));
        self.length_i32(k);
        self.e(I::LocalSet(n));
        let base = self.local(ValType::I32);
        if self.multimem() {
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
        if self.multimem() {
            self.e(I::LocalGet(base));
            self.e(I::LocalGet(i));
            self.scale_add(k);
            self.load(k);
        } else {
            self.e(I::LocalGet(tl));
            self.e(I::LocalGet(i));
            match k {
                Kind::Uint8List => {
                    self.e(I::ArrayGetU(T_ARR_U8));
                    self.e(I::I64ExtendI32U);
                }
                Kind::Int32List => {
                    self.e(I::ArrayGet(T_ARR_I32));
                    self.e(I::I64ExtendI32S);
                }
                _ => self.e(I::ArrayGet(T_ARR_F64)),
            }
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
        self.done_with(tl, owned);
        Ok(if float { Ty::Double } else { Ty::Int })
    }

    /// ByteData `getX(byteOffset, [endian])` / `setX(byteOffset, value, [endian])`.
    fn method(&mut self, obj: &Expr, name: &str, args: &[Expr], pos: Pos) -> Result<(Ty, bool)> {
        self.need_multimem(pos, "a ByteData accessor")?;
        let (set, ty_name_part) = if let Some(r) = name.strip_prefix("get") {
            (false, r)
        } else if let Some(r) = name.strip_prefix("set") {
            (true, r)
        } else {
            bail!("{pos}: unknown method `{name}`");
        };
        let kind = Kind::ALL
            .iter()
            .copied()
            .find(|k| k.name().strip_suffix("List") == Some(ty_name_part) && (1..=11).contains(&k.code()))
            .ok_or_else(|| anyhow!("{pos}: ByteData has no method `{name}`"))?;
        let (tl, k, owned) = self.list_operand(obj, &format!("`.{name}`"))?;
        if k != Kind::ByteData {
            bail!("{pos}: `{name}` is a ByteData method; this is a {}", k.name());
        }
        let want = if set { 2 } else { 1 };
        if args.len() != want && args.len() != want + 1 {
            bail!("{pos}: `{name}` takes {want} argument(s) and an optional Endian");
        }
        let off = self.int_operand(&args[0], "a byte offset")?;
        let float = kind.number() == Number::Float;
        let value = if set {
            let (t, _) = self.expr(&args[1])?;
            match (t, float) {
                (Ty::Int, false) | (Ty::Double, true) => {}
                (Ty::Int, true) => self.e(I::F64ConvertI64S),
                _ => bail!("{pos}: `{name}` cannot store a {}", ty_name(t)),
            }
            let v = self.local(if float { ValType::F64 } else { ValType::I64 });
            self.e(I::LocalSet(v));
            Some(v)
        } else {
            None
        };
        let little = self.local(ValType::I32);
        if let Some(endian) = args.get(want) {
            if self.expr(endian)?.0 != Ty::Endian {
                bail!("{}: expected Endian.big or Endian.little", endian.pos);
            }
        } else {
            self.e(I::I32Const(0)); // Dart's default: Endian.big
        }
        self.e(I::LocalSet(little));
        self.e(I::LocalGet(tl));
        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_BUF });
        self.e(I::LocalGet(tl));
        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_OFF });
        self.e(I::LocalGet(tl));
        self.e(I::StructGet { struct_type_index: T_LIST, field_index: F_LEN });
        self.i32_for_runtime(off);
        self.e(I::I32Const(kind.code() as i32));
        self.e(I::LocalGet(little));
        let t = match (value, float) {
            (Some(v), false) => {
                self.e(I::LocalGet(v));
                self.call("multimem.bytedata_set_i64");
                Ty::Void
            }
            (Some(v), true) => {
                self.e(I::LocalGet(v));
                self.call("multimem.bytedata_set_f64");
                Ty::Void
            }
            (None, false) => {
                self.call("multimem.bytedata_get_i64");
                Ty::Int
            }
            (None, true) => {
                self.call("multimem.bytedata_get_f64");
                Ty::Double
            }
        };
        self.done_with(tl, owned);
        Ok((t, false))
    }

    fn binary(&mut self, op: &str, a: &Expr, b: &Expr, pos: Pos) -> Result<Ty> {
        if op == "&&" || op == "||" {
            if self.expr(a)?.0 != Ty::Bool {
                bail!("{pos}: `{op}` needs bools");
            }
            self.e(I::If(BlockType::Result(ValType::I32)));
            if op == "&&" {
                if self.expr(b)?.0 != Ty::Bool {
                    bail!("{pos}: `{op}` needs bools");
                }
                self.e(I::Else);
                self.e(I::I32Const(0));
            } else {
                self.e(I::I32Const(1));
                self.e(I::Else);
                if self.expr(b)?.0 != Ty::Bool {
                    bail!("{pos}: `{op}` needs bools");
                }
            }
            self.e(I::End);
            return Ok(Ty::Bool);
        }
        // Evaluate both sides; promote to double when either is one (or for `/`).
        let ta = self.expr(a)?.0;
        let a_at = self.code.len();
        let tb = self.expr(b)?.0;
        let num = |t: Ty| matches!(t, Ty::Int | Ty::Double);
        if !num(ta) || !num(tb) {
            bail!("{pos}: `{op}` needs numbers, found {} and {}", ty_name(ta), ty_name(tb));
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
