//! Values as the oracle compares them, and the arguments exports are called
//! with.
//!
//! A wasm value is *observed* into a [`Value`], a plain tree with no store
//! attached, so values from the original and the linked store can be
//! compared. The rules for what legitimately differs between them live
//! here:
//!
//! - **NaN bit patterns.** Both stores run with wasmtime's NaN
//!   canonicalisation (`execute.rs`), and a scalar NaN is observed as
//!   [`Value::NaN32`]/[`Value::NaN64`] whatever its bits, so two NaNs are
//!   equal. `v128` values and memory contents are compared bit for bit;
//!   they are deterministic because both sides run the same operations on
//!   the same engine with canonicalisation on.
//! - **GC reference identity.** The two sides never share objects, so a
//!   reference is observed by its shape: null, an `i31` value, a struct's
//!   fields, an array's length and first [`ARRAY_HEAD`] elements (to
//!   [`MAX_DEPTH`] levels), an exception's payload, a host `externref`'s
//!   id. A function reference is observed by its type only.
//!
//! Arguments are a pure function of the parameter type, the call's
//! position in the call plan and the `i32` results before it
//! ([`arguments`]), so both sides get the same ones.

use std::fmt;
use wasmtime::{AnyRef, AsContextMut, ExternRef, HeapType, I31, Ref, Val, ValType};

/// How deep references are followed.
pub const MAX_DEPTH: usize = 3;
/// How many elements of an array are observed.
pub const ARRAY_HEAD: u32 = 8;

/// An observed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// A non-NaN `f32`, by its bits.
    F32(u32),
    /// A non-NaN `f64`, by its bits.
    F64(u64),
    /// Any `f32` NaN.
    NaN32,
    /// Any `f64` NaN.
    NaN64,
    /// `v128`, bit for bit.
    V128(u128),
    /// A null reference of any type.
    Null,
    /// An `i31ref` and its value.
    I31(u32),
    /// A struct and its fields.
    Struct(Vec<Value>),
    /// An array: its length and first elements.
    Array(u32, Vec<Value>),
    /// A function reference: its type.
    Func(String),
    /// An `externref`: the host id it carries, if the host made it.
    Extern(Option<u32>),
    /// An exception reference: its payload.
    Exn(Vec<Value>),
    /// A reference past [`MAX_DEPTH`].
    Deep,
    /// Something the observer could not look into (with why).
    Opaque(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, vs: &[Value]| -> fmt::Result {
            for (i, v) in vs.iter().enumerate() {
                write!(f, "{}{v}", if i > 0 { " " } else { "" })?;
            }
            Ok(())
        };
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(b) => write!(f, "f32:{}", f32::from_bits(*b)),
            Value::F64(b) => write!(f, "f64:{}", f64::from_bits(*b)),
            Value::NaN32 => f.write_str("f32:nan"),
            Value::NaN64 => f.write_str("f64:nan"),
            Value::V128(b) => write!(f, "v128:{b:#034x}"),
            Value::Null => f.write_str("null"),
            Value::I31(v) => write!(f, "i31:{v}"),
            Value::Struct(fs) => {
                f.write_str("(struct ")?;
                list(f, fs)?;
                f.write_str(")")
            }
            Value::Array(len, head) => {
                write!(f, "(array len={len} ")?;
                list(f, head)?;
                f.write_str(")")
            }
            Value::Func(ty) => write!(f, "(funcref {ty})"),
            Value::Extern(Some(id)) => write!(f, "(extern #{id})"),
            Value::Extern(None) => f.write_str("(extern)"),
            Value::Exn(fs) => {
                f.write_str("(exn ")?;
                list(f, fs)?;
                f.write_str(")")
            }
            Value::Deep => f.write_str("..."),
            Value::Opaque(why) => write!(f, "(opaque {why})"),
        }
    }
}

/// Observes `v` (see the module docs for what is kept).
pub fn observe(store: &mut impl AsContextMut, v: &Val) -> Value {
    observe_at(store, v, 0)
}

fn float32(bits: u32) -> Value {
    if f32::from_bits(bits).is_nan() { Value::NaN32 } else { Value::F32(bits) }
}

fn float64(bits: u64) -> Value {
    if f64::from_bits(bits).is_nan() { Value::NaN64 } else { Value::F64(bits) }
}

fn observe_at(store: &mut impl AsContextMut, v: &Val, depth: usize) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(b) => float32(*b),
        Val::F64(b) => float64(*b),
        Val::V128(x) => Value::V128(x.as_u128()),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None) => Value::Null,
        _ if depth >= MAX_DEPTH => Value::Deep,
        Val::FuncRef(Some(func)) => Value::Func(func.ty(&*store).to_string()),
        Val::ExternRef(Some(r)) => match r.data(&*store) {
            Ok(Some(data)) => Value::Extern(data.downcast_ref::<u32>().copied()),
            Ok(None) => Value::Extern(None),
            Err(e) => Value::Opaque(format!("externref: {e}")),
        },
        Val::AnyRef(Some(r)) => observe_any(store, r, depth).unwrap_or_else(|e| Value::Opaque(format!("anyref: {e}"))),
        Val::ExnRef(Some(r)) => {
            let fields = r.fields(&mut *store).map(|fs| fs.collect::<Vec<_>>());
            match fields {
                Ok(fs) => Value::Exn(fs.iter().map(|f| observe_at(store, f, depth + 1)).collect()),
                Err(e) => Value::Opaque(format!("exnref: {e}")),
            }
        }
        #[allow(unreachable_patterns)]
        other => Value::Opaque(format!("{:?}", other.ty(&*store).map(|t| t.to_string()))),
    }
}

fn observe_any(store: &mut impl AsContextMut, r: &wasmtime::Rooted<AnyRef>, depth: usize) -> wasmtime::Result<Value> {
    if let Some(i) = r.as_i31(&*store)? {
        return Ok(Value::I31(i.get_u32()));
    }
    if let Some(s) = r.as_struct(&*store)? {
        let fields: Vec<Val> = s.fields(&mut *store)?.collect();
        return Ok(Value::Struct(fields.iter().map(|f| observe_at(store, f, depth + 1)).collect()));
    }
    if let Some(a) = r.as_array(&*store)? {
        let len = a.len(&*store)?;
        let head: Vec<Val> = a.elems(&mut *store)?.take(ARRAY_HEAD as usize).collect();
        return Ok(Value::Array(len, head.iter().map(|e| observe_at(store, e, depth + 1)).collect()));
    }
    Ok(Value::Opaque("anyref of unknown kind".into()))
}

/// Interesting `i32` arguments, taken in turn.
const I32S: &[i32] = &[0, 1, -1, 7, 65536, i32::MIN, i32::MAX, 0x1234_5678, 2, -100, 31, 4096];
/// Interesting `i64` arguments, taken in turn.
const I64S: &[i64] = &[0, 1, -1, 1 << 32, i64::MIN, i64::MAX, 0x1234_5678_9abc_def0, 3, -7, 65536];
/// Interesting `f64` arguments, taken in turn (f32 ones are these, rounded).
const F64S: &[f64] = &[0.0, 1.5, -0.0, f64::INFINITY, f64::NAN, -3.25, 1e10, f64::MIN_POSITIVE, 65536.0];

/// The arguments of the `call`-th call of the plan, for a function of type
/// `ty`; `None` when a parameter's type has no value the host can make
/// (a non-nullable reference to a function or a concrete GC type), and the
/// call is skipped on both sides. Every third `i32` is an `i32` an earlier
/// call returned (`results`, in order), when there is one: the sides reach
/// a call with equal results so far, so they pick the same one.
pub fn arguments(
    store: &mut impl AsContextMut,
    ty: &wasmtime::FuncType,
    call: usize,
    results: &[i32],
) -> Option<Vec<Val>> {
    ty.params().enumerate().map(|(i, p)| argument(store, &p, call + i, results)).collect()
}

fn argument(store: &mut impl AsContextMut, ty: &ValType, k: usize, results: &[i32]) -> Option<Val> {
    Some(match ty {
        ValType::I32 if k % 3 == 2 && !results.is_empty() => {
            Val::I32(results[results.len() - 1 - (k / 3) % results.len()])
        }
        ValType::I32 => Val::I32(I32S[k % I32S.len()]),
        ValType::I64 => Val::I64(I64S[k % I64S.len()]),
        ValType::F32 => Val::F32((F64S[k % F64S.len()] as f32).to_bits()),
        ValType::F64 => Val::F64(F64S[k % F64S.len()].to_bits()),
        ValType::V128 => {
            let lo = I64S[k % I64S.len()] as u64 as u128;
            let hi = I64S[(k + 1) % I64S.len()] as u64 as u128;
            Val::V128((hi << 64 | lo).into())
        }
        ValType::Ref(r) => {
            // Every other nullable argument is null; the rest are the
            // host-made values that exist for the heap type.
            let made = match r.heap_type() {
                HeapType::Extern => ExternRef::new(&mut *store, k as u32).ok().map(|e| Ref::Extern(Some(e))),
                HeapType::Any | HeapType::Eq | HeapType::I31 => {
                    Some(Ref::Any(Some(AnyRef::from_i31(&mut *store, I31::wrapping_u32(k as u32)))))
                }
                _ => None,
            };
            match made {
                Some(v) if !r.is_nullable() || k % 2 == 1 => v.into(),
                _ if r.is_nullable() => Val::null_ref(r.heap_type()),
                _ => return None,
            }
        }
    })
}
