//! Running modules in wasmtime 48 and recording what they do.
//!
//! Phases of one [`run`], the same for the original inputs and for the
//! linked module:
//!
//! 1. a fresh store with the host items (`env.rs`), fuel and resource
//!    limits;
//! 2. instantiate: the original inputs one after the other, each under its
//!    name so that `b`'s imports from `a` resolve to `a`'s instance; the
//!    linked module once;
//! 3. snapshot the exported globals, memories and tables, and the host's;
//! 4. call every exported function, in the order of the plan (the original
//!    run's exports, input by input, in export-section order), with
//!    [`values::arguments`] (which reuse `i32` results of earlier calls, so
//!    that an address one export returns reaches another), recording
//!    results, traps, uncaught exceptions
//!    and the host calls each made; stop at the first call that exhausts
//!    the stack (the states may differ from there on: frame sizes may
//!    differ after linking); a call that runs out of fuel does not stop
//!    the run (`oracle.rs` says when what follows still counts);
//! 5. with the runtime present, drive it through its intrinsics
//!    ([`Driver`]);
//! 6. snapshot again.
//!
//! Rules that keep cases fast and comparable (the oracle relies on them):
//! one [`engine`] for everything, with Cranelift's optimiser off (compile
//! time dominates), NaN canonicalisation and deterministic relaxed SIMD on;
//! [`INSTANTIATE_FUEL`] per instantiation and [`CALL_FUEL`] per call; at
//! most [`MEMORY_LIMIT`] bytes per memory (and GC heap) and [`TABLE_LIMIT`]
//! elements per table, with growth past them failing as `memory.grow`
//! does (-1), not trapping.

use crate::env::{self, HostState};
use crate::values::{self, Value};
use wasmtime::{Engine, Extern, ExternType, FuncType, Module, Store, Trap};

/// Fuel for one instantiation (all start functions together).
pub const INSTANTIATE_FUEL: u64 = 200_000;
/// Fuel for one exported call.
pub const CALL_FUEL: u64 = 100_000;
/// Bytes per linear memory, and for the GC heap.
pub const MEMORY_LIMIT: usize = 16 << 20;
/// Elements per table.
pub const TABLE_LIMIT: usize = 10_000;
/// Table elements observed per snapshot.
pub const TABLE_HEAD: u64 = 16;

/// The engine every case compiles with (see the module docs for why),
/// with wasmtime's default wasm stack (512 KiB), safe on any thread.
pub fn engine() -> Engine {
    engine_with_stack(None)
}

/// The wasm stack [`deep_stack_engine`] allows.
pub const DEEP_WASM_STACK: usize = 16 << 20;
/// The native stack a thread needs to run [`deep_stack_engine`]'s code.
pub const DEEP_NATIVE_STACK: usize = 64 << 20;

/// As [`engine`], with a [`DEEP_WASM_STACK`] wasm stack: deep enough that
/// runaway recursion spends [`CALL_FUEL`] before the stack, so both sides
/// stop at the same operator and the comparison goes on (`oracle.rs`),
/// where a stack overflow would end it. Only for threads with a native
/// stack of [`DEEP_NATIVE_STACK`] (`fuzz-link` runs every case on one).
pub fn deep_stack_engine() -> Engine {
    engine_with_stack(Some(DEEP_WASM_STACK))
}

fn engine_with_stack(max_wasm_stack: Option<usize>) -> Engine {
    let mut c = wasmtime::Config::new();
    if let Some(bytes) = max_wasm_stack {
        // wasmtime checks the wasm stack against the async stack size even
        // for synchronous calls (the workspace enables `async`).
        c.async_stack_size(bytes + (1 << 20)).max_wasm_stack(bytes);
    }
    c.wasm_multi_memory(true)
        .wasm_reference_types(true)
        .wasm_function_references(true)
        .wasm_gc(true)
        .wasm_simd(true)
        .wasm_relaxed_simd(true)
        .relaxed_simd_deterministic(true)
        .wasm_bulk_memory(true)
        .wasm_exceptions(true)
        .wasm_tail_call(true)
        .wasm_memory64(true)
        .wasm_extended_const(true)
        .wasm_multi_value(true)
        .consume_fuel(true)
        .cranelift_opt_level(wasmtime::OptLevel::None)
        .cranelift_nan_canonicalization(true)
        // No copy-on-write memory images: they cost a memfd per compiled
        // module, and every module here is instantiated once or twice.
        .memory_init_cow(false);
    Engine::new(&c).expect("the fuzzer's wasmtime configuration is valid")
}

/// What kind of item an export is.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A function, with the original's type (the linked one must equal it).
    Func(FuncType),
    /// A global.
    Global,
    /// A memory.
    Memory,
    /// A table.
    Table,
    /// A tag (not observed: tags have no state).
    Tag,
}

/// The exports a run looks at, in order.
pub type Plan = Vec<(String, Kind)>;

/// Calls that drive the runtime (when the run has it) through its
/// intrinsics, after the plan: `b = buffer_new(len + 8)`, then
/// `external_copy_in(b, 0, external_src, len)` (external to own) and
/// `external_copy_out(external_dst, b, 4, len)` (own to external). Random
/// arguments almost never make a valid buffer reach those exports; these
/// do, with addresses and a length drawn per case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Driver {
    /// Where `external_copy_in` reads in `env.memory`.
    pub external_src: u32,
    /// Where `external_copy_out` writes in `env.memory`.
    pub external_dst: u32,
    /// How many bytes both copy.
    pub len: u32,
}

/// How one exported call (or an instantiation) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Returned these values.
    Returned(Vec<Value>),
    /// Trapped with this trap code.
    Trap(String),
    /// An exception escaped, with this payload.
    Exception(Vec<Value>),
    /// Ran out of fuel (see `oracle.rs` for when this is inconclusive).
    OutOfFuel,
    /// Exhausted the stack (inconclusive: frame sizes may differ).
    StackOverflow,
    /// Not called: an argument type has no host-made value.
    Skipped,
    /// The linked export is missing, of another kind or of another type.
    Mismatch(String),
    /// Another error (root cause).
    Error(String),
}

/// One exported call: which, how it ended, and the host calls it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The export's name.
    pub export: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The host calls it made, in order.
    pub trace: Vec<String>,
}

/// An observed stateful item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// A global's value.
    Global(Value),
    /// A memory: size in bytes and a hash of its contents.
    Memory {
        /// Size in bytes.
        bytes: u64,
        /// Hash of the contents.
        hash: u64,
    },
    /// A table: its size and first [`TABLE_HEAD`] elements.
    Table(u64, Vec<Value>),
    /// A tag: only its presence (tags have no state).
    Tag,
}

/// The exported (and host) state at one point: `(name, value)` for every
/// export but functions, in plan order (a missing export is left out, which
/// the oracle sees as a difference), then the host items as `env.name`.
pub type Snapshot = Vec<(String, Observed)>;

/// Everything one run recorded.
#[derive(Clone, Debug)]
pub struct Run {
    /// The exports, in order (the original run's; the linked run copies it).
    pub plan: Plan,
    /// How instantiation ended ([`Outcome::Returned`] with no values on
    /// success) and the host calls the start functions made.
    pub instantiation: Call,
    /// The state after instantiation.
    pub initial: Option<Snapshot>,
    /// The exported calls, in plan order.
    pub calls: Vec<Call>,
    /// The state after the last call, unless a call exhausted the stack.
    pub last: Option<Snapshot>,
}

fn store(engine: &Engine) -> Store<HostState> {
    let limits = wasmtime::StoreLimitsBuilder::new()
        .memory_size(MEMORY_LIMIT)
        .table_elements(TABLE_LIMIT)
        .instances(16)
        .tables(64)
        .memories(64)
        .trap_on_grow_failure(false)
        .build();
    let mut store = Store::new(engine, HostState::new(limits));
    store.limiter(|s| &mut s.limits);
    store
}

/// How an error of a call or instantiation is recorded. Only the trap code
/// or the root cause counts: a backtrace names function indices, which
/// linking renumbers.
fn classify(store: &mut Store<HostState>, e: &wasmtime::Error) -> Outcome {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return match trap {
            Trap::OutOfFuel => Outcome::OutOfFuel,
            Trap::StackOverflow => Outcome::StackOverflow,
            t => Outcome::Trap(format!("{t:?}")),
        };
    }
    if e.is::<wasmtime::ThrownException>() {
        let payload = match store.take_pending_exception() {
            Some(exn) => {
                let fields: Vec<wasmtime::Val> = match exn.fields(&mut *store) {
                    Ok(fs) => fs.collect(),
                    Err(e) => return Outcome::Error(format!("exception payload: {e}")),
                };
                fields.iter().map(|f| values::observe(store, f)).collect()
            }
            None => Vec::new(),
        };
        return Outcome::Exception(payload);
    }
    Outcome::Error(e.root_cause().to_string())
}

fn hash(bytes: &[u8]) -> u64 {
    // std's SipHash with its fixed keys: deterministic within and across
    // processes, and compiled optimised even in a debug build of the fuzzer
    // (a hand-written loop here took a tenth of the time of a dev build).
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

fn observe_extern(store: &mut Store<HostState>, ext: &Extern) -> Option<Observed> {
    Some(match ext {
        Extern::Global(g) => {
            let v = g.get(&mut *store);
            Observed::Global(values::observe(store, &v))
        }
        Extern::Memory(m) => Observed::Memory { bytes: m.data_size(&*store) as u64, hash: hash(m.data(&*store)) },
        Extern::Table(t) => {
            let size = t.size(&*store);
            let head: Vec<wasmtime::Val> =
                (0..size.min(TABLE_HEAD)).filter_map(|i| t.get(&mut *store, i)).map(wasmtime::Val::from).collect();
            Observed::Table(size, head.iter().map(|v| values::observe(store, v)).collect())
        }
        Extern::Tag(_) => Observed::Tag,
        _ => return None,
    })
}

/// Instantiated exports by name, and the host items.
struct Instantiated {
    linker: wasmtime::Linker<HostState>,
    exports: Vec<(String, Extern)>,
}

impl Instantiated {
    fn get(&self, name: &str) -> Option<&Extern> {
        self.exports.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    fn snapshot(&self, store: &mut Store<HostState>, plan: &Plan) -> Snapshot {
        let mut snap = Snapshot::new();
        for (name, kind) in plan {
            if !matches!(kind, Kind::Func(_))
                && let Some(o) = self.get(name).and_then(|e| observe_extern(store, e))
            {
                snap.push((name.clone(), o));
            }
        }
        for name in env::observed_items() {
            let ext = self.linker.get(&mut *store, env::MODULE, name).expect("host items are defined");
            if let Some(o) = observe_extern(store, &ext) {
                snap.push((format!("{}.{name}", env::MODULE), o));
            }
        }
        snap
    }
}

fn kind_of(ext: &Extern, store: &Store<HostState>) -> Kind {
    match ext.ty(store) {
        ExternType::Func(f) => Kind::Func(f),
        ExternType::Global(_) => Kind::Global,
        ExternType::Memory(_) => Kind::Memory,
        ExternType::Table(_) => Kind::Table,
        ExternType::Tag(_) => Kind::Tag,
    }
}

fn instantiate(store: &mut Store<HostState>, modules: &[(&str, &Module)]) -> wasmtime::Result<Instantiated> {
    let mut linker = wasmtime::Linker::new(store.engine());
    env::define(&mut linker, store).expect("host items define");
    crate::intrinsics::define(&mut linker, store).expect("intrinsics define");
    crate::intrinsics::choose_external(store, modules).expect("a private memory");
    store.set_fuel(INSTANTIATE_FUEL).expect("fuel is on");
    let mut exports = Vec::new();
    for (name, module) in modules {
        let instance = linker.instantiate(&mut *store, module)?;
        exports.extend(instance.exports(&mut *store).map(|e| (e.name().to_string(), e.into_extern())));
        linker.instance(&mut *store, name, instance)?;
    }
    Ok(Instantiated { linker, exports })
}

/// Runs `modules` (the original inputs in link order, or the one linked
/// module) through the phases in the module docs. `plan` is the original
/// run's plan when this is the linked run; the original run makes its own
/// from its exports.
pub fn run(engine: &Engine, modules: &[(&str, &Module)], plan: Option<&Plan>, driver: Option<Driver>) -> Run {
    let mut store = store(engine);
    let inst = match instantiate(&mut store, modules) {
        Ok(inst) => inst,
        Err(e) => {
            let outcome = classify(&mut store, &e);
            let trace = store.data_mut().take_trace();
            return Run {
                plan: plan.cloned().unwrap_or_default(),
                instantiation: Call { export: String::new(), outcome, trace },
                initial: None,
                calls: Vec::new(),
                last: None,
            };
        }
    };
    let trace = store.data_mut().take_trace();
    let instantiation = Call { export: String::new(), outcome: Outcome::Returned(Vec::new()), trace };
    let plan = match plan {
        Some(p) => p.clone(),
        None => inst.exports.iter().map(|(n, e)| (n.clone(), kind_of(e, &store))).collect(),
    };
    let initial = Some(inst.snapshot(&mut store, &plan));
    let mut calls = Vec::new();
    let mut stack_exhausted = false;
    let mut results = Vec::new();
    for (k, (name, kind)) in plan.iter().enumerate() {
        let Kind::Func(ty) = kind else { continue };
        let outcome = call(&mut store, &inst, name, ty, k, &results);
        if let Outcome::Returned(values) = &outcome {
            results.extend(values.iter().filter_map(|v| if let Value::I32(x) = v { Some(*x) } else { None }));
        }
        let trace = store.data_mut().take_trace();
        stack_exhausted = outcome == Outcome::StackOverflow;
        calls.push(Call { export: name.clone(), outcome, trace });
        if stack_exhausted {
            break;
        }
    }
    if !stack_exhausted && let Some(driver) = driver {
        drive_runtime(&mut store, &inst, driver, &mut calls);
    }
    let last = (!stack_exhausted).then(|| inst.snapshot(&mut store, &plan));
    Run { plan, instantiation, initial, calls, last }
}

fn call_with(store: &mut Store<HostState>, inst: &Instantiated, name: &str, args: &[i32]) -> Call {
    let outcome = match inst.get(name) {
        Some(Extern::Func(f)) => {
            let args: Vec<wasmtime::Val> = args.iter().map(|&a| wasmtime::Val::I32(a)).collect();
            let mut results = vec![wasmtime::Val::I32(0); f.ty(&*store).results().len()];
            store.set_fuel(CALL_FUEL).expect("fuel is on");
            match f.call(&mut *store, &args, &mut results) {
                Ok(()) => Outcome::Returned(results.iter().map(|v| values::observe(store, v)).collect()),
                Err(e) => classify(store, &e),
            }
        }
        _ => Outcome::Mismatch(format!("runtime export `{name}` is missing or not a function")),
    };
    Call { export: format!("driver: {name}"), outcome, trace: store.data_mut().take_trace() }
}

/// The [`Driver`] calls, if the runtime's exports are there.
fn drive_runtime(store: &mut Store<HostState>, inst: &Instantiated, d: Driver, calls: &mut Vec<Call>) {
    if inst.get("buffer_new").is_none() {
        return;
    }
    let new = call_with(store, inst, "buffer_new", &[d.len as i32 + 8]);
    let buffer = match &new.outcome {
        Outcome::Returned(v) => match v.first() {
            Some(Value::I32(b)) => Some(*b),
            _ => None,
        },
        _ => None,
    };
    calls.push(new);
    if let Some(b) = buffer {
        let len = d.len as i32;
        calls.push(call_with(store, inst, "external_copy_in", &[b, 0, d.external_src as i32, len]));
        calls.push(call_with(store, inst, "external_copy_out", &[d.external_dst as i32, b, 4, len]));
    }
}

fn call(
    store: &mut Store<HostState>,
    inst: &Instantiated,
    name: &str,
    ty: &FuncType,
    k: usize,
    results: &[i32],
) -> Outcome {
    let func = match inst.get(name) {
        Some(Extern::Func(f)) => *f,
        Some(_) => return Outcome::Mismatch(format!("export `{name}` is not a function")),
        None => return Outcome::Mismatch(format!("export `{name}` is missing")),
    };
    let actual = func.ty(&*store);
    if !FuncType::eq(&actual, ty) {
        return Outcome::Mismatch(format!("export `{name}` has type {actual}, expected {ty}"));
    }
    let Some(args) = values::arguments(store, ty, k, results) else { return Outcome::Skipped };
    let mut results = vec![wasmtime::Val::I32(0); ty.results().len()];
    store.set_fuel(CALL_FUEL).expect("fuel is on");
    match func.call(&mut *store, &args, &mut results) {
        Ok(()) => Outcome::Returned(results.iter().map(|v| values::observe(store, v)).collect()),
        Err(e) => classify(store, &e),
    }
}
