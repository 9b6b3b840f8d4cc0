// Peak memory of a Chromium launched by chromium.mjs, for the benchmarks:
// the browser process is the one whose command line names the launch's
// fresh profile directory; its descendants (renderer, GPU process, ...) are
// found through /proc/<pid>/stat. Each process's peak RSS is VmHWM from
// /proc/<pid>/status. Linux only.
import { readFileSync, readdirSync } from "node:fs";

function read(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null; // the process exited meanwhile
  }
}

/** [{ pid, ppid, cmdline }] of every process we can read. */
function processes() {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    const cmdline = read(`/proc/${name}/cmdline`);
    if (stat === null || cmdline === null) continue;
    // Field 4 (ppid) follows the command name in parentheses, which may contain spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    // Chromium rewrites its children's argv into one space-separated string.
    out.push({ pid: Number(name), ppid, cmdline: cmdline.split("\0").join(" ") });
  }
  return out;
}

/**
 * The processes of the browser started with `--user-data-dir=profile` (or
 * playwright's equivalent), each with its `type` ("browser", "renderer",
 * "gpu-process", "utility", ...) and `peakRssBytes`.
 */
export function browserProcesses(profile) {
  const all = processes();
  const root = all.find((p) => !p.cmdline.includes("--type=") && p.cmdline.includes(profile));
  if (!root) throw new Error(`no browser process found for profile ${profile}`);
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const p of all) if (p.ppid === tree[i].pid) tree.push(p);
  return tree.map((p) => {
    const type = /--type=(\S+)/.exec(p.cmdline)?.[1] ?? (p === root ? "browser" : "other");
    const hwm = /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${p.pid}/status`) ?? "");
    return { pid: p.pid, type, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0 };
  });
}

/**
 * The largest peak RSS per process type, e.g. { renderer: ..., "gpu-process": ... }.
 * With one page open, the largest renderer is that page's (the others are
 * Chromium's own small ones).
 */
export function peakRssByType(profile) {
  const out = {};
  for (const p of browserProcesses(profile)) out[p.type] = Math.max(out[p.type] ?? 0, p.peakRssBytes);
  return out;
}
