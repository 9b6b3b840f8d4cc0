//! The differential oracle: does the linked module behave as the original
//! inputs did?
//!
//! [`compare`] walks two [`Run`]s in order and stops at the first
//! difference. The rules, each for a difference that linking legitimately
//! makes:
//!
//! - **Instantiation failures** compare as "failed" on both sides, whatever
//!   the trap: the linked module applies every input's element segments,
//!   then every data segment, then runs the start functions, where the
//!   inputs one by one interleave them, so the first failing step (and its
//!   trap code) may be another one. Failing on one side only is a
//!   divergence.
//! - **Stack exhaustion** (in instantiation or a call) on either side makes
//!   the rest inconclusive: frames may differ in size after linking (a
//!   memory or global that was imported is defined, or the other way
//!   round), so the depth, and what the deeper calls did, may differ.
//!   What came before is still compared. (`fuzz-link` makes this rare: its
//!   engine's wasm stack is deep enough that runaway recursion runs out of
//!   fuel first, `execute::deep_stack_engine`.)
//! - **Fuel exhaustion** on one side only makes the rest inconclusive.
//!   When both sides run out of fuel in the same call, the comparison goes
//!   on: a call's fuel is reset before it, and the linked body of a
//!   function is the original's operators with other indices (fuel counts
//!   operators), so both stopped at the same operator, in the same state.
//!   In instantiation, fuel exhaustion on either side is inconclusive: the
//!   linked module calls its inputs' start functions from a synthesised
//!   one, which spends fuel of its own.
//! - **Values** are compared as `values.rs` observes them (NaNs equal,
//!   references by shape, never by identity).
//!
//! Everything else must be equal: each call's results, trap code, uncaught
//! exception payload and host calls; the exported globals, memories
//! (size and contents), tables and tags, and the host's memory, tables and
//! mutable globals, after instantiation and after the last call; the type of
//! every exported function (as the engine canonicalises it).

use crate::execute::{Call, Outcome, Run, Snapshot};

/// Why a comparison could not conclude.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Inconclusive {
    /// A side ran out of fuel.
    Fuel,
    /// A side exhausted its stack.
    Stack,
}

impl Inconclusive {
    /// A short name for summaries.
    pub fn name(self) -> &'static str {
        match self {
            Inconclusive::Fuel => "out of fuel",
            Inconclusive::Stack => "stack exhausted",
        }
    }
}

/// The oracle's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything compared was equal.
    Same,
    /// Equal up to a point the rules say cannot be compared.
    Inconclusive(Inconclusive),
    /// The linked module behaved differently: what, where.
    Divergence(String),
}

fn inconclusive(outcome: &Outcome) -> Option<Inconclusive> {
    match outcome {
        Outcome::OutOfFuel => Some(Inconclusive::Fuel),
        Outcome::StackOverflow => Some(Inconclusive::Stack),
        _ => None,
    }
}

fn compare_call(what: &str, original: &Call, linked: &Call) -> Result<(), Verdict> {
    let both_out_of_fuel = original.outcome == Outcome::OutOfFuel && linked.outcome == Outcome::OutOfFuel;
    if let Some(why) = inconclusive(&original.outcome).or(inconclusive(&linked.outcome))
        && !both_out_of_fuel
    {
        return Err(Verdict::Inconclusive(why));
    }
    if original.outcome != linked.outcome {
        return Err(Verdict::Divergence(format!(
            "{what}: original {:?}, linked {:?}",
            original.outcome, linked.outcome
        )));
    }
    if original.trace != linked.trace {
        return Err(Verdict::Divergence(format!(
            "{what}: host calls differ: original {:?}, linked {:?}",
            original.trace, linked.trace
        )));
    }
    Ok(())
}

fn compare_snapshots(when: &str, original: &Snapshot, linked: &Snapshot) -> Result<(), Verdict> {
    for (name, value) in original {
        match linked.iter().find(|(n, _)| n == name) {
            None => return Err(Verdict::Divergence(format!("{when}: `{name}` is missing in the linked module"))),
            Some((_, l)) if l != value => {
                return Err(Verdict::Divergence(format!("{when}: `{name}`: original {value:?}, linked {l:?}")));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn compare_instantiation(original: &Call, linked: &Call) -> Result<(), Verdict> {
    if let Some(why) = inconclusive(&original.outcome).or(inconclusive(&linked.outcome)) {
        return Err(Verdict::Inconclusive(why));
    }
    let ok = |c: &Call| matches!(c.outcome, Outcome::Returned(_));
    match (ok(original), ok(linked)) {
        (true, true) => compare_call("instantiation", original, linked),
        (false, false) => Ok(()),
        _ => Err(Verdict::Divergence(format!(
            "instantiation: original {:?}, linked {:?}",
            original.outcome, linked.outcome
        ))),
    }
}

fn compare_runs(original: &Run, linked: &Run) -> Result<(), Verdict> {
    compare_instantiation(&original.instantiation, &linked.instantiation)?;
    if let (Some(o), Some(l)) = (&original.initial, &linked.initial) {
        compare_snapshots("after instantiation", o, l)?;
    }
    for (o, l) in original.calls.iter().zip(&linked.calls) {
        compare_call(&format!("call `{}`", o.export), o, l)?;
    }
    if original.calls.len() != linked.calls.len() {
        return Err(Verdict::Divergence(format!(
            "{} calls in the original, {} in the linked module",
            original.calls.len(),
            linked.calls.len()
        )));
    }
    match (&original.last, &linked.last) {
        (Some(o), Some(l)) => compare_snapshots("after the last call", o, l),
        (None, None) => Ok(()),
        _ => Err(Verdict::Divergence("only one side reached the end of its calls".into())),
    }
}

/// Compares the original inputs' run with the linked module's run (made
/// with the original's plan), by the rules in the module docs.
pub fn compare(original: &Run, linked: &Run) -> Verdict {
    match compare_runs(original, linked) {
        Ok(()) => Verdict::Same,
        Err(v) => v,
    }
}
