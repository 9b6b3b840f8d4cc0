// Writes bench.js's results (JSON files) as tables into BENCHMARKS.md between
// <!-- single-memory-bench:start --> and <!-- single-memory-bench:end -->,
// and prints them. Usage: node report.mjs BENCHMARKS.md ROUNDS RESULT.json...
import { readFileSync, writeFileSync } from "node:fs";

const [file, rounds, ...results] = process.argv.slice(2);
const START = "<!-- single-memory-bench:start -->";
const END = "<!-- single-memory-bench:end -->";
const f = (x, d = 2) => (x === undefined || x === null ? "–" : x.toFixed(d));
const size = (n) => (n >= 1 << 20 ? `${n >> 20} MiB` : n >= 1024 ? `${n >> 10} KiB` : `${n} B`);

let md = `Medians of ${rounds} rounds (each round runs every row on every variant in turn, after one warm-up round), \`bench/single-memory/run.sh ${rounds}\`.\n`;
for (const path of results) {
  const r = JSON.parse(readFileSync(path, "utf8"));
  if (r.rows === undefined) {
    // e2e.mjs: one pipeline of the image example per build.
    const m = r.medianMs;
    md += `\n**The image example end to end, ${r.engine}** (\`e2e.mjs\`: copy the file in, runtime kernels, imagelib's blur through two cross-memory copies, copy out; both builds computed the same image):\n\n`;
    md += `| multi-memory (ms) | single-memory (ms) | single ÷ multi (time) |\n|---|---|---|\n| ${f(m["multi-memory"])} | ${f(m["single-memory"])} | ${f(m["single-memory"] / m["multi-memory"])} |\n`;
    continue;
  }
  const multi = r.rows[0].value.multi !== undefined;
  const base = multi ? "multi" : "plain";
  const baseName = multi ? "multi-memory build" : "plain one-memory module";
  md += `\n**${r.engine}**: single-memory build against the ${baseName}${multi ? " (plain one-memory module for reference)" : " (no multi-memory in this engine)"}.\n\n`;
  md += `| element loop | ${multi ? "multi-memory" : "plain"} | single-memory | single ÷ ${multi ? "multi" : "plain"} (time; target ≤ 1.05) |${multi ? " plain |" : ""}\n|---|---|---|---|${multi ? "---|" : ""}\n`;
  for (const row of r.rows.filter((x) => x.kind === "loop")) {
    if (row.value.single === undefined) continue;
    const b = row.value[base];
    const ref = b === undefined ? "–" : f(row.value.single / b);
    md += `| ${row.label} (${row.unit}) | ${f(b)} | ${f(row.value.single)} | ${ref} |${multi ? ` ${f(row.value.plain)} |` : ""}\n`;
  }
  md += `\n| cross-memory copy | ${multi ? "multi-memory" : "plain memory.copy"} in / out (GB/s) | single-memory in / out (GB/s) | single ÷ ${multi ? "multi" : "plain"} in / out (throughput; target ≥ 0.5 from 64 KiB) |${multi ? " plain memory.copy (GB/s) |" : ""}\n|---|---|---|---|${multi ? "---|" : ""}\n`;
  const ins = r.rows.filter((x) => x.kind === "copy-in");
  for (const i of ins) {
    const o = r.rows.find((x) => x.kind === "copy-out" && x.label === i.label);
    const n = Number(i.label);
    md += `| ${size(n)} | ${f(i.value[base])} / ${f(o.value[base])} | ${f(i.value.single)} / ${f(o.value.single)} | ${f(i.value.single / i.value[base])} / ${f(o.value.single / o.value[base])} |${multi ? ` ${f(i.value.plain)} |` : ""}\n`;
  }
}
const text = readFileSync(file, "utf8");
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) throw new Error(`${file}: no ${START} ... ${END} markers`);
writeFileSync(file, text.slice(0, a + START.length) + "\n" + md + text.slice(b));
console.log(md);
