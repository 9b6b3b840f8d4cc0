// Benchmark of the WebGPU helpers (not a test): readback and upload of 1-64
// MiB between a Float32List in runtime memory and a GPUBuffer, the helpers
// (mapAsyncInto, writeBufferFrom) against the naive path
// (getMappedRange().slice() + set(); list.copyTo() + writeBuffer), on both
// view paths, in Debian's Chromium with WebGPU on SwiftShader. Each
// configuration runs in a FRESH browser, so the peak RSS of its renderer and
// GPU process (VmHWM) is its own. Prints a Markdown table: median ms,
// bytes copied in JS per operation, peak RSS.
//
// Usage: node examples/webgpu/bench.mjs [--runs 7] [--sizes 1,4,16,64] [--viewPaths refresh,resizable]
//        (after examples/webgpu/build.sh; examples/webgpu/bench.sh does both).
// SwiftShader runs the "GPU" on the CPU, so GPU-side times are not those of
// real hardware; the JS-side copies measured here are the same on any adapter.
import { join, resolve } from "node:path";
import { launch, waitForStatus } from "../harness/chromium.mjs";
import { peakRssByType } from "../harness/proc.mjs";
import { startServer } from "../harness/serve.mjs";

const here = resolve(import.meta.dirname);
const BUILD = process.env.MULTIMEM_WEBGPU_BUILD ?? join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/multimem/target"), "webgpu");

function parseArgs(argv) {
  const opt = { runs: 7, sizes: "1,4,16,64", viewPaths: "refresh,resizable" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    if (!(key in opt) || argv[i + 1] === undefined) throw new Error(`bench: unknown or incomplete argument ${argv[i]}`);
    opt[key] = argv[i + 1];
  }
  return { runs: Number(opt.runs), sizes: opt.sizes.split(",").map(Number), viewPaths: opt.viewPaths.split(",") };
}

async function one(server, q) {
  const browser = await launch(server.url);
  try {
    const { page, problems } = await browser.open(`/bench.html?${new URLSearchParams(q)}`);
    await waitForStatus(page, 600_000);
    const r = await page.evaluate(() => window.benchResult);
    if (problems.length) throw new Error(problems.join("; "));
    const rss = peakRssByType(browser.profile);
    return { ...r, rendererPeak: rss.renderer, gpuPeak: rss["gpu-process"] ?? 0 };
  } finally {
    await browser.close();
  }
}

const MB = (n) => (n / 1e6).toFixed(0);

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const server = await startServer({ roots: [["/build/", BUILD], ["/js-glue/", join(here, "../../js-glue/src")], ["/", join(here, "www")]] });
  const rows = [];
  try {
    for (const viewPath of opt.viewPaths) {
      for (const op of ["readback", "upload"]) {
        for (const mib of opt.sizes) {
          const pair = {};
          for (const path of ["helper", "naive"]) {
            process.stderr.write(`bench: ${viewPath} ${op} ${mib} MiB ${path}\n`);
            pair[path] = await one(server, { op, path, mib, runs: opt.runs, viewPath });
          }
          rows.push({ viewPath, op, mib, ...pair });
        }
      }
    }
  } finally {
    await server.close();
  }
  console.log("| view path | operation | MiB | helper ms | naive ms | naive / helper | JS bytes copied: helper / naive | renderer peak RSS MB: helper / naive | GPU process peak RSS MB: helper / naive |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const { helper: h, naive: n } = r;
    console.log(`| ${r.viewPath} | ${r.op} | ${r.mib} | ${h.medianMs.toFixed(2)} | ${n.medianMs.toFixed(2)} | ${(n.medianMs / h.medianMs).toFixed(2)} | ${h.bytesCopied.toLocaleString("en-US")} / ${n.bytesCopied.toLocaleString("en-US")} | ${MB(h.rendererPeak)} / ${MB(n.rendererPeak)} | ${MB(h.gpuPeak)} / ${MB(n.gpuPeak)} |`);
  }
  console.log(`\n${opt.runs} timed runs per configuration after 1 warm-up, median; a fresh Chromium per configuration.`);
}

main().catch((e) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
