//! The shared builds' last step: lowering the build-internal
//! `multimem:instance` imports (see `runtime/src/instance.rs`) and
//! checking that no code uses the shadow stack.
//!
//! Phases:
//! 1. scan: which function imports come from `multimem:instance` and what
//!    each stands for (`NAME_get`/`NAME_set`: a per-instance global `NAME`;
//!    `wait32`, `notify`: the atomic instructions on memory 0), whether the
//!    memory is shared, which function is the start function;
//! 2. rewrite (wasm-encoder's `Reencode`): those imports are dropped and
//!    every other function index moves down past them; each `call` of one
//!    becomes its instruction; one new mutable `i32` global (initially 0)
//!    per `NAME` is appended; in the start function (wasm-ld's
//!    `__wasm_init_memory`), `memory.atomic.wait32` becomes a call of an
//!    appended function that spins instead, because a browser's main thread
//!    may be the instance that runs it while another one initialises, and
//!    there the wait would trap;
//! 3. check: in a module with a shared memory no function may read or write
//!    the shadow stack pointer (global 0, wasm-ld's `__stack_pointer`):
//!    every instance has its own copy of it with the same value, so frames
//!    of two threads would overlap. The build fails, naming the function.
//!
//! A module with neither such imports nor a shared memory is returned
//! unchanged, byte for byte.

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{Instruction, MemArg};
use wasmparser::{Operator, Parser, Payload, TypeRef};

/// The build-internal module (`multimem_runtime::instance::INSTANCE_MODULE`).
const INSTANCE_MODULE: &str = "multimem:instance";

/// What a `multimem:instance` import stands for.
#[derive(Clone, Copy, Debug)]
enum Marker {
    /// `global.get` of the per-instance global with this number (0-based
    /// among the new globals).
    Get(u32),
    /// `global.set` of it.
    Set(u32),
    Wait32,
    Notify,
}

struct Scan {
    /// Per function index (imports first): `Some` for a marker import.
    markers: Vec<Option<Marker>>,
    /// Names of the new globals, in number order.
    globals: Vec<String>,
    /// Globals before the new ones (imported and defined).
    old_globals: u32,
    /// Functions before the new ones, counting the markers.
    old_functions: u32,
    /// Type index of `wait32`'s signature, if imported.
    wait_type: Option<u32>,
    start: Option<u32>,
    shared_memory: bool,
}

fn scan(wasm: &[u8]) -> Scan {
    let mut s = Scan {
        markers: Vec::new(),
        globals: Vec::new(),
        old_globals: 0,
        old_functions: 0,
        wait_type: None,
        start: None,
        shared_memory: false,
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("runtime.wasm does not parse") {
            Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    let import = import.expect("runtime.wasm: bad import");
                    match import.ty {
                        TypeRef::Func(ty) => {
                            let marker = (import.module == INSTANCE_MODULE).then(|| marker(&mut s, import.name, ty));
                            s.markers.push(marker);
                        }
                        TypeRef::Global(_) => s.old_globals += 1,
                        TypeRef::Memory(m) => s.shared_memory |= m.shared,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(r) => s.markers.extend((0..r.count()).map(|_| None)),
            Payload::GlobalSection(r) => s.old_globals += r.count(),
            Payload::MemorySection(r) => {
                for m in r {
                    s.shared_memory |= m.expect("runtime.wasm: bad memory").shared;
                }
            }
            Payload::StartSection { func, .. } => s.start = Some(func),
            _ => {}
        }
    }
    s.old_functions = s.markers.len() as u32;
    s
}

fn marker(s: &mut Scan, name: &str, ty: u32) -> Marker {
    let mut global = |base: &str| match s.globals.iter().position(|g| g == base) {
        Some(i) => i as u32,
        None => {
            s.globals.push(base.to_string());
            s.globals.len() as u32 - 1
        }
    };
    if let Some(base) = name.strip_suffix("_get") {
        Marker::Get(global(base))
    } else if let Some(base) = name.strip_suffix("_set") {
        Marker::Set(global(base))
    } else if name == "wait32" {
        s.wait_type = Some(ty);
        Marker::Wait32
    } else if name == "notify" {
        Marker::Notify
    } else {
        panic!("runtime.wasm imports `{INSTANCE_MODULE}.{name}`, which runtime/bundle does not know how to lower")
    }
}

struct Lower<'s> {
    scan: &'s Scan,
    /// Old function index -> new (markers: unused).
    new_index: Vec<u32>,
    /// Index of the appended spinning wait, if any.
    spin: Option<u32>,
    /// Old index of the function being rewritten.
    current: u32,
}

const WORD: MemArg = MemArg { offset: 0, align: 2, memory_index: 0 };

impl Reencode for Lower<'_> {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<Self::Error>> {
        if func < self.scan.old_functions {
            assert!(
                self.scan.markers[func as usize].is_none(),
                "runtime.wasm refers to a `{INSTANCE_MODULE}` import other than by a call"
            );
            Ok(self.new_index[func as usize])
        } else {
            Ok(func)
        }
    }

    fn parse_imports(
        &mut self,
        section: &mut wasm_encoder::ImportSection,
        imports: wasmparser::Imports<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        let wasmparser::Imports::Single(_, import) = imports else {
            return reencode::utils::parse_imports(self, section, imports);
        };
        if import.module != INSTANCE_MODULE {
            section.import(import.module, import.name, self.entity_type(import.ty)?);
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_function_section(self, functions, section)?;
        if self.spin.is_some() {
            functions.function(self.scan.wait_type.expect("wait32's type"));
        }
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut wasm_encoder::GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_global_section(self, globals, section)?;
        for _ in &self.scan.globals {
            let ty = wasm_encoder::GlobalType { val_type: wasm_encoder::ValType::I32, mutable: true, shared: false };
            globals.global(ty, &wasm_encoder::ConstExpr::i32_const(0));
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        let imported = self.scan.old_functions - section.count();
        for (i, body) in section.into_iter().enumerate() {
            self.current = imported + i as u32;
            self.parse_function_body(code, body?)?;
        }
        if self.spin.is_some() {
            code.function(&spin_body());
        }
        Ok(())
    }

    fn instruction<'a>(&mut self, op: Operator<'a>) -> Result<Instruction<'a>, reencode::Error<Self::Error>> {
        let global = |n: u32| self.scan.old_globals + n;
        match op {
            Operator::Call { function_index } if function_index < self.scan.old_functions => {
                match self.scan.markers[function_index as usize] {
                    Some(Marker::Get(n)) => return Ok(Instruction::GlobalGet(global(n))),
                    Some(Marker::Set(n)) => return Ok(Instruction::GlobalSet(global(n))),
                    Some(Marker::Wait32) => return Ok(Instruction::MemoryAtomicWait32(WORD)),
                    Some(Marker::Notify) => return Ok(Instruction::MemoryAtomicNotify(WORD)),
                    None => {}
                }
            }
            Operator::MemoryAtomicWait32 { .. } if Some(self.current) == self.scan.start => {
                if let Some(spin) = self.spin {
                    return Ok(Instruction::Call(spin));
                }
                panic!("runtime.wasm's start function waits, but there is no wait32 signature to give a spinning wait");
            }
            Operator::GlobalGet { global_index: 0 } | Operator::GlobalSet { global_index: 0 }
                if self.scan.shared_memory =>
            {
                panic!(
                    "runtime.wasm (a shared build): function {} uses the shadow stack pointer (global 0), which every \
                     instance has its own copy of with the same value, so two threads' frames would overlap; keep \
                     large values out of memory in that function (docs/ABI.md, \"Threads\")",
                    self.current
                );
            }
            _ => {}
        }
        reencode::utils::instruction(self, op)
    }
}

/// `(addr, expected, timeout) -> 1`: spins while the word at `addr` is
/// `expected`, then answers "not equal", as `memory.atomic.wait32` does
/// for a word that has changed.
fn spin_body() -> wasm_encoder::Function {
    let mut f = wasm_encoder::Function::new([]);
    f.instruction(&Instruction::Loop(wasm_encoder::BlockType::Empty))
        .instruction(&Instruction::LocalGet(0))
        .instruction(&Instruction::I32AtomicLoad(WORD))
        .instruction(&Instruction::LocalGet(1))
        .instruction(&Instruction::I32Eq)
        .instruction(&Instruction::BrIf(0))
        .instruction(&Instruction::End)
        .instruction(&Instruction::I32Const(1))
        .instruction(&Instruction::End);
    f
}

/// The module with its `multimem:instance` imports lowered (see the module
/// docs); `wasm` itself when there is nothing to do.
pub fn lower(wasm: &[u8]) -> Vec<u8> {
    let scan = scan(wasm);
    if !scan.shared_memory && scan.markers.iter().all(Option::is_none) {
        return wasm.to_vec();
    }
    let mut new_index = Vec::with_capacity(scan.markers.len());
    let mut next = 0;
    for m in &scan.markers {
        new_index.push(next);
        if m.is_none() {
            next += 1;
        }
    }
    let spin = scan.wait_type.map(|_| next);
    let mut lower = Lower { scan: &scan, new_index, spin, current: 0 };
    let mut module = wasm_encoder::Module::new();
    lower.parse_core_module(&mut module, Parser::new(0), wasm).expect("rewriting runtime.wasm");
    let out = module.finish();
    if let Err(e) = wasmparser::Validator::new().validate_all(&out) {
        panic!("runtime.wasm after lowering `{INSTANCE_MODULE}` does not validate: {e}");
    }
    out
}
