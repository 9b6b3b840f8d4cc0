//! Validation with wasmparser (all features).
//!
//! - [`validate`]: a whole module, as the output is checked before it is
//!   returned. Module-level checks run in order; function bodies are
//!   independent once the module's resources are known, so they are split
//!   into one contiguous run per thread *by bytes* (compiler output has a
//!   few huge functions; splitting by count left one thread with 90% of the
//!   work). The first error in function order is reported, so results do
//!   not depend on thread timing.
//! - [`Streaming`]: the output, validated while it is written: the
//!   sections before the code section first, then each function body as
//!   it is written (`code.rs` feeds each operator to the body's validator
//!   from the decode that rewrites it; [`check_body`] checks the body the
//!   linker writes itself, the synthesised start function), then the
//!   sections after it. Same checks as [`validate`], in the same order per
//!   item.
//! - [`validate_module_level`]: everything but the function bodies and
//!   data segments, which is how inputs are checked by default (a few
//!   percent of the cost; those are checked once, in the output, see the
//!   crate docs).

use wasmparser::{
    BinaryReaderError, FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser, ValidPayload, Validator,
    ValidatorResources,
};

type Job<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Runs the module-level validator over `bytes`, collecting the bodies.
/// With `skip_data`, the data count and data sections are parsed but not
/// validated, apart from their counts agreeing.
fn module_level(bytes: &[u8], skip_data: bool) -> Result<Vec<Job<'_>>, String> {
    let mut validator = Validator::new_with_features(crate::features());
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let (mut data_count, mut data_section) = (None, 0u32);
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        if skip_data {
            match &payload {
                // The count is validated: bodies that name data segments
                // (`data.drop`, `memory.init`, `array.new_data`) need it.
                wasmparser::Payload::DataCountSection { count, .. } => data_count = Some(*count),
                wasmparser::Payload::DataSection(reader) => {
                    // The segments are parsed, dead or live, when the
                    // output's data section is written.
                    data_section = reader.count();
                    continue;
                }
                wasmparser::Payload::End(_) if data_count.is_some_and(|n| n != data_section) => {
                    return Err("data count and data section have inconsistent lengths".to_string());
                }
                _ => {}
            }
        }
        match validator.payload(&payload).map_err(|e| e.to_string())? {
            ValidPayload::Func(f, body) => jobs.push((f, body)),
            ValidPayload::Parser(_) => {
                return Err("nested modules and components are not supported".to_string());
            }
            ValidPayload::Ok | ValidPayload::End(_) => {}
        }
    }
    Ok(jobs)
}

/// Validates `bytes` as a core module with [`crate::features`], except
/// function bodies and data segments: bodies are only split off (their
/// count is checked), data segments only counted (against the data count
/// section; the linker parses every segment when it writes the output). Both are validated in the output, the
/// only places the linker reads them: bodies and segment offsets are
/// rewritten through the index maps, which reject any index the input does
/// not have. Checking the data segments' offset expressions costs as much
/// as everything else in this check on Go output (~100k segments).
pub(crate) fn validate_module_level(bytes: &[u8]) -> Result<(), String> {
    module_level(bytes, true).map(drop)
}

/// Validates the bodies of the functions of `bytes` that `dead` selects
/// (by defined-function index): with dead-code removal they never reach
/// the output, whose validation covers the others.
pub(crate) fn validate_dead_bodies(bytes: &[u8], dead: impl Fn(usize) -> bool) -> Result<(), String> {
    let jobs = module_level(bytes, true)?;
    let jobs: Vec<Job<'_>> = jobs.into_iter().enumerate().filter(|(d, _)| dead(*d)).map(|(_, j)| j).collect();
    run(jobs).map_err(|(_, e)| e.to_string())
}

/// Validates `bytes` as a core module with [`crate::features`].
pub(crate) fn validate(bytes: &[u8], threads: usize) -> Result<(), String> {
    let jobs = module_level(bytes, false)?;
    let threads = threads.clamp(1, 8);
    let total: usize = jobs.iter().map(|(_, b)| b.range().len()).sum();
    if threads < 2 || jobs.len() < 64 || total < (256 << 10) {
        return run(jobs).map_err(|(_, e)| e.to_string());
    }
    // Contiguous runs of at least total/threads bytes each (so at most
    // `threads` runs), owned (a `FuncToValidate` is consumed).
    let bounds = crate::chunks::bounds(jobs.iter().map(|(_, b)| b.range().len()), total.div_ceil(threads));
    let mut runs = bounds.iter().copied().zip(crate::chunks::split_runs(jobs, &bounds));
    let (_, mine) = runs.next().unwrap_or((0, Vec::new()));
    let results: Vec<Result<(), (usize, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .map(|(lo, run_jobs)| s.spawn(move || run(run_jobs).map_err(|(k, e)| (lo + k, e.to_string()))))
            .collect();
        // The first run on this thread.
        let first = run(mine).map_err(|(k, e)| (k, e.to_string()));
        std::iter::once(first)
            .chain(
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err((usize::MAX, "validator thread panicked".to_string())))),
            )
            .collect()
    });
    match results.into_iter().filter_map(Result::err).min_by_key(|(k, _)| *k) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// Validates bodies in order, reusing allocations; the error carries the
/// position of the failing body in `jobs`.
fn run(jobs: Vec<Job<'_>>) -> Result<(), (usize, BinaryReaderError)> {
    let mut allocs = FuncValidatorAllocations::default();
    for (k, (f, body)) in jobs.into_iter().enumerate() {
        let mut v = f.into_validator(allocs);
        v.validate(&body).map_err(|e| (k, e))?;
        allocs = v.into_allocations();
    }
    Ok(())
}

/// wasmparser's limit on one function body (`MAX_WASM_FUNCTION_SIZE`, not
/// exported), checked here because bodies are registered before they exist.
const MAX_FUNCTION_SIZE: usize = 7_654_321;

/// The error for a function body (locals and code) of `len` bytes, if it
/// exceeds wasmparser's limit.
pub(crate) fn body_size_error(len: usize) -> Option<String> {
    (len > MAX_FUNCTION_SIZE)
        .then(|| format!("function body size of {len} bytes exceeds the limit of {MAX_FUNCTION_SIZE}"))
}

/// Validation of the output as it is written (see the module docs).
pub(crate) struct Streaming {
    validator: Validator,
}

impl Streaming {
    /// Validates `pre_code` (header and every section before the code
    /// section), then registers `bodies` function bodies, starting at output
    /// offset `code_at`: one [`FuncToValidate`] each, in order.
    pub(crate) fn start(
        pre_code: &[u8],
        bodies: u32,
        code_at: usize,
    ) -> Result<(Streaming, Vec<FuncToValidate<ValidatorResources>>), String> {
        let mut validator = Validator::new_with_features(crate::features());
        let mut parser = Parser::new(0);
        let mut at = 0;
        loop {
            match parser.parse(&pre_code[at..], false).map_err(|e| e.to_string())? {
                wasmparser::Chunk::NeedMoreData(_) => break,
                wasmparser::Chunk::Parsed { consumed, payload } => {
                    validator.payload(&payload).map_err(|e| e.to_string())?;
                    at += consumed;
                }
            }
        }
        let mut funcs = Vec::with_capacity(bodies as usize);
        if bodies > 0 {
            validator.code_section_start(&(code_at..code_at)).map_err(|e| e.to_string())?;
            for _ in 0..bodies {
                // Only the body's size is read here (checked per body later).
                let empty = FunctionBody::new(wasmparser::BinaryReader::new(&[], code_at));
                funcs.push(validator.code_section_entry(&empty).map_err(|e| e.to_string())?);
            }
        }
        Ok((Streaming { validator }, funcs))
    }

    /// Validates the data section's contents `section` (without id and
    /// size), at output offset `at` (for messages). Call after
    /// [`Streaming::start`] registered the bodies, as the section follows
    /// the code section.
    pub(crate) fn data_section(&mut self, section: &[u8], at: usize) -> Result<(), String> {
        let reader =
            wasmparser::DataSectionReader::new(wasmparser::BinaryReader::new_features(section, at, crate::features()))
                .map_err(|e| e.to_string())?;
        self.validator.data_section(&reader).map_err(|e| e.to_string())
    }

    /// Validates the custom sections `sections` (whole sections, after the
    /// data section) at output offset `at`: their names must read.
    pub(crate) fn custom_sections(&self, sections: &[u8], at: usize) -> Result<(), String> {
        let e = |e: BinaryReaderError| e.to_string();
        let mut reader = wasmparser::BinaryReader::new_features(sections, at, crate::features());
        while !reader.eof() {
            let id = reader.read_u8().map_err(e)?;
            let size = reader.read_var_u32().map_err(e)? as usize;
            let start = reader.original_position();
            let contents =
                wasmparser::BinaryReader::new_features(reader.read_bytes(size).map_err(e)?, start, crate::features());
            if id != 0 {
                return Err(format!("section {id} among the custom sections (at offset {})", start - 1));
            }
            wasmparser::CustomSectionReader::new(contents).map_err(e)?;
        }
        Ok(())
    }

    /// Ends the module, `len` bytes long: the checks of the module as a
    /// whole (counts of functions and bodies, ...).
    pub(crate) fn finish(mut self, len: usize) -> Result<(), String> {
        self.validator.end(len).map(drop).map_err(|e| e.to_string())
    }
}

/// Validates a body the linker writes itself (locals and code, no size
/// prefix; the synthesised start function) at output offset `offset`.
pub(crate) fn check_body(func: FuncToValidate<ValidatorResources>, body: &[u8], offset: usize) -> Result<(), String> {
    if let Some(e) = body_size_error(body.len()) {
        return Err(e);
    }
    let mut v = func.into_validator(FuncValidatorAllocations::default());
    let reader = wasmparser::BinaryReader::new_features(body, offset, crate::features());
    v.validate(&FunctionBody::new(reader)).map_err(|e| e.to_string())
}
