// node:util for jsc: feels-like-js.test.js imports inspect, whose one test
// run.js lists as Node-only; calling it here is an error, never a pass.
export function inspect() {
  throw new Error("node:util's inspect is Node-only; run.js must not run a test that calls it");
}
