//! The ways each case is linked, through the `multimem-linker`
//! library API (`Linker`, `Config`), and which original inputs each one is
//! compared with.
//!
//! | mode | inputs, in order | config | compared with |
//! |---|---|---|---|
//! | `alone` | the case | default | the case |
//! | `after-unrelated` | `u`, the case | default | `u`, the case |
//! | `with-runtime` | the case and `multimem` = runtime.wasm, last or first | default | the case and the runtime with host intrinsics (run in 1 case of 4) |
//! | `gc` | the case | `gc(true)`, every export kept | the case |
//! | `gc-some-exports` | the case | `gc(true)`, `export(..)` for half the exports | the case, calling only those |
//!
//! "The case" is its modules in link order ([`Case::link_order`]): `a`,
//! `b`, or for half the pairs `b`, `a`. The originals always instantiate
//! as `a`, `b` (`b` imports from `a`).
//!
//! `with-runtime` is compared with the case and the runtime unlinked, its
//! intrinsics implemented by the host (`intrinsics.rs`), every export of
//! both called: the lowered intrinsics against their definition. It puts
//! the runtime last, as
//! `multimem-link --with-runtime` does, or, in half the cases, first, so
//! that every index of the case moves. It links in every case but runs
//! the linked module in a quarter of them ([`Case::run_with_runtime`]):
//! compiling the runtime's 57 functions would otherwise be half the
//! fuzzer's time. Every mode keeps every export
//! (generated names are prefixed per input, so none conflict) and links
//! on one thread (the fuzzer runs cases in parallel instead; the output is
//! the same for any thread count).
//!
//! A link that fails or panics on valid inputs is a failure like a
//! divergence; a panic is reported with its message.

use crate::generate::Case;
use multimem_linker::{Config, Linker};

/// A run of the original inputs that modes are compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// The case, every export called.
    Case,
    /// `u`, then the case.
    WithUnrelated,
    /// The case and runtime.wasm, unlinked, with the host's intrinsics.
    WithRuntime,
    /// The case, calling only [`Case::some_exports`].
    SomeExports,
}

/// One way of linking a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// The case's modules on their own.
    Alone,
    /// After the unrelated module `u`.
    AfterUnrelated,
    /// With the bundled runtime.wasm as `multimem`.
    WithRuntime,
    /// With dead-code removal, every export kept.
    Gc,
    /// With dead-code removal and an explicit export list (half the
    /// exports, [`Case::some_exports`]).
    GcSomeExports,
}

impl Mode {
    /// Every mode, in the order they run.
    pub const ALL: [Mode; 5] = [Mode::Alone, Mode::AfterUnrelated, Mode::WithRuntime, Mode::Gc, Mode::GcSomeExports];

    /// The mode's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Alone => "alone",
            Mode::AfterUnrelated => "after-unrelated",
            Mode::WithRuntime => "with-runtime",
            Mode::Gc => "gc",
            Mode::GcSomeExports => "gc-some-exports",
        }
    }

    /// The mode called `name`.
    pub fn from_name(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The linker configuration for `case`.
    pub fn config(self, case: &Case) -> Config {
        let mut config = Config::default().threads(1).gc(matches!(self, Mode::Gc | Mode::GcSomeExports));
        if self == Mode::GcSomeExports {
            // With an empty list nothing is called, and every export is
            // kept: the mode is then `gc`.
            for (module, name) in &case.some_exports {
                config = config.export(module, name, None);
            }
        }
        config
    }

    /// Whether this mode links an explicit export list, so the originals
    /// are compared on those exports only.
    pub fn some_exports(self) -> bool {
        self == Mode::GcSomeExports
    }

    /// Which run of the originals this mode is compared with in `case`:
    /// `gc-some-exports` with no list is `gc`, compared with the whole case.
    pub fn reference_in(self, case: &Case) -> Reference {
        if self == Mode::GcSomeExports && case.some_exports.is_empty() { Reference::Case } else { self.reference() }
    }

    /// Which run of the originals this mode is compared with.
    pub fn reference(self) -> Reference {
        match self {
            Mode::AfterUnrelated => Reference::WithUnrelated,
            Mode::WithRuntime => Reference::WithRuntime,
            Mode::GcSomeExports => Reference::SomeExports,
            Mode::Alone | Mode::Gc => Reference::Case,
        }
    }

    /// Whether the unrelated module `u` is linked (and so run) first.
    pub fn with_unrelated(self) -> bool {
        self == Mode::AfterUnrelated
    }

    /// The linker's inputs, `(name, bytes)`, in order.
    pub fn inputs(self, case: &Case) -> Vec<(&str, &[u8])> {
        let mut inputs: Vec<(&str, &[u8])> = Vec::new();
        if self.with_unrelated() {
            inputs.push((case.unrelated.name, &case.unrelated.wasm));
        }
        let runtime = (multimem_linker::RUNTIME_MODULE, multimem_runtime_wasm::RUNTIME_WASM);
        if self == Mode::WithRuntime && case.runtime_first {
            inputs.push(runtime);
        }
        inputs.extend(case.link_order().into_iter().map(|m| (m.name, &m.wasm[..])));
        if self == Mode::WithRuntime && !case.runtime_first {
            inputs.push(runtime);
        }
        inputs
    }

    /// The equivalent `multimem-link` command line (for failure reports;
    /// the inputs are the files the report writes).
    pub fn command(self, case: &Case) -> String {
        let mut cmd = String::from("multimem-link");
        for (name, _) in self.inputs(case) {
            if name == multimem_linker::RUNTIME_MODULE {
                // runtime.wasm: `cargo run -p multimem-runtime-wasm -- runtime.wasm`
                cmd.push_str(" multimem=runtime.wasm");
            } else {
                cmd.push_str(&format!(" {name}={name}.wasm"));
            }
        }
        if matches!(self, Mode::Gc | Mode::GcSomeExports) {
            cmd.push_str(" --gc");
        }
        if self.some_exports() {
            for (module, name) in &case.some_exports {
                cmd.push_str(&format!(" --export '{module}.{name}'"));
            }
        }
        cmd.push_str(" -o linked.wasm");
        cmd
    }
}

/// Links `case` in `mode`: the linked bytes, or the error (or panic)
/// message.
pub fn link(mode: Mode, case: &Case) -> Result<Vec<u8>, String> {
    let linked = std::panic::catch_unwind(|| {
        let mut linker = Linker::new(mode.config(case));
        for (name, wasm) in mode.inputs(case) {
            linker.add_module(name, wasm)?;
        }
        linker.link()
    });
    match linked {
        Ok(Ok(out)) => Ok(out.wasm),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!("panic: {}", panic_message(&*panic))),
    }
}

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}
