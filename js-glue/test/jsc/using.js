// The helpers TypeScript emits for `using` declarations (imported as
// "tslib" by the tests prepare.mjs writes), for engines without
// Symbol.dispose (jsc, Safari 26): a resource is released by its public
// dispose(), in reverse order, when its block is left, as `using` would.
export function __addDisposableResource(env, value, async) {
  if (async) throw new TypeError("await using is not supported by the jsc adapter");
  if (value !== null && value !== undefined) {
    if (typeof value.dispose !== "function") throw new TypeError("using: the value has no dispose() method");
    env.stack.push(value);
  }
  return value;
}

export function __disposeResources(env) {
  let error = env.error;
  let hasError = env.hasError;
  while (env.stack.length > 0) {
    const value = env.stack.pop();
    try {
      value.dispose();
    } catch (e) {
      error = hasError ? new Error(`dispose() failed while another error was thrown: ${e}`, { cause: error }) : e;
      hasError = true;
    }
  }
  if (hasError) throw error;
}
