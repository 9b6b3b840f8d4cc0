//! multimem-host against the real runtime.wasm in wasmtime (GC and
//! multi-memory on): owned handles, slices for every kind, growth,
//! externref release through GC, stats and decoded errors.

use multimem_abi::{ErrorCode, Kind, Number};
use multimem_host::{Options, Runtime, error_code, intrinsics};
use wasmtime::{AsContextMut, Instance, Module, Store, TypedFunc};

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

#[test]
fn externref_release_follows_gc() {
    let Env { mut store, rt, .. } = env();
    let engine = store.engine().clone();
    let holder = Module::new(
        &engine,
        r#"(module
            (global $g (mut externref) (ref.null extern))
            (func (export "hold") (param externref) local.get 0 global.set $g)
            (func (export "forget") ref.null extern global.set $g))"#,
    )
    .unwrap();
    let holder = Instance::new(&mut store, &holder, &[]).unwrap();
    let hold = holder.get_typed_func::<Option<wasmtime::Rooted<wasmtime::ExternRef>>, ()>(&mut store, "hold").unwrap();
    let forget = holder.get_typed_func::<(), ()>(&mut store, "forget").unwrap();

    // 1. An externref only the host roots: released after its scope ends and GC runs.
    {
        let mut scope = wasmtime::RootScope::new(&mut store);
        let b = rt.buffer_new(&mut scope, 1000).unwrap();
        let r = rt.to_externref(&mut scope, b).unwrap();
        let back = rt.from_externref(&mut scope, &r).unwrap().expect("our externref");
        assert_eq!(rt.refcount(&mut scope, &back).unwrap(), 2);
        drop(back);
        scope.as_context_mut().gc(None).unwrap();
        // Still rooted here: nothing released.
        assert_eq!(rt.stats(&mut scope).unwrap().live_buffers, 1);
    }
    rt.collect(&mut store).unwrap();
    assert_eq!(rt.stats(&mut store).unwrap().live_buffers, 0);

    // 2. Handed to wasm, which keeps it in a global: live until wasm drops it.
    {
        let mut scope = wasmtime::RootScope::new(&mut store);
        let b = rt.buffer_new(&mut scope, 500).unwrap();
        let r = rt.to_externref(&mut scope, b).unwrap();
        hold.call(&mut scope, Some(r)).unwrap();
    }
    rt.collect(&mut store).unwrap();
    assert_eq!(rt.stats(&mut store).unwrap().live_buffers, 1, "the wasm global still holds it");
    forget.call(&mut store, ()).unwrap();
    store.gc(None).unwrap();
    assert!(rt.pending_releases() == 1, "GC queued the release");
    // Any entry point applies it.
    assert_eq!(rt.stats(&mut store).unwrap().live_buffers, 0);
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
