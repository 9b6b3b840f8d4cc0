//! Exported functions (`export T f(...)`) as the host calls them. Numbers
//! pass as they are (`int` i64, `double` f64, `bool` i32). A typed-data
//! parameter is three i32s, `(buffer, offsetInBytes, length)`, *borrowed*
//! from the host for the call (the host keeps its reference until the call
//! returns); a typed-data result is the same three i32s with one reference
//! that the host now owns (and releases, e.g. through a multimem-host
//! handle: `Runtime::adopt`). `List<T>` cannot cross.
//!
//! The wrapper checks each view with the runtime's `view_check` and traps
//! before touching a bad one. A parameter the function only borrows
//! ([`crate::escape`]) becomes an object with no token; one it may keep
//! gets a reference of its own (the inline retain) owned by a new token
//! (`docs/ABI.md`: "a second token for the same buffer ... an address the
//! host hands in"). A result the function owns by token is retained inline
//! for the host; a fresh result hands its only reference over.

use super::func::FnGen;
use super::types::{Ty, list_field as F};
use super::{GLOBAL_EXPORT_PREFIX, Module};
use crate::ast::Pos;
use anyhow::{Result, bail};
use wasm_encoder::{HeapType, Instruction as I, ValType};

/// Refuses export names the linked module or the host already use.
pub(crate) fn check_name(name: &str, pos: Pos) -> Result<()> {
    if name == "main" || name == multimem_abi::MEMORY_EXPORT || multimem_abi::export(name).is_some() {
        bail!(
            "{pos}: `{name}` cannot be exported: the linked module already exports that name (main, or the runtime's)"
        );
    }
    if name.starts_with(GLOBAL_EXPORT_PREFIX) {
        bail!("{pos}: `{name}` cannot be exported: `{GLOBAL_EXPORT_PREFIX}*` names the program's globals");
    }
    Ok(())
}

/// The index to export for function `name`: the function itself when only
/// numbers cross, else a wrapper.
pub(crate) fn export(m: &mut Module, name: &str, pos: Pos) -> Result<u32> {
    let sig = m.sigs[name].clone();
    let crosses = |t: &Ty| match t {
        Ty::Typed(_) => Ok(true),
        Ty::Objects(_) => {
            bail!("{pos}: exported `{name}` takes or returns a List; only numbers and typed data cross to the host")
        }
        _ => Ok(false),
    };
    let mut typed = crosses(&sig.ret)?;
    for (_, t) in &sig.params {
        typed |= crosses(t)?;
    }
    if !typed {
        return Ok(sig.index);
    }
    if !m.multimem() {
        bail!("{pos}: exported `{name}` passes typed data, which the gc-array baseline backend cannot");
    }
    let mut params = Vec::new();
    for (_, t) in &sig.params {
        match t {
            Ty::Typed(_) => params.extend([ValType::I32; 3]),
            t => params.push(m.types.val_type(*t)?),
        }
    }
    let results = match sig.ret {
        Ty::Typed(_) => vec![ValType::I32; 3],
        t => m.types.results(t)?,
    };
    let ty = m.types.func(&params, &results);
    let fresh = m.own.fresh_results.contains(name);
    let body = {
        let mut g = FnGen::raw(m, params.len() as u32);
        let mut at = 0;
        for (id, t) in &sig.params {
            match t {
                Ty::Typed(k) => {
                    let (b, o, l) = (at, at + 1, at + 2);
                    at += 3;
                    g.e(I::I32Const(k.code() as i32));
                    g.e(I::LocalGet(b));
                    g.e(I::LocalGet(o));
                    g.e(I::LocalGet(l));
                    g.call_import("multimem.view_check");
                    g.trap_if();
                    let borrowed = g.m.own.borrowed_params.contains(id);
                    if !borrowed {
                        g.retain_address(b);
                    }
                    g.e(I::LocalGet(b));
                    g.e(I::LocalGet(o));
                    g.e(I::LocalGet(l));
                    if borrowed {
                        g.e(I::RefNull(HeapType::EXTERN));
                    } else {
                        g.e(I::LocalGet(b));
                        g.call_import("gc.own");
                    }
                    let list = g.m.types.list();
                    g.e(I::StructNew(list));
                }
                _ => {
                    g.e(I::LocalGet(at));
                    at += 1;
                }
            }
        }
        g.e(I::Call(sig.index));
        if let Ty::Typed(_) = sig.ret {
            let r = g.local_for(sig.ret)?;
            g.e(I::LocalSet(r));
            if !fresh {
                let b = g.local(ValType::I32);
                g.field(r, F::BUFFER);
                g.e(I::LocalSet(b));
                g.retain_address(b);
            }
            g.field(r, F::BUFFER);
            g.field(r, F::OFFSET);
            g.field(r, F::LENGTH);
        }
        g.finish()
    };
    Ok(m.add_function(ty, body))
}
