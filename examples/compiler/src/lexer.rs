//! Phase 1: source text to tokens, each with its line and column for error
//! messages.

use anyhow::{Result, bail};

/// A token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// An integer literal (Dart `int`, 64-bit).
    Int(i64),
    /// A floating-point literal (Dart `double`).
    Double(f64),
    /// An identifier or keyword.
    Ident(String),
    /// Punctuation or an operator, e.g. `"+="`, `"~/"`, `"("`.
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// A token and where it starts (1-based line and column).
#[derive(Clone, Debug)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub col: usize,
}

// Longest first, so `+=` wins over `+`.
const PUNCT: &[&str] = &[
    "~/", "+=", "-=", "*=", "++", "--", "<=", ">=", "==", "!=", "<<", ">>", "&&", "||", "+", "-", "*", "/", "%", "<",
    ">", "=", "(", ")", "{", "}", "[", "]", ";", ",", ".", "&", "|", "^", "!",
];

/// Splits `src` into tokens; `//` comments and whitespace are skipped.
pub fn lex(src: &str) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    while i < bytes.len() {
        let c = bytes[i];
        let col = i - line_start + 1;
        if c == b'\n' {
            line += 1;
            i += 1;
            line_start = i;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c.is_ascii_digit() {
            let start = i;
            let mut is_double = false;
            if src[i..].starts_with("0x") || src[i..].starts_with("0X") {
                i += 2;
                while i < bytes.len() && (bytes[i].is_ascii_hexdigit() || bytes[i] == b'_') {
                    i += 1;
                }
                let digits: String = src[start + 2..i].chars().filter(|c| *c != '_').collect();
                match u64::from_str_radix(&digits, 16) {
                    Ok(v) => Tok::Int(v as i64),
                    Err(_) => bail!("{line}:{col}: bad hex literal `{}`", &src[start..i]),
                }
            } else {
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                    i += 1;
                }
                if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                    is_double = true;
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let text: String = src[start..i].chars().filter(|c| *c != '_').collect();
                if is_double {
                    Tok::Double(text.parse().map_err(|_| anyhow::anyhow!("{line}:{col}: bad number `{text}`"))?)
                } else {
                    match text.parse::<i64>() {
                        Ok(v) => Tok::Int(v),
                        Err(_) => bail!("{line}:{col}: integer literal `{text}` does not fit in a 64-bit int"),
                    }
                }
            }
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$') {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if let Some(p) = PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            i += p.len();
            Tok::Punct(p)
        } else {
            let ch = src[i..].chars().next().unwrap();
            bail!("{line}:{col}: unexpected character `{ch}`");
        };
        out.push(Token { tok, line, col });
    }
    out.push(Token { tok: Tok::Eof, line, col: i - line_start + 1 });
    Ok(out)
}
