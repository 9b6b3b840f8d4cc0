//! A `.wast` runner whose modules go through a link step and which
//! instantiates multi-memory and single-memory builds alike.
//!
//! wasmtime-wast 48 cannot run a single-memory build (docs/ABI.md,
//! "Single-memory build"): its `Linker` is private, and such a module needs
//! the functions of `multimem:memory` bound to its own lowered memories when
//! it is instantiated, and its importers need those memories under the
//! names it exported them. So this module interprets the `wast` crate's
//! directives itself, against wasmtime.
//!
//! Phases of [`run`], for one script:
//!
//! 1. *Parse* the script with the `wast` crate.
//! 2. *Set up* one store and the linker of everything a module may import:
//!    `spectest` ([`wasmtime_wast::link_spectest`], with its shared
//!    memory), `wasmtime.gc`, and what [`Options::setup`] adds.
//! 3. *Run* the directives in order, recording each one's outcome
//!    ([`Record`]). A failure does not stop the script: a later directive
//!    that needs the failed instance fails on its own line.
//!    - A module the script instantiates (`module`, `module definition`,
//!      and the modules of `assert_trap`, `assert_unlinkable` and
//!      `assert_return`) is encoded, given to the link step, compiled in
//!      [`Options::engine`] and instantiated ([`Script::instantiate`]). A
//!      single-memory build gets its reserved imports and its lowered
//!      memories from [`LoweredMemories`]; when it is registered, the
//!      names it exported lowered memories under are registered too.
//!    - `assert_invalid` and `assert_malformed` test the engine, not the
//!      linker: as in the reference run (`../shared/testsuite/README.md`)
//!      their modules are not linked, and must fail to encode or to
//!      compile in [`Options::reference`].
//!
//! # Limits
//!
//! - The error messages of `assert_invalid`, `assert_malformed` and
//!   `assert_unlinkable` are not compared (the reference run does not
//!   compare them either: wasmtime words them differently). Trap messages
//!   are: the trap must contain the expected text, with the few
//!   differences of wording listed in [`trap_matches`].
//! - A `ref.func` result is checked to be a non-null function reference:
//!   wasmtime does not tell which function it is.
//! - Not supported, and recorded as failing directives that say so:
//!   `thread`, `wait`, `assert_suspension`, the custom-section assertions,
//!   components, shared `i31` references, continuations.
//! - A bare `invoke` that traps is a failure (wasmtime-wast ignores it).

use std::collections::HashMap;
use std::fmt;

use multimem_host::lowered::LoweredMemories;
use wasmtime::{
    AnyRef, Engine, Extern, ExternRef, HeapType, Instance, Linker, Module, Store, ThrownException, Val, ValType,
};
use wast::core::{AbstractHeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

pub use crate::wast_link::LinkStep;

/// Where and how a script runs.
pub struct Options<'a> {
    /// Compiles and runs the linked modules.
    pub engine: &'a Engine,
    /// Must reject the modules of `assert_invalid` and `assert_malformed`:
    /// the reference run's engine (`multimem_test_harness::engine::full`).
    pub reference: &'a Engine,
    /// Defines what else the script's modules may import (after
    /// `spectest` and `wasmtime`), e.g. the `env.memory` a link with the
    /// runtime adds.
    pub setup: &'a SetUp,
}

/// [`Options::setup`]: defines imports in the script's linker.
pub type SetUp = dyn Fn(&mut Store<()>, &mut Linker<()>) -> wasmtime::Result<()>;

/// A kind of directive, as the script writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directive {
    /// `(module ...)`.
    Module,
    /// `(module definition ...)`.
    ModuleDefinition,
    /// `(module instance ...)`.
    ModuleInstance,
    /// `(register ...)`.
    Register,
    /// A bare `(invoke ...)`.
    Invoke,
    /// `(assert_return ...)`.
    AssertReturn,
    /// `(assert_trap (invoke ...) ...)`.
    AssertTrap,
    /// `(assert_trap (module ...) ...)`: instantiation must trap.
    AssertUninstantiable,
    /// `(assert_exhaustion ...)`.
    AssertExhaustion,
    /// `(assert_unlinkable ...)`.
    AssertUnlinkable,
    /// `(assert_invalid ...)`.
    AssertInvalid,
    /// `(assert_malformed ...)`.
    AssertMalformed,
    /// `(assert_exception ...)`.
    AssertException,
    /// A directive this runner does not support (always a failure).
    Unsupported,
}

impl Directive {
    /// Whether the directive asserts something (its name starts with
    /// `assert_`), as opposed to setting the script's state up.
    pub fn is_assertion(self) -> bool {
        !matches!(
            self,
            Directive::Module
                | Directive::ModuleDefinition
                | Directive::ModuleInstance
                | Directive::Register
                | Directive::Invoke
                | Directive::Unsupported
        )
    }
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Directive::Module => "module",
            Directive::ModuleDefinition => "module definition",
            Directive::ModuleInstance => "module instance",
            Directive::Register => "register",
            Directive::Invoke => "invoke",
            Directive::AssertReturn => "assert_return",
            Directive::AssertTrap => "assert_trap",
            Directive::AssertUninstantiable => "assert_trap (module)",
            Directive::AssertExhaustion => "assert_exhaustion",
            Directive::AssertUnlinkable => "assert_unlinkable",
            Directive::AssertInvalid => "assert_invalid",
            Directive::AssertMalformed => "assert_malformed",
            Directive::AssertException => "assert_exception",
            Directive::Unsupported => "unsupported directive",
        })
    }
}

/// The outcome of one directive.
#[derive(Clone, Debug)]
pub struct Record {
    /// 1-based line of the directive.
    pub line: usize,
    /// What the directive is.
    pub directive: Directive,
    /// `Err` with what went wrong when it failed.
    pub outcome: Result<(), String>,
}

/// The outcome of a script.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every directive, in script order.
    pub records: Vec<Record>,
    /// How many modules went through the link step.
    pub linked: usize,
    /// How many instantiated modules were single-memory builds that import
    /// functions of `multimem:memory` (instructions on lowered memories).
    pub lowered: usize,
}

impl Report {
    /// The assertions (not the set-up directives).
    pub fn assertions(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.directive.is_assertion())
    }

    /// How many assertions passed.
    pub fn passed_assertions(&self) -> usize {
        self.assertions().filter(|r| r.outcome.is_ok()).count()
    }

    /// The directives that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.outcome.is_err())
    }
}

/// Runs `source` with every module the script instantiates sent through
/// `link` first. `Err` only when the script cannot be parsed or the store
/// cannot be set up; each directive's failure is in the [`Report`].
pub fn run(source: &str, options: &Options<'_>, link: &mut LinkStep<'_>) -> Result<Report, String> {
    let mut lexer = Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| format!("parse: {e}"))?;
    let script = parser::parse::<Wast>(&buf).map_err(|e| format!("parse: {e}"))?;

    let mut store = Store::new(options.engine, ());
    let mut imports = Linker::new(options.engine);
    set_up(&mut store, &mut imports, options).map_err(|e| format!("setting the store up: {e:?}"))?;

    let mut cx = Script {
        options,
        link,
        store,
        imports,
        current: None,
        instances: HashMap::new(),
        definitions: HashMap::new(),
        report: Report::default(),
    };
    for directive in script.directives {
        let line = directive.span().linecol_in(source).0 + 1;
        let (kind, outcome) = cx.directive(directive);
        cx.report.records.push(Record { line, directive: kind, outcome });
    }
    Ok(cx.report)
}

/// Phase 2: what every module of the script may import.
fn set_up(store: &mut Store<()>, imports: &mut Linker<()>, options: &Options<'_>) -> wasmtime::Result<()> {
    // A name registered twice (`register` again) takes the new instance.
    imports.allow_shadowing(true);
    let config = wasmtime_wast::SpectestConfig { use_shared_memory: true, suppress_prints: true };
    wasmtime_wast::link_spectest(imports, store, &config)?;
    imports.func_wrap("wasmtime", "gc", |mut caller: wasmtime::Caller<'_, ()>| caller.gc(None))?;
    (options.setup)(store, imports)
}

/// An instance of the script, with the lowered memories a single-memory
/// build exported (which are not exports of the wasm instance).
#[derive(Clone)]
struct Inst {
    instance: Instance,
    lowered: Vec<(String, Extern)>,
}

/// A linked and compiled module.
#[derive(Clone)]
struct Def {
    wasm: Vec<u8>,
    module: Module,
}

/// Why a module did not become an instance.
enum InstError {
    /// Encoding, linking or compiling failed: the module is not what the
    /// script meant, whatever the assertion.
    Prepare(String),
    /// Instantiation failed (a link error or a trap), with wasmtime's (or
    /// the lowered-memory host's) error chain.
    Instantiate(String),
}

impl InstError {
    fn message(self) -> String {
        match self {
            InstError::Prepare(m) => m,
            InstError::Instantiate(m) => format!("instantiation failed: {m}"),
        }
    }
}

/// What an invocation or a `get` gave: its values, or the error it
/// trapped or threw with.
type Outcome = Result<Vec<Val>, wasmtime::Error>;

/// The state of one script.
struct Script<'a, 'l> {
    options: &'a Options<'a>,
    link: &'a mut LinkStep<'l>,
    store: Store<()>,
    /// What modules import from: spectest, set-up, registered instances.
    imports: Linker<()>,
    current: Option<Inst>,
    /// Instances by `$id`.
    instances: HashMap<String, Inst>,
    /// `module definition`s by `$id` (`None` for an unnamed one).
    definitions: HashMap<Option<String>, Def>,
    report: Report,
}

impl Script<'_, '_> {
    /// Runs one directive.
    fn directive(&mut self, directive: WastDirective<'_>) -> (Directive, Result<(), String>) {
        match directive {
            WastDirective::Module(mut wat) => {
                let name = wat.name().map(|id| id.name().to_string());
                let result = self.prepare(&mut wat).map_err(InstError::Prepare).and_then(|def| self.instantiate(&def));
                (Directive::Module, self.set_current(name, result.map_err(InstError::message)))
            }
            WastDirective::ModuleDefinition(mut wat) => {
                let name = wat.name().map(|id| id.name().to_string());
                let result = self.prepare(&mut wat).map(|def| {
                    self.definitions.insert(name, def);
                });
                (Directive::ModuleDefinition, result)
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let key = module.map(|id| id.name().to_string());
                let result = match self.definitions.get(&key).cloned() {
                    None => Err(format!("no module definition named {key:?}")),
                    Some(def) => {
                        let result = self.instantiate(&def).map_err(InstError::message);
                        self.set_current(instance.map(|id| id.name().to_string()), result)
                    }
                };
                (Directive::ModuleInstance, result)
            }
            WastDirective::Register { name, module, .. } => (Directive::Register, self.register(name, module)),
            WastDirective::Invoke(invoke) => (
                Directive::Invoke,
                self.invoke(&invoke).and_then(|o| o.map(drop).map_err(|e| format!("trapped: {e:?}"))),
            ),
            WastDirective::AssertReturn { exec, results, .. } => {
                (Directive::AssertReturn, self.assert_return(exec, &results))
            }
            WastDirective::AssertTrap { exec: WastExecute::Wat(wat), message, .. } => {
                (Directive::AssertUninstantiable, self.assert_uninstantiable(wat, message))
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                (Directive::AssertTrap, self.execute(exec).and_then(|o| expect_trap(o, message)))
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                (Directive::AssertExhaustion, self.invoke(&call).and_then(|o| expect_trap(o, message)))
            }
            WastDirective::AssertUnlinkable { module, .. } => {
                (Directive::AssertUnlinkable, self.assert_unlinkable(module))
            }
            WastDirective::AssertInvalid { module, .. } => (Directive::AssertInvalid, self.assert_rejected(module)),
            WastDirective::AssertMalformed { module, .. } => (Directive::AssertMalformed, self.assert_rejected(module)),
            WastDirective::AssertException { exec, .. } => {
                (Directive::AssertException, self.execute(exec).and_then(|o| self.expect_exception(o)))
            }
            WastDirective::AssertInvalidCustom { .. } => unsupported("assert_invalid_custom"),
            WastDirective::AssertMalformedCustom { .. } => unsupported("assert_malformed_custom"),
            WastDirective::AssertSuspension { .. } => unsupported("assert_suspension"),
            WastDirective::Thread(_) => unsupported("thread"),
            WastDirective::Wait { .. } => unsupported("wait"),
        }
    }

    /// Makes the new instance the current one (and `$name`'s). When the
    /// module failed there is none, so that the directives meant for it
    /// fail too instead of running against an older instance.
    fn set_current(&mut self, name: Option<String>, inst: Result<Inst, String>) -> Result<(), String> {
        if let Some(name) = name {
            match &inst {
                Ok(inst) => self.instances.insert(name, inst.clone()),
                Err(_) => self.instances.remove(&name),
            };
        }
        self.current = inst.as_ref().ok().cloned();
        inst.map(drop)
    }

    /// The instance `$id`, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<&Inst, String> {
        match id {
            Some(id) => self.instances.get(id.name()).ok_or_else(|| format!("no instance named ${}", id.name())),
            None => self.current.as_ref().ok_or_else(|| "no instance yet".to_string()),
        }
    }

    /// Encodes, links and compiles a module of the script.
    fn prepare(&mut self, wat: &mut QuoteWat<'_>) -> Result<Def, String> {
        if let QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..) = wat {
            return Err("components are not supported".into());
        }
        let bytes = wat.encode().map_err(|e| format!("the wast crate cannot encode the module: {e}"))?;
        let wasm = (self.link)(&bytes).map_err(|e| format!("link error: {e}"))?;
        self.report.linked += 1;
        let module = Module::new(self.options.engine, &wasm)
            .map_err(|e| format!("the engine rejects the linked module: {e:?}"))?;
        Ok(Def { wasm, module })
    }

    /// Instantiates a linked module against the script's imports. A
    /// single-memory build first gets its lowered memories (the imported
    /// ones from the same imports) and its `multimem:memory` functions.
    fn instantiate(&mut self, def: &Def) -> Result<Inst, InstError> {
        let mut linker = self.imports.clone();
        let mut lowered = Vec::new();
        if LoweredMemories::is_single_memory(&def.wasm) {
            let memories = LoweredMemories::define(&mut self.store, &mut linker, &def.wasm, &def.module)
                .map_err(|e| InstError::Instantiate(format!("{e:?}")))?;
            lowered = memories.exports().map(|(name, m)| (name.to_string(), m.to_extern())).collect();
            if def.module.imports().any(|i| i.module() == multimem_abi::LOWERED_MODULE) {
                self.report.lowered += 1;
            }
        }
        let instance =
            linker.instantiate(&mut self.store, &def.module).map_err(|e| InstError::Instantiate(format!("{e:?}")))?;
        Ok(Inst { instance, lowered })
    }

    /// `(register "name" $id?)`: the instance's exports, lowered memories
    /// included, become importable from `name`.
    fn register(&mut self, name: &str, id: Option<Id<'_>>) -> Result<(), String> {
        let inst = self.instance(id)?.clone();
        self.imports.instance(&mut self.store, name, inst.instance).map_err(|e| format!("registering: {e:?}"))?;
        for (field, memory) in inst.lowered {
            self.imports
                .define(&self.store, name, &field, memory)
                .map_err(|e| format!("registering lowered memory `{field}`: {e:?}"))?;
        }
        Ok(())
    }

    /// Calls an export. `Err` when the call cannot be made (no such
    /// instance or function, bad arguments); `Ok(Err)` when it trapped.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Outcome, String> {
        let instance = self.instance(invoke.module)?.instance;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| format!("no function export named `{}`", invoke.name))?;
        let ty = func.ty(&self.store);
        let params: Vec<ValType> = ty.params().collect();
        if params.len() != invoke.args.len() {
            return Err(format!(
                "`{}` takes {} arguments, the script gives {}",
                invoke.name,
                params.len(),
                invoke.args.len()
            ));
        }
        let mut args = Vec::with_capacity(params.len());
        for (arg, param) in invoke.args.iter().zip(&params) {
            args.push(self.arg(arg, param)?);
        }
        let mut results = vec![Val::I32(0); ty.results().len()];
        Ok(func.call(&mut self.store, &args, &mut results).map(|()| results))
    }

    /// Runs an `invoke`, a `get` or a module of an assertion.
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Outcome, String> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?.instance;
                let g = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| format!("no global export named `{global}`"))?;
                Ok(Ok(vec![g.get(&mut self.store)]))
            }
            WastExecute::Wat(wat) => {
                let def = self.prepare(&mut QuoteWat::Wat(wat))?;
                Ok(match self.instantiate(&def) {
                    Ok(_) => Ok(Vec::new()),
                    Err(InstError::Prepare(m)) => return Err(m),
                    Err(InstError::Instantiate(m)) => Err(wasmtime::format_err!("{m}")),
                })
            }
        }
    }

    /// A script argument as a value of type `ty`.
    fn arg(&mut self, arg: &WastArg<'_>, ty: &ValType) -> Result<Val, String> {
        let WastArg::Core(arg) = arg else { return Err("component arguments are not supported".into()) };
        let store = &mut self.store;
        Ok(match arg {
            WastArgCore::I32(x) => Val::I32(*x),
            WastArgCore::I64(x) => Val::I64(*x),
            WastArgCore::F32(x) => Val::F32(x.bits),
            WastArgCore::F64(x) => Val::F64(x.bits),
            WastArgCore::V128(x) => Val::V128(u128::from_le_bytes(x.to_le_bytes()).into()),
            WastArgCore::RefNull(heap) => match abstract_top(heap) {
                Some(top) => Val::null_ref(&top),
                // A concrete type: the null of the parameter's hierarchy.
                None => match ty {
                    ValType::Ref(r) => Val::null_ref(&r.heap_type().top()),
                    _ => return Err(format!("a null reference passed for a {ty} parameter")),
                },
            },
            WastArgCore::RefExtern(n) => {
                Val::ExternRef(Some(ExternRef::new(&mut *store, *n).map_err(|e| format!("ref.extern {n}: {e:?}"))?))
            }
            WastArgCore::RefHost(n) => {
                let host = ExternRef::new(&mut *store, *n).map_err(|e| format!("ref.host {n}: {e:?}"))?;
                Val::AnyRef(Some(
                    AnyRef::convert_extern(&mut *store, host).map_err(|e| format!("ref.host {n}: {e:?}"))?,
                ))
            }
        })
    }

    /// `assert_return`: the results must match, one by one.
    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Result<(), String> {
        let actual = self.execute(exec)?.map_err(|e| format!("expected results, got an error: {e:?}"))?;
        if actual.len() != expected.len() {
            return Err(format!("expected {} results, got {}: {actual:?}", expected.len(), actual.len()));
        }
        for (i, (actual, expected)) in actual.iter().zip(expected).enumerate() {
            let WastRet::Core(expected) = expected else { return Err("component results are not supported".into()) };
            check(&mut self.store, actual, expected).map_err(|e| format!("result {i}: {e}"))?;
        }
        Ok(())
    }

    /// `assert_trap (module ...)`: the module links and compiles, and its
    /// instantiation traps with the expected message.
    fn assert_uninstantiable(&mut self, wat: Wat<'_>, message: &str) -> Result<(), String> {
        let def = self.prepare(&mut QuoteWat::Wat(wat))?;
        match self.instantiate(&def) {
            Ok(_) => Err(format!("expected instantiation to trap with `{message}`, it succeeded")),
            Err(InstError::Prepare(m)) => Err(m),
            Err(InstError::Instantiate(m)) if trap_matches(message, &m) => Ok(()),
            Err(InstError::Instantiate(m)) => Err(format!("expected a trap `{message}`, got: {m}")),
        }
    }

    /// `assert_unlinkable`: the module links (the link step) and compiles,
    /// and its instantiation fails (any message, as in the reference run).
    fn assert_unlinkable(&mut self, wat: Wat<'_>) -> Result<(), String> {
        let def = self.prepare(&mut QuoteWat::Wat(wat))?;
        match self.instantiate(&def) {
            Ok(_) => Err("expected instantiation to fail, it succeeded".into()),
            Err(InstError::Prepare(m)) => Err(m),
            Err(InstError::Instantiate(_)) => Ok(()),
        }
    }

    /// `assert_invalid` / `assert_malformed`: the module, not linked, does
    /// not encode or does not compile in the reference engine.
    fn assert_rejected(&mut self, mut wat: QuoteWat<'_>) -> Result<(), String> {
        let Ok(bytes) = wat.encode() else { return Ok(()) };
        match Module::new(self.options.reference, &bytes) {
            Ok(_) => Err("expected the module to be rejected, the reference engine compiled it".into()),
            Err(_) => Ok(()),
        }
    }

    /// `assert_exception`: the call threw a wasm exception (taken off the
    /// store, so that the next call starts clean).
    fn expect_exception(&mut self, outcome: Outcome) -> Result<(), String> {
        match outcome {
            Ok(values) => Err(format!("expected an exception, got {values:?}")),
            Err(e) if e.is::<ThrownException>() => {
                self.store.take_pending_exception().ok_or("a thrown exception left nothing pending")?;
                Ok(())
            }
            Err(e) => Err(format!("expected an exception, got: {e:?}")),
        }
    }
}

/// An unsupported directive's record.
fn unsupported(name: &str) -> (Directive, Result<(), String>) {
    (Directive::Unsupported, Err(format!("`{name}` is not supported by this runner")))
}

/// `assert_trap` / `assert_exhaustion` of a call: it trapped with the
/// expected message.
fn expect_trap(outcome: Outcome, expected: &str) -> Result<(), String> {
    match outcome {
        Ok(values) => Err(format!("expected a trap `{expected}`, got {values:?}")),
        Err(e) => {
            let actual = format!("{e:?}");
            if trap_matches(expected, &actual) {
                Ok(())
            } else {
                Err(format!("expected a trap `{expected}`, got: {actual}"))
            }
        }
    }
}

/// Whether wasmtime's error chain `actual` is the trap the spec calls
/// `expected`. It must contain `expected`, except where wasmtime words a
/// trap differently:
/// - the spec's `uninitialized element N` names the index; wasmtime's
///   `uninitialized element` does not;
/// - the spec's `null function reference`, `null structure reference`,
///   `null array reference`, `null i31 reference` are wasmtime's
///   `null reference` (and a `call_indirect` or `call_ref` through a null
///   function is `uninitialized element` there).
pub fn trap_matches(expected: &str, actual: &str) -> bool {
    if actual.contains(expected) {
        return true;
    }
    if let Some(index) = expected.strip_prefix("uninitialized element ")
        && index.bytes().all(|b| b.is_ascii_digit())
    {
        return actual.contains("uninitialized element");
    }
    if expected.starts_with("null ") && expected.ends_with(" reference") {
        return actual.contains("null reference")
            || (expected == "null function reference" && actual.contains("uninitialized element"));
    }
    false
}

/// The top of an abstract heap type's hierarchy (`None` for a concrete
/// type, whose hierarchy the script does not say, and for continuations,
/// which wasmtime does not have).
fn abstract_top(heap: &wast::core::HeapType<'_>) -> Option<HeapType> {
    use AbstractHeapType as A;
    match heap {
        wast::core::HeapType::Abstract { ty, shared: false } => match ty {
            A::Func | A::NoFunc => Some(HeapType::Func),
            A::Extern | A::NoExtern => Some(HeapType::Extern),
            A::Any | A::Eq | A::Struct | A::Array | A::I31 | A::None => Some(HeapType::Any),
            A::Exn | A::NoExn => Some(HeapType::Exn),
            A::Cont | A::NoCont => None,
        },
        _ => None,
    }
}

/// Whether `actual` is a null reference of `expected`'s hierarchy (any
/// hierarchy for `None` and concrete types).
fn is_null_of(actual: &Val, expected: Option<&wast::core::HeapType<'_>>) -> bool {
    let top = expected.and_then(abstract_top);
    match actual {
        Val::FuncRef(None) => top.is_none_or(|t| matches!(t, HeapType::Func)),
        Val::ExternRef(None) => top.is_none_or(|t| matches!(t, HeapType::Extern)),
        Val::AnyRef(None) => top.is_none_or(|t| matches!(t, HeapType::Any)),
        Val::ExnRef(None) => top.is_none_or(|t| matches!(t, HeapType::Exn)),
        _ => false,
    }
}

/// Checks one result against the script's expectation.
fn check(store: &mut Store<()>, actual: &Val, expected: &WastRetCore<'_>) -> Result<(), String> {
    let mismatch = || Err(format!("expected {}, got {}", describe(expected), show(actual)));
    let ok = |cond: bool| if cond { Ok(()) } else { mismatch() };
    match (expected, actual) {
        (WastRetCore::Either(options), _) => {
            if options.iter().any(|e| check(store, actual, e).is_ok()) {
                Ok(())
            } else {
                mismatch()
            }
        }
        (WastRetCore::I32(e), Val::I32(a)) => ok(a == e),
        (WastRetCore::I64(e), Val::I64(a)) => ok(a == e),
        (WastRetCore::F32(e), Val::F32(a)) => ok(f32_matches(*a, e)),
        (WastRetCore::F64(e), Val::F64(a)) => ok(f64_matches(*a, e)),
        (WastRetCore::V128(e), Val::V128(a)) => ok(v128_matches(a.as_u128(), e)),
        (WastRetCore::RefNull(heap), _) => ok(is_null_of(actual, heap.as_ref())),
        (WastRetCore::RefFunc(_), Val::FuncRef(a)) => ok(a.is_some()),
        (WastRetCore::RefExtern(None), Val::ExternRef(a)) => ok(a.is_some()),
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(a))) => {
            let data = a.data(&*store).map_err(|e| format!("reading an externref: {e:?}"))?;
            ok(data.and_then(|d| d.downcast_ref::<u32>()) == Some(n))
        }
        (WastRetCore::RefHost(n), Val::AnyRef(Some(a))) => {
            let Ok(host) = ExternRef::convert_any(&mut *store, *a) else { return mismatch() };
            let data = host.data(&*store).map_err(|e| format!("reading an anyref's host data: {e:?}"))?;
            ok(data.and_then(|d| d.downcast_ref::<u32>()) == Some(n))
        }
        (WastRetCore::RefAny, Val::AnyRef(a)) => ok(a.is_some()),
        (
            WastRetCore::RefEq | WastRetCore::RefStruct | WastRetCore::RefArray | WastRetCore::RefI31,
            Val::AnyRef(Some(a)),
        ) => {
            let is = match expected {
                WastRetCore::RefEq => a.is_eqref(&*store),
                WastRetCore::RefStruct => a.is_struct(&*store),
                WastRetCore::RefArray => a.is_array(&*store),
                _ => a.is_i31(&*store),
            };
            ok(is.map_err(|e| format!("inspecting an anyref: {e:?}"))?)
        }
        (WastRetCore::RefI31Shared, _) => Err("shared i31 references are not supported".into()),
        _ => mismatch(),
    }
}

/// `actual` (raw bits) matches a float pattern: bit-exact, or the NaN
/// class. Canonical NaN: exponent all ones, only the quiet bit of the
/// payload set, either sign. Arithmetic NaN: exponent all ones and the
/// quiet bit set.
fn f32_matches(actual: u32, expected: &NanPattern<wast::token::F32>) -> bool {
    match expected {
        NanPattern::Value(v) => actual == v.bits,
        NanPattern::CanonicalNan => actual & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => actual & 0x7fc0_0000 == 0x7fc0_0000,
    }
}

/// [`f32_matches`] for `f64`.
fn f64_matches(actual: u64, expected: &NanPattern<wast::token::F64>) -> bool {
    match expected {
        NanPattern::Value(v) => actual == v.bits,
        NanPattern::CanonicalNan => actual & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => actual & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
    }
}

/// `actual` matches a `v128` pattern lane by lane (lane 0 in the low
/// bits).
fn v128_matches(actual: u128, expected: &V128Pattern) -> bool {
    let lane = |bits: u32, i: usize| (actual >> (bits as usize * i)) & (u128::MAX >> (128 - bits));
    match expected {
        V128Pattern::I8x16(v) => v.iter().enumerate().all(|(i, x)| lane(8, i) == u128::from(*x as u8)),
        V128Pattern::I16x8(v) => v.iter().enumerate().all(|(i, x)| lane(16, i) == u128::from(*x as u16)),
        V128Pattern::I32x4(v) => v.iter().enumerate().all(|(i, x)| lane(32, i) == u128::from(*x as u32)),
        V128Pattern::I64x2(v) => v.iter().enumerate().all(|(i, x)| lane(64, i) == u128::from(*x as u64)),
        V128Pattern::F32x4(v) => v.iter().enumerate().all(|(i, x)| f32_matches(lane(32, i) as u32, x)),
        V128Pattern::F64x2(v) => v.iter().enumerate().all(|(i, x)| f64_matches(lane(64, i) as u64, x)),
    }
}

/// A short description of an expected result, for messages.
fn describe(expected: &WastRetCore<'_>) -> String {
    match expected {
        WastRetCore::I32(x) => format!("i32 {x}"),
        WastRetCore::I64(x) => format!("i64 {x}"),
        WastRetCore::F32(NanPattern::Value(x)) => format!("f32 {} ({:#010x})", f32::from_bits(x.bits), x.bits),
        WastRetCore::F64(NanPattern::Value(x)) => format!("f64 {} ({:#018x})", f64::from_bits(x.bits), x.bits),
        WastRetCore::F32(NanPattern::CanonicalNan) | WastRetCore::F64(NanPattern::CanonicalNan) => {
            "nan:canonical".into()
        }
        WastRetCore::F32(NanPattern::ArithmeticNan) | WastRetCore::F64(NanPattern::ArithmeticNan) => {
            "nan:arithmetic".into()
        }
        WastRetCore::Either(options) => {
            format!("either of [{}]", options.iter().map(describe).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// A short description of an actual value, for messages.
fn show(actual: &Val) -> String {
    match actual {
        Val::I32(x) => format!("i32 {x}"),
        Val::I64(x) => format!("i64 {x}"),
        Val::F32(x) => format!("f32 {} ({x:#010x})", f32::from_bits(*x)),
        Val::F64(x) => format!("f64 {} ({x:#018x})", f64::from_bits(*x)),
        Val::V128(x) => format!("v128 {:#034x}", x.as_u128()),
        Val::FuncRef(f) => if f.is_some() { "a funcref" } else { "ref.null func" }.into(),
        Val::ExternRef(r) => if r.is_some() { "an externref" } else { "ref.null extern" }.into(),
        Val::AnyRef(r) => if r.is_some() { "an anyref" } else { "ref.null any" }.into(),
        Val::ExnRef(r) => if r.is_some() { "an exnref" } else { "ref.null exn" }.into(),
        Val::ContRef(_) => "a contref".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(multi_memory: bool) -> Engine {
        let mut config = multimem_test_harness::engine::full_config();
        config.wasm_multi_memory(multi_memory);
        Engine::new(&config).unwrap()
    }

    fn no_setup(_: &mut Store<()>, _: &mut Linker<()>) -> wasmtime::Result<()> {
        Ok(())
    }

    /// Runs `source` unlinked in the full engine.
    fn run_plain(source: &str) -> Report {
        let engine = engine(true);
        let options = Options { engine: &engine, reference: &engine, setup: &no_setup };
        run(source, &options, &mut |b| Ok(b.to_vec())).unwrap()
    }

    /// (line, passed) of every record.
    fn outcomes(report: &Report) -> Vec<(usize, bool)> {
        report.records.iter().map(|r| (r.line, r.outcome.is_ok())).collect()
    }

    #[test]
    fn numbers_nans_and_vectors_are_matched_exactly() {
        let report = run_plain(
            r#"(module
  (func (export "i") (param i32 i64) (result i32 i64) local.get 0 local.get 1)
  (func (export "f") (param f32 f64) (result f32 f64) local.get 0 local.get 1)
  (func (export "nan") (result f32 f64) f32.const nan f64.const nan:0x8000000000004)
  (func (export "v") (param v128) (result v128) local.get 0))
(assert_return (invoke "i" (i32.const -1) (i64.const 5)) (i32.const -1) (i64.const 5))
(assert_return (invoke "i" (i32.const 1) (i64.const 5)) (i32.const 2) (i64.const 5))
(assert_return (invoke "f" (f32.const -0.0) (f64.const 1.5)) (f32.const -0.0) (f64.const 1.5))
(assert_return (invoke "f" (f32.const -0.0) (f64.const 1.5)) (f32.const 0.0) (f64.const 1.5))
(assert_return (invoke "nan") (f32.const nan:canonical) (f64.const nan:arithmetic))
(assert_return (invoke "nan") (f32.const nan:arithmetic) (f64.const nan:canonical))
(assert_return (invoke "v" (v128.const i32x4 1 2 3 -4)) (v128.const i16x8 1 0 2 0 3 0 -4 -1))
(assert_return (invoke "v" (v128.const i32x4 1 2 3 -4)) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "v" (v128.const f32x4 nan 1 2 3)) (v128.const f32x4 nan:canonical 1 2 3))
(assert_return (invoke "v" (v128.const i64x2 1 2)) (either (v128.const i64x2 2 1) (v128.const i8x16 1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0)))
"#,
        );
        let expect = [(1, true), (6, true), (7, false), (8, true), (9, false), (10, true), (11, false)];
        assert_eq!(outcomes(&report)[..7], expect, "{report:#?}");
        assert_eq!(outcomes(&report)[7..], [(12, true), (13, false), (14, true), (15, true)], "{report:#?}");
        assert_eq!((report.assertions().count(), report.passed_assertions()), (10, 6));
    }

    #[test]
    fn references_are_matched_by_kind_and_host_value() {
        let report = run_plain(
            r#"(module
  (type $s (struct (field i32)))
  (type $a (array i8))
  (func $f (export "id-extern") (param externref) (result externref) local.get 0)
  (func (export "id-any") (param anyref) (result anyref) local.get 0)
  (func (export "func") (result funcref) ref.func $f)
  (func (export "struct") (result anyref) (struct.new $s (i32.const 1)))
  (func (export "array") (result anyref) (array.new_default $a (i32.const 1)))
  (func (export "i31") (result anyref) (ref.i31 (i32.const 1)))
  (func (export "null-func") (result funcref) ref.null nofunc))
(assert_return (invoke "id-extern" (ref.extern 7)) (ref.extern 7))
(assert_return (invoke "id-extern" (ref.extern 7)) (ref.extern 8))
(assert_return (invoke "id-extern" (ref.null extern)) (ref.null extern))
(assert_return (invoke "id-extern" (ref.null extern)) (ref.null func))
(assert_return (invoke "id-any" (ref.host 3)) (ref.host 3))
(assert_return (invoke "id-any" (ref.host 3)) (ref.host 4))
(assert_return (invoke "func") (ref.func))
(assert_return (invoke "struct") (ref.struct))
(assert_return (invoke "struct") (ref.array))
(assert_return (invoke "array") (ref.array))
(assert_return (invoke "i31") (ref.i31))
(assert_return (invoke "i31") (ref.eq))
(assert_return (invoke "i31") (ref.any))
(assert_return (invoke "null-func") (ref.null))
(assert_return (invoke "null-func") (ref.func))
"#,
        );
        let passed: Vec<bool> = report.assertions().map(|r| r.outcome.is_ok()).collect();
        let expect = [true, false, true, false, true, false, true, true, false, true, true, true, true, true, false];
        assert_eq!(passed, expect, "{report:#?}");
    }

    #[test]
    fn traps_exhaustion_and_engine_rejections_are_told_apart() {
        let report = run_plain(
            r#"(module (memory 1)
  (func (export "oob") (result i32) (i32.load (i32.const 65536)))
  (func $r (export "rec") (call $r))
  (func (export "ok")))
(assert_trap (invoke "oob") "out of bounds memory access")
(assert_trap (invoke "oob") "integer divide by zero")
(assert_trap (invoke "ok") "unreachable")
(assert_exhaustion (invoke "rec") "call stack exhausted")
(assert_trap (module (memory 1) (data (i32.const 65535) "ab")) "out of bounds memory access")
(assert_trap (module (memory 1) (data (i32.const 0) "ab")) "out of bounds memory access")
(assert_unlinkable (module (import "spectest" "nothing" (func))) "unknown import")
(assert_unlinkable (module (import "spectest" "print" (func))) "unknown import")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func)) "type mismatch")
(assert_malformed (module quote "(func") "unexpected end")
(invoke "oob")
"#,
        );
        let got: Vec<(Directive, bool)> = report.records.iter().map(|r| (r.directive, r.outcome.is_ok())).collect();
        use Directive as D;
        let expect = [
            (D::Module, true),
            (D::AssertTrap, true),
            (D::AssertTrap, false),
            (D::AssertTrap, false),
            (D::AssertExhaustion, true),
            (D::AssertUninstantiable, true),
            (D::AssertUninstantiable, false),
            (D::AssertUnlinkable, true),
            (D::AssertUnlinkable, false),
            (D::AssertInvalid, true),
            (D::AssertInvalid, false),
            (D::AssertMalformed, true),
            (D::Invoke, false),
        ];
        assert_eq!(got, expect, "{report:#?}");
        assert_eq!(report.linked, 5, "the modules of assert_invalid and assert_malformed are not linked");
    }

    #[test]
    fn registered_instances_definitions_and_globals() {
        let report = run_plain(
            r#"(module $a (global (export "g") (mut i32) (i32.const 4)) (func (export "set") (global.set 0 (i32.const 9))))
(register "a")
(module definition $d (import "a" "g" (global (mut i32))) (func (export "get") (result i32) (global.get 0)))
(module instance $i $d)
(assert_return (invoke $i "get") (i32.const 4))
(invoke $a "set")
(assert_return (get $a "g") (i32.const 9))
(assert_return (invoke $i "get") (i32.const 9))
(assert_return (invoke $nope "get") (i32.const 9))
(module $i (func (result i32)))
(assert_return (invoke "get") (i32.const 9))
(assert_return (invoke $i "get") (i32.const 9))
(thread $t (module))
"#,
        );
        let passed: Vec<(usize, bool)> = outcomes(&report);
        let expect =
            [(1, true), (2, true), (3, true), (4, true), (5, true), (6, true), (7, true), (8, true), (9, false)];
        assert_eq!(passed[..9], expect, "{report:#?}");
        // A module that fails leaves no current instance, and takes its name.
        assert_eq!(passed[9..12], [(10, false), (11, false), (12, false)], "{report:#?}");
        assert_eq!(report.records[12].directive, Directive::Unsupported);
        assert!(report.records[12].outcome.is_err());
    }

    #[test]
    fn trap_wording_differences() {
        assert!(trap_matches("uninitialized element 2", "wasm trap: uninitialized element"));
        assert!(trap_matches("null structure reference", "wasm trap: null reference"));
        assert!(trap_matches("null function reference", "wasm trap: uninitialized element"));
        assert!(!trap_matches("null array reference", "wasm trap: out of bounds array access"));
        assert!(!trap_matches("uninitialized element x", "wasm trap: uninitialized element"));
        assert!(trap_matches("unreachable", "wasm trap: wasm `unreachable` instruction executed"));
    }

    /// The single-memory path: a module whose second memory is lowered,
    /// exported, registered, and imported by the next module as its own
    /// lowered memory; both see the same bytes, and traps stay traps.
    #[test]
    fn single_memory_builds_share_registered_lowered_memories() {
        let source = r#"(module $m
  (memory $a 1) (memory $b (export "b") 1 2)
  (data (memory $b) (i32.const 8) "\2a")
  (func (export "load") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 $b (local.get 0) (local.get 1)))
  (func (export "grow") (result i32) (memory.grow $b (i32.const 1))))
(register "m" $m)
(module $n
  (import "spectest" "memory" (memory $own 1)) (import "m" "b" (memory $b 1))
  (func (export "load") (param i32) (result i32) (i32.load8_u $b (local.get 0))))
(assert_return (invoke $n "load" (i32.const 8)) (i32.const 42))
(invoke $m "store" (i32.const 9) (i32.const 7))
(assert_return (invoke $n "load" (i32.const 9)) (i32.const 7))
(assert_return (invoke $m "grow") (i32.const 1))
(assert_return (invoke $n "load" (i32.const 70000)) (i32.const 0))
(assert_trap (invoke $m "load" (i32.const 131072)) "out of bounds memory access")
(assert_unlinkable (module (import "spectest" "memory" (memory 1)) (import "m" "nothing" (memory 1))) "unknown import")
"#;
        let single = engine(false);
        let full = engine(true);
        let options = Options { engine: &single, reference: &full, setup: &no_setup };
        let mut link = |bytes: &[u8]| -> Result<Vec<u8>, String> {
            let mut linker = multimem_linker::Linker::new(multimem_linker::Config::default().single_memory(true));
            linker.add_module("spec", bytes).map_err(|e| e.to_string())?;
            linker.link().map(|o| o.wasm).map_err(|e| e.to_string())
        };
        let report = run(source, &options, &mut link).unwrap();
        let failures: Vec<_> = report.failures().collect();
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(report.lowered, 2, "both instantiated modules call lowered memories");
        // Without a link step, the engine with multi-memory off refuses them.
        let report = run(source, &options, &mut |b| Ok(b.to_vec())).unwrap();
        assert!(report.records[0].outcome.as_ref().is_err_and(|e| e.contains("rejects")), "{report:#?}");
    }
}
