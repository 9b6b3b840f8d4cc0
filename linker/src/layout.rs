//! Phase 6: output indices. Every live item of every input gets its index
//! in the output (`remap.rs` holds the per-input tables):
//!
//! - each kind's index space is the output imports first (first-seen
//!   order), then the inputs' live definitions in input order, except:
//! - globals are ordered so that every initialiser reads only globals
//!   before it (an input may read a *later* input's global through an
//!   import; a cycle between inputs is an [`ErrorKind::ImportCycle`]);
//! - memories: the one defined memory that the most code uses as memory 0
//!   (by code size) comes first, so its loads and stores keep their
//!   one-byte form; the private empty `external` memory (`roles.rs`), if
//!   any, comes last;
//! - element and data segments keep input order among the live ones.
//!
//! It also settles the start function (one, or a synthesised one calling
//! each input's in order) and which functions the output must declare
//! for `ref.func` because what declared them in their input is gone
//! ([`Layout::declared`]).

use std::collections::BTreeSet;

use wasmparser::{ElementItems, Operator};

use crate::error::{Error, ErrorKind};
use crate::exports::ChosenExport;
use crate::gc::Live;
use crate::parse::{KINDS, Kind, Parsed};
use crate::remap::{DEAD, INTRINSIC, Maps};
use crate::resolve::{Resolution, Target};
use crate::roles::{External, Roles};
use crate::types::MergedTypes;

/// Where everything goes in the output.
pub(crate) struct Layout {
    /// Per input: its index maps.
    pub maps: Vec<Maps>,
    /// Output imports per kind.
    pub n_ext: [u32; 5],
    /// Output items per kind (imports included), not counting the
    /// synthesised start function.
    pub counts: [u32; 5],
    /// Live data segments.
    pub num_datas: u32,
    /// Defined memories in output order: (input, defined index).
    pub memories: Vec<(usize, u32)>,
    /// Live defined globals in output order: (input, defined index).
    pub globals: Vec<(usize, u32)>,
    /// Output index of the `own` and `external` roles, where resolved.
    pub own_memory: Option<u32>,
    pub external_memory: Option<u32>,
    /// Whether the private empty memory is the last memory.
    pub private_memory: bool,
    /// The inputs' start functions (output indices), in input order.
    pub starts: Vec<u32>,
    /// The type of the synthesised start function, when there are several.
    pub synth_start: Option<u32>,
    /// The output's start function.
    pub start: Option<u32>,
    /// Functions to declare in an extra declarative segment (output
    /// indices, ascending): named by `ref.func` somewhere and declared in
    /// their input only by something the output no longer has (a dropped
    /// export, a removed global or segment).
    pub declared: Vec<u32>,
}

impl Layout {
    /// Output index of item `t` of `kind`.
    pub(crate) fn index(&self, kind: Kind, t: Target) -> u32 {
        match t {
            Target::Defined { module, index } => self.maps[module].items[kind as usize][index as usize],
            Target::External(n) => n,
            Target::Intrinsic(_) => INTRINSIC,
        }
    }
}

fn err(kind: ErrorKind, msg: impl Into<String>) -> Error {
    Error::new(kind, msg)
}

/// Assigns every output index (see the module docs).
/// `imported`: a defined memory that became an output import
/// ([`crate::Config::import_shared_memory`]), and that import's number.
pub(crate) fn assign(
    parsed: &[Parsed<'_>],
    types: &mut MergedTypes,
    resolution: &Resolution,
    live: &Live,
    roles: &Roles,
    exports: &[ChosenExport<'_>],
    imported: Option<(Target, u32)>,
) -> Result<Layout, Error> {
    let n_ext: [u32; 5] = KINDS.map(|k| resolution.externals[k as usize].len() as u32);
    let mut maps: Vec<Maps> = parsed
        .iter()
        .enumerate()
        .map(|(m, p)| {
            let mut mp = Maps { types: types.maps[m].clone(), ..Default::default() };
            for k in KINDS {
                mp.items[k as usize] = vec![DEAD; p.num_total(k) as usize];
            }
            mp
        })
        .collect();
    let mut next = n_ext;
    // Functions, tables and tags: input order.
    for k in [Kind::Func, Kind::Table, Kind::Tag] {
        for (m, p) in parsed.iter().enumerate() {
            let nimp = p.num_imported(k);
            for d in 0..p.num_defined(k) {
                if live.items[m][k as usize][d as usize] {
                    maps[m].items[k as usize][(nimp + d) as usize] = next[k as usize];
                    next[k as usize] += 1;
                }
            }
        }
    }
    let mut memories = memory_order(parsed, resolution);
    if let Some((Target::Defined { module, index }, n)) = imported {
        let d = index - parsed[module].num_imported(Kind::Memory);
        memories.retain(|&x| x != (module, d));
        maps[module].items[Kind::Memory as usize][index as usize] = n;
    }
    for &(m, d) in &memories {
        let nimp = parsed[m].num_imported(Kind::Memory);
        maps[m].items[Kind::Memory as usize][(nimp + d) as usize] = next[Kind::Memory as usize];
        next[Kind::Memory as usize] += 1;
    }
    let private_memory = matches!(roles.external, Some(External::Private));
    let private_index = next[Kind::Memory as usize];
    if private_memory {
        next[Kind::Memory as usize] += 1;
    }
    let globals = global_order(parsed, resolution, live)?;
    for &(m, d) in &globals {
        let nimp = parsed[m].num_imported(Kind::Global);
        maps[m].items[Kind::Global as usize][(nimp + d) as usize] = next[Kind::Global as usize];
        next[Kind::Global as usize] += 1;
    }
    let (mut num_elems, mut num_datas) = (0u32, 0u32);
    for (m, mp) in maps.iter_mut().enumerate() {
        let number = |n: &mut u32, l: &bool| {
            if *l {
                *n += 1;
                *n - 1
            } else {
                DEAD
            }
        };
        mp.elems = live.elems[m].iter().map(|l| number(&mut num_elems, l)).collect();
        mp.datas = live.datas[m].iter().map(|l| number(&mut num_datas, l)).collect();
    }
    let mut layout = Layout {
        maps,
        n_ext,
        counts: next,
        num_datas,
        memories,
        globals,
        own_memory: None,
        external_memory: None,
        private_memory,
        starts: Vec::new(),
        synth_start: None,
        start: None,
        declared: Vec::new(),
    };
    // Imports take their targets' indices.
    for (m, p) in parsed.iter().enumerate() {
        for k in KINDS {
            for i in 0..p.num_imported(k) {
                let o = layout.index(k, resolution.targets[m][k as usize][i as usize]);
                layout.maps[m].items[k as usize][i as usize] = o;
            }
        }
    }
    layout.own_memory = roles.own.map(|t| layout.index(Kind::Memory, t));
    layout.external_memory = roles.external.map(|e| match e {
        External::Item(t) => layout.index(Kind::Memory, t),
        External::Private => private_index,
    });
    // Start functions, chained in input order.
    layout.starts = parsed
        .iter()
        .enumerate()
        .filter_map(|(m, p)| p.start.map(|s| layout.maps[m].items[Kind::Func as usize][s as usize]))
        .collect();
    layout.synth_start = (layout.starts.len() > 1).then(|| types.func_type(&[], &[]));
    layout.start = match layout.starts.len() {
        0 => None,
        1 => Some(layout.starts[0]),
        _ => Some(layout.counts[Kind::Func as usize]),
    };
    layout.declared = declared(parsed, live, &layout, exports)?;
    Ok(layout)
}

/// The defined memories in output order (see the module docs): the one
/// that inputs with the most code use as their memory 0 first, then the
/// others in input order.
fn memory_order(parsed: &[Parsed<'_>], resolution: &Resolution) -> Vec<(usize, u32)> {
    let mut order: Vec<(usize, u32)> =
        parsed.iter().enumerate().flat_map(|(m, p)| (0..p.num_defined(Kind::Memory)).map(move |d| (m, d))).collect();
    let mut weight = vec![0usize; order.len()];
    for (k, p) in parsed.iter().enumerate() {
        if p.num_total(Kind::Memory) == 0 {
            continue;
        }
        let target = match p.num_imported(Kind::Memory) {
            0 => Target::Defined { module: k, index: 0 },
            _ => resolution.targets[k][Kind::Memory as usize][0],
        };
        if let Target::Defined { module, index } = target {
            let d = index - parsed[module].num_imported(Kind::Memory);
            if let Some(slot) = order.iter().position(|&x| x == (module, d)) {
                weight[slot] += p.code_size;
            }
        }
    }
    // The first of the heaviest, so that ties keep input order.
    if let Some(best) = (0..order.len()).rev().max_by_key(|&i| weight[i])
        && weight[best] > 0
    {
        let first = order.remove(best);
        order.insert(0, first);
    }
    order
}

/// Whether each global of a constant expression is read: the globals
/// (module-local indices) that `global.get` names.
fn globals_read(e: &wasmparser::ConstExpr<'_>) -> Result<Vec<u32>, wasmparser::BinaryReaderError> {
    let mut out = Vec::new();
    let mut ops = e.get_operators_reader();
    while !ops.eof() {
        if let Operator::GlobalGet { global_index } = ops.read()? {
            out.push(global_index);
        }
    }
    Ok(out)
}

/// The live defined globals, ordered so that each initialiser reads only
/// globals before it; input order otherwise (a depth-first topological
/// order, iterative: chains can be long).
fn global_order(parsed: &[Parsed<'_>], resolution: &Resolution, live: &Live) -> Result<Vec<(usize, u32)>, Error> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks: Vec<Vec<Mark>> = parsed.iter().map(|p| vec![Mark::New; p.globals.len()]).collect();
    // The defined globals that global `d` of input `m` reads.
    let deps = |m: usize, d: u32| -> Result<Vec<(usize, u32)>, Error> {
        let p = &parsed[m];
        let reads = globals_read(&p.globals[d as usize].init).map_err(|e| Error::invalid_module_from(p.name, e))?;
        Ok(reads
            .into_iter()
            .filter_map(|g| {
                let t = if g < p.num_imported(Kind::Global) {
                    resolution.targets[m][Kind::Global as usize][g as usize]
                } else {
                    Target::Defined { module: m, index: g }
                };
                match t {
                    Target::Defined { module, index } => {
                        Some((module, index - parsed[module].num_imported(Kind::Global)))
                    }
                    _ => None,
                }
            })
            .collect())
    };
    let mut order = Vec::new();
    for (m, p) in parsed.iter().enumerate() {
        for d in 0..p.globals.len() as u32 {
            if !live.items[m][Kind::Global as usize][d as usize] || marks[m][d as usize] != Mark::New {
                continue;
            }
            // Stack of (global, its dependencies not yet visited).
            type Global = (usize, u32);
            let mut stack: Vec<(Global, Vec<Global>)> = Vec::new();
            marks[m][d as usize] = Mark::Open;
            let mut first = deps(m, d)?;
            first.reverse();
            stack.push(((m, d), first));
            while let Some((node, pending)) = stack.last_mut() {
                let node = *node;
                match pending.pop() {
                    Some((m2, d2)) => match marks[m2][d2 as usize] {
                        Mark::Done => {}
                        Mark::Open => {
                            let cycle: Vec<String> = stack
                                .iter()
                                .skip_while(|(n, _)| *n != (m2, d2))
                                .map(|((m, d), _)| describe_global(parsed, *m, *d))
                                .chain(std::iter::once(describe_global(parsed, m2, d2)))
                                .collect();
                            return Err(err(
                                ErrorKind::ImportCycle,
                                format!("global initialisers read each other in a cycle: {}", cycle.join(" reads ")),
                            ));
                        }
                        Mark::New => {
                            marks[m2][d2 as usize] = Mark::Open;
                            let mut next = deps(m2, d2)?;
                            next.reverse();
                            stack.push(((m2, d2), next));
                        }
                    },
                    None => {
                        marks[node.0][node.1 as usize] = Mark::Done;
                        order.push(node);
                        stack.pop();
                    }
                }
            }
        }
    }
    Ok(order)
}

fn describe_global(parsed: &[Parsed<'_>], m: usize, d: u32) -> String {
    format!("global {} of module `{}`", d + parsed[m].num_imported(Kind::Global), parsed[m].name)
}

/// The functions (module-local indices) that a constant expression names
/// with `ref.func`.
fn ref_funcs(e: &wasmparser::ConstExpr<'_>, out: &mut Vec<u32>) -> Result<(), wasmparser::BinaryReaderError> {
    let mut ops = e.get_operators_reader();
    while !ops.eof() {
        if let Operator::RefFunc { function_index } = ops.read()? {
            out.push(function_index);
        }
    }
    Ok(())
}

/// The functions an element segment lists or names.
fn elem_funcs(el: &wasmparser::Element<'_>, out: &mut Vec<u32>) -> Result<(), wasmparser::BinaryReaderError> {
    match el.items.clone() {
        ElementItems::Functions(fs) => {
            for f in fs {
                out.push(f?);
            }
        }
        ElementItems::Expressions(_, es) => {
            for e in es {
                ref_funcs(&e?, out)?;
            }
        }
    }
    Ok(())
}

/// The functions an input declares outside its code (exports, element
/// segments, global and table initialisers), with `keep` deciding which
/// of its items count: `(is an export kept, is element segment e live, is
/// defined global g live, is defined table t live)`.
fn declared_by(
    p: &Parsed<'_>,
    export_kept: &dyn Fn(usize) -> bool,
    elem: &dyn Fn(usize) -> bool,
    global: &dyn Fn(usize) -> bool,
    table: &dyn Fn(usize) -> bool,
) -> Result<Vec<u32>, wasmparser::BinaryReaderError> {
    let mut out = Vec::new();
    for (x, e) in p.exports.iter().enumerate() {
        if Kind::of_export(e.kind) == Kind::Func && export_kept(x) {
            out.push(e.index);
        }
    }
    for (i, el) in p.elems.iter().enumerate() {
        if elem(i) {
            elem_funcs(el, &mut out)?;
        }
    }
    for (g, def) in p.globals.iter().enumerate() {
        if global(g) {
            ref_funcs(&def.init, &mut out)?;
        }
    }
    for (t, tb) in p.tables.iter().enumerate() {
        if let Some(init) = &tb.init
            && table(t)
        {
            ref_funcs(init, &mut out)?;
        }
    }
    Ok(out)
}

/// [`Layout::declared`]: every live function its input declares, less
/// those the output's own exports, segments and initialisers declare.
fn declared(
    parsed: &[Parsed<'_>],
    live: &Live,
    layout: &Layout,
    exports: &[ChosenExport<'_>],
) -> Result<Vec<u32>, Error> {
    let out_index = |m: usize, f: u32| match layout.maps[m].items[Kind::Func as usize].get(f as usize) {
        Some(&o) if o != DEAD && o != INTRINSIC => Some(o),
        _ => None,
    };
    let mut wanted = BTreeSet::new();
    let mut have = BTreeSet::new();
    for x in exports {
        if x.kind == Kind::Func
            && let Some(o) = out_index(x.module, x.index)
        {
            have.insert(o);
        }
    }
    for (m, p) in parsed.iter().enumerate() {
        let e = |e| Error::invalid_module_from(p.name, e);
        let all = |_: usize| true;
        for f in declared_by(p, &all, &all, &all, &all).map_err(e)? {
            wanted.extend(out_index(m, f));
        }
        let items = &live.items[m];
        let kept = declared_by(p, &|_| false, &|i| live.elems[m][i], &|g| items[Kind::Global as usize][g], &|t| {
            items[Kind::Table as usize][t]
        })
        .map_err(e)?;
        for f in kept {
            have.extend(out_index(m, f));
        }
    }
    Ok(wanted.difference(&have).copied().collect())
}
