// Readable errors: a trap inside a runtime export during an app call becomes a
// MultimemError naming the export and the runtime's code, through
// runtime.call and through the opt-in wrapExports(); the app's own traps stay
// RuntimeErrors, and a code recorded by an earlier call is never reported.
// The glue's own releases (dispose, call's argument release) report
// MultimemError too when wasm freed the buffer behind the glue's back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ERROR, ERRORS, KIND, MultimemError, Uint8List } from "../src/index.js";
import { loadApp } from "./helpers.js";

const { runtime: rt, app } = await loadApp();

/** Asserts `fn` throws a MultimemError with `code` whose message names `what`. */
function throwsCode(fn, code, what) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof MultimemError, `${e}`);
    assert.equal(e.code, code);
    assert.equal(e.codeName, ERRORS[code].name);
    assert.equal(e.meaning, ERRORS[code].meaning);
    assert.equal(e.message, `${what}: runtime error ${ERRORS[code].name} (${ERRORS[code].meaning})`);
    assert.ok(e.cause instanceof WebAssembly.RuntimeError, "the trap is the cause");
    return true;
  });
}

test("runtime.call: a trap in a runtime export becomes a MultimemError with the code's name and meaning", () => {
  using list = Uint8List.create(rt, 4);
  // sum() reads the list with list_get_i64; kind 99 is not a kind.
  throwsCode(() => rt.call(app.sum, 99, list, 0, 4), ERROR.BAD_KIND, "sum");
  // A range past the buffer: list_get_i64 checks the view.
  throwsCode(() => rt.call(app.sum, KIND.Uint8List, list, 0, 5), ERROR.RANGE, "sum");
  assert.equal(rt.call(app.sum, KIND.Uint8List, list, 0, 4), 0n, "the instance is still usable");
});

test("the app's own trap stays a RuntimeError, never blamed on an earlier call's code", () => {
  using list = Uint8List.create(rt, 4);
  throwsCode(() => rt.call(app.sum, 99, list, 0, 4), ERROR.BAD_KIND, "sum");
  assert.equal(rt.exports.last_error(), ERROR.BAD_KIND, "the runtime still holds the earlier code");
  assert.throws(() => rt.call(app.fail), (e) => e instanceof WebAssembly.RuntimeError && !(e instanceof MultimemError));
  // unhold() with nothing held traps on ref.as_non_null in app code.
  assert.throws(() => rt.call(app.unhold), (e) => e instanceof WebAssembly.RuntimeError && !(e instanceof MultimemError));
  // A different code recorded later is reported.
  throwsCode(() => rt.call(app.sum, KIND.Uint8List, list, 0, 5), ERROR.RANGE, "sum");
});

test("the same code twice in a row is still reported: the trap's innermost frame is the runtime's", async () => {
  // A fresh runtime, so the glue has not seen a runtime trap yet and learns where it traps.
  const { runtime: fresh, app: a } = await loadApp();
  using list = Uint8List.create(fresh, 4);
  for (let i = 0; i < 3; i++) throwsCode(() => fresh.call(a.sum, 99, list, 0, 4), ERROR.BAD_KIND, "sum");
  assert.throws(() => fresh.call(a.fail), (e) => !(e instanceof MultimemError), "then the app's own trap");
  throwsCode(() => fresh.call(a.sum, 99, list, 0, 4), ERROR.BAD_KIND, "sum");
  // A runtime that never decoded a trap provokes one to learn the site (BAD_LENGTH), then decides.
  const other = await loadApp();
  using l2 = Uint8List.create(other.runtime, 4);
  assert.throws(() => other.app.sum(99, l2.address, 0, 4)); // BAD_KIND recorded behind the glue's back
  throwsCode(() => other.runtime.call(other.app.sum, 99, l2, 0, 4), ERROR.BAD_KIND, "sum");
  assert.throws(() => other.runtime.call(other.app.fail), (e) => !(e instanceof MultimemError));
  // Without a stack trace a repeated code cannot be told apart, and the glue
  // says nothing rather than risk a stale code (a changed code still is reported).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    assert.equal(other.runtime.exports.last_error(), ERROR.BAD_LENGTH, "learning the site provoked BAD_LENGTH");
    throwsCode(() => other.runtime.call(other.app.sum, 99, l2, 0, 4), ERROR.BAD_KIND, "sum");
    assert.throws(() => other.runtime.call(other.app.sum, 99, l2, 0, 4), (e) => e instanceof WebAssembly.RuntimeError && !(e instanceof MultimemError));
  } finally {
    Error.stackTraceLimit = limit;
  }
});

test("wrapExports: every app export throws MultimemError for runtime traps and takes wrappers", () => {
  const x = rt.wrapExports();
  assert.ok(Object.isFrozen(x));
  assert.equal(x.memory, rt.memory, "non-function exports as they are");
  using list = Uint8List.create(rt, 3);
  list.copyFrom([1, 2, 3]);
  assert.equal(x.sum(KIND.Uint8List, list, 0, 3), 6n, "a wrapper argument is passed as its address");
  assert.equal(list.buffer.refcount, 2, "and retained only for the call (list + its buffer wrapper)");
  throwsCode(() => x.sum(KIND.Int16List, list, 1, 1), ERROR.ALIGNMENT, "sum");
  throwsCode(() => x.buffer_release(12345), ERROR.NOT_A_BUFFER, "buffer_release");
  assert.throws(() => x.fail(), (e) => e instanceof WebAssembly.RuntimeError && !(e instanceof MultimemError));
  assert.throws(() => rt.wrapExports(null), { name: "TypeError", message: /^exports: / });
});

test("dispose() after wasm freed the buffer is a MultimemError, and the wrapper is disposed", () => {
  const base = rt.stats().liveBuffers;
  const list = Uint8List.create(rt, 8);
  assert.equal(rt.exports.buffer_release(list.address), 0, "wasm drops the glue's reference");
  assert.throws(() => list.dispose(), (e) => {
    assert.ok(e instanceof MultimemError, `${e}`);
    assert.ok([ERROR.FREED, ERROR.NOT_A_BUFFER].includes(e.code), e.codeName);
    assert.match(e.message, /^Uint8List\.dispose: runtime error (FREED|NOT_A_BUFFER) /);
    return true;
  });
  assert.equal(list.disposed, true);
  list.dispose(); // a second dispose does nothing
  assert.equal(rt.stats().liveBuffers, base);
  // The same for a ByteBuffer, and for .refcount and .buffer on a freed buffer.
  const b = rt.allocate(16);
  const v = Uint8List.create(rt, 16);
  rt.exports.buffer_release(b.address);
  rt.exports.buffer_release(v.address);
  assert.throws(() => b.refcount, (e) => e instanceof MultimemError && /^ByteBuffer\.refcount: /.test(e.message));
  assert.throws(() => v.buffer, (e) => e instanceof MultimemError && /^Uint8List\.buffer: /.test(e.message));
  assert.throws(() => b.dispose(), (e) => e instanceof MultimemError && /^ByteBuffer\.dispose: /.test(e.message));
  assert.throws(() => v.dispose(), MultimemError);
  assert.equal(rt.stats().liveBuffers, base);
});

test("call(): releasing an argument that wasm freed during the call is a MultimemError", () => {
  const list = Uint8List.create(rt, 4);
  const addr = list.address;
  // buffer_release twice inside the call: the call's own reference and the wrapper's.
  const twice = () => {
    rt.exports.buffer_release(addr);
    rt.exports.buffer_release(addr);
  };
  assert.throws(() => rt.call(twice, list), (e) => e instanceof MultimemError && /^call: releasing an argument: /.test(e.message));
  // The wrapper's reference is gone too: its dispose says so (and the finalizer will not try again).
  assert.throws(() => list.dispose(), MultimemError);
});
