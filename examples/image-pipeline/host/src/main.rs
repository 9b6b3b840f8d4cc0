//! The image pipeline in wasmtime, through `multimem-host`: the same wasm
//! files and the same work as `www/pipeline.js` on Node and Chromium, for
//! the variants that need no JS (a-loop, b, c; a-js is JS by definition).
//!
//! ```text
//! image-pipeline-wasmtime [--build DIR] [--variant a-loop|b|c|all] [--images N] [--runs R] [--warmup W]
//! ```
//!
//! Phases, per variant: compile and instantiate (the codec's wasm-bindgen
//! imports, which only its JS API calls, are defined as traps); put each
//! input JPEG in the app's own representation; time `process` `runs` times
//! after `warmup` untimed runs; read the output back and hash it (FNV-1a, as
//! pipeline.js does, so outputs are compared across engines); check that no
//! runtime buffer or codec block is left. Prints one JSON line per variant,
//! the same fields as run-node.mjs.
//!
//! Limits: Linux only for the peak RSS (`VmHWM` of /proc/self/status); the
//! input and output of variant a-loop cross into and out of the GC array
//! through the app's `bytes_set` / `bytes_get` exports (outside the timing).

use anyhow::{Context, Result, bail, ensure};
use multimem_host::{Options, Runtime};
use std::path::{Path, PathBuf};
use std::time::Instant;
use wasmtime::{Engine, Instance, Linker, Module, Store, Val};

/// Brightness delta and JPEG quality: the same as pipeline.js.
const DELTA: i32 = 40;
const QUALITY: i32 = 85;
const VARIANTS: [&str; 3] = ["a-loop", "b", "c"];

struct Args {
    build: PathBuf,
    variant: String,
    images: usize,
    runs: usize,
    warmup: usize,
}

fn parse_args() -> Result<Args> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/multimem/target"));
    let build = std::env::var_os("MULTIMEM_IMAGE_PIPELINE_BUILD")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("image-pipeline"));
    let mut a = Args { build, variant: "all".into(), images: 1, runs: 1, warmup: 0 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().with_context(|| format!("{flag}: expected a number, got `{value}`"));
        match flag.as_str() {
            "--build" => a.build = PathBuf::from(&value),
            "--variant" => a.variant = value.clone(),
            "--images" => a.images = number()?,
            "--runs" => a.runs = number()?,
            "--warmup" => a.warmup = number()?,
            _ => bail!("unknown argument `{flag}` (see the top of examples/image-pipeline/host/src/main.rs)"),
        }
    }
    ensure!(
        a.variant == "all" || VARIANTS.contains(&a.variant.as_str()),
        "--variant must be one of {VARIANTS:?} or all"
    );
    ensure!(a.runs > 0 && a.images > 0, "--runs and --images must be at least 1");
    Ok(a)
}

/// FNV-1a, 32 bits, as 8 hex digits: pipeline.js's `fnv1a`.
fn fnv1a(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    format!("{h:08x}")
}

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// CPU time of the calling thread in ms (wasm runs on it: calls are synchronous).
fn thread_cpu_ms() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into `t`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return f64::NAN;
    }
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
}

/// A timed call: wall and thread-CPU milliseconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (c0, t0) = (thread_cpu_ms(), Instant::now());
    let out = f();
    (out, t0.elapsed().as_secs_f64() * 1e3, thread_cpu_ms() - c0)
}

/// The result of one variant on one image.
struct Measured {
    ms: Vec<f64>,
    cpu_ms: Vec<f64>,
    bytes_copied: u64,
    output: Vec<u8>,
}

/// One instantiated variant: prepares inputs, runs, reads outputs.
trait Variant {
    fn measure(&mut self, store: &mut Store<()>, jpeg: &[u8], runs: usize, warmup: usize) -> Result<Measured>;
    /// Fails if anything allocated by a run is still live.
    fn check_clean(&mut self, store: &mut Store<()>) -> Result<()>;
}

fn module(engine: &Engine, path: &Path) -> Result<Module> {
    Module::from_file(engine, path)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling {}", path.display()))
}

/// The codec on its own (variant a-loop's library).
fn codec_instance(engine: &Engine, store: &mut Store<()>, build: &Path) -> Result<Instance> {
    let m = module(engine, &build.join("codec/codec_bg.wasm"))?;
    let mut linker = Linker::new(engine);
    // wasm-bindgen's imports (throw, Error, the externref table) serve only
    // the codec's JS API; the address API that the apps call uses none.
    linker.define_unknown_imports_as_traps(&m).map_err(anyhow::Error::from)?;
    linker.instantiate(&mut *store, &m).map_err(anyhow::Error::from).context("instantiating the codec")
}

fn call_i32(instance: &Instance, store: &mut Store<()>, name: &str, args: &[Val]) -> Result<i32> {
    let f = instance.get_func(&mut *store, name).with_context(|| format!("no export `{name}`"))?;
    let mut out = [Val::I32(0)];
    f.call(&mut *store, args, &mut out).map_err(anyhow::Error::from).with_context(|| format!("calling `{name}`"))?;
    out[0].i32().with_context(|| format!("`{name}` did not return an i32"))
}

fn call_i64(instance: &Instance, store: &mut Store<()>, name: &str) -> Result<u64> {
    let f = instance.get_typed_func::<(), i64>(&mut *store, name).map_err(anyhow::Error::from)?;
    Ok(f.call(&mut *store, ()).map_err(anyhow::Error::from)? as u64)
}

struct GcArrays {
    app: Instance,
    codec: Instance,
}

impl GcArrays {
    fn new(engine: &Engine, store: &mut Store<()>, build: &Path) -> Result<Self> {
        let codec = codec_instance(engine, store, build)?;
        let m = module(engine, &build.join("gc-array.wasm"))?;
        let mut linker = Linker::new(engine);
        linker.instance(&mut *store, "codec", codec).map_err(anyhow::Error::from)?;
        let app =
            linker.instantiate(&mut *store, &m).map_err(anyhow::Error::from).context("instantiating gc-array.wasm")?;
        Ok(GcArrays { app, codec })
    }

    fn new_array(&self, store: &mut Store<()>, bytes: &[u8]) -> Result<Val> {
        let new = self.app.get_func(&mut *store, "bytes_new").context("bytes_new")?;
        let set = self
            .app
            .get_typed_func::<(Option<wasmtime::Rooted<wasmtime::AnyRef>>, i32, i32), ()>(&mut *store, "bytes_set");
        let mut out = [Val::null_any_ref()];
        new.call(&mut *store, &[Val::I32(bytes.len() as i32)], &mut out).map_err(anyhow::Error::from)?;
        let array = out[0].unwrap_anyref().copied();
        let set = set.map_err(anyhow::Error::from)?;
        for (i, &b) in bytes.iter().enumerate() {
            set.call(&mut *store, (array, i as i32, i32::from(b))).map_err(anyhow::Error::from)?;
        }
        Ok(out[0])
    }

    fn read_array(&self, store: &mut Store<()>, array: Val) -> Result<Vec<u8>> {
        let a = array.unwrap_anyref().copied();
        let len =
            self.app.get_typed_func::<Option<wasmtime::Rooted<wasmtime::AnyRef>>, i32>(&mut *store, "bytes_length");
        let get =
            self.app.get_typed_func::<(Option<wasmtime::Rooted<wasmtime::AnyRef>>, i32), i32>(&mut *store, "bytes_get");
        let (len, get) = (len.map_err(anyhow::Error::from)?, get.map_err(anyhow::Error::from)?);
        let n = len.call(&mut *store, a).map_err(anyhow::Error::from)?;
        (0..n).map(|i| Ok(get.call(&mut *store, (a, i)).map_err(anyhow::Error::from)? as u8)).collect()
    }
}

impl Variant for GcArrays {
    fn measure(&mut self, store: &mut Store<()>, jpeg: &[u8], runs: usize, warmup: usize) -> Result<Measured> {
        let input = self.new_array(store, jpeg)?;
        let process = self.app.get_func(&mut *store, "process").context("process")?;
        let (mut ms, mut cpu_ms) = (Vec::new(), Vec::new());
        let mut out = [Val::null_any_ref()];
        let mut copied = 0;
        for i in 0..warmup + runs {
            let before =
                call_i64(&self.app, store, "copied_to_codec")? + call_i64(&self.app, store, "copied_from_codec")?;
            let (result, elapsed, cpu) =
                timed(|| process.call(&mut *store, &[input, Val::I32(DELTA), Val::I32(QUALITY)], &mut out));
            result.map_err(anyhow::Error::from).context("a-loop: process")?;
            ensure!(
                out[0].unwrap_anyref().is_some(),
                "a-loop: codec status {}",
                call_i32(&self.app, store, "status", &[])?
            );
            copied = call_i64(&self.app, store, "copied_to_codec")? + call_i64(&self.app, store, "copied_from_codec")?
                - before;
            if i >= warmup {
                ms.push(elapsed);
                cpu_ms.push(cpu);
            }
        }
        let output = self.read_array(store, out[0])?;
        Ok(Measured { ms, cpu_ms, bytes_copied: copied, output })
    }

    fn check_clean(&mut self, store: &mut Store<()>) -> Result<()> {
        let live = call_i32(&self.codec, store, "codec_live_blocks", &[])?;
        ensure!(live == 0, "a-loop: {live} codec block(s) still live");
        Ok(())
    }
}

struct Multimem {
    app: Instance,
    runtime: Runtime,
}

impl Multimem {
    fn new(engine: &Engine, store: &mut Store<()>, build: &Path) -> Result<Self> {
        let m = module(engine, &build.join("multimem.wasm"))?;
        let mut linker = Linker::new(engine);
        linker.define_unknown_imports_as_traps(&m).map_err(anyhow::Error::from)?;
        let mut options = Options::new();
        // build.sh exports the runtime's functions as `multimem.<name>`.
        options.runtime_export_prefix("multimem.");
        let inst = multimem_host::instantiate(store, &mut linker, &m, None, &options)?;
        Ok(Multimem { app: inst.app, runtime: inst.runtime })
    }
}

impl Variant for Multimem {
    fn measure(&mut self, store: &mut Store<()>, jpeg: &[u8], runs: usize, warmup: usize) -> Result<Measured> {
        let input = self.runtime.buffer_new(&mut *store, jpeg.len() as u32)?;
        self.runtime.bytes_mut(&mut *store, &input)?.copy_from_slice(jpeg);
        let process =
            self.app.get_typed_func::<(i32, i32, i32), i32>(&mut *store, "process").map_err(anyhow::Error::from)?;
        let (mut ms, mut cpu_ms) = (Vec::new(), Vec::new());
        let mut last = None;
        let mut copied = 0;
        for i in 0..warmup + runs {
            if let Some(b) = last.take() {
                self.runtime.release(&mut *store, b)?;
            }
            let before =
                call_i64(&self.app, store, "copied_to_codec")? + call_i64(&self.app, store, "copied_from_codec")?;
            let (address, elapsed, cpu) = timed(|| process.call(&mut *store, (input.address() as i32, DELTA, QUALITY)));
            let address = address.map_err(anyhow::Error::from).context("b: process")?;
            ensure!(address != 0, "b: codec status {}", call_i32(&self.app, store, "status", &[])?);
            copied = call_i64(&self.app, store, "copied_to_codec")? + call_i64(&self.app, store, "copied_from_codec")?
                - before;
            last = Some(self.runtime.adopt(&mut *store, address as u32)?);
            if i >= warmup {
                ms.push(elapsed);
                cpu_ms.push(cpu);
            }
        }
        let out = last.context("no run")?;
        let output = self.runtime.bytes(&*store, &out)?.to_vec();
        self.runtime.release(&mut *store, out)?;
        self.runtime.release(&mut *store, input)?;
        Ok(Measured { ms, cpu_ms, bytes_copied: copied, output })
    }

    fn check_clean(&mut self, store: &mut Store<()>) -> Result<()> {
        self.runtime.check_no_leaks(&mut *store)?;
        let live = call_i32(&self.app, store, "codec_live_blocks", &[])?;
        ensure!(live == 0, "b: {live} codec block(s) still live");
        Ok(())
    }
}

struct Rust {
    app: Instance,
}

impl Variant for Rust {
    fn measure(&mut self, store: &mut Store<()>, jpeg: &[u8], runs: usize, warmup: usize) -> Result<Measured> {
        let memory = self.app.get_memory(&mut *store, "memory").context("rust-app exports no memory")?;
        let n = jpeg.len() as i32;
        let p = call_i32(&self.app, store, "alloc", &[Val::I32(n)])?;
        ensure!(p != 0, "c: alloc failed");
        memory.data_mut(&mut *store)[p as usize..p as usize + jpeg.len()].copy_from_slice(jpeg);
        let process = self
            .app
            .get_typed_func::<(i32, i32, i32, i32), i32>(&mut *store, "process")
            .map_err(anyhow::Error::from)?;
        let (mut ms, mut cpu_ms) = (Vec::new(), Vec::new());
        for i in 0..warmup + runs {
            let (st, elapsed, cpu) = timed(|| process.call(&mut *store, (p, n, DELTA, QUALITY)));
            let st = st.map_err(anyhow::Error::from).context("c: process")?;
            ensure!(st == 0, "c: codec status {st}");
            if i >= warmup {
                ms.push(elapsed);
                cpu_ms.push(cpu);
            }
        }
        let (op, on) = (call_i32(&self.app, store, "output_ptr", &[])?, call_i32(&self.app, store, "output_len", &[])?);
        let output = memory.data(&*store)[op as usize..(op + on) as usize].to_vec();
        let free = self.app.get_typed_func::<(i32, i32), ()>(&mut *store, "free").map_err(anyhow::Error::from)?;
        free.call(&mut *store, (p, n)).map_err(anyhow::Error::from)?;
        Ok(Measured { ms, cpu_ms, bytes_copied: 0, output })
    }

    fn check_clean(&mut self, _: &mut Store<()>) -> Result<()> {
        Ok(())
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 { s[m] } else { (s[m - 1] + s[m]) / 2.0 }
}

/// `"width": W, "height": H, "rawBytes": R` and the file names, from images/manifest.json.
fn manifest(build: &Path) -> Result<(String, Vec<PathBuf>)> {
    let text = std::fs::read_to_string(build.join("images/manifest.json")).with_context(|| {
        format!("reading {}/images/manifest.json (run examples/image-pipeline/build.sh)", build.display())
    })?;
    let field = |name: &str| -> Result<u64> {
        let at = text.find(&format!("\"{name}\"")).with_context(|| format!("manifest.json: no `{name}`"))?;
        let rest = text[at..].split_once(':').context("manifest.json: malformed")?.1;
        let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
        digits.parse().with_context(|| format!("manifest.json: `{name}` is not a number"))
    };
    let image = format!(
        "{{\"width\":{},\"height\":{},\"rawBytes\":{}}}",
        field("width")?,
        field("height")?,
        field("rawBytes")?
    );
    let files = text
        .split("\"name\"")
        .skip(1)
        .filter_map(|s| s.split('"').nth(1))
        .map(|name| build.join("images").join(name))
        .collect();
    Ok((image, files))
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let (image, files) = manifest(&args.build)?;
    ensure!(args.images <= files.len(), "--images {}, but the build has {}", args.images, files.len());
    let jpegs = files[..args.images]
        .iter()
        .map(|f| std::fs::read(f).with_context(|| format!("reading {}", f.display())))
        .collect::<Result<Vec<_>>>()?;
    let engine = Options::engine()?;
    let names: Vec<&str> = if args.variant == "all" { VARIANTS.to_vec() } else { vec![args.variant.as_str()] };
    for name in names {
        let mut store = Store::new(&engine, ());
        let mut variant: Box<dyn Variant> = match name {
            "a-loop" => Box::new(GcArrays::new(&engine, &mut store, &args.build)?),
            "b" => Box::new(Multimem::new(&engine, &mut store, &args.build)?),
            _ => {
                let m = module(&engine, &args.build.join("rust-app.wasm"))?;
                let app = Linker::new(&engine).instantiate(&mut store, &m).map_err(anyhow::Error::from)?;
                Box::new(Rust { app })
            }
        };
        let mut all = Vec::new();
        let mut all_cpu = Vec::new();
        let mut copied = Vec::new();
        let mut hashes = Vec::new();
        for jpeg in &jpegs {
            let m =
                variant.measure(&mut store, jpeg, args.runs, args.warmup).with_context(|| format!("variant {name}"))?;
            all.extend(m.ms);
            all_cpu.extend(m.cpu_ms);
            copied.push(m.bytes_copied as f64);
            hashes.push(format!("\"{}\"", fnv1a(&m.output)));
        }
        variant.check_clean(&mut store)?;
        println!(
            "{{\"engine\":\"wasmtime 48.0.8\",\"variant\":\"{name}\",\"image\":{image},\"images\":{},\"runs\":{},\"medianMs\":{:.3},\"ms\":[{}],\"medianCpuMs\":{:.3},\"cpuMs\":[{}],\"bytesCopiedPerImage\":{},\"boundaryCrossingsPerImage\":0,\"hashes\":[{}],\"peakRssBytes\":{},\"liveBuffers\":0}}",
            args.images,
            args.runs,
            median(&all),
            all.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(","),
            median(&all_cpu),
            all_cpu.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(","),
            median(&copied),
            hashes.join(","),
            peak_rss_bytes()
        );
    }
    Ok(())
}
