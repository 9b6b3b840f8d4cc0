// Benchmark of the image pipeline (not a test): time per image, bytes copied
// per image and peak memory of each variant, in wasmtime, Node 24 and
// Chromium, on the build's images (build.sh: 3 JPEGs of 2048x1536, 12.6 MB
// raw each). Every (engine, variant) runs in a FRESH process (a fresh browser
// for Chromium), so its peak RSS is its own:
//   wasmtime  image-pipeline-wasmtime --variant V  (VmHWM of that process)
//   Node      run-node.mjs --variant V             (process.resourceUsage().maxRSS)
//   Chromium  the page with ?variants=V            (VmHWM of the renderer process;
//             the times come from one more fresh browser per round that runs
//             every variant in one page, in the round's order, because wall
//             times of separate browsers minutes apart differ more than the
//             variants do)
// The machine is shared and noisy, so the work is split into `--rounds`
// rounds; each round runs every (engine, variant) once, in a rotated order,
// with `--runs` timed runs per image after `--warmup` untimed ones (2: V8
// tiers wasm up while it runs, and one run leaves some code in its baseline
// tier). The time is the
// median over all rounds, images and runs; the peak RSS the median over
// rounds. Prints a Markdown table and
// the ratios the issue targets: b / c (target <= 1.15) and a / b in Node
// (target >= 5), for a-loop and a-js; then, for Node, the copies alone
// (run-node.mjs --mode copy), which say why a-loop stays close to b.
//
// Usage (after build.sh and `cargo build -p multimem-example-image-pipeline`):
//   node examples/image-pipeline/bench.mjs [--rounds 3] [--runs 2] [--warmup 2] [--images 3] [--engines wasmtime,node,chromium]
//   examples/image-pipeline/bench.sh runs the builds first.
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { launch, waitForStatus } from "../harness/chromium.mjs";
import { peakRssByType } from "../harness/proc.mjs";
import { startServer } from "../harness/serve.mjs";
import { defaultBuildDir } from "./run-node.mjs";
import { VARIANTS, WASM_ONLY_VARIANTS, median } from "./www/pipeline.js";

const here = resolve(import.meta.dirname);
const BUILD = defaultBuildDir();

function parseArgs(argv) {
  const opt = { rounds: 3, runs: 2, warmup: 2, images: 3, engines: "wasmtime,node,chromium" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    if (!(key in opt) || argv[i + 1] === undefined) throw new Error(`bench: unknown or incomplete argument ${argv[i]}`);
    opt[key] = key === "engines" ? argv[i + 1] : Number(argv[i + 1]);
  }
  opt.engines = opt.engines.split(",");
  return opt;
}

function wasmtime(variant, opt) {
  const bin = process.env.MULTIMEM_IMAGE_PIPELINE_WASMTIME ?? join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/multimem/target"), "debug/image-pipeline-wasmtime");
  const out = execFileSync(bin, ["--build", BUILD, "--variant", variant, "--images", String(opt.images), "--runs", String(opt.runs), "--warmup", String(opt.warmup)], { encoding: "utf8" });
  return JSON.parse(out.trim());
}

function node(variant, opt) {
  const out = execFileSync(process.execPath, [join(here, "run-node.mjs"), "--build", BUILD, "--variant", variant, "--images", String(opt.images), "--runs", String(opt.runs), "--warmup", String(opt.warmup)], { encoding: "utf8" });
  return JSON.parse(out.trim());
}

/** Opens the page in a fresh browser; returns the page's result and the renderer's peak RSS. */
async function chromiumPage(server, query) {
  const browser = await launch(server.url);
  try {
    const { page, problems } = await browser.open(`/?${query}`);
    await waitForStatus(page, 1_200_000);
    const r = await page.evaluate(() => window.pipelineResult);
    if (problems.length) throw new Error(`chromium ${query}: ${problems.join("; ")}`);
    const version = await page.evaluate(() => navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1]);
    return { r, version, rss: peakRssByType(browser.profile) };
  } finally {
    await browser.close();
  }
}

/** One round in Chromium: every variant in one page (times), then one fresh browser per variant (peak RSS). */
async function chromiumRound(variants, opt, server) {
  const together = await chromiumPage(server, `runs=${opt.runs}&warmup=${opt.warmup}&images=${opt.images}&variants=${variants.join(",")}`);
  const out = {};
  for (const v of variants) {
    process.stderr.write(`bench: chromium ${v} (peak RSS)\n`);
    const alone = await chromiumPage(server, `runs=1&images=${opt.images}&variants=${v}`);
    const row = together.r.rows.find((x) => x.variant === v);
    out[v] = {
      engine: `chromium ${together.version}`,
      variant: v,
      ms: row.ms,
      medianMs: row.medianMs,
      bytesCopiedPerImage: row.bytesCopied,
      boundaryCrossingsPerImage: row.boundaryCrossings,
      hashes: row.hashes,
      peakRssBytes: alone.rss.renderer,
    };
  }
  return out;
}

const MB = (n) => (n / 1e6).toFixed(1);

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const samples = new Map(); // "engine variant" -> results of each round
  const server = opt.engines.includes("chromium")
    ? await startServer({ roots: [["/build/", BUILD], ["/js-glue/", join(here, "../../js-glue/src")], ["/", join(here, "www")]] })
    : null;
  try {
    for (let round = 0; round < opt.rounds; round++) {
      for (const engine of opt.engines) {
        const all = engine === "wasmtime" ? WASM_ONLY_VARIANTS : VARIANTS;
        const variants = all.map((_, i) => all[(i + round) % all.length]); // rotated each round
        process.stderr.write(`bench: round ${round + 1}/${opt.rounds} ${engine} ${variants.join(" ")}\n`);
        const inPage = engine === "chromium" ? await chromiumRound(variants, opt, server) : null;
        for (const v of variants) {
          const r = engine === "wasmtime" ? wasmtime(v, opt) : engine === "node" ? node(v, opt) : inPage[v];
          const key = `${engine} ${v}`;
          if (!samples.has(key)) samples.set(key, []);
          samples.get(key).push({ ...r, engineName: engine });
        }
      }
    }
  } finally {
    await server?.close();
  }
  const results = [];
  for (const engine of opt.engines) {
    for (const v of engine === "wasmtime" ? WASM_ONLY_VARIANTS : VARIANTS) {
      const rounds = samples.get(`${engine} ${v}`);
      results.push({
        ...rounds[0],
        medianMs: median(rounds.flatMap((r) => r.ms)),
        medianCpuMs: rounds[0].cpuMs ? median(rounds.flatMap((r) => r.cpuMs)) : NaN,
        peakRssBytes: median(rounds.map((r) => r.peakRssBytes)),
        hashes: rounds[0].hashes,
        allHashes: rounds.map((r) => r.hashes.join(",")),
      });
    }
  }
  // Every variant in every engine must have written the same JPEGs.
  const ref = results[0].hashes.join(",");
  for (const r of results) if (r.allHashes.some((h) => h !== ref)) throw new Error(`bench: ${r.engine} ${r.variant} wrote other JPEGs (${r.hashes} vs ${ref})`);

  console.log(`| engine | variant | wall ms / image | × c | thread CPU ms / image | × c | bytes copied / image | per-byte crossings | peak RSS (MB) |`);
  console.log(`|---|---|---:|---:|---:|---:|---:|---:|---:|`);
  for (const engine of opt.engines) {
    const rows = results.filter((r) => r.engineName === engine);
    const c = rows.find((r) => r.variant === "c");
    const cpu = (x) => (Number.isNaN(x) ? "n/a" : x.toFixed(1));
    for (const r of rows) {
      console.log(`| ${r.engine} | ${r.variant} | ${r.medianMs.toFixed(1)} | ${(r.medianMs / c.medianMs).toFixed(2)} | ${cpu(r.medianCpuMs)} | ${cpu(r.medianCpuMs / c.medianCpuMs)} | ${r.bytesCopiedPerImage.toLocaleString("en-US")} | ${r.boundaryCrossingsPerImage.toLocaleString("en-US")} | ${MB(r.peakRssBytes)} |`);
    }
    for (const [what, key] of [["wall", "medianMs"], ["CPU", "medianCpuMs"]]) {
      const by = Object.fromEntries(rows.map((r) => [r.variant, r[key]]));
      if (Number.isNaN(by.c)) continue;
      const parts = [`b / c = ${(by.b / by.c).toFixed(3)} (target <= 1.15)`, `a-loop / b = ${(by["a-loop"] / by.b).toFixed(2)}`];
      if (by["a-js"]) parts.push(`a-js / b = ${(by["a-js"] / by.b).toFixed(2)} (target >= 5 in Node)`);
      console.log(`\n${engine} (${what}): ${parts.join("; ")}`);
    }
    console.log("");
  }
  if (opt.engines.includes("node")) {
    // Why a-loop is close to b: the copies alone, against the whole pipeline.
    const copy = {};
    for (let round = 0; round < opt.rounds; round++) {
      const out = execFileSync(process.execPath, [join(here, "run-node.mjs"), "--build", BUILD, "--mode", "copy", "--runs", "5"], { encoding: "utf8" });
      for (const r of out.trim().split("\n").map((l) => JSON.parse(l))) (copy[r.variant] ??= []).push(...r.cpuMs);
    }
    const [loop, mc] = [median(copy["a-loop"]), median(copy.b)];
    console.log(`copies alone, Node, thread CPU (${opt.rounds} fresh processes x 5 runs): one image's raw bytes to the codec and back (2 x 12,582,912 B): ` +
      `a-loop element loop ${loop.toFixed(1)} ms, b memory.copy ${mc.toFixed(1)} ms (${(loop / mc).toFixed(1)}x)\n`);
  }
  console.log(`images: ${opt.images} x 2048x1536 JPEG (12,582,912 B raw each); ${opt.rounds} rounds x ${opt.runs} timed runs per image after ${opt.warmup} warm-up runs, fresh process per round; all outputs identical (fnv1a ${ref})`);
}

main().catch((e) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
