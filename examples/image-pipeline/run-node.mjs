// The image pipeline on Node (>= 24: multi-memory, WasmGC, `using`).
// Loads the build (build.sh) and runs variants of www/pipeline.js on the
// generated JPEGs. Used by the tests, by bench.mjs (one variant per fresh
// process, so the peak RSS is that variant's), and by hand:
//
//   node run-node.mjs [--build DIR] [--variant a-loop|a-js|b|c|all] [--images N]
//                     [--runs R] [--warmup W] [--mode pipeline|copy]
//
// Prints one JSON object per variant: median ms per image, bytes copied and
// boundary crossings per image, the output's FNV-1a hash per image, peak RSS.
// `--mode copy` times only the copies of variants a-loop and b: one image's
// raw size (12.6 MB) to a codec block and back.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as glue from "../../js-glue/src/index.js";
import { VARIANTS, createPipeline, fnv1a, measure, measureCopy, median } from "./www/pipeline.js";


/** The build directory: $MULTIMEM_IMAGE_PIPELINE_BUILD, else $CARGO_TARGET_DIR/image-pipeline. */
export function defaultBuildDir() {
  if (process.env.MULTIMEM_IMAGE_PIPELINE_BUILD) return process.env.MULTIMEM_IMAGE_PIPELINE_BUILD;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache/multimem/target");
  return join(target, "image-pipeline");
}

/** The manifest and the JPEG files of the build. */
export function loadImages(build) {
  const manifest = JSON.parse(readFileSync(join(build, "images/manifest.json"), "utf8"));
  const images = manifest.files.map((f) => new Uint8Array(readFileSync(join(build, "images", f.name))));
  return { manifest, images };
}

/**
 * Instantiates every variant from the build directory. The codec's glue is
 * imported twice (two module instances: one per wasm instance it drives).
 */
export async function loadPipeline(build = defaultBuildDir()) {
  const glueUrl = pathToFileURL(join(build, "codec/codec.js")).href;
  const codec = await import(`${glueUrl}?instance=codec`);
  const codecLinked = await import(`${glueUrl}?instance=linked`);
  const codecLoop = await import(`${glueUrl}?instance=loop`);
  const wasm = {
    codec: readFileSync(join(build, "codec/codec_bg.wasm")),
    gcArray: readFileSync(join(build, "gc-array.wasm")),
    multimem: readFileSync(join(build, "multimem.wasm")),
    rustApp: readFileSync(join(build, "rust-app.wasm")),
  };
  return { ...(await createPipeline({ glue, codec, codecLinked, codecLoop, wasm })), codec, codecLinked };
}

/** CPU time of this thread in ms (Node >= 23.9). */
function threadCpuMs() {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

function parseArgs(argv) {
  const opt = { build: defaultBuildDir(), variant: "all", images: 1, runs: 1, warmup: 0, mode: "pipeline" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if (!(key in opt) || value === undefined) throw new Error(`run-node: unknown or incomplete argument ${argv[i]}`);
    opt[key] = key === "build" || key === "variant" || key === "mode" ? value : Number(value);
  }
  if (opt.variant !== "all" && !VARIANTS.includes(opt.variant)) {
    throw new Error(`run-node: --variant must be one of ${VARIANTS.join(", ")} or all, got ${opt.variant}`);
  }
  return opt;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const { manifest, images } = loadImages(opt.build);
  if (opt.images > images.length) throw new Error(`run-node: --images ${opt.images}, but the build has ${images.length}`);
  const pipeline = await loadPipeline(opt.build);
  if (opt.mode === "copy") {
    for (const name of opt.variant === "all" ? ["a-loop", "b"] : [opt.variant]) {
      const ms = measureCopy(pipeline.variants[name], manifest.rawBytes, { runs: opt.runs });
      const cpuMs = measureCopy(pipeline.variants[name], manifest.rawBytes, { runs: opt.runs, now: threadCpuMs });
      console.log(JSON.stringify({ engine: `node ${process.version}`, variant: name, mode: "copy", bytesPerRun: 2 * manifest.rawBytes, medianMs: median(ms), ms, medianCpuMs: median(cpuMs), cpuMs }));
    }
    return;
  }
  for (const name of opt.variant === "all" ? VARIANTS : [opt.variant]) {
    const perImage = [];
    for (let k = 0; k < opt.images; k++) {
      const r = measure(pipeline.variants[name], images[k], { runs: opt.runs, warmup: opt.warmup, cpuNow: threadCpuMs });
      perImage.push({ ms: r.ms, cpuMs: r.cpuMs, bytesCopied: r.bytesCopied, boundaryCrossings: r.boundaryCrossings, hash: fnv1a(r.output), outputBytes: r.output.length });
    }
    const all = perImage.flatMap((p) => p.ms);
    const cpu = perImage.flatMap((p) => p.cpuMs);
    console.log(JSON.stringify({
      engine: `node ${process.version}`,
      variant: name,
      image: { width: manifest.width, height: manifest.height, rawBytes: manifest.rawBytes },
      images: opt.images,
      runs: opt.runs,
      medianMs: median(all),
      ms: all,
      medianCpuMs: median(cpu),
      cpuMs: cpu,
      bytesCopiedPerImage: median(perImage.map((p) => p.bytesCopied)),
      boundaryCrossingsPerImage: median(perImage.map((p) => p.boundaryCrossings)),
      hashes: perImage.map((p) => p.hash),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      liveBuffers: pipeline.runtime.stats().liveBuffers,
    }));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
}
