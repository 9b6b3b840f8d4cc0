//! Phase 5 (optional): dead-code removal. Marks, from the roots, every
//! function, table, global, tag and segment reachable through code,
//! initialisers and segment contents, following imports to the
//! definitions they resolve to.
//!
//! The roots are the output's exports, every start function, active
//! element and data segments, and everything whose instantiation can trap
//! or fail, so that removing code never makes a module that failed to
//! instantiate succeed: every table (its size may exceed the engine's
//! limits) and every global whose initialiser allocates an array of a
//! computed length. Memories and types are always kept.
//!
//! Declarative element segments are segments like the others: kept when
//! code names them (`elem.drop`, `table.init`, `array.new_elem`), whole,
//! so that no later segment takes their index. What they exist for,
//! declaring the functions that `ref.func` names, is redone for the output
//! as a whole (`layout.rs`, [`crate::layout::Layout::declared`]).
//!
//! The marking also records which intrinsics live code calls, which
//! decides whether the output needs an `external` memory at all
//! (`roles.rs`).

use std::convert::Infallible;

use wasm_encoder::reencode::{Error as ReError, Reencode};
use wasmparser::{ElementKind, Operator};

use crate::error::{Error, ErrorKind};
use crate::exports::ChosenExport;
use crate::parse::{KINDS, Kind, Parsed};
use crate::resolve::{Resolver, Target};

/// Liveness of every definition (module-local, not counting imports) and segment.
pub(crate) struct Live {
    pub items: Vec<[Vec<bool>; 5]>,
    pub elems: Vec<Vec<bool>>,
    pub datas: Vec<Vec<bool>>,
    /// Per input, per imported function: whether live code calls it (read
    /// for intrinsics only).
    pub calls: Vec<Vec<bool>>,
}

impl Live {
    /// Everything live (dead-code removal off).
    pub(crate) fn all(parsed: &[Parsed<'_>]) -> Live {
        Live::filled(parsed, true)
    }

    fn filled(parsed: &[Parsed<'_>], value: bool) -> Live {
        Live {
            items: parsed.iter().map(|p| KINDS.map(|k| vec![value; p.num_defined(k) as usize])).collect(),
            elems: parsed.iter().map(|p| vec![value; p.elems.len()]).collect(),
            datas: parsed.iter().map(|p| vec![value; p.num_datas as usize]).collect(),
            calls: parsed.iter().map(|p| vec![value; p.num_imported(Kind::Func) as usize]).collect(),
        }
    }
}

/// Index uses collected while walking code with the [`Reencode`] hooks.
#[derive(Default)]
struct Uses {
    items: Vec<(Kind, u32)>,
    elems: Vec<u32>,
    datas: Vec<u32>,
}

impl Reencode for Uses {
    type Error = Infallible;
    fn function_index(&mut self, i: u32) -> Result<u32, ReError> {
        self.items.push((Kind::Func, i));
        Ok(i)
    }
    fn table_index(&mut self, i: u32) -> Result<u32, ReError> {
        self.items.push((Kind::Table, i));
        Ok(i)
    }
    fn global_index(&mut self, i: u32) -> Result<u32, ReError> {
        self.items.push((Kind::Global, i));
        Ok(i)
    }
    fn tag_index(&mut self, i: u32) -> Result<u32, ReError> {
        self.items.push((Kind::Tag, i));
        Ok(i)
    }
    fn element_index(&mut self, i: u32) -> Result<u32, ReError> {
        self.elems.push(i);
        Ok(i)
    }
    fn data_index(&mut self, i: u32) -> Result<u32, ReError> {
        self.datas.push(i);
        Ok(i)
    }
}

enum Work {
    Item(usize, Kind, u32),
    Elem(usize, u32),
}

struct Marker<'p, 'a, 'r> {
    parsed: &'p [Parsed<'a>],
    resolver: &'r mut Resolver<'p, 'a>,
    live: Live,
    work: Vec<Work>,
}

fn parse_err(m: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidModule, format!("module `{m}`: {e}"))
}

impl Marker<'_, '_, '_> {
    fn mark(&mut self, m: usize, kind: Kind, index: u32) -> Result<(), Error> {
        if kind == Kind::Func
            && let Some(call) = self.live.calls[m].get_mut(index as usize)
        {
            *call = true;
        }
        if let Target::Defined { module, index } = self.resolver.item(m, kind, index)? {
            let d = index.saturating_sub(self.parsed[module].num_imported(kind)) as usize;
            if let Some(slot) = self.live.items[module][kind as usize].get_mut(d)
                && !*slot
            {
                *slot = true;
                self.work.push(Work::Item(module, kind, index));
            }
        }
        Ok(())
    }

    fn mark_elem(&mut self, m: usize, e: u32) {
        if let Some(slot) = self.live.elems[m].get_mut(e as usize)
            && !*slot
        {
            *slot = true;
            self.work.push(Work::Elem(m, e));
        }
    }

    fn apply(&mut self, m: usize, uses: Uses) -> Result<(), Error> {
        for (k, i) in uses.items {
            self.mark(m, k, i)?;
        }
        for e in uses.elems {
            self.mark_elem(m, e);
        }
        for d in uses.datas {
            if let Some(slot) = self.live.datas[m].get_mut(d as usize) {
                *slot = true;
            }
        }
        Ok(())
    }

    fn scan_expr(&mut self, m: usize, e: &wasmparser::ConstExpr<'_>) -> Result<(), Error> {
        let mut uses = Uses::default();
        uses.const_expr(e.clone()).map_err(|x| parse_err(self.parsed[m].name, x))?;
        self.apply(m, uses)
    }

    fn run(&mut self) -> Result<(), Error> {
        while let Some(w) = self.work.pop() {
            match w {
                Work::Item(m, kind, index) => {
                    let p = &self.parsed[m];
                    let d = (index - p.num_imported(kind)) as usize;
                    match kind {
                        Kind::Func => {
                            let mut uses = Uses::default();
                            let mut ops = p.bodies[d].get_operators_reader().map_err(|e| parse_err(p.name, e))?;
                            while !ops.eof() {
                                let op = ops.read().map_err(|e| parse_err(p.name, e))?;
                                match op {
                                    Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                                        uses.items.push((Kind::Func, function_index))
                                    }
                                    op => {
                                        uses.instruction(op).map_err(|e| parse_err(p.name, e))?;
                                    }
                                }
                            }
                            self.apply(m, uses)?;
                        }
                        Kind::Global => {
                            let init = p.globals[d].init.clone();
                            self.scan_expr(m, &init)?;
                        }
                        Kind::Table => {
                            if let Some(init) = p.tables[d].init.clone() {
                                self.scan_expr(m, &init)?;
                            }
                        }
                        Kind::Memory | Kind::Tag => {}
                    }
                }
                Work::Elem(m, e) => {
                    let p = &self.parsed[m];
                    let el = p.elems[e as usize].clone();
                    let mut uses = Uses::default();
                    uses.element_items(el.items).map_err(|x| parse_err(p.name, x))?;
                    if let ElementKind::Active { table_index, offset_expr } = el.kind {
                        uses.items.push((Kind::Table, table_index.unwrap_or(0)));
                        uses.const_expr(offset_expr).map_err(|x| parse_err(p.name, x))?;
                    }
                    self.apply(m, uses)?;
                }
            }
        }
        Ok(())
    }
}

/// Computes liveness from the roots (see the module docs).
pub(crate) fn live<'p, 'a>(
    parsed: &'p [Parsed<'a>],
    resolver: &mut Resolver<'p, 'a>,
    exports: &[ChosenExport<'_>],
) -> Result<Live, Error> {
    let mut live = Live::filled(parsed, false);
    for (m, _) in parsed.iter().enumerate() {
        live.items[m][Kind::Memory as usize].fill(true);
    }
    let mut mk = Marker { parsed, resolver, live, work: Vec::new() };
    for x in exports {
        mk.mark(x.module, x.kind, x.index)?;
    }
    for (m, p) in parsed.iter().enumerate() {
        if let Some(s) = p.start {
            mk.mark(m, Kind::Func, s)?;
        }
        for t in 0..p.num_defined(Kind::Table) {
            mk.mark(m, Kind::Table, p.num_imported(Kind::Table) + t)?;
        }
        for (g, global) in p.globals.iter().enumerate() {
            if allocates_array(&global.init).map_err(|e| parse_err(p.name, e))? {
                mk.mark(m, Kind::Global, p.num_imported(Kind::Global) + g as u32)?;
            }
        }
        for (e, el) in p.elems.iter().enumerate() {
            if matches!(el.kind, ElementKind::Active { .. }) {
                mk.mark_elem(m, e as u32);
            }
        }
        for (d, data) in p.datas().enumerate() {
            let data = data?;
            if let wasmparser::DataKind::Active { offset_expr, .. } = &data.kind {
                mk.live.datas[m][d] = true;
                mk.scan_expr(m, offset_expr)?;
            }
        }
    }
    mk.run()?;
    Ok(mk.live)
}

/// Whether a constant expression allocates an array whose length it
/// computes (`array.new`, `array.new_default`, `array.new_data`,
/// `array.new_elem`): that can fail at instantiation.
fn allocates_array(e: &wasmparser::ConstExpr<'_>) -> Result<bool, wasmparser::BinaryReaderError> {
    let mut ops = e.get_operators_reader();
    while !ops.eof() {
        if matches!(
            ops.read()?,
            Operator::ArrayNew { .. }
                | Operator::ArrayNewDefault { .. }
                | Operator::ArrayNewData { .. }
                | Operator::ArrayNewElem { .. }
        ) {
            return Ok(true);
        }
    }
    Ok(false)
}
