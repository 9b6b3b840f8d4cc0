// Writes the js-glue benchmark results (JSON files from bench.js) into
// BENCHMARKS.md between <!-- js-glue:begin --> and <!-- js-glue:end -->,
// appending the section if the markers are absent. Usage:
//   node report.js BENCHMARKS.md result-node24.json result-node26.json
import { readFileSync, writeFileSync } from "node:fs";

const [file, ...inputs] = process.argv.slice(2);
const runs = inputs.map((p) => JSON.parse(readFileSync(p, "utf8")));
const f = (x, d = 2) => x.toFixed(d);
const M = (x) => `${f(x / 1e6)} M/s`;
const col = (g) => runs.map(g).join(" | ");
const head = `| | ${runs.map((r) => `Node ${r.node} (${r.viewPath} views)`).join(" | ")} |\n|---|${runs.map(() => "---|").join("")}`;
const e = (r) => r.elementLoop;
const c = (r) => r.churn;
const s = (r) => r.streams;
const section = `<!-- js-glue:begin -->
## js-glue (Node)

Command: \`js-glue/bench/run.sh\` (runs \`node --expose-gc js-glue/bench/bench.js\` on Node 24 and
Node 26 against the linked test app, then this report). Medians; ratios are glue / alternative,
measured in the same process (peak memory: 5 fresh processes per variant).

**Element loop** over ${runs[0].elementLoop.elements / 2 ** 20} Mi Uint8 elements (sum, then
read-modify-write), 15 interleaved rounds. Alternative: a raw \`new Uint8Array(memory.buffer, address, n)\`.
Target: glue <= 1.05x raw.

${head}
| raw Uint8Array on memory.buffer | ${col((r) => `${f(e(r).rawMs)} ms`)} |
| glue \`list.view()\` | ${col((r) => `${f(e(r).glueMs)} ms`)} |
| **ratio glue / raw** | ${col((r) => `**${f(e(r).ratio, 3)}x**`)} |
| (info) \`list.get(i)\` per element, sum only | ${col((r) => `${f(e(r).getMs)} ms (${f(e(r).getRatio)}x raw)`)} |
| (info) raw loop over a non-resizable memory.buffer (second instance, refresh path) | ${col((r) => (e(r).plainMs == null ? "n/a (already non-resizable)" : `${f(e(r).plainMs)} ms`))} |

**Wrappers created and released per second** (${runs[0].churn.wrappers / 1e6}M per round in batches of
10,000 across event-loop turns, 5 rounds; each time runs until every registry entry has run, so the
no-op finalizer callbacks of disposed wrappers are counted too). Target: >= 1M/s.

${head}
| \`Uint8List.view(buffer)\` + \`dispose()\` (retain + release) | ${col((r) => M(c(r).explicitViewPerSec))} |
| \`Uint8List.create(rt, 16)\` + \`dispose()\` (buffer_new + free) | ${col((r) => M(c(r).explicitCreatePerSec))} |
| \`Uint8List.view(buffer)\` dropped, released by the FinalizationRegistry (incl. forced GC) | ${col((r) => M(c(r).finalizerPerSec))} |

**readInto** of a ${runs[0].streams.bytes / 2 ** 20} MiB \`Response\` (byte stream, 64 KiB chunks, Content-Length),
9 interleaved rounds. Alternative: \`await response.arrayBuffer()\` then one \`set()\` into a new Uint8List.
Peak memory: peak RSS (VmHWM, reset just before the read) above the RSS before it, in a fresh process; it includes the target buffer in runtime memory.
Target: readInto at least as fast, with at most half the peak memory.

${head}
| \`arrayBuffer()\` + \`set()\` | ${col((r) => `${f(s(r).arrayBufferMs, 1)} ms (${f(s(r).arrayBufferMiBps, 0)} MiB/s), peak ${f(s(r).arrayBufferPeakMiB, 1)} MiB`)} |
| \`readInto\` | ${col((r) => `${f(s(r).readIntoMs, 1)} ms (${f(s(r).readIntoMiBps, 0)} MiB/s), peak ${f(s(r).readIntoPeakMiB, 1)} MiB`)} |
| **time ratio readInto / arrayBuffer** | ${col((r) => `**${f(s(r).timeRatio, 3)}x**`)} |
| **peak ratio readInto / arrayBuffer** | ${col((r) => `**${f(s(r).peakRatio, 3)}x**`)} |
<!-- js-glue:end -->`;

const text = readFileSync(file, "utf8");
const re = /<!-- js-glue:begin -->[\s\S]*?<!-- js-glue:end -->/;
writeFileSync(file, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
console.log(section);
