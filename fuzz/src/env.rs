//! The host environment every case runs against: the `env` imports.
//!
//! One table, [`ITEMS`], is the only description of it. wasm-smith reads it
//! as the menu of imports a generated module may take
//! ([`available_imports`]), and the executor builds the same items in each
//! wasmtime store ([`define`]), so a module imports only what the host
//! provides. Original and linked runs each get a fresh copy, built the same
//! way, so their starting states are identical.
//!
//! The host functions are deterministic and record every call in the
//! store's trace ([`HostState::trace`]); the oracle compares traces, so the
//! order and arguments of calls out of wasm are part of the behaviour
//! checked, not only return values. Items are small (a 1-4 page memory,
//! short tables) so that instantiating them costs little.

use crate::values::{self, Value};
use wasm_encoder::{
    EntityType, GlobalType, ImportSection, MemoryType, Module, RefType, TableType, TagKind, TagType, TypeSection,
    ValType,
};

/// The module name of the host's imports.
pub const MODULE: &str = "env";

/// A value type the host items use (abstract types only, so the menu needs
/// no type definitions of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `v128`.
    V128,
    /// `funcref`.
    FuncRef,
    /// `externref`.
    ExternRef,
    /// `anyref`.
    AnyRef,
}

/// One host item: what it is, with its type.
#[derive(Clone, Copy, Debug)]
pub enum Item {
    /// A host function; see [`call_host`] for what each one does.
    Func {
        /// Parameter types.
        params: &'static [Ty],
        /// Result types.
        results: &'static [Ty],
    },
    /// A 32-bit memory with these page limits.
    Memory {
        /// Initial pages.
        min: u32,
        /// Maximum pages.
        max: u32,
    },
    /// A table of `elem` (a reference type) with these limits, all null.
    Table {
        /// Element type.
        elem: Ty,
        /// Initial size.
        min: u32,
        /// Maximum size.
        max: u32,
    },
    /// A global, initialised to [`GLOBAL_INIT`] (numbers) or null (refs).
    Global {
        /// Content type.
        ty: Ty,
        /// Whether wasm may set it.
        mutable: bool,
    },
    /// An exception tag with these parameters.
    Tag {
        /// Payload types.
        params: &'static [Ty],
    },
}

/// The initial value of numeric host globals.
pub const GLOBAL_INIT: i32 = 42;

/// Every `env` import the host provides, by field name.
pub const ITEMS: &[(&str, Item)] = &[
    ("memory", Item::Memory { min: 1, max: 4 }),
    ("table", Item::Table { elem: Ty::FuncRef, min: 4, max: 16 }),
    ("externs", Item::Table { elem: Ty::ExternRef, min: 2, max: 8 }),
    ("counter", Item::Global { ty: Ty::I32, mutable: true }),
    ("scale", Item::Global { ty: Ty::F64, mutable: false }),
    ("slot", Item::Global { ty: Ty::AnyRef, mutable: true }),
    ("tag", Item::Tag { params: &[Ty::I32] }),
    ("log_i32", Item::Func { params: &[Ty::I32], results: &[] }),
    ("log_i64_f64", Item::Func { params: &[Ty::I64, Ty::F64], results: &[] }),
    ("log_f32_v128", Item::Func { params: &[Ty::F32, Ty::V128], results: &[] }),
    ("next_i32", Item::Func { params: &[], results: &[Ty::I32] }),
    ("echo_anyref", Item::Func { params: &[Ty::AnyRef], results: &[Ty::AnyRef] }),
    ("echo_externref", Item::Func { params: &[Ty::ExternRef], results: &[Ty::ExternRef] }),
];

/// Per-store state: the trace of host calls and the resource limits.
pub struct HostState {
    /// Host calls since the last [`HostState::take_trace`], rendered.
    pub trace: Vec<String>,
    /// What `next_i32` returns next.
    pub counter: i32,
    /// Memory and table growth limits (see `execute.rs`).
    pub limits: wasmtime::StoreLimits,
    /// The host's `env.memory`: the intrinsics' `external` memory.
    pub external: Option<wasmtime::Memory>,
}

impl HostState {
    /// A fresh state with these limits.
    pub fn new(limits: wasmtime::StoreLimits) -> HostState {
        HostState { trace: Vec::new(), counter: 0, limits, external: None }
    }

    /// The calls recorded since the last take.
    pub fn take_trace(&mut self) -> Vec<String> {
        std::mem::take(&mut self.trace)
    }
}

fn encoder_ty(t: Ty) -> ValType {
    match t {
        Ty::I32 => ValType::I32,
        Ty::I64 => ValType::I64,
        Ty::F32 => ValType::F32,
        Ty::F64 => ValType::F64,
        Ty::V128 => ValType::V128,
        Ty::FuncRef => ValType::Ref(RefType::FUNCREF),
        Ty::ExternRef => ValType::Ref(RefType::EXTERNREF),
        Ty::AnyRef => ValType::Ref(RefType::ANYREF),
    }
}

fn encoder_ref(t: Ty) -> RefType {
    match encoder_ty(t) {
        ValType::Ref(r) => r,
        other => panic!("host table of non-reference type {other:?}"),
    }
}

/// Appends the host items, as imports from [`MODULE`], to `imports`; their
/// function types go to the end of `types`, which holds `types_len` types.
pub fn add_imports(types: &mut TypeSection, types_len: &mut u32, imports: &mut ImportSection) {
    for (name, item) in ITEMS {
        let entity = match *item {
            Item::Func { params, results } => {
                types.ty().function(params.iter().map(|&t| encoder_ty(t)), results.iter().map(|&t| encoder_ty(t)));
                *types_len += 1;
                EntityType::Function(*types_len - 1)
            }
            Item::Tag { params } => {
                types.ty().function(params.iter().map(|&t| encoder_ty(t)), []);
                *types_len += 1;
                EntityType::Tag(TagType { kind: TagKind::Exception, func_type_idx: *types_len - 1 })
            }
            Item::Memory { min, max } => EntityType::Memory(MemoryType {
                minimum: min.into(),
                maximum: Some(max.into()),
                memory64: false,
                shared: false,
                page_size_log2: None,
            }),
            Item::Table { elem, min, max } => EntityType::Table(TableType {
                element_type: encoder_ref(elem),
                table64: false,
                minimum: min.into(),
                maximum: Some(max.into()),
                shared: false,
            }),
            Item::Global { ty, mutable } => {
                EntityType::Global(GlobalType { val_type: encoder_ty(ty), mutable, shared: false })
            }
        };
        imports.import(MODULE, name, entity);
    }
}

/// The host items as a module of imports: wasm-smith's
/// `Config::available_imports` for a module that may import only from the
/// host.
pub fn available_imports() -> Vec<u8> {
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    let mut n = 0;
    add_imports(&mut types, &mut n, &mut imports);
    let mut module = Module::new();
    module.section(&types).section(&imports);
    module.finish()
}

fn wasmtime_ty(t: Ty) -> wasmtime::ValType {
    match t {
        Ty::I32 => wasmtime::ValType::I32,
        Ty::I64 => wasmtime::ValType::I64,
        Ty::F32 => wasmtime::ValType::F32,
        Ty::F64 => wasmtime::ValType::F64,
        Ty::V128 => wasmtime::ValType::V128,
        Ty::FuncRef => wasmtime::ValType::FUNCREF,
        Ty::ExternRef => wasmtime::ValType::EXTERNREF,
        Ty::AnyRef => wasmtime::ValType::ANYREF,
    }
}

fn wasmtime_ref(t: Ty) -> wasmtime::RefType {
    match wasmtime_ty(t) {
        wasmtime::ValType::Ref(r) => r,
        other => panic!("host table of non-reference type {other}"),
    }
}

/// What a host function does: records the call (name and arguments,
/// rendered as the oracle compares values) and returns deterministic
/// results: `next_i32` counts up from 0, the `echo_*` functions return
/// their argument, the `log_*` functions return nothing.
fn call_host(
    mut caller: wasmtime::Caller<'_, HostState>,
    name: &str,
    params: &[wasmtime::Val],
    results: &mut [wasmtime::Val],
) -> wasmtime::Result<()> {
    let args: Vec<Value> = params.iter().map(|v| values::observe(&mut caller, v)).collect();
    let rendered: Vec<String> = args.iter().map(|v| v.to_string()).collect();
    caller.data_mut().trace.push(format!("{name}({})", rendered.join(", ")));
    if name == "next_i32" {
        let state = caller.data_mut();
        results[0] = wasmtime::Val::I32(state.counter);
        state.counter = state.counter.wrapping_add(1);
    } else if name.starts_with("echo_") {
        results[0] = params[0];
    }
    Ok(())
}

/// Defines every host item, fresh, in `linker` for `store`.
pub fn define(
    linker: &mut wasmtime::Linker<HostState>,
    store: &mut wasmtime::Store<HostState>,
) -> wasmtime::Result<()> {
    let engine = store.engine().clone();
    for &(name, item) in ITEMS {
        let ext: wasmtime::Extern = match item {
            Item::Func { params, results } => {
                let ty = wasmtime::FuncType::new(
                    &engine,
                    params.iter().map(|&t| wasmtime_ty(t)),
                    results.iter().map(|&t| wasmtime_ty(t)),
                );
                wasmtime::Func::new(&mut *store, ty, move |caller, p, r| call_host(caller, name, p, r)).into()
            }
            Item::Tag { params } => {
                let ty = wasmtime::FuncType::new(&engine, params.iter().map(|&t| wasmtime_ty(t)), []);
                wasmtime::Tag::new(&mut *store, &wasmtime::TagType::new(ty))?.into()
            }
            Item::Memory { min, max } => {
                let memory = wasmtime::Memory::new(&mut *store, wasmtime::MemoryType::new(min, Some(max)))?;
                if name == "memory" {
                    store.data_mut().external = Some(memory);
                }
                memory.into()
            }
            Item::Table { elem, min, max } => {
                let ty = wasmtime::TableType::new(wasmtime_ref(elem), min, Some(max));
                let null = wasmtime::Ref::null(ty.element().heap_type());
                wasmtime::Table::new(&mut *store, ty, null)?.into()
            }
            Item::Global { ty, mutable } => {
                let mutability = if mutable { wasmtime::Mutability::Var } else { wasmtime::Mutability::Const };
                let init = match ty {
                    Ty::I32 => wasmtime::Val::I32(GLOBAL_INIT),
                    Ty::I64 => wasmtime::Val::I64(GLOBAL_INIT.into()),
                    Ty::F32 => wasmtime::Val::F32((GLOBAL_INIT as f32).to_bits()),
                    Ty::F64 => wasmtime::Val::F64(f64::from(GLOBAL_INIT).to_bits()),
                    Ty::V128 => wasmtime::Val::V128((GLOBAL_INIT as u128).into()),
                    Ty::FuncRef | Ty::ExternRef | Ty::AnyRef => wasmtime::Val::null_ref(wasmtime_ref(ty).heap_type()),
                };
                wasmtime::Global::new(&mut *store, wasmtime::GlobalType::new(wasmtime_ty(ty), mutability), init)?.into()
            }
        };
        linker.define(&mut *store, MODULE, name, ext)?;
    }
    Ok(())
}

/// The host items the oracle snapshots along with the exports: the
/// stateful ones (memories, tables, mutable globals).
pub fn observed_items() -> impl Iterator<Item = &'static str> {
    ITEMS.iter().filter_map(|(name, item)| match item {
        Item::Memory { .. } | Item::Table { .. } | Item::Global { mutable: true, .. } => Some(*name),
        _ => None,
    })
}
