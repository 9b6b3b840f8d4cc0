//! Generates the `multimem-abi` crate's contents from `docs/ABI.md`.
//!
//! Phases, in the order they run:
//! 1. read `docs/ABI.md` and split it into the tables that follow each
//!    `<!-- abi:NAME -->` marker;
//! 2. parse every row strictly (cell values are the text between the first
//!    pair of backticks) and cross-check them: error names that exports list
//!    must exist, instruction names must be well formed, kinds must be dense,
//!    build names unique;
//! 3. write `abi.rs` (Rust items: constants, header offsets, `ErrorCode`,
//!    `Kind`, `EXPORTS`, the `Op` enum of the intrinsics' instructions,
//!    `INTRINSICS`, `BUILDS`, `LOWERED`, `GC_IMPORTS`) and `abi.js` / `abi.d.ts` (the JS glue's copy)
//!    into `OUT_DIR`.
//!
//! Any malformed row stops the build with the line number, so the document
//! cannot drift from what the code believes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    // `ABI.md` is a link to ../docs/ABI.md in the repository, so that
    // `cargo package` ships the document with the crate.
    let doc_path = manifest.join("ABI.md");
    println!("cargo:rerun-if-changed={}", doc_path.display());
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_else(|e| panic!("reading {}: {e}", doc_path.display()));
    let tables = split_tables(&doc);
    let abi = Abi::parse(&tables);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("abi.rs"), abi.rust()).unwrap();
    std::fs::write(out.join("abi.js"), abi.js()).unwrap();
    std::fs::write(out.join("abi.d.ts"), abi.dts()).unwrap();
}

/// One parsed table row: its line number in ABI.md and its cell values.
struct Row {
    line: usize,
    cells: Vec<String>,
    /// The cells' full text, for prose columns.
    raw: Vec<String>,
}

fn split_tables(doc: &str) -> BTreeMap<String, Vec<Row>> {
    let mut tables = BTreeMap::new();
    let mut current: Option<(String, Vec<Row>, bool)> = None;
    for (i, line) in doc.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- abi:") {
            if let Some((name, rows, _)) = current.take() {
                tables.insert(name, rows);
            }
            let name = rest.trim_end_matches("-->").trim().to_string();
            current = Some((name, Vec::new(), false));
            continue;
        }
        let Some((_, rows, seen_header)) = current.as_mut() else { continue };
        if trimmed.starts_with('|') {
            if !*seen_header {
                *seen_header = true; // the header row
                continue;
            }
            if trimmed.starts_with("|---") || trimmed.starts_with("| ---") {
                continue;
            }
            let inner = trimmed.trim_start_matches('|').trim_end_matches('|');
            let cells = inner.split('|').map(cell_value).collect();
            let raw = inner.split('|').map(|c| c.trim().to_string()).collect();
            rows.push(Row { line: line_no, cells, raw });
        } else if !rows.is_empty() {
            // The table ended.
            let (name, rows, _) = current.take().unwrap();
            tables.insert(name, rows);
        }
    }
    if let Some((name, rows, _)) = current.take() {
        tables.insert(name, rows);
    }
    tables
}

fn cell_value(cell: &str) -> String {
    let cell = cell.trim();
    match cell.find('`') {
        Some(start) => {
            let rest = &cell[start + 1..];
            let end = rest.find('`').unwrap_or(rest.len());
            rest[..end].trim().to_string()
        }
        None => cell.to_string(),
    }
}

fn table<'a>(tables: &'a BTreeMap<String, Vec<Row>>, name: &str, cols: usize) -> &'a [Row] {
    let rows = tables.get(name).unwrap_or_else(|| panic!("docs/ABI.md has no `<!-- abi:{name} -->` table"));
    for r in rows {
        assert_eq!(
            r.cells.len(),
            cols,
            "docs/ABI.md line {}: table `{name}` wants {cols} columns, found {}",
            r.line,
            r.cells.len()
        );
    }
    rows
}

fn parse_u32(s: &str, line: usize) -> Option<u32> {
    let r = if let Some(h) = s.strip_prefix("0x") { u32::from_str_radix(h, 16) } else { s.parse() };
    match r {
        Ok(v) => Some(v),
        Err(_) if s.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
            panic!("docs/ABI.md line {line}: bad number `{s}`")
        }
        Err(_) => None,
    }
}

fn val_types(s: &str, line: usize) -> Vec<&'static str> {
    s.split_whitespace()
        .map(|t| match t {
            "i32" => "I32",
            "i64" => "I64",
            "f32" => "F32",
            "f64" => "F64",
            other => panic!("docs/ABI.md line {line}: unknown value type `{other}`"),
        })
        .collect()
}

fn camel(upper_snake: &str) -> String {
    upper_snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

struct Constant {
    name: String,
    value: Result<u32, String>,
    doc: String,
}
struct Field {
    name: String,
    offset: i32,
    doc: String,
}
struct Kind {
    code: u32,
    name: String,
    size: u32,
    lanes: u32,
    number: String,
    js: String,
}
struct Error {
    code: u32,
    name: String,
    doc: String,
}
struct Export {
    name: String,
    params: Vec<&'static str>,
    results: Vec<&'static str>,
    on_error: String,
    errors: Vec<String>,
    doc: String,
    /// Its row of the threads table: `Any` or `Instance`.
    threads: &'static str,
}
struct Intrinsic {
    name: String,
    params: Vec<&'static str>,
    results: Vec<&'static str>,
    op: String,
    instruction: String,
    memories: Vec<&'static str>,
    align: u32,
}
struct Build {
    name: String,
    cargo_features: Vec<String>,
    target_features: Vec<String>,
    size_budget: Option<u32>,
    doc: String,
}

/// One import of the ownership module (the `ownership` table).
struct GcImport {
    name: String,
    params: Vec<&'static str>,
    /// Whether it returns a token (`(ref extern)`), its only result type.
    returns_token: bool,
    doc: String,
}

/// A kind of lowered-memory operation (the `lowered-kinds` table).
struct LoweredKind {
    name: String,
    params: Vec<String>,
    doc: String,
}
/// One import of the reserved lowered-memory module (the `lowered` table).
struct Lowered {
    instruction: String,
    params: Vec<&'static str>,
    results: Vec<&'static str>,
    kind: String,
    align: u32,
}

struct Abi {
    constants: Vec<Constant>,
    header: Vec<Field>,
    kinds: Vec<Kind>,
    errors: Vec<Error>,
    exports: Vec<Export>,
    /// The shared builds' extra exports (`exports-shared`).
    shared_exports: Vec<Export>,
    intrinsics: Vec<Intrinsic>,
    /// The distinct instructions of `intrinsics`, in first-use order:
    /// (text-format name, `Op` variant).
    ops: Vec<(String, String)>,
    builds: Vec<Build>,
    lowered_kinds: Vec<LoweredKind>,
    lowered: Vec<Lowered>,
    gc_imports: Vec<GcImport>,
}

/// The `Op` variant of a text-format instruction name: each `.`- or
/// `_`-separated word capitalised (`i32.load8_u` is `I32Load8U`). The
/// instruction itself is checked by the linker, whose lowering matches
/// every `Op` (a new instruction here fails to compile there), and by this
/// crate's tests, which validate each intrinsic's instruction at its
/// documented signature.
fn op_variant(instruction: &str, line: usize) -> String {
    let well_formed = instruction.split('.').all(|w| {
        !w.is_empty()
            && w.split('_').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    });
    assert!(well_formed, "docs/ABI.md line {line}: `{instruction}` is not a text-format instruction name");
    instruction
        .split(['.', '_'])
        .map(|w| {
            let mut c = w.chars();
            let first = c.next().unwrap().to_ascii_uppercase();
            first.to_string() + c.as_str()
        })
        .collect()
}

/// A space-separated list cell (`simd checked`); empty for an empty cell.
fn words(cell: &str) -> Vec<String> {
    cell.split_whitespace().map(str::to_string).collect()
}

impl Abi {
    fn parse(t: &BTreeMap<String, Vec<Row>>) -> Abi {
        let constants = table(t, "constants", 3)
            .iter()
            .chain(table(t, "constants-single", 3))
            .chain(table(t, "constants-ownership", 3))
            .map(|r| Constant {
                name: r.cells[0].clone(),
                value: parse_u32(&r.cells[1], r.line).ok_or_else(|| r.cells[1].clone()),
                doc: r.raw[2].clone(),
            })
            .collect();
        let header = table(t, "header", 4)
            .iter()
            .map(|r| Field {
                name: r.cells[0].clone(),
                offset: r.cells[1].parse().unwrap_or_else(|_| panic!("docs/ABI.md line {}: bad offset", r.line)),
                doc: r.raw[3].clone(),
            })
            .collect();
        let kinds: Vec<Kind> = table(t, "kinds", 6)
            .iter()
            .map(|r| Kind {
                code: parse_u32(&r.cells[0], r.line).expect("kind code"),
                name: r.cells[1].clone(),
                size: parse_u32(&r.cells[2], r.line).expect("element size"),
                lanes: parse_u32(&r.cells[3], r.line).expect("lanes"),
                number: match r.cells[4].as_str() {
                    n @ ("int" | "float" | "bytes") => n.to_string(),
                    n => panic!("docs/ABI.md line {}: unknown number class `{n}`", r.line),
                },
                js: r.cells[5].clone(),
            })
            .collect();
        for (i, k) in kinds.iter().enumerate() {
            assert_eq!(k.code as usize, i, "docs/ABI.md: kind codes must be 0,1,2,... in order");
        }
        let errors: Vec<Error> = table(t, "errors", 3)
            .iter()
            .map(|r| Error {
                code: parse_u32(&r.cells[0], r.line).expect("error code"),
                name: r.cells[1].clone(),
                doc: r.raw[2].clone(),
            })
            .collect();
        let threads = Abi::parse_threads(t);
        let exports = Abi::parse_exports(table(t, "exports", 6), &errors, &threads);
        let shared_exports = Abi::parse_exports(table(t, "exports-shared", 6), &errors, &threads);
        for (name, line) in threads.iter().map(|(n, (_, l))| (n, l)) {
            assert!(
                exports.iter().chain(&shared_exports).any(|e| &e.name == name),
                "docs/ABI.md line {line}: the threads table names `{name}`, which no exports table has"
            );
        }
        let intrinsics: Vec<Intrinsic> = table(t, "intrinsics", 6)
            .iter()
            .map(|r| {
                let op = op_variant(&r.cells[3], r.line);
                let memories = r.cells[4]
                    .split_whitespace()
                    .map(|m| match m {
                        "own" => "Own",
                        "external" => "External",
                        other => panic!("docs/ABI.md line {}: unknown memory role `{other}`", r.line),
                    })
                    .collect();
                Intrinsic {
                    name: r.cells[0].clone(),
                    params: val_types(&r.cells[1], r.line),
                    results: val_types(&r.cells[2], r.line),
                    op,
                    instruction: r.cells[3].clone(),
                    memories,
                    align: parse_u32(&r.cells[5], r.line).expect("align"),
                }
            })
            .collect();
        let mut ops: Vec<(String, String)> = Vec::new();
        for i in &intrinsics {
            if !ops.iter().any(|(text, _)| *text == i.instruction) {
                ops.push((i.instruction.clone(), i.op.clone()));
            }
        }
        let builds: Vec<Build> = table(t, "builds", 5)
            .iter()
            .map(|r| {
                let name = r.cells[0].clone();
                assert!(
                    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "docs/ABI.md line {}: build name `{name}` must be lowercase letters, digits and `-`",
                    r.line
                );
                let size_budget = match r.cells[3].as_str() {
                    "" => None,
                    n => Some(
                        parse_u32(n, r.line)
                            .unwrap_or_else(|| panic!("docs/ABI.md line {}: bad size budget `{n}`", r.line)),
                    ),
                };
                Build {
                    name,
                    cargo_features: words(&r.cells[1]),
                    target_features: words(&r.cells[2]),
                    size_budget,
                    doc: r.raw[4].clone(),
                }
            })
            .collect();
        assert!(!builds.is_empty(), "docs/ABI.md: the builds table has no rows");
        for (i, b) in builds.iter().enumerate() {
            assert!(
                builds[i + 1..].iter().all(|x| x.name != b.name),
                "docs/ABI.md: build `{}` is listed twice",
                b.name
            );
        }
        let (lowered_kinds, lowered) = Abi::parse_lowered(t);
        let gc_imports = Abi::parse_ownership(t);
        Abi {
            constants,
            header,
            kinds,
            errors,
            exports,
            shared_exports,
            intrinsics,
            ops,
            builds,
            lowered_kinds,
            lowered,
            gc_imports,
        }
    }

    /// The threads table: export name -> (`Any` or `Instance`, line).
    fn parse_threads(t: &BTreeMap<String, Vec<Row>>) -> BTreeMap<String, (&'static str, usize)> {
        let mut out = BTreeMap::new();
        for r in table(t, "threads", 3) {
            let v = match r.cells[1].as_str() {
                "any" => "Any",
                "instance" => "Instance",
                other => {
                    panic!("docs/ABI.md line {}: thread safety must be `any` or `instance`, not `{other}`", r.line)
                }
            };
            if out.insert(r.cells[0].clone(), (v, r.line)).is_some() {
                panic!("docs/ABI.md line {}: `{}` is listed twice in the threads table", r.line, r.cells[0]);
            }
        }
        out
    }

    /// An exports table (`exports` or `exports-shared`): errors from the
    /// errors table, thread safety from the threads table (every export
    /// must have a row there).
    fn parse_exports(rows: &[Row], errors: &[Error], threads: &BTreeMap<String, (&'static str, usize)>) -> Vec<Export> {
        rows.iter()
            .map(|r| {
                let errs: Vec<String> = r.cells[4].split_whitespace().map(str::to_string).collect();
                for e in &errs {
                    assert!(
                        errors.iter().any(|x| &x.name == e),
                        "docs/ABI.md line {}: export lists unknown error `{e}`",
                        r.line
                    );
                }
                let on_error = r.cells[3].clone();
                assert!(
                    matches!(on_error.as_str(), "traps" | "returns" | "never"),
                    "docs/ABI.md line {}: on_error must be traps, returns or never",
                    r.line
                );
                let threads = threads.get(&r.cells[0]).map(|(v, _)| *v).unwrap_or_else(|| {
                    panic!("docs/ABI.md line {}: export `{}` has no row in the threads table", r.line, r.cells[0])
                });
                Export {
                    name: r.cells[0].clone(),
                    params: val_types(&r.cells[1], r.line),
                    results: val_types(&r.cells[2], r.line),
                    on_error,
                    errors: errs,
                    doc: r.raw[5].clone(),
                    threads,
                }
            })
            .collect()
    }

    /// The ownership imports: plain value types in, a token (or nothing)
    /// out, names unique.
    fn parse_ownership(t: &BTreeMap<String, Vec<Row>>) -> Vec<GcImport> {
        let rows: Vec<GcImport> = table(t, "ownership", 4)
            .iter()
            .map(|r| GcImport {
                name: r.cells[0].clone(),
                params: val_types(&r.cells[1], r.line),
                returns_token: match r.cells[2].as_str() {
                    "token" => true,
                    "" => false,
                    other => panic!(
                        "docs/ABI.md line {}: an ownership import returns `token` or nothing, not `{other}`",
                        r.line
                    ),
                },
                doc: r.raw[3].clone(),
            })
            .collect();
        for (i, g) in rows.iter().enumerate() {
            assert!(
                rows[i + 1..].iter().all(|x| x.name != g.name),
                "docs/ABI.md: ownership import `{}` is listed twice",
                g.name
            );
        }
        rows
    }

    /// The single-memory build's tables: each operation's kind must exist,
    /// and its parameters must be the kind's, one value type each.
    fn parse_lowered(t: &BTreeMap<String, Vec<Row>>) -> (Vec<LoweredKind>, Vec<Lowered>) {
        let kinds: Vec<LoweredKind> = table(t, "lowered-kinds", 3)
            .iter()
            .map(|r| {
                assert!(
                    r.cells[0].bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "docs/ABI.md line {}: lowered kind `{}` must be lowercase snake case",
                    r.line,
                    r.cells[0]
                );
                LoweredKind { name: r.cells[0].clone(), params: words(&r.cells[1]), doc: r.raw[2].clone() }
            })
            .collect();
        let lowered: Vec<Lowered> = table(t, "lowered", 5)
            .iter()
            .map(|r| {
                op_variant(&r.cells[0], r.line);
                let kind = kinds
                    .iter()
                    .find(|k| k.name == r.cells[3])
                    .unwrap_or_else(|| panic!("docs/ABI.md line {}: unknown lowered kind `{}`", r.line, r.cells[3]));
                let params = val_types(&r.cells[1], r.line);
                assert_eq!(
                    params.len(),
                    kind.params.len(),
                    "docs/ABI.md line {}: `{}` has {} params, its kind `{}` names {}",
                    r.line,
                    r.cells[0],
                    params.len(),
                    kind.name,
                    kind.params.len()
                );
                Lowered {
                    instruction: r.cells[0].clone(),
                    params,
                    results: val_types(&r.cells[2], r.line),
                    kind: kind.name.clone(),
                    align: parse_u32(&r.cells[4], r.line).expect("align"),
                }
            })
            .collect();
        for (i, l) in lowered.iter().enumerate() {
            assert!(
                lowered[i + 1..].iter().all(|x| x.instruction != l.instruction),
                "docs/ABI.md: lowered instruction `{}` is listed twice",
                l.instruction
            );
        }
        (kinds, lowered)
    }

    fn rust(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        writeln!(w, "// Generated by abi/build.rs from docs/ABI.md. Do not edit.\n").unwrap();
        for c in &self.constants {
            writeln!(w, "/// {}", c.doc).unwrap();
            match &c.value {
                Ok(v) => writeln!(w, "pub const {}: u32 = {:#x};", c.name, v).unwrap(),
                Err(text) => writeln!(w, "pub const {}: &str = {:?};", c.name, text).unwrap(),
            }
        }
        writeln!(w, "\n/// Byte offsets of the header fields, relative to the buffer address.").unwrap();
        writeln!(w, "pub mod header {{").unwrap();
        for f in &self.header {
            writeln!(w, "    /// {}", f.doc).unwrap();
            writeln!(w, "    pub const {}: i32 = {};", f.name.to_ascii_uppercase(), f.offset).unwrap();
        }
        writeln!(w, "}}").unwrap();

        // Error codes: plain constants (for the runtime) and an enum (for hosts).
        writeln!(w, "\n/// Error codes as plain `u32` constants.\npub mod error {{").unwrap();
        for e in &self.errors {
            writeln!(w, "    /// {}", e.doc).unwrap();
            writeln!(w, "    pub const {}: u32 = {};", e.name, e.code).unwrap();
        }
        writeln!(w, "}}").unwrap();
        writeln!(w, "\n/// A runtime error code (see `docs/ABI.md`, \"Error codes\").").unwrap();
        writeln!(w, "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\n#[repr(u32)]\npub enum ErrorCode {{").unwrap();
        for e in &self.errors {
            writeln!(w, "    /// {}", e.doc).unwrap();
            writeln!(w, "    {} = {},", camel(&e.name), e.code).unwrap();
        }
        writeln!(w, "}}\n\nimpl ErrorCode {{").unwrap();
        writeln!(
            w,
            "    /// Every code, in table order.\n    pub const ALL: &'static [ErrorCode] = &[{}];",
            self.errors.iter().map(|e| format!("ErrorCode::{}", camel(&e.name))).collect::<Vec<_>>().join(", ")
        )
        .unwrap();
        writeln!(w, "    /// Decodes a code; `None` for a value not in the table.\n    pub const fn from_code(code: u32) -> Option<ErrorCode> {{\n        match code {{").unwrap();
        for e in &self.errors {
            writeln!(w, "            {} => Some(ErrorCode::{}),", e.code, camel(&e.name)).unwrap();
        }
        writeln!(w, "            _ => None,\n        }}\n    }}").unwrap();
        writeln!(w, "    /// The numeric code.\n    pub const fn code(self) -> u32 {{ self as u32 }}").unwrap();
        writeln!(w, "    /// The name used in `docs/ABI.md`, e.g. `\"NOT_A_BUFFER\"`.\n    pub const fn name(self) -> &'static str {{\n        match self {{").unwrap();
        for e in &self.errors {
            writeln!(w, "            ErrorCode::{} => {:?},", camel(&e.name), e.name).unwrap();
        }
        writeln!(w, "        }}\n    }}").unwrap();
        writeln!(w, "    /// The meaning given in `docs/ABI.md`.\n    pub const fn meaning(self) -> &'static str {{\n        match self {{").unwrap();
        for e in &self.errors {
            writeln!(w, "            ErrorCode::{} => {:?},", camel(&e.name), e.doc).unwrap();
        }
        writeln!(w, "        }}\n    }}\n}}").unwrap();

        // Kinds.
        writeln!(w, "\n/// A `dart:typed_data` kind (see `docs/ABI.md`, \"Typed-data kinds\").").unwrap();
        writeln!(
            w,
            "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[repr(u32)]\npub enum Kind {{"
        )
        .unwrap();
        for k in &self.kinds {
            writeln!(w, "    /// `{}`: {} byte(s) per element, {} lane(s).", k.name, k.size, k.lanes).unwrap();
            writeln!(w, "    {} = {},", k.name, k.code).unwrap();
        }
        writeln!(w, "}}\n\nimpl Kind {{").unwrap();
        writeln!(
            w,
            "    /// Every kind, in code order.\n    pub const ALL: &'static [Kind] = &[{}];",
            self.kinds.iter().map(|k| format!("Kind::{}", k.name)).collect::<Vec<_>>().join(", ")
        )
        .unwrap();
        writeln!(w, "    /// Decodes a kind code; `None` outside the table.\n    pub const fn from_code(code: u32) -> Option<Kind> {{\n        match code {{").unwrap();
        for k in &self.kinds {
            writeln!(w, "            {} => Some(Kind::{}),", k.code, k.name).unwrap();
        }
        writeln!(w, "            _ => None,\n        }}\n    }}").unwrap();
        let per_kind = |w: &mut String, doc: &str, f: &str, ty: &str, val: &dyn Fn(&Kind) -> String| {
            writeln!(w, "    /// {doc}\n    pub const fn {f}(self) -> {ty} {{\n        match self {{").unwrap();
            for k in &self.kinds {
                writeln!(w, "            Kind::{} => {},", k.name, val(k)).unwrap();
            }
            writeln!(w, "        }}\n    }}").unwrap();
        };
        per_kind(w, "The numeric code.", "code", "u32", &|k| k.code.to_string());
        per_kind(w, "Dart's name for the kind.", "name", "&'static str", &|k| format!("{:?}", k.name));
        per_kind(w, "`elementSizeInBytes`.", "element_size", "u32", &|k| k.size.to_string());
        per_kind(w, "Scalar lanes per element (4 or 2 for the SIMD kinds, else 1).", "lanes", "u32", &|k| {
            k.lanes.to_string()
        });
        per_kind(w, "Which scalar exports apply to the kind.", "number", "Number", &|k| {
            format!("Number::{}", camel(&k.number))
        });
        per_kind(w, "The JavaScript TypedArray constructor for zero-copy views.", "js_array", "&'static str", &|k| {
            format!("{:?}", k.js)
        });
        writeln!(w, "}}").unwrap();

        // Exports.
        for (name, doc, list) in [
            ("EXPORTS", "Every export of `runtime.wasm` besides its memory, in table order.", &self.exports),
            (
                "SHARED_EXPORTS",
                "The exports only the shared builds add (docs/ABI.md, \"Threads\").",
                &self.shared_exports,
            ),
        ] {
            writeln!(w, "\n/// {doc}").unwrap();
            writeln!(w, "pub const {name}: &[Export] = &[").unwrap();
            for e in list {
                writeln!(
                    w,
                    "    Export {{ name: {:?}, params: &[{}], results: &[{}], on_error: OnError::{}, errors: &[{}], doc: {:?}, threads: ThreadSafety::{} }},",
                    e.name,
                    e.params.iter().map(|t| format!("ValType::{t}")).collect::<Vec<_>>().join(", "),
                    e.results.iter().map(|t| format!("ValType::{t}")).collect::<Vec<_>>().join(", "),
                    camel(&e.on_error),
                    e.errors.iter().map(|x| format!("ErrorCode::{}", camel(x))).collect::<Vec<_>>().join(", "),
                    e.doc,
                    e.threads
                )
                .unwrap();
            }
            writeln!(w, "];").unwrap();
        }

        // The instructions intrinsics stand for.
        writeln!(
            w,
            "\n/// The instruction an intrinsic stands for: one variant per instruction of the intrinsics table."
        )
        .unwrap();
        writeln!(w, "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Op {{").unwrap();
        for (text, variant) in &self.ops {
            writeln!(w, "    /// `{text}`\n    {variant},").unwrap();
        }
        writeln!(w, "}}\n\nimpl Op {{").unwrap();
        writeln!(
            w,
            "    /// Every instruction, in the order the intrinsics table first uses it.\n    pub const ALL: &'static [Op] = &[{}];",
            self.ops.iter().map(|(_, v)| format!("Op::{v}")).collect::<Vec<_>>().join(", ")
        )
        .unwrap();
        writeln!(w, "    /// The text-format name, e.g. `\"memory.copy\"`.\n    pub const fn instruction(self) -> &'static str {{\n        match self {{").unwrap();
        for (text, variant) in &self.ops {
            writeln!(w, "            Op::{variant} => {text:?},").unwrap();
        }
        writeln!(w, "        }}\n    }}\n}}").unwrap();

        // Intrinsics.
        writeln!(w, "\n/// Every intrinsic of the `multimem:intrinsics` module, in table order.").unwrap();
        writeln!(w, "pub const INTRINSICS: &[Intrinsic] = &[").unwrap();
        for i in &self.intrinsics {
            writeln!(
                w,
                "    Intrinsic {{ name: {:?}, params: &[{}], results: &[{}], op: Op::{}, instruction: {:?}, memories: &[{}], align: {} }},",
                i.name,
                i.params.iter().map(|t| format!("ValType::{t}")).collect::<Vec<_>>().join(", "),
                i.results.iter().map(|t| format!("ValType::{t}")).collect::<Vec<_>>().join(", "),
                i.op,
                i.instruction,
                i.memories.iter().map(|m| format!("MemoryRole::{m}")).collect::<Vec<_>>().join(", "),
                i.align
            )
            .unwrap();
        }
        writeln!(w, "];").unwrap();

        // Builds.
        writeln!(w, "\n/// Every build of `runtime.wasm`, in table order; the first is the default.").unwrap();
        writeln!(w, "pub const BUILDS: &[Build] = &[").unwrap();
        let strs = |v: &[String]| v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(", ");
        for b in &self.builds {
            writeln!(
                w,
                "    Build {{ name: {:?}, cargo_features: &[{}], target_features: &[{}], size_budget: {:?}, doc: {:?} }},",
                b.name,
                strs(&b.cargo_features),
                strs(&b.target_features),
                b.size_budget,
                b.doc
            )
            .unwrap();
        }
        writeln!(w, "];").unwrap();
        writeln!(w, "\n/// The default build (the first row of the builds table).\npub const DEFAULT_BUILD: &Build = &BUILDS[0];").unwrap();

        // The single-memory build's reserved module.
        writeln!(w, "\n/// What a lowered-memory import does (\"Single-memory build\" in `docs/ABI.md`).").unwrap();
        writeln!(w, "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum LoweredKind {{").unwrap();
        for k in &self.lowered_kinds {
            writeln!(
                w,
                "    /// Params `{}`: {}\n    {},",
                k.params.join(" "),
                k.doc,
                camel(&k.name.to_ascii_uppercase())
            )
            .unwrap();
        }
        writeln!(w, "}}\n\nimpl LoweredKind {{").unwrap();
        writeln!(w, "    /// The kind's name in `docs/ABI.md`.\n    pub const fn name(self) -> &'static str {{\n        match self {{").unwrap();
        for k in &self.lowered_kinds {
            writeln!(w, "            LoweredKind::{} => {:?},", camel(&k.name.to_ascii_uppercase()), k.name).unwrap();
        }
        writeln!(w, "        }}\n    }}").unwrap();
        writeln!(w, "    /// The names of its parameters, in order.\n    pub const fn params(self) -> &'static [&'static str] {{\n        match self {{").unwrap();
        for k in &self.lowered_kinds {
            writeln!(w, "            LoweredKind::{} => &[{}],", camel(&k.name.to_ascii_uppercase()), strs(&k.params))
                .unwrap();
        }
        writeln!(w, "        }}\n    }}\n}}").unwrap();
        writeln!(w, "\n/// Every import the single-memory build can take from `LOWERED_MODULE`, in table order.")
            .unwrap();
        writeln!(w, "pub const LOWERED: &[Lowered] = &[").unwrap();
        for l in &self.lowered {
            writeln!(
                w,
                "    Lowered {{ instruction: {:?}, params: &[{}], results: &[{}], kind: LoweredKind::{}, align: {} }},",
                l.instruction,
                l.params.iter().map(|t| format!("ValType::{t}")).collect::<Vec<_>>().join(", "),
                l.results.iter().map(|t| format!("ValType::{t}")).collect::<Vec<_>>().join(", "),
                camel(&l.kind.to_ascii_uppercase()),
                l.align
            )
            .unwrap();
        }
        writeln!(w, "];").unwrap();

        // The ownership imports.
        writeln!(
            w,
            "\n/// Every import of `GC_MODULE` (\"Ownership by GC objects\" in `docs/ABI.md`), in table order."
        )
        .unwrap();
        writeln!(w, "pub const GC_IMPORTS: &[GcImport] = &[").unwrap();
        for g in &self.gc_imports {
            writeln!(
                w,
                "    GcImport {{ name: {:?}, params: &[{}], returns_token: {}, doc: {:?} }},",
                g.name,
                g.params.iter().map(|t| format!("ValType::{t}")).collect::<Vec<_>>().join(", "),
                g.returns_token,
                g.doc
            )
            .unwrap();
        }
        writeln!(w, "];").unwrap();
        s
    }

    fn js(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        writeln!(w, "// Generated by abi/build.rs from docs/ABI.md. Do not edit;").unwrap();
        writeln!(w, "// `cargo test -p multimem-abi` checks this file, MULTIMEM_BLESS=1 rewrites it.\n").unwrap();
        for c in &self.constants {
            match &c.value {
                Ok(v) => writeln!(w, "/** {} */\nexport const {} = {};", c.doc, c.name, v).unwrap(),
                Err(text) => writeln!(w, "/** {} */\nexport const {} = {:?};", c.doc, c.name, text).unwrap(),
            }
        }
        writeln!(w, "\n/** Byte offsets of the header fields, relative to the buffer address. */").unwrap();
        writeln!(w, "export const HEADER = Object.freeze({{").unwrap();
        for f in &self.header {
            writeln!(w, "  {}: {},", f.name, f.offset).unwrap();
        }
        writeln!(w, "}});\n\n/** Error codes by name. */\nexport const ERROR = Object.freeze({{").unwrap();
        for e in &self.errors {
            writeln!(w, "  {}: {},", e.name, e.code).unwrap();
        }
        writeln!(w, "}});\n\n/** Error names and meanings by code. */\nexport const ERRORS = Object.freeze([").unwrap();
        for e in &self.errors {
            writeln!(w, "  Object.freeze({{ code: {}, name: {:?}, meaning: {:?} }}),", e.code, e.name, e.doc).unwrap();
        }
        writeln!(w, "]);\n\n/** Kind codes by Dart name. */\nexport const KIND = Object.freeze({{").unwrap();
        for k in &self.kinds {
            writeln!(w, "  {}: {},", k.name, k.code).unwrap();
        }
        writeln!(w, "}});\n\n/** Kind facts by code. */\nexport const KINDS = Object.freeze([").unwrap();
        for k in &self.kinds {
            writeln!(
                w,
                "  Object.freeze({{ code: {}, name: {:?}, elementSizeInBytes: {}, lanes: {}, number: {:?}, jsArray: {:?} }}),",
                k.code, k.name, k.size, k.lanes, k.number, k.js
            )
            .unwrap();
        }
        writeln!(
            w,
            "]);\n\n/** Export names of runtime.wasm and their signatures. */\nexport const EXPORTS = Object.freeze({{"
        )
        .unwrap();
        let lower =
            |v: &[&str]| v.iter().map(|t| format!("{:?}", t.to_ascii_lowercase())).collect::<Vec<_>>().join(", ");
        for e in &self.exports {
            writeln!(
                w,
                "  {}: Object.freeze({{ params: [{}], results: [{}], onError: {:?} }}),",
                e.name,
                lower(&e.params),
                lower(&e.results),
                e.on_error
            )
            .unwrap();
        }
        writeln!(w, "}});").unwrap();
        writeln!(
            w,
            "\n/** The imports of INTRINSICS_MODULE: signature, instruction, memories by role, log2 alignment. */\nexport const INTRINSICS = Object.freeze({{"
        )
        .unwrap();
        for i in &self.intrinsics {
            writeln!(
                w,
                "  {}: Object.freeze({{ params: [{}], results: [{}], instruction: {:?}, memories: [{}], align: {} }}),",
                i.name,
                lower(&i.params),
                lower(&i.results),
                i.instruction,
                lower(&i.memories),
                i.align
            )
            .unwrap();
        }
        writeln!(w, "}});").unwrap();
        writeln!(
            w,
            "\n/** Single-memory build: the imports of LOWERED_MODULE by instruction, with their kind. */\nexport const LOWERED = Object.freeze({{"
        )
        .unwrap();
        for l in &self.lowered {
            writeln!(
                w,
                "  {:?}: Object.freeze({{ params: [{}], results: [{}], kind: {:?}, align: {} }}),",
                l.instruction,
                lower(&l.params),
                lower(&l.results),
                l.kind,
                l.align
            )
            .unwrap();
        }
        writeln!(w, "}});").unwrap();
        writeln!(
            w,
            "\n/** Ownership by GC objects: the imports of GC_MODULE by name (\"token\" is a non-null externref). */\nexport const GC_IMPORTS = Object.freeze({{"
        )
        .unwrap();
        for g in &self.gc_imports {
            let results = if g.returns_token { "\"token\"" } else { "" };
            writeln!(w, "  {}: Object.freeze({{ params: [{}], results: [{results}] }}),", g.name, lower(&g.params))
                .unwrap();
        }
        writeln!(w, "}});").unwrap();
        s
    }

    fn dts(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        writeln!(w, "// Generated by abi/build.rs from docs/ABI.md. Do not edit.\n").unwrap();
        for c in &self.constants {
            match &c.value {
                Ok(v) => writeln!(w, "/** {} */\nexport declare const {}: {};", c.doc, c.name, v).unwrap(),
                Err(text) => writeln!(w, "/** {} */\nexport declare const {}: {:?};", c.doc, c.name, text).unwrap(),
            }
        }
        writeln!(
            w,
            "export declare const HEADER: Readonly<{{ {} }}>;",
            self.header.iter().map(|f| format!("{}: {}", f.name, f.offset)).collect::<Vec<_>>().join("; ")
        )
        .unwrap();
        writeln!(
            w,
            "export declare const ERROR: Readonly<{{ {} }}>;",
            self.errors.iter().map(|e| format!("{}: {}", e.name, e.code)).collect::<Vec<_>>().join("; ")
        )
        .unwrap();
        writeln!(
            w,
            "export declare const ERRORS: ReadonlyArray<Readonly<{{ code: number; name: string; meaning: string }}>>;"
        )
        .unwrap();
        writeln!(
            w,
            "export declare const KIND: Readonly<{{ {} }}>;",
            self.kinds.iter().map(|k| format!("{}: {}", k.name, k.code)).collect::<Vec<_>>().join("; ")
        )
        .unwrap();
        writeln!(
            w,
            "/** Dart name of a typed-data kind. */\nexport type KindName = {};",
            self.kinds.iter().map(|k| format!("{:?}", k.name)).collect::<Vec<_>>().join(" | ")
        )
        .unwrap();
        writeln!(w, "export declare const KINDS: ReadonlyArray<Readonly<{{ code: number; name: KindName; elementSizeInBytes: number; lanes: number; number: \"int\" | \"float\" | \"bytes\"; jsArray: string }}>>;").unwrap();
        writeln!(
            w,
            "/** Name of an export of runtime.wasm. */\nexport type ExportName = {};",
            self.exports.iter().map(|e| format!("{:?}", e.name)).collect::<Vec<_>>().join(" | ")
        )
        .unwrap();
        writeln!(w, "export declare const EXPORTS: Readonly<Record<ExportName, Readonly<{{ params: string[]; results: string[]; onError: \"traps\" | \"returns\" | \"never\" }}>>>;").unwrap();
        writeln!(
            w,
            "/** Name of an intrinsic (an import of INTRINSICS_MODULE). */\nexport type IntrinsicName = {};",
            self.intrinsics.iter().map(|i| format!("{:?}", i.name)).collect::<Vec<_>>().join(" | ")
        )
        .unwrap();
        writeln!(w, "export declare const INTRINSICS: Readonly<Record<IntrinsicName, Readonly<{{ params: string[]; results: string[]; instruction: string; memories: (\"own\" | \"external\")[]; align: number }}>>>;").unwrap();
        writeln!(
            w,
            "/** Kind of a lowered-memory import. */\nexport type LoweredKind = {};",
            self.lowered_kinds.iter().map(|k| format!("{:?}", k.name)).collect::<Vec<_>>().join(" | ")
        )
        .unwrap();
        writeln!(w, "export declare const LOWERED: Readonly<Record<string, Readonly<{{ params: string[]; results: string[]; kind: LoweredKind; align: number }}>>>;").unwrap();
        writeln!(
            w,
            "/** Name of an import of GC_MODULE. */\nexport type GcImportName = {};",
            self.gc_imports.iter().map(|g| format!("{:?}", g.name)).collect::<Vec<_>>().join(" | ")
        )
        .unwrap();
        writeln!(w, "export declare const GC_IMPORTS: Readonly<Record<GcImportName, Readonly<{{ params: string[]; results: string[] }}>>>;").unwrap();
        s
    }
}
