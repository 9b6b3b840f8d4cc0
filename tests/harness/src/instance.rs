//! Any module, typically a linker output, instantiated in wasmtime with
//! every import satisfied by a fresh default: memories (shared ones too)
//! and tables of the imported type, zeroed or null; globals holding zero or
//! null; functions returning zeros. A test can reach an import (say, write
//! into `env.memory`) between [`Imports::defaults`] and
//! [`Imports::instantiate`], so that the start function already sees it.

use wasmtime::error::Context;
use wasmtime::{
    Engine, Extern, ExternType, Func, Global, Memory, Module, Ref, SharedMemory, Store, Table, Val, ValType,
    WasmParams, WasmResults,
};
use wasmtime::{Result, bail};

/// A compiled module and a default for each of its imports, not yet
/// instantiated.
pub struct Imports {
    /// The store the imports (and then the instance) live in.
    pub store: Store<()>,
    module: Module,
    /// `(module, name, value)` of each import, in import order.
    imports: Vec<(String, String, Extern)>,
}

impl Imports {
    /// Compiles `wasm` and creates a default for each import.
    pub fn defaults(engine: &Engine, wasm: &[u8]) -> Result<Imports> {
        let module = Module::new(engine, wasm).context("wasmtime rejects the module")?;
        let mut store = Store::new(engine, ());
        let mut imports = Vec::new();
        for imp in module.imports() {
            let what = || format!("creating import {}.{}", imp.module(), imp.name());
            let ext: Extern = match imp.ty() {
                ExternType::Memory(m) if m.is_shared() => SharedMemory::new(engine, m).with_context(what)?.into(),
                ExternType::Memory(m) => Memory::new(&mut store, m).with_context(what)?.into(),
                ExternType::Global(g) => {
                    let v = match g.content() {
                        ValType::I32 => Val::I32(0),
                        ValType::I64 => Val::I64(0),
                        ValType::F32 => Val::F32(0),
                        ValType::F64 => Val::F64(0),
                        ValType::Ref(r) => Val::null_ref(r.heap_type()),
                        ValType::V128 => Val::V128(0u128.into()),
                    };
                    Global::new(&mut store, g, v).with_context(what)?.into()
                }
                ExternType::Table(t) => {
                    let init = Ref::null(t.element().heap_type());
                    Table::new(&mut store, t, init).with_context(what)?.into()
                }
                ExternType::Func(f) => {
                    let results: Vec<ValType> = f.results().collect();
                    Func::new(&mut store, f, move |_, _, out| {
                        for (o, t) in out.iter_mut().zip(&results) {
                            *o = Val::default_for_ty(t).unwrap_or(Val::I32(0));
                        }
                        Ok(())
                    })
                    .into()
                }
                other => bail!("the harness cannot provide import {}.{}: {other:?}", imp.module(), imp.name()),
            };
            imports.push((imp.module().to_string(), imp.name().to_string(), ext));
        }
        Ok(Imports { store, module, imports })
    }

    /// `(module, name)` of each import, in import order.
    pub fn names(&self) -> Vec<(&str, &str)> {
        self.imports.iter().map(|(m, n, _)| (m.as_str(), n.as_str())).collect()
    }

    /// The imported (unshared) memory `module.name`; panics if there is none.
    pub fn memory(&self, module: &str, name: &str) -> Memory {
        self.imports
            .iter()
            .find(|(m, n, _)| m == module && n == name)
            .and_then(|(_, _, e)| e.clone().into_memory())
            .unwrap_or_else(|| panic!("no imported memory {module}.{name}"))
    }

    /// Instantiates the module with these imports (its start function runs).
    pub fn instantiate(mut self) -> Result<Instance> {
        let values: Vec<Extern> = self.imports.iter().map(|(_, _, e)| e.clone()).collect();
        let instance =
            wasmtime::Instance::new(&mut self.store, &self.module, &values).context("instantiation failed")?;
        Ok(Instance { store: self.store, instance })
    }
}

/// An instantiated module and its store.
pub struct Instance {
    /// The store the instance lives in.
    pub store: Store<()>,
    /// The instance.
    pub instance: wasmtime::Instance,
}

impl Instance {
    /// Compiles and instantiates `wasm` with a default for every import.
    pub fn new(engine: &Engine, wasm: &[u8]) -> Result<Instance> {
        Imports::defaults(engine, wasm)?.instantiate()
    }

    /// Calls the export `name` with typed parameters and results.
    pub fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> Result<R> {
        let f =
            self.instance.get_typed_func::<P, R>(&mut self.store, name).with_context(|| format!("export {name}"))?;
        f.call(&mut self.store, params).with_context(|| format!("calling {name}"))
    }
}
