//! Validation of inputs and output with wasmparser (all features), with
//! function bodies checked on all available cores: module-level checks run
//! in order, each body is independent once the module's resources are
//! known. The first error in function order is reported, so results do not
//! depend on thread timing.

use wasmparser::{
    BinaryReaderError, FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser, ValidPayload,
    Validator, ValidatorResources,
};

type Job<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Validates `bytes` as a core module with [`crate::features`].
pub(crate) fn validate(bytes: &[u8], threads: usize) -> Result<(), String> {
    let mut validator = Validator::new_with_features(crate::features());
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        match validator.payload(&payload).map_err(|e| e.to_string())? {
            ValidPayload::Func(f, body) => jobs.push((f, body)),
            ValidPayload::Parser(_) => {
                return Err("nested modules and components are not supported".to_string());
            }
            ValidPayload::Ok | ValidPayload::End(_) => {}
        }
    }
    let threads = threads.clamp(1, 8);
    if threads < 2 || jobs.len() < 256 {
        return run(jobs).map_err(|(_, e)| e.to_string());
    }
    let chunk = jobs.len().div_ceil(threads);
    let mut chunks: Vec<Vec<Job<'_>>> = Vec::with_capacity(threads);
    let mut it = jobs.into_iter();
    loop {
        let c: Vec<Job<'_>> = it.by_ref().take(chunk).collect();
        if c.is_empty() {
            break;
        }
        chunks.push(c);
    }
    let results: Vec<Result<(), (usize, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .enumerate()
            .map(|(i, c)| s.spawn(move || run(c).map_err(|(k, e)| (i * chunk + k, e.to_string()))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err((usize::MAX, "validator thread panicked".to_string()))))
            .collect()
    });
    let first = results.into_iter().filter_map(Result::err).min_by_key(|(k, _)| *k);
    match first {
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
