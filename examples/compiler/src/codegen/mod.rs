//! Phase 5: a resolved, analysed program to a WasmGC module, type checking
//! as it goes.
//!
//! Steps of [`generate`], in order:
//! 1. scan for library calls and `gc()`, which decide the imports;
//! 2. imports: the runtime's memory and exports (`multimem.*`), the
//!    library's memory (`env.memory`) and functions (`lib.*`), the
//!    ownership import `multimem:gc.own`, and the host's `host.print_*`
//!    (and `host.gc`);
//! 3. signatures of the user functions (their indices follow `main`);
//! 4. `main` (the top-level code; it defines the globals), then every
//!    function ([`func`], [`expr`], [`typed_data`], [`objects`]);
//! 5. a host-facing wrapper for each exported function that takes or
//!    returns typed data ([`exports`]);
//! 6. the sections, validated with wasmparser.
//!
//! Object model (the `Multimem` backend):
//! - a typed-data object is a GC struct `(struct i32 i32 i32 (mut (ref
//!   null extern)))`: buffer address, `offsetInBytes`, length (elements;
//!   bytes for ByteData) and ownership token. The kind is static.
//! - every buffer that may escape is owned by a token from
//!   `multimem:gc.own` (`docs/ABI.md`, "Ownership by GC objects"), made
//!   right after `buffer_new`; views copy their data's token, so copying a
//!   reference is copying a GC pointer, with no refcount change. The host
//!   releases the buffer when wasmtime's GC collects the last token holder.
//! - objects that provably do not escape ([`crate::escape`]) have no token:
//!   the scope that made them calls `buffer_release` when it ends.
//! - element access is inlined against the runtime memory as `docs/ABI.md`
//!   ("What compilers may inline") says: check `i <u length`, then
//!   load/store at `buffer + offsetInBytes + i * elementSizeInBytes`;
//!   `.buffer.lengthInBytes` is the header load at `buffer - 8`.
//! - `List<T>` is a growable list: `(struct (mut (ref $array)) (mut i32))`
//!   over `(array (mut (ref null T)))`, doubling its capacity when full.
//! - top-level `var`s that functions use are mutable globals, exported as
//!   `global.NAME` so a host can walk what the program still reaches.
//!
//! The `GcArray` backend is the benchmark baseline: the same programs (no
//! views, ByteData or library calls) with typed-data lists as plain WasmGC
//! arrays, no runtime and no linear memory.
//!
//! Limits: no closures, classes, strings, nulls or dynamic types; a
//! typed-data list cannot be compared; `List<T>` holds objects only. A
//! trap (Dart would throw) leaves the instance unusable and the buffers of
//! scoped variables unreleased.

pub mod types;

mod exports;
mod expr;
mod func;
mod objects;
mod typed_data;

use crate::ast::{Expr, ExprKind, Program, Stmt, VarId};
use crate::escape::Ownership;
use crate::resolve::Resolved;
use anyhow::{Result, anyhow, bail};
use std::collections::{HashMap, HashSet};
use types::{Ty, TypeTable};
use wasm_encoder::{
    CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalSection,
    GlobalType, HeapType, ImportSection, MemoryType, Module as Encoder, RefType, ValType,
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
    /// Debug switch: omit the scope-based releases, so the program leaks
    /// the buffers of its scoped variables (proves the leak check works).
    pub leak: bool,
    /// Own every buffer with a token, even the ones that provably do not
    /// escape (no scope-based release at all): the protocol everywhere,
    /// for tests and the benchmark.
    pub tokens_everywhere: bool,
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
/// Module name of the host's functions (`print_i64`, `print_f64`, `gc`).
pub const HOST_MODULE: &str = "host";
/// Prefix of the export names of globals: `global.NAME`.
pub const GLOBAL_EXPORT_PREFIX: &str = "global.";

/// The runtime exports the generated code imports, in import order.
const RUNTIME_IMPORTS: &[&str] = &[
    "buffer_new",
    "buffer_release",
    "view_check",
    "bytedata_get_i64",
    "bytedata_set_i64",
    "bytedata_get_f64",
    "bytedata_set_f64",
    "external_copy_out",
    "external_copy_in",
];

/// A user function's signature and index.
#[derive(Clone, Debug)]
pub(crate) struct Sig {
    pub index: u32,
    pub params: Vec<(VarId, Ty)>,
    pub ret: Ty,
}

/// Module-wide state shared by the function generators.
pub(crate) struct Module<'p> {
    pub opts: Options,
    pub types: TypeTable,
    /// Imported functions by `module.name` key.
    pub imports: HashMap<String, u32>,
    pub sigs: HashMap<String, Sig>,
    pub own: Ownership,
    /// Globals defined so far: VarId -> (global index, type).
    pub globals: HashMap<VarId, (u32, Ty)>,
    /// Global names and types, in index order.
    pub global_defs: Vec<(String, ValType)>,
    /// Top-level variables that are globals (from resolution).
    pub global_ids: &'p HashSet<VarId>,
    pub lib_arity: HashMap<String, usize>,
    /// Index of the first function after main and the user functions.
    pub first_extra: u32,
    /// Helper and wrapper functions: (type index, body), in index order.
    pub extra: Vec<(u32, Function)>,
    /// Helpers by key (e.g. `add 3`), to define each once.
    pub helpers: HashMap<String, u32>,
}

impl Module<'_> {
    /// Whether typed data lives in the runtime (not the gc-array baseline).
    pub fn multimem(&self) -> bool {
        self.opts.backend == Backend::Multimem
    }

    /// Whether a new buffer may start without a token (scope-based
    /// release of objects that provably do not escape).
    pub fn scoped_release(&self) -> bool {
        self.multimem() && !self.opts.tokens_everywhere
    }

    /// The index of an imported function, by `module.name` key.
    pub fn import(&self, key: &str) -> u32 {
        self.imports[key]
    }

    /// Adds a function after the user functions; returns its index.
    pub fn add_function(&mut self, ty: u32, body: Function) -> u32 {
        self.extra.push((ty, body));
        self.first_extra + self.extra.len() as u32 - 1
    }
}

/// Compiles a resolved program to a validated module exporting `main: [] -> []`.
pub fn generate(program: &Program, resolved: &Resolved, ownership: &Ownership, opts: &Options) -> Result<Vec<u8>> {
    // Step 1: the external library functions called (with their arity)
    // and whether the program forces GCs fix the imports.
    let mut scan = Scan::default();
    for s in program.main.iter().chain(program.functions.iter().flat_map(|f| &f.body)) {
        scan.stmt(s)?;
    }
    let multimem = opts.backend == Backend::Multimem;
    if !multimem && !scan.lib_arity.is_empty() {
        bail!("the gc-array baseline backend cannot call the external library");
    }
    let mut types = TypeTable::new(opts.backend);

    // Step 2: imports.
    let mut imports = ImportSection::new();
    let mut keys = HashMap::new();
    let mut import = |imports: &mut ImportSection, module: &str, name: &str, ty: u32, key: String| {
        imports.import(module, name, EntityType::Function(ty));
        let n = keys.len() as u32;
        keys.insert(key, n);
    };
    if multimem {
        let mem = MemoryType { minimum: 0, maximum: None, memory64: false, shared: false, page_size_log2: None };
        // In index order: OWN_MEMORY, then EXTERNAL_MEMORY.
        imports.import(RUNTIME_MODULE, multimem_abi::MEMORY_EXPORT, EntityType::Memory(mem));
        imports.import("env", "memory", EntityType::Memory(mem));
        for name in RUNTIME_IMPORTS {
            let e = multimem_abi::export(name).ok_or_else(|| anyhow!("ABI has no export `{name}`"))?;
            let p: Vec<ValType> = e.params.iter().copied().map(abi_val).collect();
            let r: Vec<ValType> = e.results.iter().copied().map(abi_val).collect();
            let ty = types.func(&p, &r);
            import(&mut imports, RUNTIME_MODULE, name, ty, format!("multimem.{name}"));
        }
        let own = multimem_abi::gc_import("own").ok_or_else(|| anyhow!("ABI has no ownership import `own`"))?;
        let p: Vec<ValType> = own.params.iter().copied().map(abi_val).collect();
        let token = ValType::Ref(RefType { nullable: false, heap_type: HeapType::EXTERN });
        let ty = types.func(&p, &[token]);
        import(&mut imports, multimem_abi::GC_MODULE, "own", ty, "gc.own".into());
    }
    let ty = types.func(&[ValType::I64], &[]);
    import(&mut imports, HOST_MODULE, "print_i64", ty, "host.print_i64".into());
    let ty = types.func(&[ValType::F64], &[]);
    import(&mut imports, HOST_MODULE, "print_f64", ty, "host.print_f64".into());
    if scan.gc {
        let ty = types.func(&[], &[]);
        import(&mut imports, HOST_MODULE, "gc", ty, "host.gc".into());
    }
    if !scan.lib_arity.is_empty() {
        let ty = types.func(&[ValType::I32], &[ValType::I32]);
        import(&mut imports, LIB_MODULE, "alloc", ty, "lib.alloc".into());
        let ty = types.func(&[ValType::I32, ValType::I32], &[]);
        import(&mut imports, LIB_MODULE, "dealloc", ty, "lib.dealloc".into());
        let mut names: Vec<_> = scan.lib_arity.iter().collect();
        names.sort();
        for (name, extra) in names {
            let ty = types.func(&vec![ValType::I32; 2 + extra], &[ValType::I32]);
            import(&mut imports, LIB_MODULE, name, ty, format!("lib.{name}"));
        }
    }
    let n_imports = keys.len() as u32;

    // Step 3: signatures. main is n_imports; user functions follow.
    let mut sigs = HashMap::new();
    let mut fn_types = Vec::new();
    for (i, f) in program.functions.iter().enumerate() {
        let mut params = Vec::new();
        for p in &f.params {
            let t = types.resolve(&p.ty)?;
            if matches!(t, Ty::Void) {
                bail!("{}: a parameter cannot be void", p.pos);
            }
            params.push((p.id, t));
        }
        let ret = types.resolve(&f.ret)?;
        let p: Vec<ValType> = params.iter().map(|(_, t)| types.val_type(*t)).collect::<Result<_>>()?;
        let r = types.results(ret)?;
        fn_types.push(types.func(&p, &r));
        sigs.insert(f.name.clone(), Sig { index: n_imports + 1 + i as u32, params, ret });
    }
    let main_ty = types.func(&[], &[]);
    let own = if multimem && !opts.tokens_everywhere { ownership.clone() } else { Ownership::default() };
    let mut m = Module {
        opts: opts.clone(),
        types,
        imports: keys,
        sigs,
        own,
        globals: HashMap::new(),
        global_defs: Vec::new(),
        global_ids: &resolved.globals,
        lib_arity: scan.lib_arity,
        first_extra: n_imports + 1 + program.functions.len() as u32,
        extra: Vec::new(),
        helpers: HashMap::new(),
    };

    // Step 4: main, then the functions.
    let mut bodies = vec![func::main(&mut m, &program.main)?];
    for f in &program.functions {
        bodies.push(func::function(&mut m, f)?);
    }

    // Step 5: exports (wrappers for typed data).
    let mut export_section = ExportSection::new();
    export_section.export("main", ExportKind::Func, n_imports);
    for f in program.functions.iter().filter(|f| f.export) {
        exports::check_name(&f.name, f.pos)?;
        let index = exports::export(&mut m, &f.name, f.pos)?;
        export_section.export(&f.name, ExportKind::Func, index);
    }
    let mut globals = GlobalSection::new();
    for (i, (name, ty)) in m.global_defs.iter().enumerate() {
        let init = match ty {
            ValType::I64 => ConstExpr::i64_const(0),
            ValType::F64 => ConstExpr::f64_const(0.0.into()),
            ValType::I32 => ConstExpr::i32_const(0),
            ValType::Ref(r) => ConstExpr::ref_null(r.heap_type),
            ValType::F32 | ValType::V128 => unreachable!("the language has no such values"),
        };
        globals.global(GlobalType { val_type: *ty, mutable: true, shared: false }, &init);
        export_section.export(&format!("{GLOBAL_EXPORT_PREFIX}{name}"), ExportKind::Global, i as u32);
    }

    // Step 6: sections.
    let mut functions = FunctionSection::new();
    functions.function(main_ty);
    for t in &fn_types {
        functions.function(*t);
    }
    for (t, _) in &m.extra {
        functions.function(*t);
    }
    let mut code = CodeSection::new();
    for b in bodies.iter().chain(m.extra.iter().map(|(_, b)| b)) {
        code.function(b);
    }
    let mut module = Encoder::new();
    module.section(&m.types.section()).section(&imports).section(&functions);
    if !m.global_defs.is_empty() {
        module.section(&globals);
    }
    module.section(&export_section).section(&code);
    let bytes = module.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(|e| anyhow!("internal error: the generated module is invalid: {e}"))?;
    Ok(bytes)
}

fn abi_val(t: multimem_abi::ValType) -> ValType {
    match t {
        multimem_abi::ValType::I32 => ValType::I32,
        multimem_abi::ValType::I64 => ValType::I64,
        multimem_abi::ValType::F32 => ValType::F32,
        multimem_abi::ValType::F64 => ValType::F64,
    }
}

/// Step 1: what the program calls that decides its imports.
#[derive(Default)]
struct Scan {
    lib_arity: HashMap<String, usize>,
    gc: bool,
}

impl Scan {
    fn expr(&mut self, e: &Expr) -> Result<()> {
        match &e.kind {
            ExprKind::LibCall(name, args) => {
                if args.is_empty() {
                    bail!("{}: `lib.{name}` needs a list as its first argument", e.pos);
                }
                if name == "alloc" || name == "dealloc" || name == "memory" {
                    bail!("{}: `lib.{name}` is the library's own plumbing, not callable", e.pos);
                }
                let extra = args.len() - 1;
                if let Some(prev) = self.lib_arity.insert(name.clone(), extra)
                    && prev != extra
                {
                    bail!(
                        "{}: `lib.{name}` called with {} arguments here and {} elsewhere",
                        e.pos,
                        extra + 1,
                        prev + 1
                    );
                }
                args.iter().try_for_each(|a| self.expr(a))
            }
            ExprKind::Call(name, args) => {
                self.gc |= name == "gc";
                args.iter().try_for_each(|a| self.expr(a))
            }
            ExprKind::Neg(a) | ExprKind::Not(a) | ExprKind::New(_, a) | ExprKind::Getter(a, _) => self.expr(a),
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
                self.expr(a)?;
                self.expr(b)
            }
            ExprKind::SublistView(_, a, b, c) => {
                self.expr(a)?;
                self.expr(b)?;
                c.iter().try_for_each(|c| self.expr(c))
            }
            ExprKind::Method(a, _, args) => {
                self.expr(a)?;
                args.iter().try_for_each(|a| self.expr(a))
            }
            ExprKind::ListLit(_, args) => args.iter().try_for_each(|a| self.expr(a)),
            ExprKind::Int(_) | ExprKind::Double(_) | ExprKind::Bool(_) | ExprKind::Var(..) | ExprKind::Endian(_) => {
                Ok(())
            }
        }
    }

    fn stmt(&mut self, s: &Stmt) -> Result<()> {
        match s {
            Stmt::Let { init: e, .. } | Stmt::Assign(_, _, e, _) | Stmt::Expr(e) | Stmt::Return(Some(e), _) => {
                self.expr(e)
            }
            Stmt::Return(None, _) => Ok(()),
            Stmt::SetIndex(a, b, c, _) => {
                self.expr(a)?;
                self.expr(b)?;
                self.expr(c)
            }
            Stmt::For(i, c, u, body, _) => {
                self.stmt(i)?;
                self.expr(c)?;
                self.stmt(u)?;
                body.iter().try_for_each(|s| self.stmt(s))
            }
            Stmt::If(c, a, b, _) => {
                self.expr(c)?;
                a.iter().chain(b).try_for_each(|s| self.stmt(s))
            }
            Stmt::Block(b) => b.iter().try_for_each(|s| self.stmt(s)),
        }
    }
}
