//! `multimem-link`: the command-line front end of [`multimem_linker`].
//! Parses arguments by hand (no dependency), reads `.wasm` or `.wat`
//! inputs, links, writes binary or text. Every failure is a message on
//! stderr and exit code 1; nothing here may panic on user input.
//!
//! The runtime builds that `--with-runtime` adds are embedded only with
//! the `with-runtime` feature (on by default): it needs the nested wasm32
//! builds of `multimem-runtime-wasm`, which the linker library itself
//! never does.

use std::io::Write;
use std::process::ExitCode;

use multimem_linker::{Config, ExportConflict, FileBytes, Linker, NamePrefix};

const HELP: &str = "\
multimem-link: merge WebAssembly modules into one multi-memory module and
lower multimem intrinsics.

USAGE:
    multimem-link [OPTIONS] NAME=FILE... -o OUT

Each input is NAME=FILE: FILE (.wasm binary or .wat text) becomes the module
that other inputs import as NAME. An import `NAME.f` binds to export `f` of
that input; imports of other modules stay imports. Inputs are laid out, and
their start functions run, in command-line order.

OPTIONS:
    -o, --output FILE          Write the linked module to FILE (`-` for stdout).
                               Required unless --wat is given (then stdout).
    -t, --wat                  Write the text format (WAT) instead of binary.
        --with-runtime         Add the bundled runtime.wasm as module `multimem`.
        --runtime-variant V    Which build --with-runtime adds (implies it):
                               RUNTIME_VARIANTS. Default: default.
        --export M.NAME[=AS]   Export only the listed exports (repeatable):
                               input M's export NAME, as AS if given.
                               Default: every export of every input.
        --export-prefix M=P    Export input M's exports as P + their name (for
                               example multimem=multimem. keeps the runtime's
                               exports apart from the app's). Repeatable.
        --rename-conflicts     When exporting everything and two inputs export
                               the same name, export later ones as `M.NAME`.
        --skip-conflicts       ... keep only the first one instead.
                               (Default: a conflict is an error.)
        --external-memory M.F  The import that the intrinsics' `external`
                               memory role binds to. Default: env.memory. If no
                               input has it: added as an import (0 pages, i32)
                               when an app calls external intrinsics; a private
                               empty memory when only the runtime does.
        --own-memory M.F       The memory that the intrinsics' `own` role binds
                               to: input M's memory export F. Default:
                               multimem.memory (the runtime's memory), else
                               the calling input's own defined memory 0.
        --single-memory        Write the single-memory build: one memory (the
                               native one); every other memory's instructions
                               become calls to imports from multimem:memory,
                               which js-glue and multimem-host provide. For
                               engines without multi-memory (Safari).
        --native-memory M.F    The memory --single-memory keeps native: input
                               M's memory export F. Default: the runtime's
                               memory (as --own-memory), else memory 0.
        --import-shared-memory The runtime's memory (the `own` role) becomes an
                               import, `multimem.memory`, shared, so workers
                               instantiate the module over one heap (needs the
                               runtime's shared build). As dart2wasm's flag.
        --shared-memory-max-pages N
                               Its maximum in pages (default: the runtime's).
        --gc                   Remove functions, globals, tags and segments
                               unreachable from the exports, start functions
                               and active segments (tables and array-allocating
                               globals are kept: they can fail to instantiate).
        --name-prefix WHEN     Prefix merged names with `module.`: `clash`
                               (default: only names used by several inputs),
                               `always` or `never`.
        --strip-names          Do not emit a `name` section.
        --keep-dwarf           Keep DWARF sections of a single input verbatim
                               (offsets become stale). Default: drop, warn.
        --validate-inputs      Validate the inputs' function bodies when they
                               are read, not only in the output (slower;
                               rejects bodies that only linking makes valid).
        --threads N            Threads for validation and code rewriting
                               (default: all cores; 1 = single-threaded).
                               The output is identical for any N.
    -q, --quiet                Do not print warnings.
    -h, --help                 Print this help.
    -V, --version              Print the version.

EXIT STATUS:
    0 on success, 1 on any error (message on stderr).

EXAMPLE:
    multimem-link app=app.wasm multimem=runtime.wasm -o out.wasm
";

struct Args {
    inputs: Vec<(String, String)>,
    output: Option<String>,
    wat: bool,
    /// The runtime build to add as `multimem`, if any.
    runtime: Option<String>,
    quiet: bool,
    config: Config,
}

fn split_dot(s: &str, flag: &str) -> Result<(String, String), String> {
    match s.split_once('.') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => Err(format!("{flag} expects MODULE.NAME, got `{s}`")),
    }
}

fn parse_args(args: Vec<String>) -> Result<Option<Args>, String> {
    let mut a =
        Args { inputs: Vec::new(), output: None, wat: false, runtime: None, quiet: false, config: Config::default() };
    // --import-shared-memory and its maximum, applied once all are read.
    let mut shared: (bool, Option<u64>) = (false, None);
    let mut it = args.into_iter();
    let value =
        |it: &mut std::vec::IntoIter<String>, flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let val = |it: &mut std::vec::IntoIter<String>| match &inline {
            Some(v) => Ok(v.clone()),
            None => value(it, &flag),
        };
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{}", HELP.replace("RUNTIME_VARIANTS", &runtime::names().join(", ")));
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("multimem-link {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "-o" | "--output" => a.output = Some(val(&mut it)?),
            "-t" | "--wat" => a.wat = true,
            "--with-runtime" => {
                a.runtime.get_or_insert_with(|| runtime::DEFAULT.to_string());
            }
            "--runtime-variant" => {
                let v = val(&mut it)?;
                runtime::bytes(&v)?;
                a.runtime = Some(v);
            }
            "-q" | "--quiet" => a.quiet = true,
            "--gc" => a.config = a.config.gc(true),
            "--single-memory" => a.config = a.config.single_memory(true),
            "--import-shared-memory" => shared.0 = true,
            "--shared-memory-max-pages" => {
                let v = val(&mut it)?;
                let n: u64 = v.parse().map_err(|_| format!("--shared-memory-max-pages expects a number, got `{v}`"))?;
                shared.1 = Some(n);
            }
            "--native-memory" => {
                let (m, f) = split_dot(&val(&mut it)?, "--native-memory")?;
                a.config = a.config.native_memory(&m, &f);
            }
            "--strip-names" => a.config = a.config.keep_names(false),
            "--keep-dwarf" => a.config = a.config.keep_dwarf(true),
            "--validate-inputs" => a.config = a.config.validate_inputs(true),
            "--threads" => {
                let v = val(&mut it)?;
                let n: usize = v.parse().map_err(|_| format!("--threads expects a number, got `{v}`"))?;
                a.config = a.config.threads(n);
            }
            "--rename-conflicts" => a.config = a.config.export_conflict(ExportConflict::Rename),
            "--export-prefix" => {
                let v = val(&mut it)?;
                let (m, p) = v
                    .split_once('=')
                    .filter(|(m, _)| !m.is_empty())
                    .ok_or_else(|| format!("--export-prefix expects MODULE=PREFIX, got `{v}`"))?;
                a.config = a.config.export_prefix(m, p);
            }
            "--skip-conflicts" => a.config = a.config.export_conflict(ExportConflict::Skip),
            "--external-memory" => {
                let (m, f) = split_dot(&val(&mut it)?, "--external-memory")?;
                a.config = a.config.external_memory(&m, &f);
            }
            "--own-memory" => {
                let (m, f) = split_dot(&val(&mut it)?, "--own-memory")?;
                a.config = a.config.own_memory(&m, &f);
            }
            "--export" => {
                let v = val(&mut it)?;
                let (path, as_name) = match v.split_once('=') {
                    Some((p, n)) => (p.to_string(), Some(n.to_string())),
                    None => (v.clone(), None),
                };
                let (m, n) = split_dot(&path, "--export")?;
                a.config = a.config.export(&m, &n, as_name.as_deref());
            }
            "--name-prefix" => {
                let v = val(&mut it)?;
                let p = match v.as_str() {
                    "clash" => NamePrefix::OnClash,
                    "always" => NamePrefix::Always,
                    "never" => NamePrefix::Never,
                    _ => return Err(format!("--name-prefix expects clash, always or never, got `{v}`")),
                };
                a.config = a.config.name_prefix(p);
            }
            f if f.starts_with('-') && f.len() > 1 => return Err(format!("unknown option `{f}` (see --help)")),
            _ => match arg.split_once('=') {
                Some((name, path)) if !name.is_empty() && !path.is_empty() => {
                    a.inputs.push((name.to_string(), path.to_string()))
                }
                _ => return Err(format!("input `{arg}` must be NAME=FILE (see --help)")),
            },
        }
    }
    match shared {
        (true, max) => a.config = a.config.import_shared_memory(max),
        (false, Some(_)) => return Err("--shared-memory-max-pages needs --import-shared-memory".to_string()),
        (false, None) => {}
    }
    if a.inputs.is_empty() && a.runtime.is_none() {
        return Err("no inputs (see --help)".to_string());
    }
    if a.output.is_none() && !a.wat {
        return Err("no output file: give -o FILE (or --wat to print text)".to_string());
    }
    Ok(Some(a))
}

/// An input file: a wasm binary (mapped, see [`multimem_linker::map_file`])
/// or WAT text (parsed). A file that starts like a binary (a NUL byte, or
/// a prefix of the `\0asm` magic) is never read as text.
fn read_input(path: &str) -> Result<FileBytes, String> {
    let bytes =
        multimem_linker::map_file(std::path::Path::new(path)).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    if bytes.is_empty() {
        return Err(format!("`{path}` is empty: neither a wasm binary nor WAT text"));
    }
    if b"\0asm".starts_with(&bytes) {
        return Err(format!(
            "`{path}` is a truncated wasm binary: {} of the 8 header bytes (`\\0asm` and the version)",
            bytes.len()
        ));
    }
    let looks_text =
        bytes[0] != 0 && (path.ends_with(".wat") || path.ends_with(".wast") || std::str::from_utf8(&bytes).is_ok());
    if !looks_text {
        return Err(format!("`{path}` is neither a wasm binary (no \\0asm header) nor WAT text"));
    }
    wat::parse_bytes(&bytes).map(|c| FileBytes::from(c.into_owned())).map_err(|e| {
        let mut e = e;
        e.set_path(path);
        format!("`{path}` is not valid WAT: {e}")
    })
}

/// The runtime builds `--with-runtime` can add.
#[cfg(feature = "with-runtime")]
mod runtime {
    /// The build `--with-runtime` adds.
    pub const DEFAULT: &str = multimem_runtime_wasm::DEFAULT_VARIANT;

    /// The variants' names, in the order docs/ABI.md lists the builds
    /// (the shared builds, for `--import-shared-memory`, last).
    pub fn names() -> Vec<&'static str> {
        multimem_runtime_wasm::VARIANTS.iter().chain(multimem_runtime_wasm::SHARED_VARIANTS).map(|(n, _)| *n).collect()
    }

    /// The bytes of variant `name` (one of [`names`]).
    pub fn bytes(name: &str) -> Result<&'static [u8], String> {
        multimem_runtime_wasm::variant(name)
            .ok_or_else(|| format!("--runtime-variant expects one of {}, got `{name}`", names().join(", ")))
    }
}

/// Without the `with-runtime` feature: no variants, and asking for one
/// says how to get them.
#[cfg(not(feature = "with-runtime"))]
mod runtime {
    pub const DEFAULT: &str = "";

    pub fn names() -> Vec<&'static str> {
        Vec::new()
    }

    pub fn bytes(_: &str) -> Result<&'static [u8], String> {
        Err("this multimem-link was built without the `with-runtime` feature, so it has no bundled runtime.wasm; \
             give the runtime as an input (`multimem=runtime.wasm`) or rebuild with `--features with-runtime`"
            .to_string())
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let Some(a) = parse_args(args)? else { return Ok(()) };
    let timings = std::env::var_os("MULTIMEM_LINK_TIMINGS").is_some();
    let start = std::time::Instant::now();
    let mark = |what: &str| {
        if timings {
            eprintln!("multimem-link timing: {what} (since start): {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
        }
    };
    let mut linker = Linker::new(a.config);
    for (name, path) in &a.inputs {
        let bytes = read_input(path)?;
        mark(&format!("read `{name}`"));
        linker.add_module_file(name, bytes).map_err(|e| e.to_string())?;
    }
    if let Some(variant) = &a.runtime {
        linker
            .add_module_owned(multimem_linker::RUNTIME_MODULE, runtime::bytes(variant)?.to_vec())
            .map_err(|e| e.to_string())?;
    }
    let out = linker.link_split().map_err(|e| e.to_string())?;
    mark("linked");
    if !a.quiet {
        for w in &out.warnings {
            eprintln!("warning: {w}");
        }
    }
    // The linked parts go out as they are (binary) or printed (text), to
    // the named file (written in place) or to stdout.
    let path = a.output.as_deref().filter(|p| *p != "-");
    let to_stdout = |write: &dyn Fn(&mut std::io::StdoutLock<'_>) -> std::io::Result<()>| {
        let mut so = std::io::stdout().lock();
        write(&mut so).and_then(|_| so.flush())
    };
    let written = if a.wat {
        let text = wasmprinter::print_bytes(&out.into_output().wasm)
            .map_err(|e| format!("cannot print the output as text: {e}"))?;
        match path {
            Some(p) => multimem_linker::write_file(std::path::Path::new(p), text.as_bytes()),
            None => to_stdout(&|so| so.write_all(text.as_bytes())),
        }
    } else {
        match path {
            Some(p) => out.write_file(std::path::Path::new(p)),
            None => to_stdout(&|so| out.write_to(so)),
        }
    };
    let written = written.map_err(|e| match path {
        Some(p) => format!("cannot write `{p}`: {e}"),
        None => format!("cannot write to stdout: {e}"),
    });
    mark("written");
    written
}

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(a) => a,
        Err(bad) => {
            eprintln!("error: argument is not valid UTF-8: {bad:?}");
            return ExitCode::from(1);
        }
    };
    // Last resort: a linker bug must not print a backtrace at users.
    std::panic::set_hook(Box::new(|_| {}));
    match std::panic::catch_unwind(|| run(args)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("error: internal linker error (panic); please report this with the inputs");
            ExitCode::from(1)
        }
    }
}
