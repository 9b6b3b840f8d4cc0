//! The four ways each case is linked, through the `multimem-linker`
//! library API (`Linker`, `Config`), and which original inputs each one is
//! compared with.
//!
//! | mode | inputs, in order | config | compared with |
//! |---|---|---|---|
//! | `alone` | the case | default | the case |
//! | `after-unrelated` | `u`, the case | default | `u`, the case |
//! | `with-runtime` | the case, `multimem` = runtime.wasm | default | the case |
//! | `gc` | the case | `gc(true)`, every export kept | the case |
//!
//! `with-runtime` compares only the case's exports: the runtime cannot run
//! unlinked (it imports the intrinsics), and its own behaviour is tested by
//! the runtime and linker suites. It puts the runtime last, as
//! `multimem-link --with-runtime` does. Every mode keeps every export
//! (generated names are prefixed per input, so none conflict) and links
//! on one thread (the fuzzer runs cases in parallel instead; the output is
//! the same for any thread count).
//!
//! A link that fails or panics on valid inputs is a failure like a
//! divergence; a panic is reported with its message.

use crate::generate::Case;
use multimem_linker::{Config, Linker};

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
}

impl Mode {
    /// Every mode, in the order they run.
    pub const ALL: [Mode; 4] = [Mode::Alone, Mode::AfterUnrelated, Mode::WithRuntime, Mode::Gc];

    /// The mode's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Alone => "alone",
            Mode::AfterUnrelated => "after-unrelated",
            Mode::WithRuntime => "with-runtime",
            Mode::Gc => "gc",
        }
    }

    /// The mode called `name`.
    pub fn from_name(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The linker configuration.
    pub fn config(self) -> Config {
        Config::default().threads(1).gc(self == Mode::Gc)
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
        inputs.extend(case.modules.iter().map(|m| (m.name, &m.wasm[..])));
        if self == Mode::WithRuntime {
            inputs.push((multimem_linker::RUNTIME_MODULE, multimem_runtime_wasm::RUNTIME_WASM));
        }
        inputs
    }

    /// The equivalent `multimem-link` command line (for failure reports;
    /// the inputs are the files the report writes).
    pub fn command(self, case: &Case) -> String {
        let mut cmd = String::from("multimem-link");
        for (name, _) in self.inputs(case) {
            if name == multimem_linker::RUNTIME_MODULE {
                cmd.push_str(" --with-runtime");
            } else {
                cmd.push_str(&format!(" {name}={name}.wasm"));
            }
        }
        if self == Mode::Gc {
            cmd.push_str(" --gc");
        }
        cmd.push_str(" -o linked.wasm");
        cmd
    }
}

/// Links `case` in `mode`: the linked bytes, or the error (or panic)
/// message.
pub fn link(mode: Mode, case: &Case) -> Result<Vec<u8>, String> {
    let linked = std::panic::catch_unwind(|| {
        let mut linker = Linker::new(mode.config());
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
