//! Writes a build of `runtime.wasm` to a file:
//! `multimem-runtime-wasm [--variant BUILD] OUT.wasm`, where BUILD is a row
//! of docs/ABI.md's builds table (`--help` lists them).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut variant = multimem_runtime_wasm::DEFAULT_VARIANT.to_string();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--variant" => match args.next() {
                Some(v) => variant = v,
                None => return usage("--variant needs a value"),
            },
            "-h" | "--help" => return usage(""),
            _ if out.is_none() => out = Some(a),
            _ => return usage(&format!("unexpected argument `{a}`")),
        }
    }
    let Some(out) = out else { return usage("missing output path") };
    let Some(bytes) = multimem_runtime_wasm::variant(&variant) else {
        return usage(&format!("unknown variant `{variant}`"));
    };
    if let Err(e) = std::fs::write(&out, bytes) {
        eprintln!("error: writing {out}: {e}");
        return ExitCode::FAILURE;
    }
    println!("wrote {out} ({variant}, {} bytes)", bytes.len());
    ExitCode::SUCCESS
}

fn usage(err: &str) -> ExitCode {
    if !err.is_empty() {
        eprintln!("error: {err}");
    }
    let names: Vec<_> =
        multimem_runtime_wasm::VARIANTS.iter().chain(multimem_runtime_wasm::SHARED_VARIANTS).map(|(n, _)| *n).collect();
    eprintln!("usage: multimem-runtime-wasm [--variant {}] OUT.wasm", names.join("|"));
    if err.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}
