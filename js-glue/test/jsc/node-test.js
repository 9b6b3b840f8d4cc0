// What js-glue's tests use of node:test, for jsc: test(name, fn) registers a
// test of the file run.js is loading; run() runs them in order, awaiting
// each, and prints one line per test and node's closing counts.

const tests = [];
let file = "?";

/** Called by run.js before it imports a test file. */
export function setFile(name) {
  file = name;
}

/** node:test's test(name, [options], fn). */
export function test(name, options, fn) {
  if (typeof options === "function") fn = options;
  tests.push({ file, name, fn });
}

/**
 * Runs every registered test except those `excluded(file, name)` names (it
 * returns the reason). Returns { passed, failed, excluded }.
 */
export async function run(excluded) {
  let passed = 0;
  let failed = 0;
  const left = [];
  for (const t of tests) {
    const why = excluded(t.file, t.name);
    if (why) {
      left.push(`${t.file}: ${t.name} (${why})`);
      continue;
    }
    const start = preciseTime();
    try {
      await t.fn();
      passed++;
      print(`✔ ${t.file}: ${t.name} (${((preciseTime() - start) * 1000).toFixed(1)}ms)`);
    } catch (e) {
      failed++;
      print(`✖ ${t.file}: ${t.name}\n    ${String(e?.stack ? `${e.name}: ${e.message}\n${e.stack}` : e).replace(/\n/g, "\n    ")}`);
    }
  }
  return { passed, failed, excluded: left };
}
