// What js-glue's tests use of node:timers/promises, for jsc: one turn of the event loop.
export function setImmediate(value) {
  return new Promise((resolve) => setTimeout(() => resolve(value), 0));
}
