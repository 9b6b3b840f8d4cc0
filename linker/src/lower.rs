//! Intrinsic lowering: what each `call` of a `multimem:intrinsics` import
//! becomes in the output (docs/ABI.md, "Intrinsics"). This is the one
//! place that decides it: the code phase (`code.rs`) only splices in the
//! bytes chosen here, so another lowering (the single-memory build) plugs
//! in by choosing other bytes for the same calls.
//!
//! In a multi-memory link each intrinsic becomes its instruction with the
//! memory roles resolved to output indices (`roles.rs`, `layout.rs`):
//! `memory_copy_external_own` is `memory.copy $external $own`, and so on.
//! Intrinsics that no live code calls are not lowered (nothing needs
//! their memories).

use multimem_abi::{Intrinsic, MemoryRole, Op};
use wasm_encoder::{Encode, EntityType, Instruction, MemArg};

use crate::error::{Error, ErrorKind};
use crate::gc::Live;
use crate::layout::Layout;
use crate::parse::{Kind, Parsed};
use crate::resolve::{Resolution, Target, describe_memory};

/// Per input, per imported function: the encoded instruction a `call` of
/// it becomes, for intrinsics that live code calls.
pub(crate) type Lowered = Vec<Vec<Option<Vec<u8>>>>;

/// Whether each output memory is 64-bit, and how to name it in messages.
fn output_memories(parsed: &[Parsed<'_>], resolution: &Resolution, layout: &Layout) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for x in &resolution.externals[Kind::Memory as usize] {
        if let EntityType::Memory(mt) = &x.ty {
            out.push((mt.memory64, format!("import `{}.{}`", x.module, x.name)));
        }
    }
    for &(m, d) in &layout.memories {
        out.push((parsed[m].memories[d as usize].memory64, describe_memory(&parsed[m].memories[d as usize])));
    }
    if layout.private_memory {
        out.push((false, "private empty memory".to_string()));
    }
    out
}

/// Lowers every live intrinsic import of every input (see the module docs).
pub(crate) fn intrinsics(
    parsed: &[Parsed<'_>],
    resolution: &Resolution,
    layout: &Layout,
    live: &Live,
) -> Result<Lowered, Error> {
    let memories = output_memories(parsed, resolution, layout);
    let mut lowered = Vec::with_capacity(parsed.len());
    for (m, p) in parsed.iter().enumerate() {
        let mut low = vec![None; p.num_imported(Kind::Func) as usize];
        for (i, slot) in low.iter_mut().enumerate() {
            let Target::Intrinsic(intr) = resolution.targets[m][Kind::Func as usize][i] else { continue };
            if !live.calls[m][i] {
                continue;
            }
            let mut mems = Vec::with_capacity(2);
            for &role in intr.memories {
                let idx = role_memory(p, m, intr, role, layout)?;
                if let Some((true, what)) = memories.get(idx as usize) {
                    return Err(Error::new(
                        ErrorKind::IntrinsicMisuse,
                        format!(
                            "module `{}` calls intrinsic `{}`, whose {role:?} memory resolves to the 64-bit {what}; intrinsics take i32 addresses",
                            p.name, intr.name
                        ),
                    ));
                }
                mems.push(idx);
            }
            let mut code = Vec::with_capacity(8);
            instruction(intr, &mems).encode(&mut code);
            *slot = Some(code);
        }
        lowered.push(low);
    }
    Ok(lowered)
}

/// The output memory that `role` means for a call in input `p` (number
/// `m`): the resolved role, or for `own` without a runtime input the
/// caller's own defined memory 0.
fn role_memory(p: &Parsed<'_>, m: usize, intr: &Intrinsic, role: MemoryRole, layout: &Layout) -> Result<u32, Error> {
    match role {
        MemoryRole::External => layout
            .external_memory
            .ok_or_else(|| Error::internal(format_args!("the external memory of `{}` is unresolved", intr.name))),
        MemoryRole::Own => {
            if let Some(idx) = layout.own_memory {
                return Ok(idx);
            }
            // No runtime input: only the module defining its memory 0 can
            // be the runtime (linked under another name). An app whose
            // memory 0 is imported (`env.memory`) must not get it.
            if p.num_imported(Kind::Memory) == 0 && p.num_defined(Kind::Memory) > 0 {
                return Ok(layout.maps[m].items[Kind::Memory as usize][0]);
            }
            Err(Error::new(
                ErrorKind::IntrinsicMisuse,
                format!(
                    "module `{}` imports intrinsic `{}`, which needs the runtime's own memory, but no input named `{}` exports `{}`{}; pass --own-memory MODULE.FIELD",
                    p.name,
                    intr.name,
                    crate::config::RUNTIME_MODULE,
                    multimem_abi::MEMORY_EXPORT,
                    if p.num_total(Kind::Memory) == 0 {
                        format!(" and module `{}` has no memory", p.name)
                    } else {
                        format!(" and module `{}` imports its memory 0 rather than defining it", p.name)
                    },
                ),
            ))
        }
    }
}

/// The instruction intrinsic `intr` stands for, on memories `mems` (in the
/// order of its `memories` column).
pub(crate) fn instruction(intr: &Intrinsic, mems: &[u32]) -> Instruction<'static> {
    let memarg = |mem: u32| MemArg { offset: 0, align: intr.align, memory_index: mem };
    match intr.op {
        Op::MemoryCopy => Instruction::MemoryCopy { dst_mem: mems[0], src_mem: mems[1] },
        Op::MemoryFill => Instruction::MemoryFill(mems[0]),
        Op::MemorySize => Instruction::MemorySize(mems[0]),
        Op::I32Load8U => Instruction::I32Load8U(memarg(mems[0])),
        Op::I32Store8 => Instruction::I32Store8(memarg(mems[0])),
        Op::I32Load => Instruction::I32Load(memarg(mems[0])),
        Op::I32Store => Instruction::I32Store(memarg(mems[0])),
        Op::I64Load => Instruction::I64Load(memarg(mems[0])),
        Op::I64Store => Instruction::I64Store(memarg(mems[0])),
        Op::F32Load => Instruction::F32Load(memarg(mems[0])),
        Op::F32Store => Instruction::F32Store(memarg(mems[0])),
        Op::F64Load => Instruction::F64Load(memarg(mems[0])),
        Op::F64Store => Instruction::F64Store(memarg(mems[0])),
        Op::I32AtomicRmwAdd => Instruction::I32AtomicRmwAdd(memarg(mems[0])),
    }
}
