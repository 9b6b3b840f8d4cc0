//! Phase 4, exports: which exports the output has ([`Config::export`],
//! [`Config::export_conflict`]). They are chosen before dead-code removal,
//! whose roots they are.

use std::collections::HashMap;

use crate::config::{Config, ExportConflict};
use crate::error::{Error, ErrorKind};
use crate::parse::{Kind, Parsed};
use crate::resolve::{Resolver, Target};

/// An export of the output, before indices are assigned.
pub(crate) struct ChosenExport<'a> {
    pub name: String,
    pub module: usize,
    pub kind: Kind,
    /// Module-local index (counting imports).
    pub index: u32,
    pub export_kind: wasmparser::ExternalKind,
    /// The export's name in its input.
    pub source: &'a str,
}

impl<'a> ChosenExport<'a> {
    /// Export `e` of input `m`, as `name` in the output.
    fn new(name: String, module: usize, e: &wasmparser::Export<'a>) -> Self {
        ChosenExport {
            name,
            module,
            kind: Kind::of_export(e.kind),
            index: e.index,
            export_kind: e.kind,
            source: e.name,
        }
    }
}

/// Export `name` of input `module` as the output names it by default:
/// with the module's [`Config::export_prefix`], if it has one.
fn prefixed(config: &Config, module: &str, name: &str) -> String {
    match config.export_prefixes.iter().find(|(m, _)| m == module) {
        Some((_, prefix)) => format!("{prefix}{name}"),
        None => name.to_string(),
    }
}

fn err(kind: ErrorKind, msg: impl Into<String>) -> Error {
    Error::new(kind, msg)
}

/// The output's exports; an intrinsic among them is an error (intrinsics
/// can only be called).
pub(crate) fn choose<'a>(
    config: &Config,
    parsed: &[Parsed<'a>],
    resolver: &mut Resolver<'_, 'a>,
    warnings: &mut Vec<String>,
) -> Result<Vec<ChosenExport<'a>>, Error> {
    let exports = choose_exports(config, parsed, warnings)?;
    for x in &exports {
        if let Target::Intrinsic(i) = resolver.item(x.module, x.kind, x.index)? {
            return Err(err(
                ErrorKind::IntrinsicMisuse,
                format!(
                    "module `{}` exports intrinsic `{}.{}` as `{}`; intrinsics can only be called",
                    parsed[x.module].name,
                    multimem_abi::INTRINSICS_MODULE,
                    i.name,
                    x.name
                ),
            ));
        }
    }
    Ok(exports)
}

/// The exports of the output: all (with the conflict policy) or the listed ones.
fn choose_exports<'a>(
    config: &Config,
    parsed: &[Parsed<'a>],
    warnings: &mut Vec<String>,
) -> Result<Vec<ChosenExport<'a>>, Error> {
    let mut out: Vec<ChosenExport<'a>> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    match &config.exports {
        None => {
            for (m, p) in parsed.iter().enumerate() {
                for e in &p.exports {
                    let mut name = prefixed(config, p.name, e.name);
                    if let Some(&first) = seen.get(&name) {
                        match config.export_conflict {
                            ExportConflict::Error => {
                                return Err(err(
                                    ErrorKind::ExportConflict,
                                    format!(
                                        "export name conflict: modules `{}` and `{}` both export `{}` (use --rename-conflicts, --skip-conflicts or an explicit export list)",
                                        parsed[out[first].module].name, p.name, e.name
                                    ),
                                ));
                            }
                            ExportConflict::Skip => {
                                warnings.push(format!(
                                    "export `{}` of module `{}` skipped: module `{}` already exports that name",
                                    e.name, p.name, parsed[out[first].module].name
                                ));
                                continue;
                            }
                            ExportConflict::Rename => {
                                let mut n = format!("{}.{}", p.name, e.name);
                                let mut k = 2;
                                while seen.contains_key(&n) {
                                    n = format!("{}.{}#{k}", p.name, e.name);
                                    k += 1;
                                }
                                warnings.push(format!("export `{}` of module `{}` renamed to `{n}`", e.name, p.name));
                                name = n;
                            }
                        }
                    }
                    seen.insert(name.clone(), out.len());
                    out.push(ChosenExport::new(name, m, e));
                }
            }
        }
        Some(list) => {
            for spec in list {
                let m = parsed.iter().position(|p| p.name == spec.module).ok_or_else(|| {
                    err(
                        ErrorKind::MissingExport,
                        format!(
                            "export `{}.{}` requested, but there is no module `{}`",
                            spec.module, spec.name, spec.module
                        ),
                    )
                })?;
                let e = parsed[m].exports.iter().find(|e| e.name == spec.name).ok_or_else(|| {
                    err(
                        ErrorKind::MissingExport,
                        format!(
                            "export `{}.{}` requested, but module `{}` has no export `{}`",
                            spec.module, spec.name, spec.module, spec.name
                        ),
                    )
                })?;
                let name = spec.as_name.clone().unwrap_or_else(|| prefixed(config, &spec.module, &spec.name));
                if let Some(&first) = seen.get(&name) {
                    return Err(err(
                        ErrorKind::ExportConflict,
                        format!(
                            "export name conflict: `{name}` requested for both `{}.{}` and `{}.{}`",
                            parsed[out[first].module].name, out[first].source, spec.module, spec.name
                        ),
                    ));
                }
                seen.insert(name.clone(), out.len());
                out.push(ChosenExport::new(name, m, e));
            }
        }
    }
    Ok(out)
}
