//! multimem-host against the real runtime.wasm in wasmtime (GC and
//! multi-memory on): owned handles, slices for every kind, growth,
//! externref release through GC, stats and decoded errors.

use multimem_abi::{ErrorCode, Kind, Number};
use multimem_host::{Options, Runtime, Stale, StaleHandle, error_code, intrinsics};
use wasmtime::{AsContextMut, ExternRef, Instance, Module, OwnedRooted, RootScope, Rooted, Store, TypedFunc};

struct Env {
    store: Store<()>,
    instance: Instance,
    rt: Runtime,
}

fn env() -> Env {
    let engine = Options::engine().unwrap();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, multimem_runtime_wasm::RUNTIME_WASM).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    intrinsics::define(&mut linker, None).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let rt = Runtime::new(&mut store, &instance, &Options::default()).unwrap();
    Env { store, instance, rt }
}

#[test]
fn handles_release_on_drop() {
    let Env { mut store, rt, .. } = env();
    let bufs: Vec<_> = (0..10).map(|i| rt.buffer_new(&mut store, 100 + i).unwrap()).collect();
    let s = rt.stats(&mut store).unwrap();
    assert_eq!(s.live_buffers, 10);
    assert_eq!(s.live_bytes, (0..10).map(|i| 100 + i).sum::<u32>());
    drop(bufs);
    assert_eq!(rt.pending_releases(), 10);
    let s = rt.stats(&mut store).unwrap(); // drains first
    assert_eq!(rt.pending_releases(), 0);
    assert_eq!((s.live_buffers, s.live_bytes), (0, 0));
    rt.check_no_leaks(&mut store).unwrap();
}

#[test]
fn retain_and_explicit_release() {
    let Env { mut store, rt, .. } = env();
    let a = rt.buffer_new(&mut store, 32).unwrap();
    let b = rt.retain(&mut store, &a).unwrap();
    assert_eq!(a.address(), b.address());
    assert_eq!(rt.refcount(&mut store, &a).unwrap(), 2);
    drop(b);
    assert_eq!(rt.refcount(&mut store, &a).unwrap(), 1);
    assert_eq!(rt.release(&mut store, a).unwrap(), 0);
    assert_eq!(rt.stats(&mut store).unwrap().live_buffers, 0);
}

fn check_kind<E: multimem_host::Element + PartialEq + std::fmt::Debug>(
    env: &mut Env,
    kind: Kind,
    values: &[E],
    to_f64: impl Fn(E) -> f64,
) {
    let Env { store, rt, instance } = env;
    let lanes = kind.lanes() as usize;
    let length = (values.len() / lanes) as u32;
    let list = rt.list_new(&mut *store, kind, length).unwrap();
    assert_eq!(list.length_in_bytes(), length * kind.element_size());
    rt.elements_mut::<E, ()>(&mut *store, &list).unwrap().copy_from_slice(values);
    assert_eq!(rt.elements::<E, ()>(&*store, &list).unwrap(), values);
    // Read the same elements back through the runtime's own accessors: the
    // host's slices and the runtime agree on layout for this kind.
    let (b, off, len) = (list.buffer().address() as i32, list.offset_in_bytes() as i32, list.length() as i32);
    for (i, v) in values.iter().enumerate() {
        let got = match kind.number() {
            Number::Int => {
                let f: TypedFunc<(i32, i32, i32, i32, i32), i64> =
                    instance.get_typed_func(&mut *store, "list_get_i64").unwrap();
                f.call(&mut *store, (kind.code() as i32, b, off, len, i as i32)).unwrap() as f64
            }
            Number::Float => {
                let f: TypedFunc<(i32, i32, i32, i32, i32), f64> =
                    instance.get_typed_func(&mut *store, "list_get_f64").unwrap();
                f.call(&mut *store, (kind.code() as i32, b, off, len, i as i32)).unwrap()
            }
            Number::Bytes => {
                let f: TypedFunc<(i32, i32, i32, i32, i32, i32), i64> =
                    instance.get_typed_func(&mut *store, "bytedata_get_i64").unwrap();
                let t =
                    if std::mem::size_of::<E>() == 1 && to_f64(*v) < 0.0 { Kind::Int8List } else { Kind::Uint8List };
                f.call(&mut *store, (b, off, len, i as i32, t.code() as i32, 1)).unwrap() as f64
            }
        };
        assert_eq!(got, to_f64(*v), "{kind:?} element {i}");
    }
}

#[test]
fn slices_for_every_kind() {
    let mut e = env();
    let mut seen = Vec::new();
    for &kind in Kind::ALL {
        seen.push(kind);
        match kind {
            Kind::ByteData => check_kind::<u8>(&mut e, kind, &[1, 2, 250, 7], |v| v as f64),
            Kind::Int8List => check_kind::<i8>(&mut e, kind, &[-128, 5, 127], |v| v as f64),
            Kind::Uint8List | Kind::Uint8ClampedList => check_kind::<u8>(&mut e, kind, &[0, 9, 255], |v| v as f64),
            Kind::Int16List => check_kind::<i16>(&mut e, kind, &[-30000, 1, 30000], |v| v as f64),
            Kind::Uint16List => check_kind::<u16>(&mut e, kind, &[65535, 1, 2], |v| v as f64),
            Kind::Int32List => check_kind::<i32>(&mut e, kind, &[i32::MIN, -1, 77], |v| v as f64),
            Kind::Uint32List => check_kind::<u32>(&mut e, kind, &[u32::MAX, 3], |v| v as f64),
            Kind::Int64List => check_kind::<i64>(&mut e, kind, &[-(1 << 40), 12], |v| v as f64),
            Kind::Uint64List => check_kind::<u64>(&mut e, kind, &[1 << 40, 12], |v| v as f64),
            Kind::Float32List => check_kind::<f32>(&mut e, kind, &[1.5, -2.25], |v| v as f64),
            Kind::Float64List => check_kind::<f64>(&mut e, kind, &[1e300, -0.5], |v| v),
            Kind::Int32x4List => check_kind::<i32>(&mut e, kind, &[1, 2, 3, 4, -5, -6, -7, -8], |v| v as f64),
            Kind::Float32x4List => check_kind::<f32>(&mut e, kind, &[0.5, 1.5, 2.5, 3.5], |v| v as f64),
            Kind::Float64x2List => check_kind::<f64>(&mut e, kind, &[0.25, -8.0, 3.0, 4.0], |v| v),
        }
    }
    assert_eq!(seen.len(), Kind::ALL.len());
    let Env { mut store, rt, .. } = e;
    rt.check_no_leaks(&mut store).unwrap();
}

#[test]
fn slices_stay_valid_across_memory_growth() {
    let Env { mut store, rt, .. } = env();
    let list = rt.list_new(&mut store, Kind::Int32List, 1000).unwrap();
    for (i, v) in rt.elements_mut::<i32, ()>(&mut store, &list).unwrap().iter_mut().enumerate() {
        *v = i as i32 * 3 - 1;
    }
    let pages_before = rt.stats(&mut store).unwrap().pages;
    let big: Vec<_> = (0..40).map(|_| rt.buffer_new(&mut store, 100_000).unwrap()).collect();
    let pages_after = rt.stats(&mut store).unwrap().pages;
    assert!(pages_after > pages_before + 40, "memory grew: {pages_before} -> {pages_after}");
    let now = rt.elements::<i32, ()>(&store, &list).unwrap();
    assert!(now.iter().enumerate().all(|(i, v)| *v == i as i32 * 3 - 1));
    drop(big);
    drop(list);
    rt.check_no_leaks(&mut store).unwrap();
}

#[test]
fn views_follow_dart_rules() {
    let Env { mut store, rt, .. } = env();
    let buf = rt.buffer_new(&mut store, 64).unwrap();
    let v = rt.view(&mut store, &buf, Kind::Int32List, 8, 4).unwrap();
    rt.elements_mut::<i32, ()>(&mut store, &v).unwrap()[1] = 0x01020304;
    assert_eq!(&rt.bytes(&store, &buf).unwrap()[12..16], &[4, 3, 2, 1]);
    let sub = rt.sublist_view(&mut store, &v, 1, 3).unwrap();
    assert_eq!((sub.offset_in_bytes(), sub.length()), (12, 2));
    assert_eq!(rt.elements::<i32, ()>(&store, &sub).unwrap()[0], 0x01020304);
    assert_eq!(rt.refcount(&mut store, &buf).unwrap(), 3);

    let e = rt.view(&mut store, &buf, Kind::Int32List, 2, 1).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::Alignment), "{e:#}");
    assert!(format!("{e:#}").contains("viewing buffer"), "{e:#}");
    let e = rt.view(&mut store, &buf, Kind::Float64List, 0, 9).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::Range), "{e:#}");
    let e = rt.sublist_view(&mut store, &v, 3, 2).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::Range), "{e:#}");
    let e = rt.elements::<f64, ()>(&store, &v).unwrap_err();
    assert!(format!("{e}").contains("cannot be viewed"), "{e}");
    drop((buf, v, sub));
    rt.check_no_leaks(&mut store).unwrap();
}

#[test]
fn runtime_errors_are_decoded_with_context() {
    let Env { mut store, rt, .. } = env();
    // A trapping export: BAD_LENGTH recorded, read back with last_error.
    let e = rt.buffer_new(&mut store, 0x8000_0000).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
    let msg = format!("{e:#}");
    assert!(msg.contains("allocating a buffer of 2147483648 bytes") && msg.contains("BAD_LENGTH"), "{msg}");
    // The instance stays usable after the trap.
    let b = rt.buffer_new(&mut store, 16).unwrap();
    // A foreign address.
    let e = rt.adopt(&mut store, b.address() + 4).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::NotABuffer), "{e:#}");
    // Use after free.
    let raw = b.into_raw();
    let again = rt.adopt(&mut store, raw).unwrap();
    assert_eq!(rt.release(&mut store, again).unwrap(), 0);
    let e = rt.adopt(&mut store, raw).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::Freed), "{e:#}");
    // A handle of another runtime instance is refused.
    let Env { store: mut store2, rt: rt2, .. } = env();
    let foreign = rt2.buffer_new(&mut store2, 8).unwrap();
    let e = rt.retain(&mut store, &foreign).unwrap_err();
    assert!(format!("{e}").contains("another runtime"), "{e}");
    drop(foreign);
    rt2.check_no_leaks(&mut store2).unwrap();
    rt.check_no_leaks(&mut store).unwrap();
}

#[test]
fn leak_check_fails_while_a_handle_is_live() {
    let Env { mut store, rt, .. } = env();
    let b = rt.buffer_new(&mut store, 48).unwrap();
    let e = rt.check_no_leaks(&mut store).unwrap_err();
    assert!(format!("{e}").contains("1 buffer(s) holding 48 bytes"), "{e}");
    drop(b);
    rt.check_no_leaks(&mut store).unwrap();
}

/// A module that keeps one externref in a global: `hold` takes an
/// `OwnedRooted` (as typed functions can), `hold_rooted` a LIFO `Rooted`.
struct Holder {
    hold: TypedFunc<Option<OwnedRooted<ExternRef>>, ()>,
    hold_rooted: TypedFunc<Option<Rooted<ExternRef>>, ()>,
    forget: TypedFunc<(), ()>,
}

fn holder(store: &mut Store<()>) -> Holder {
    let module = Module::new(
        store.engine(),
        r#"(module
            (global $g (mut externref) (ref.null extern))
            (func (export "hold") (param externref) local.get 0 global.set $g)
            (func (export "forget") ref.null extern global.set $g))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut *store, &module, &[]).unwrap();
    Holder {
        hold: instance.get_typed_func(&mut *store, "hold").unwrap(),
        hold_rooted: instance.get_typed_func(&mut *store, "hold").unwrap(),
        forget: instance.get_typed_func(&mut *store, "forget").unwrap(),
    }
}

fn live(rt: &Runtime, store: &mut Store<()>) -> u32 {
    rt.stats(store).unwrap().live_buffers
}

/// Issue 13, item 5: no `RootScope` anywhere, and every externref's
/// reference is released once nothing holds it and the GC has run.
#[test]
fn externrefs_made_outside_a_root_scope_are_released_by_gc() {
    let Env { mut store, rt, .. } = env();
    let h = holder(&mut store);
    // Held by the host only.
    let b = rt.buffer_new(&mut store, 1000).unwrap();
    let r = rt.to_externref(&mut store, b).unwrap();
    let back = rt.from_externref(&mut store, &r).unwrap().expect("our externref");
    assert_eq!(rt.refcount(&mut store, &back).unwrap(), 2);
    drop(back);
    rt.collect(&mut store).unwrap();
    assert_eq!(live(&rt, &mut store), 1, "the host still holds the externref");
    drop(r);
    rt.collect(&mut store).unwrap();
    assert_eq!(live(&rt, &mut store), 0, "collected once the host dropped it");
    // Handed to wasm, which keeps it in a global: live until wasm drops it.
    let b = rt.buffer_new(&mut store, 500).unwrap();
    let r = rt.to_externref(&mut store, b).unwrap();
    h.hold.call(&mut store, Some(r)).unwrap();
    rt.collect(&mut store).unwrap();
    assert_eq!(live(&rt, &mut store), 1, "the wasm global still holds it");
    h.forget.call(&mut store, ()).unwrap();
    store.gc(None).unwrap();
    assert_eq!(rt.pending_releases(), 1, "GC queued the release");
    // Any entry point applies it.
    assert_eq!(live(&rt, &mut store), 0);
    rt.check_no_leaks(&mut store).unwrap();
}

/// A LIFO `Rooted` made inside a `RootScope` roots the externref until the
/// scope ends; then the GC collects it.
#[test]
fn externrefs_rooted_in_a_root_scope_are_released_after_it() {
    let Env { mut store, rt, .. } = env();
    let h = holder(&mut store);
    {
        let mut scope = RootScope::new(&mut store);
        let b = rt.buffer_new(&mut scope, 100).unwrap();
        let r = rt.to_externref(&mut scope, b).unwrap();
        let rooted = r.to_rooted(&mut scope);
        drop(r);
        h.hold_rooted.call(&mut scope, Some(rooted)).unwrap();
        h.forget.call(&mut scope, ()).unwrap();
        scope.as_context_mut().gc(None).unwrap();
        assert_eq!(rt.stats(&mut scope).unwrap().live_buffers, 1, "still rooted by the scope");
        assert!(rt.from_externref(&mut scope, &rooted).unwrap().is_some());
    }
    rt.collect(&mut store).unwrap();
    assert_eq!(live(&rt, &mut store), 0);
}

/// Issue 13, item 7: a handle whose reference someone else released is
/// refused by every operation, and its drop releases nothing, whatever now
/// lies at its address.
#[test]
fn a_stale_handle_is_refused_and_releases_nothing() {
    let Env { mut store, rt, instance } = env();
    let raw_release = instance.get_typed_func::<u32, u32>(&mut store, "buffer_release").unwrap();
    let raw_new = instance.get_typed_func::<u32, u32>(&mut store, "buffer_new").unwrap();
    let raw_refcount = instance.get_typed_func::<u32, u32>(&mut store, "buffer_refcount").unwrap();
    let stale_of = |e: &multimem_host::Error| e.downcast_ref::<StaleHandle>().cloned();

    // 1. Released behind the host's back: the buffer is freed.
    let b = rt.buffer_new(&mut store, 64).unwrap();
    let address = b.address();
    raw_release.call(&mut store, address).unwrap();
    let freed = Some(StaleHandle { address, found: Stale::Code(ErrorCode::Freed) });
    assert_eq!(stale_of(&rt.bytes(&store, &b).unwrap_err()), freed);
    assert_eq!(stale_of(&rt.bytes_mut(&mut store, &b).unwrap_err()), freed);
    assert_eq!(stale_of(&rt.refcount(&mut store, &b).unwrap_err()), freed);
    assert_eq!(stale_of(&rt.retain(&mut store, &b).unwrap_err()), freed);
    let e = rt.view(&mut store, &b, Kind::Uint8List, 0, 4).unwrap_err();
    assert_eq!(stale_of(&e), freed);
    assert!(format!("{e:#}").contains(&format!("the handle of buffer {address:#x} is stale")), "{e:#}");

    // 2. The block now holds another owner's buffer (of another length):
    // refused, and dropping the stale handle does not release it.
    let other = raw_new.call(&mut store, 60).unwrap();
    assert_eq!(other, address, "the freed block was reused");
    let e = rt.bytes(&store, &b).unwrap_err();
    assert_eq!(stale_of(&e), Some(StaleHandle { address, found: Stale::Length { expected: 64, found: 60 } }));
    drop(b);
    let e = rt.drain(&mut store).unwrap_err();
    assert!(stale_of(&e).is_some(), "{e:#}");
    assert_eq!(raw_refcount.call(&mut store, other).unwrap(), 1, "the other owner's reference is intact");
    assert_eq!(rt.pending_releases(), 0);
    assert_eq!(raw_release.call(&mut store, other).unwrap(), 0);

    // 3. Two host handles, one reference taken away: fewer references than
    // the host holds. A release through either is refused until the counts
    // agree again.
    let b = rt.buffer_new(&mut store, 32).unwrap();
    let c = rt.retain(&mut store, &b).unwrap();
    raw_release.call(&mut store, b.address()).unwrap();
    let e = rt.refcount(&mut store, &b).unwrap_err();
    assert_eq!(stale_of(&e).map(|s| s.found), Some(Stale::Refcount { held: 2, found: 1 }));
    let e = rt.release(&mut store, c).unwrap_err();
    assert!(stale_of(&e).is_some(), "{e:#}");
    assert_eq!(rt.refcount(&mut store, &b).unwrap(), 1, "the refused release released nothing");
    assert_eq!(rt.release(&mut store, b).unwrap(), 0);
    rt.check_no_leaks(&mut store).unwrap();
}

/// Issue 13, item 8: a list whose bytes exceed MAX_LENGTH is BAD_LENGTH, as
/// `buffer_new` says it.
#[test]
fn list_new_with_an_oversized_length_is_bad_length() {
    let Env { mut store, rt, .. } = env();
    for (kind, length) in
        [(Kind::Float64List, 0x1000_0000), (Kind::Uint8List, 0x8000_0000), (Kind::Int32x4List, u32::MAX)]
    {
        let e = rt.list_new(&mut store, kind, length).unwrap_err();
        assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
        assert!(format!("{e:#}").contains(&format!("creating a {} of {length} elements", kind.name())), "{e:#}");
    }
    rt.check_no_leaks(&mut store).unwrap();
}

fn fails_in_wasmtime_fn(rt: &Runtime, store: &mut Store<()>) -> wasmtime::Result<()> {
    let engine = store.engine().clone();
    let _ = Module::new(&engine, "(module)")?;
    rt.buffer_new(&mut *store, 0x8000_0000)?;
    Ok(())
}

fn fails_in_anyhow_fn(rt: &Runtime, store: &mut Store<()>) -> anyhow::Result<()> {
    let engine = store.engine().clone();
    let _ = Module::new(&engine, "(module)")?;
    rt.buffer_new(&mut *store, 0x8000_0000)?;
    Ok(())
}

fn fails_in_host_fn(rt: &Runtime, store: &mut Store<()>, wasm: &str) -> multimem_host::Result<u32> {
    let engine = store.engine().clone();
    let _ = Module::new(&engine, wasm)?;
    let n: u32 = "12".parse::<u32>().map_err(anyhow::Error::from)?;
    Ok(rt.buffer_new(&mut *store, n)?.length_in_bytes())
}

/// Issue 13, item 9: `?` turns this crate's errors into wasmtime's and
/// anyhow's, and theirs into this crate's, without `map_err`; the runtime
/// code and the context survive the conversion.
#[test]
fn errors_convert_with_the_question_mark() {
    fn std_error<E: std::error::Error + Send + Sync + 'static>() {}
    std_error::<multimem_host::Error>();
    let Env { mut store, rt, .. } = env();
    let e = fails_in_wasmtime_fn(&rt, &mut store).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
    assert!(format!("{e:#}").contains("allocating a buffer of 2147483648 bytes"), "{e:#}");
    let e = fails_in_anyhow_fn(&rt, &mut store).unwrap_err();
    assert_eq!(error_code(&e), Some(ErrorCode::BadLength), "{e:#}");
    assert!(format!("{e:#}").contains("BAD_LENGTH"), "{e:#}");
    assert!(e.downcast_ref::<multimem_host::Error>().is_some());
    // wasmtime's error inside this crate's: its cause stays reachable.
    let e = fails_in_host_fn(&rt, &mut store, "(module (func (result i32)))").unwrap_err();
    assert_eq!(error_code(&e), None);
    assert!(format!("{e:#}").contains("type mismatch"), "{e:#}");
    assert_eq!(fails_in_host_fn(&rt, &mut store, "(module)").unwrap(), 12);
    rt.check_no_leaks(&mut store).unwrap();
}

#[test]
fn options_name_what_is_missing() {
    let Env { mut store, instance, .. } = env();
    let mut options = Options::new();
    options.runtime_export_prefix("rt_");
    let e = Runtime::new(&mut store, &instance, &options).err().expect("no rt_ exports");
    assert!(format!("{e:#}").contains("no runtime memory export `rt_memory`"), "{e:#}");
    // The default options resolve every export and check the ABI version.
    let mut options = Options::new();
    options.check_abi_version(true);
    Runtime::new(&mut store, &instance, &options).unwrap();
}
