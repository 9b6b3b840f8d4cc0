//! Any module, typically a linker output, instantiated in wasmtime with
//! every import satisfied by a fresh default: memories (shared ones too)
//! and tables of the imported type, zeroed or null; globals holding zero or
//! null; functions returning zeros. A test can reach an import (say, write
//! into `env.memory`) between [`Imports::defaults`] and
//! [`Imports::instantiate`], so that the start function already sees it.
//!
//! A single-memory build (docs/ABI.md) is instantiated the same way: the
//! memories its multi-memory build imported are created fresh as well (and
//! found by [`Imports::memory`] under the same names), and its
//! `multimem:memory` imports come from multimem-host's
//! [`LoweredMemories`], so a test reads the same for both builds.

use multimem_host::lowered::LoweredMemories;

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
    /// `(module, name, value)` of each import, in import order (for a
    /// single-memory build: with its lowered imported memories).
    imports: Vec<(String, String, Extern)>,
    linker: wasmtime::Linker<()>,
}

/// A fresh default for an import of type `ty`.
pub fn fresh(store: &mut Store<()>, ty: ExternType) -> Result<Extern> {
    let engine = store.engine().clone();
    Ok(match ty {
        ExternType::Memory(m) if m.is_shared() => SharedMemory::new(&engine, m)?.into(),
        ExternType::Memory(m) => Memory::new(&mut *store, m)?.into(),
        ExternType::Global(g) => {
            let v = match g.content() {
                ValType::I32 => Val::I32(0),
                ValType::I64 => Val::I64(0),
                ValType::F32 => Val::F32(0),
                ValType::F64 => Val::F64(0),
                ValType::Ref(r) => Val::null_ref(r.heap_type()),
                ValType::V128 => Val::V128(0u128.into()),
            };
            Global::new(&mut *store, g, v)?.into()
        }
        ExternType::Table(t) => {
            let init = Ref::null(t.element().heap_type());
            Table::new(&mut *store, t, init)?.into()
        }
        ExternType::Func(f) => {
            let results: Vec<ValType> = f.results().collect();
            Func::new(&mut *store, f, move |_, _, out| {
                for (o, t) in out.iter_mut().zip(&results) {
                    *o = Val::default_for_ty(t).unwrap_or(Val::I32(0));
                }
                Ok(())
            })
            .into()
        }
        other => bail!("the harness cannot provide an import of type {other:?}"),
    })
}

impl Imports {
    /// Compiles `wasm` and creates a default for each import.
    pub fn defaults(engine: &Engine, wasm: &[u8]) -> Result<Imports> {
        let module = Module::new(engine, wasm).context("wasmtime rejects the module")?;
        let mut store = Store::new(engine, ());
        let mut linker = wasmtime::Linker::new(engine);
        let mut imports = Vec::new();
        let mut wanted: Vec<(String, String, ExternType)> = module
            .imports()
            .filter(|i| i.module() != multimem_abi::LOWERED_MODULE)
            .map(|i| (i.module().to_string(), i.name().to_string(), i.ty()))
            .collect();
        let single = LoweredMemories::is_single_memory(wasm);
        if single {
            for (m, n, ty) in LoweredMemories::imported(wasm).map_err(wasmtime::Error::msg)? {
                wanted.push((m, n, ExternType::Memory(ty)));
            }
        }
        for (m, n, ty) in wanted {
            let ext = fresh(&mut store, ty).with_context(|| format!("creating import {m}.{n}"))?;
            linker.define(&store, &m, &n, ext.clone()).with_context(|| format!("defining import {m}.{n}"))?;
            imports.push((m, n, ext));
        }
        if single {
            LoweredMemories::define(&mut store, &mut linker, wasm, &module).map_err(wasmtime::Error::msg)?;
        }
        Ok(Imports { store, module, imports, linker })
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
        let instance = self.linker.instantiate(&mut self.store, &self.module).context("instantiation failed")?;
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
