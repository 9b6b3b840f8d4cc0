//! Runs `.wast` scripts with every module sent through a link step first.
//!
//! wasmtime-wast 48 has no hook to see or replace module bytes, so this
//! module rewrites the script text instead (see ../shared/testsuite/README.md):
//!
//! 1. `scan_forms`: find the source range of every top-level form (and of
//!    its direct children) with the `wast` lexer.
//! 2. `rewrite`: parse the script with the `wast` crate; pair the i-th
//!    directive with the i-th top-level form; for every module that the
//!    script instantiates (`(module ...)`, `(module definition ...)`, and the
//!    module of `(assert_trap (module ...) ...)`) encode it, give the bytes
//!    to the link step, and write `(module $id binary "...")` in its place.
//!    Everything else is copied byte for byte, in particular the modules of
//!    `assert_invalid`, `assert_malformed` and `assert_unlinkable`, which test
//!    the engine, not the linker.
//! 3. `run_script`: run the rewritten text with `WastContext::run_wast`.
//!
//! Replacements keep the line count of the text they replace (padding with
//! newlines), so wasmtime's "failed directive on file:line" points at the
//! line of the original file.

use std::fmt::Write as _;
use std::ops::Range;

use wast::core::{Module, ModuleKind};
use wast::lexer::{Lexer, TokenKind};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, Wat};

/// A failure attributed to one place of one script.
#[derive(Clone, Debug)]
pub struct Failure {
    /// 1-based line of the directive in the original file (0 if unknown).
    pub line: usize,
    /// What went wrong, with the link error or wasmtime's error chain.
    pub message: String,
}

/// One top-level form of a script: its byte range and the ranges of its
/// direct child forms.
#[derive(Debug)]
struct Form {
    range: Range<usize>,
    children: Vec<Range<usize>>,
}

/// Finds every top-level parenthesised form of `source` (with the same lexer
/// the `wast` parser uses, so strings and comments with parentheses inside
/// are handled).
fn scan_forms(source: &str) -> Result<Vec<Form>, String> {
    let mut lexer = Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let mut pos = 0;
    let mut forms = Vec::new();
    // Open-paren offsets of the forms enclosing the current token.
    let mut stack: Vec<usize> = Vec::new();
    while let Some(token) = lexer.parse(&mut pos).map_err(|e| format!("lexing failed: {e}"))? {
        match token.kind {
            TokenKind::LParen => {
                if stack.is_empty() {
                    // End filled in at the matching `)`.
                    forms.push(Form { range: token.offset..0, children: Vec::new() });
                }
                stack.push(token.offset);
            }
            TokenKind::RParen => {
                let start = stack.pop().ok_or_else(|| format!("unbalanced `)` at byte {}", token.offset))?;
                let end = token.offset + 1;
                // `forms` is non-empty: a `(` at depth 0 pushed one.
                let form = forms.last_mut().expect("open form");
                match stack.len() {
                    0 => form.range.end = end,
                    1 => form.children.push(start..end),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("unbalanced `(` at byte {open}"));
    }
    Ok(forms)
}

/// `line` of byte `offset` in `source`, 1-based.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// The source text of the `$id` token right after the `module` keyword (and
/// after `definition`) of the form starting at `form_start`, if any. Taken
/// from the source so quoted ids round-trip exactly.
fn module_header(source: &str, form_start: usize) -> Result<(bool, Option<String>), String> {
    let mut lexer = Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let mut pos = form_start;
    let mut definition = false;
    let mut seen_module = false;
    while let Some(token) = lexer.parse(&mut pos).map_err(|e| format!("lexing failed: {e}"))? {
        let text = &source[token.offset..token.offset + token.len as usize];
        match token.kind {
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment => {}
            TokenKind::LParen if !seen_module => {}
            TokenKind::Keyword if text == "module" && !seen_module => seen_module = true,
            TokenKind::Keyword if text == "definition" && seen_module => definition = true,
            TokenKind::Id if seen_module => return Ok((definition, Some(text.to_string()))),
            _ => return Ok((definition, None)),
        }
    }
    Ok((definition, None))
}

/// `(module [definition] [$id] binary "...")` for `wasm`, followed by as many
/// newlines as `original` has, so line numbers after it do not move.
fn binary_module(definition: bool, id: Option<&str>, wasm: &[u8], original: &str) -> String {
    let mut out = String::with_capacity(wasm.len() * 3 + 64);
    out.push_str("(module ");
    if definition {
        out.push_str("definition ");
    }
    if let Some(id) = id {
        out.push_str(id);
        out.push(' ');
    }
    out.push_str("binary \"");
    for byte in wasm {
        let _ = write!(out, "\\{byte:02x}");
    }
    out.push('"');
    for _ in original.bytes().filter(|&b| b == b'\n') {
        out.push('\n');
    }
    out.push(')');
    out
}

/// Encodes a text or binary module of the script.
fn encode_module(module: &mut Module<'_>) -> Result<Vec<u8>, String> {
    module.encode().map_err(|e| format!("the wast crate could not encode the module: {e}"))
}

/// Encodes a `QuoteWat` (text, binary or quoted module). `None` for
/// components, which the linker does not handle and the suite does not use.
fn encode_quote(wat: &mut QuoteWat<'_>) -> Option<Result<Vec<u8>, String>> {
    match wat {
        QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..) => None,
        QuoteWat::Wat(Wat::Module(m)) => Some(encode_module(m)),
        QuoteWat::QuoteModule(..) => {
            Some(wat.encode().map_err(|e| format!("the wast crate could not encode the quoted module: {e}")))
        }
    }
}

/// Whether a module is written as `binary` (kept for messages only).
fn is_binary(module: &Module<'_>) -> bool {
    matches!(module.kind, ModuleKind::Binary(_))
}

/// The link step given to [`rewrite`]: module bytes in, linked bytes or a
/// message out.
pub type LinkStep<'a> = dyn FnMut(&[u8]) -> Result<Vec<u8>, String> + 'a;

/// Rewrites `source` so that every instantiated module is replaced by
/// `link(bytes)`. Returns the new text, or the failures (encode or link
/// errors, with the directive's line).
///
/// `prelude` is inserted before the first byte of the script, on line 1
/// (it must not contain newlines), e.g. to register an `env` module.
pub fn rewrite(source: &str, prelude: &str, link: &mut LinkStep<'_>) -> Result<String, Vec<Failure>> {
    assert!(!prelude.contains('\n'), "the prelude must stay on line 1");
    let fail = |line: usize, message: String| vec![Failure { line, message }];
    let forms = scan_forms(source).map_err(|e| fail(0, e))?;
    let mut lexer = Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| fail(0, format!("parse: {e}")))?;
    let mut script = parser::parse::<Wast>(&buf).map_err(|e| fail(0, format!("parse: {e}")))?;
    if script.directives.len() != forms.len() {
        return Err(fail(
            0,
            format!(
                "harness: {} directives but {} top-level forms; cannot map them to source text",
                script.directives.len(),
                forms.len()
            ),
        ));
    }

    // (byte range in `source`, replacement text), in source order.
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut failures = Vec::new();
    for (directive, form) in script.directives.iter_mut().zip(&forms) {
        let line = line_of(source, form.range.start);
        let (range, bytes) = match directive {
            WastDirective::Module(wat) | WastDirective::ModuleDefinition(wat) => match encode_quote(wat) {
                None => {
                    failures.push(Failure { line, message: "harness: components are not supported".into() });
                    continue;
                }
                Some(Err(e)) => {
                    failures.push(Failure { line, message: e });
                    continue;
                }
                Some(Ok(bytes)) => (form.range.clone(), bytes),
            },
            // A module whose instantiation must trap: the linked module must
            // trap the same way (and leave the same side effects).
            WastDirective::AssertTrap { exec: WastExecute::Wat(Wat::Module(m)), .. } => {
                let Some(child) = form.children.first() else {
                    failures.push(Failure { line, message: "harness: assert_trap without a module form".into() });
                    continue;
                };
                match encode_module(m) {
                    Ok(bytes) => (child.clone(), bytes),
                    Err(e) => {
                        let kind = if is_binary(m) { "binary" } else { "text" };
                        failures.push(Failure { line, message: format!("{kind} module: {e}") });
                        continue;
                    }
                }
            }
            WastDirective::Thread(_) => {
                failures.push(Failure {
                    line,
                    message: "harness: `thread` directives are not supported (their modules would not be linked)"
                        .into(),
                });
                continue;
            }
            _ => continue,
        };
        let original = &source[range.clone()];
        let (definition, id) = match module_header(source, range.start) {
            Ok(h) => h,
            Err(e) => {
                failures.push(Failure { line, message: e });
                continue;
            }
        };
        match link(&bytes) {
            Ok(linked) => edits.push((range, binary_module(definition, id.as_deref(), &linked, original))),
            Err(e) => failures.push(Failure { line, message: format!("link error: {e}") }),
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }

    let mut out = String::with_capacity(source.len() * 2 + prelude.len());
    out.push_str(prelude);
    let mut copied = 0;
    for (range, text) in edits {
        out.push_str(&source[copied..range.start]);
        out.push_str(&text);
        copied = range.end;
    }
    out.push_str(&source[copied..]);
    Ok(out)
}

/// The engine configuration of the reference run (testsuite/README.md):
/// the harness's full-featured one.
pub fn engine() -> wasmtime::Result<wasmtime::Engine> {
    wasmtime::Engine::new(&multimem_test_harness::engine::full_config())
}

/// Runs a script (original or rewritten) like the reference run: spectest
/// and wasmtime host modules registered, error messages compared loosely.
/// On failure returns the directive's line and wasmtime's error chain.
pub fn run_script(engine: &wasmtime::Engine, filename: &str, text: &str) -> Result<(), Failure> {
    use wasmtime_wast::{Async, SpectestConfig, WastContext};
    let mut cx = WastContext::new(engine, Async::No, |_| {});
    cx.ignore_error_messages(true);
    let setup = cx
        .register_spectest(&SpectestConfig { use_shared_memory: true, suppress_prints: true })
        .and_then(|()| cx.register_wasmtime());
    if let Err(e) = setup {
        return Err(Failure { line: 0, message: format!("harness set-up: {e:?}") });
    }
    cx.run_wast(filename, text.as_bytes()).map_err(|e| {
        let message = format!("{e:?}");
        Failure { line: failed_line(&message, filename).unwrap_or(0), message }
    })
}

/// Extracts N from wasmtime-wast's "failed directive on FILE:N" context.
fn failed_line(message: &str, filename: &str) -> Option<usize> {
    let marker = format!("failed directive on {filename}:");
    let at = message.find(&marker)? + marker.len();
    let digits: String = message[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_children_are_found_past_strings_and_comments() {
        let src = "(module $m (func)) ;; (not\n(; ( ;)(assert_trap (module (memory 1) (data \")\")) \"x\")";
        let forms = scan_forms(src).unwrap();
        assert_eq!(forms.len(), 2);
        assert_eq!(&src[forms[0].range.clone()], "(module $m (func))");
        assert_eq!(&src[forms[1].children[0].clone()], "(module (memory 1) (data \")\"))");
    }

    #[test]
    fn header_keeps_id_and_definition() {
        assert_eq!(module_header("(module $a (func))", 0).unwrap(), (false, Some("$a".into())));
        assert_eq!(module_header("( module definition $b)", 0).unwrap(), (true, Some("$b".into())));
        assert_eq!(module_header("(module (func))", 0).unwrap(), (false, None));
    }

    #[test]
    fn rewrite_keeps_lines_and_other_directives() {
        let src = "(module $m\n  (func (export \"f\") (result i32) i32.const 7))\n(assert_return (invoke $m \"f\") (i32.const 7))\n(assert_invalid (module (func (result i32))) \"type mismatch\")\n";
        let mut calls = 0;
        let out = rewrite(src, "", &mut |b| {
            calls += 1;
            Ok(b.to_vec())
        })
        .unwrap();
        assert_eq!(calls, 1, "only the instantiated module is linked");
        assert!(out.starts_with("(module $m binary \"\\00\\61\\73\\6d"));
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(out.contains("(assert_invalid (module (func (result i32))) \"type mismatch\")"));
        let engine = engine().unwrap();
        run_script(&engine, "t.wast", &out).unwrap();
    }

    #[test]
    fn a_broken_link_step_is_reported_at_its_line() {
        let src =
            "(module (func (export \"f\") (result i32) i32.const 7))\n(assert_return (invoke \"f\") (i32.const 7))\n";
        // A "linker" that changes the constant: the assertion must fail at line 2.
        let out = rewrite(src, "", &mut |_| {
            Ok(wat::parse_str("(module (func (export \"f\") (result i32) i32.const 8))").unwrap())
        })
        .unwrap();
        let err = run_script(&engine().unwrap(), "t.wast", &out).unwrap_err();
        assert_eq!(err.line, 2, "{}", err.message);
        let err = rewrite(src, "", &mut |_| Err("nope".into())).unwrap_err();
        assert_eq!((err[0].line, err[0].message.as_str()), (1, "link error: nope"));
    }
}
