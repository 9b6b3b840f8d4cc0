//! Phase 8: custom sections.
//!
//! - `name`: function, local, global, memory, table, tag, type, element and
//!   data names are remapped and merged. Where several items would carry
//!   the same name, each gets its input's name as prefix (`module.name`),
//!   per [`NamePrefix`]. A resolved import takes the name of the definition.
//!   Module names, labels and field names are dropped.
//! - `producers`: one section, the union of all fields' values in input
//!   order, plus `processed-by multimem-link`.
//! - `target_features`: the union of the inputs' entries (first prefix wins).
//! - DWARF (`.debug_*`), `sourceMappingURL`, `external_debug_info`: dropped
//!   with a warning, because code offsets change (see [`Config::keep_dwarf`]).
//! - `linking` and `reloc.*` (object-file metadata): dropped with a warning.
//! - `dylink.0` (a dynamic-linking side module's metadata): written first
//!   in the output, as the dynamic-linking convention requires
//!   ([`emit_dylink`]), when exactly one input has it; the side module's
//!   memory and table needs are unchanged by linking it with modules that
//!   have their own. Several side modules cannot be merged into one (their
//!   needs would have to be combined): an [`ErrorKind::Unsupported`] error.
//! - Any other custom section: kept verbatim when exactly one input has
//!   sections of that name; dropped with a warning when several do, since
//!   the linker cannot know how to merge them.
//!
//! A malformed `name`, `producers` or `target_features` section is dropped
//! with a warning rather than failing the link (engines ignore them too).

use std::collections::{BTreeMap, HashMap};

use wasm_encoder::{Encode, IndirectNameMap, NameMap, NameSection};
use wasmparser::{BinaryReader, KnownCustom, Name};

use crate::code::leb;
use crate::config::{Config, NamePrefix};
use crate::error::{Error, ErrorKind};
use crate::parse::{Kind, Parsed};
use crate::remap::{DEAD, INTRINSIC, Maps};

struct Entry<'a> {
    idx: u32,
    def: bool,
    m: usize,
    name: &'a str,
}

fn finish(mut entries: Vec<Entry<'_>>, prefix: NamePrefix, modules: &[Parsed<'_>]) -> NameMap {
    entries.sort_by_key(|e| (e.idx, !e.def, e.m));
    entries.dedup_by_key(|e| e.idx);
    let mut owners: HashMap<&str, (u32, bool)> = HashMap::new();
    for e in &entries {
        owners
            .entry(e.name)
            .and_modify(|o| {
                if o.0 != e.idx {
                    o.1 = true
                }
            })
            .or_insert((e.idx, false));
    }
    let mut map = NameMap::new();
    for e in &entries {
        let clash = owners.get(e.name).is_some_and(|o| o.1);
        let prefixed = match prefix {
            NamePrefix::Always => true,
            NamePrefix::OnClash => clash,
            NamePrefix::Never => false,
        };
        if prefixed {
            map.append(e.idx, &format!("{}.{}", modules[e.m].name, e.name));
        } else {
            map.append(e.idx, e.name);
        }
    }
    map
}

fn mapped(v: &[u32], i: u32) -> Option<u32> {
    match v.get(i as usize) {
        Some(&o) if o != DEAD && o != INTRINSIC => Some(o),
        _ => None,
    }
}

fn section(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    wasm_encoder::CustomSection { name: name.into(), data: data.into() }.encode_section(out);
}

trait EncodeSection {
    fn encode_section(&self, out: &mut Vec<u8>);
}

impl EncodeSection for wasm_encoder::CustomSection<'_> {
    fn encode_section(&self, out: &mut Vec<u8>) {
        out.push(0);
        self.encode(out);
    }
}

/// The dynamic-linking section's name.
const DYLINK: &str = "dylink.0";

/// Writes the one input's `dylink.0` section, if any input has one (see
/// the module docs); right after the header.
pub(crate) fn emit_dylink(parsed: &[Parsed<'_>], warnings: &mut Vec<String>, out: &mut Vec<u8>) -> Result<(), Error> {
    let with: Vec<usize> =
        (0..parsed.len()).filter(|&m| parsed[m].customs.iter().any(|c| c.name() == DYLINK)).collect();
    match with.as_slice() {
        [] => Ok(()),
        [m] => {
            let sections: Vec<_> = parsed[*m].customs.iter().filter(|c| c.name() == DYLINK).collect();
            if sections.len() > 1 {
                warnings.push(format!(
                    "module `{}` has {} `{DYLINK}` sections; kept the first",
                    parsed[*m].name,
                    sections.len()
                ));
            }
            section(out, DYLINK, sections[0].data());
            Ok(())
        }
        several => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "modules {} are all dynamic-linking side modules (`{DYLINK}` sections); linking several into one would need their memory and table requirements combined, which the linker does not do",
                several.iter().map(|&m| format!("`{}`", parsed[m].name)).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// Emits the merged custom sections.
pub(crate) fn emit(
    config: &Config,
    parsed: &[Parsed<'_>],
    maps: &[Maps],
    warnings: &mut Vec<String>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    // Which inputs have each non-standard section.
    let mut others: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (m, p) in parsed.iter().enumerate() {
        for c in &p.customs {
            let n = c.name();
            if matches!(n, "name" | "producers" | "target_features" | DYLINK) {
                continue;
            }
            let e = others.entry(n).or_default();
            if e.is_empty() {
                order.push(n);
            }
            if !e.contains(&m) {
                e.push(m);
            }
        }
    }

    if config.keep_names {
        names(config, parsed, maps, warnings, out);
    }
    producers(parsed, warnings, out);
    target_features(parsed, warnings, out);

    for n in order {
        let from = &others[n];
        let debug = n.starts_with(".debug_") || n == "sourceMappingURL" || n == "external_debug_info";
        let object = n == "linking" || n.starts_with("reloc.");
        let who = from.iter().map(|&m| format!("`{}`", parsed[m].name)).collect::<Vec<_>>().join(", ");
        if object {
            warnings.push(format!(
                "dropped custom section `{n}` (from {who}): object-file metadata is invalid after linking"
            ));
            continue;
        }
        if debug && !config.keep_dwarf {
            warnings.push(format!(
                "dropped debug section `{n}` (from {who}): code offsets change when linking and DWARF is not rewritten"
            ));
            continue;
        }
        if from.len() > 1 {
            warnings.push(format!(
                "dropped custom section `{n}`: several inputs ({who}) have one and the linker cannot merge them"
            ));
            continue;
        }
        for c in &parsed[from[0]].customs {
            if c.name() == n {
                section(out, n, c.data());
            }
        }
    }
    Ok(())
}

fn names(config: &Config, parsed: &[Parsed<'_>], maps: &[Maps], warnings: &mut Vec<String>, out: &mut Vec<u8>) {
    // Space order: function, global, memory, table, tag, type, element, data.
    let mut spaces: [Vec<Entry<'_>>; 8] = Default::default();
    let mut locals: Vec<(u32, NameMap)> = Vec::new();
    let mut any = false;
    for (m, p) in parsed.iter().enumerate() {
        for c in &p.customs {
            if c.name() != "name" {
                continue;
            }
            let KnownCustom::Name(reader) = c.as_known() else { continue };
            let mut ok = true;
            for sub in reader {
                let Ok(sub) = sub else {
                    ok = false;
                    break;
                };
                let (space, map, kind) = match sub {
                    Name::Function(n) => (0, n, Some(Kind::Func)),
                    Name::Global(n) => (1, n, Some(Kind::Global)),
                    Name::Memory(n) => (2, n, Some(Kind::Memory)),
                    Name::Table(n) => (3, n, Some(Kind::Table)),
                    Name::Tag(n) => (4, n, Some(Kind::Tag)),
                    Name::Type(n) => (5, n, None),
                    Name::Element(n) => (6, n, None),
                    Name::Data(n) => (7, n, None),
                    Name::Local(ind) => {
                        for f in ind {
                            let Ok(f) = f else {
                                ok = false;
                                break;
                            };
                            let Some(o) = mapped(&maps[m].items[0], f.index) else { continue };
                            if f.index < p.num_imported(Kind::Func) {
                                continue;
                            }
                            let mut nm = NameMap::new();
                            for l in f.names {
                                let Ok(l) = l else {
                                    ok = false;
                                    break;
                                };
                                nm.append(l.index, l.name);
                            }
                            locals.push((o, nm));
                            any = true;
                        }
                        continue;
                    }
                    _ => continue,
                };
                for n in map {
                    let Ok(n) = n else {
                        ok = false;
                        break;
                    };
                    let (v, def) = match (kind, space) {
                        (Some(k), _) => (&maps[m].items[k as usize], n.index >= p.num_imported(k)),
                        (None, 5) => (&maps[m].types, true),
                        (None, 6) => (&maps[m].elems, true),
                        (None, _) => (&maps[m].datas, true),
                    };
                    if let Some(idx) = mapped(v, n.index) {
                        spaces[space].push(Entry { idx, def, m, name: n.name });
                        any = true;
                    }
                }
            }
            if !ok {
                warnings.push(format!("module `{}`: malformed `name` section, partly dropped", p.name));
            }
        }
    }
    if !any {
        return;
    }
    let [funcs, globals, memories, tables, tags, types, elems, datas] = spaces;
    let mut ns = NameSection::new();
    let pre = config.name_prefix;
    let nonempty = |m: &NameMap| !m.is_empty();
    let f = finish(funcs, pre, parsed);
    if nonempty(&f) {
        ns.functions(&f);
    }
    locals.sort_by_key(|l| l.0);
    locals.dedup_by_key(|l| l.0);
    if !locals.is_empty() {
        let mut ind = IndirectNameMap::new();
        for (i, nm) in &locals {
            ind.append(*i, nm);
        }
        ns.locals(&ind);
    }
    let t = finish(types, pre, parsed);
    if nonempty(&t) {
        ns.types(&t);
    }
    let t = finish(tables, pre, parsed);
    if nonempty(&t) {
        ns.tables(&t);
    }
    let t = finish(memories, pre, parsed);
    if nonempty(&t) {
        ns.memories(&t);
    }
    let t = finish(globals, pre, parsed);
    if nonempty(&t) {
        ns.globals(&t);
    }
    let t = finish(elems, pre, parsed);
    if nonempty(&t) {
        ns.elements(&t);
    }
    let t = finish(datas, pre, parsed);
    if nonempty(&t) {
        ns.data(&t);
    }
    let t = finish(tags, pre, parsed);
    if nonempty(&t) {
        ns.tag(&t);
    }
    out.push(0);
    ns.encode(out);
}

fn producers(parsed: &[Parsed<'_>], warnings: &mut Vec<String>, out: &mut Vec<u8>) {
    let mut fields: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for p in parsed {
        for c in &p.customs {
            if c.name() != "producers" {
                continue;
            }
            let KnownCustom::Producers(reader) = c.as_known() else {
                warnings.push(format!("module `{}`: malformed `producers` section dropped", p.name));
                continue;
            };
            let mut collected = Vec::new();
            let ok = (|| -> wasmparser::Result<()> {
                for f in reader {
                    let f = f?;
                    let mut vals = Vec::new();
                    for v in f.values {
                        let v = v?;
                        vals.push((v.name.to_string(), v.version.to_string()));
                    }
                    collected.push((f.name.to_string(), vals));
                }
                Ok(())
            })();
            if ok.is_err() {
                warnings.push(format!("module `{}`: malformed `producers` section dropped", p.name));
                continue;
            }
            for (name, vals) in collected {
                let slot = match fields.iter().position(|f| f.0 == name) {
                    Some(i) => i,
                    None => {
                        fields.push((name, Vec::new()));
                        fields.len() - 1
                    }
                };
                for v in vals {
                    if !fields[slot].1.contains(&v) {
                        fields[slot].1.push(v);
                    }
                }
            }
        }
    }
    let me = ("multimem-link".to_string(), env!("CARGO_PKG_VERSION").to_string());
    match fields.iter_mut().find(|f| f.0 == "processed-by") {
        Some(f) => {
            if !f.1.contains(&me) {
                f.1.push(me)
            }
        }
        None => fields.push(("processed-by".to_string(), vec![me])),
    }
    let mut ps = wasm_encoder::ProducersSection::new();
    for (name, vals) in &fields {
        let mut pf = wasm_encoder::ProducersField::new();
        for (n, v) in vals {
            pf.value(n, v);
        }
        ps.field(name, &pf);
    }
    out.push(0);
    ps.encode(out);
}

fn target_features(parsed: &[Parsed<'_>], warnings: &mut Vec<String>, out: &mut Vec<u8>) {
    let mut feats: Vec<(u8, String)> = Vec::new();
    let mut any = false;
    for p in parsed {
        for c in &p.customs {
            if c.name() != "target_features" {
                continue;
            }
            any = true;
            let mut r = BinaryReader::new(c.data(), 0);
            let parsed_feats = (|| -> wasmparser::Result<Vec<(u8, String)>> {
                let n = r.read_var_u32()?;
                let mut v = Vec::new();
                for _ in 0..n.min(10_000) {
                    let prefix = r.read_u8()?;
                    let name = r.read_string()?;
                    v.push((prefix, name.to_string()));
                }
                Ok(v)
            })();
            match parsed_feats {
                Ok(v) => {
                    for (prefix, name) in v {
                        if !feats.iter().any(|f| f.1 == name) {
                            feats.push((prefix, name));
                        }
                    }
                }
                Err(_) => warnings.push(format!("module `{}`: malformed `target_features` section dropped", p.name)),
            }
        }
    }
    if !any {
        return;
    }
    let mut data = Vec::new();
    leb(&mut data, feats.len() as u64);
    for (prefix, name) in &feats {
        data.push(*prefix);
        leb(&mut data, name.len() as u64);
        data.extend_from_slice(name.as_bytes());
    }
    section(out, "target_features", &data);
}
