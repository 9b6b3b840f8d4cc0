// The WebGPU helpers (js-glue/src/webgpu.js) and the example page in Debian's
// Chromium with WebGPU on SwiftShader. For both view paths (refresh,
// resizable): the compute result equals the runtime's list_mul bit for bit;
// each helper copies exactly what it says (0 or 1 copy; the naive path 2);
// the helpers work after memory.grow, also while a map is pending; disposing
// a list while its map is pending rejects with MapTargetDisposedError and
// leaks nothing; bad arguments are typed errors. Without an adapter the page
// says so and the test fails on that message (see the last test).
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { SCREENSHOTS, launch, waitForStatus } from "../../harness/chromium.mjs";
import { startServer } from "../../harness/serve.mjs";

const here = resolve(import.meta.dirname);
const BUILD = process.env.MULTIMEM_WEBGPU_BUILD ?? join(process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/multimem/target"), "webgpu");
const N = 1 << 20;
let server, browser;

before(async () => {
  server = await startServer({
    roots: [["/build/", BUILD], ["/js-glue/", join(here, "../../../js-glue/src")], ["/", join(here, "../www")]],
  });
  browser = await launch(server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

for (const viewPath of ["refresh", "resizable"]) {
  describe(`${viewPath} view path`, () => {
    let page, problems, result;
    before(async () => {
      ({ page, problems } = await browser.open(`/?viewPath=${viewPath}&n=${N}`));
      await waitForStatus(page);
      result = await page.evaluate(() => window.webgpuResult);
    });
    after(async () => {
      await page?.screenshot({ path: join(SCREENSHOTS, `webgpu-${viewPath}.png`), fullPage: true });
      await page?.close();
    });

    test("results: GPU products equal list_mul bit for bit; the write mapping round-trips", () => {
      assert.equal(result.viewPath, viewPath);
      assert.equal(result.n, N);
      assert.deepEqual(result.gpuVsCpu, { count: 0, first: -1 });
      assert.deepEqual(result.naiveVsCpu, { count: 0, first: -1 });
      assert.deepEqual(result.roundTrip, { count: 0, first: -1 });
      assert.deepEqual(problems, []);
    });

    test("copy counts: helpers copy once (upload: not at all on refresh), the naive path twice", () => {
      const bytes = N * 4;
      const by = Object.fromEntries(result.rows.map((r) => [r.path.split(" ")[0], r]));
      const upload = viewPath === "refresh" ? { bytes: 0, copies: 0 } : { bytes: 2 * bytes, copies: 2 };
      assert.deepEqual([by.writeBufferFrom.bytes, by.writeBufferFrom.copies], [upload.bytes, upload.copies]);
      assert.deepEqual([by.mapAsyncInto.bytes, by.mapAsyncInto.copies], [bytes, 1]);
      assert.deepEqual([by.mapAsyncFrom.bytes, by.mapAsyncFrom.copies], [bytes, 1]);
      const naive = result.rows.filter((r) => r.path.startsWith("naive"));
      assert.deepEqual(naive.map((r) => [r.bytes, r.copies]), [[2 * bytes, 2], [2 * bytes, 2]]);
    });

    test("writeBufferFrom: an upload larger than the staging buffer, at an offset, arrives whole", async () => {
      const got = await page.evaluate(async () => {
        const { glue, device, runtime, webgpu, gpu } = window.webgpuContext;
        const n = (10 << 20) / 4 + 3, bytes = n * 4, offset = 8; // 10 MiB + 12 B: 3 chunks of <= 4 MiB
        using src = glue.Float32List.create(runtime, n);
        using dst = glue.Float32List.create(runtime, n);
        gpu.fill(src, 11);
        const G = device.createBuffer({ size: bytes + offset, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
        const R = device.createBuffer({ size: bytes + offset, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        const counter = new webgpu.CopyCounter();
        const copied = webgpu.writeBufferFrom(device.queue, G, offset, src, { counter });
        const enc = device.createCommandEncoder();
        enc.copyBufferToBuffer(G, 0, R, 0, bytes + offset);
        device.queue.submit([enc.finish()]);
        await R.mapAsync(GPUMapMode.READ);
        const back = new Float32Array(R.getMappedRange(offset, bytes).slice(0));
        R.unmap();
        let differ = 0;
        const v = src.view();
        for (let i = 0; i < n; i++) if (!Object.is(back[i], v[i])) differ++;
        G.destroy();
        R.destroy();
        return { copied, bytes, differ, counter: [counter.bytes, counter.copies], viewPath: runtime.viewPath };
      });
      assert.equal(got.differ, 0, "every element arrived");
      const js = got.viewPath === "refresh" ? 0 : got.bytes;
      assert.equal(got.copied, js);
      assert.deepEqual(got.counter, js ? [js, 1] : [0, 0]);
    });

    test("after memory.grow: views taken before growth, and growth while a map is pending", async () => {
      const got = await page.evaluate(async () => {
        const { glue, device, runtime, webgpu, gpu } = window.webgpuContext;
        const n = 1 << 16, bytes = n * 4;
        const pagesBefore = runtime.memory.buffer.byteLength / 65536;
        using src = glue.Float32List.create(runtime, n);
        gpu.fill(src, 7);
        const early = src.view(); // taken before growth
        const G = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
        const R = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        using big1 = glue.ByteBuffer.create(runtime, 64 << 20); // grows the memory
        const grew1 = runtime.memory.buffer.byteLength / 65536 > pagesBefore;
        webgpu.writeBufferFrom(device.queue, G, 0, src);
        const enc = device.createCommandEncoder();
        enc.copyBufferToBuffer(G, 0, R, 0, bytes);
        device.queue.submit([enc.finish()]);
        using dst = glue.Float32List.create(runtime, n);
        const pending = webgpu.mapAsyncInto(R, dst);
        const pagesMid = runtime.memory.buffer.byteLength / 65536;
        using big2 = glue.ByteBuffer.create(runtime, 64 << 20); // grows again while the map is pending
        const grew2 = runtime.memory.buffer.byteLength / 65536 > pagesMid;
        const copied = await pending;
        let same = true;
        for (let i = 0; i < n; i++) if (dst.get(i) !== src.get(i)) same = false;
        G.destroy();
        R.destroy();
        return { grew1, grew2, copied, same, earlyLength: early.length, n, viewPath: runtime.viewPath };
      });
      assert.ok(got.grew1 && got.grew2, "both allocations grew the memory");
      assert.equal(got.copied, got.n * 4);
      assert.ok(got.same, "the data read back equals what was uploaded");
      // The resizable path keeps old views valid; on the refresh path they are detached (length 0).
      assert.equal(got.earlyLength, got.viewPath === "resizable" ? got.n : 0);
    });

    test("dispose while a map is pending: MapTargetDisposedError, GPUBuffer unmapped, nothing leaked", async () => {
      const got = await page.evaluate(async () => {
        const { glue, device, runtime, webgpu } = window.webgpuContext;
        const live0 = runtime.stats().liveBuffers;
        const R = device.createBuffer({ size: 4096, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        const W = device.createBuffer({ size: 4096, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC });
        const dst = glue.Float32List.create(runtime, 1024);
        const src = glue.Uint8List.create(runtime, 4096);
        const counter = new webgpu.CopyCounter();
        const p1 = webgpu.mapAsyncInto(R, dst, 0, 4096, { counter });
        const p2 = webgpu.mapAsyncFrom(W, src, 0, 4096, { counter });
        const liveDuring = runtime.stats().liveBuffers;
        dst.dispose();
        src.dispose();
        const errors = [];
        for (const p of [p1, p2]) {
          try {
            await p;
            errors.push(null);
          } catch (e) {
            errors.push({ name: e.name, code: e.code, message: e.message });
          }
        }
        const out = { errors, mapStates: [R.mapState, W.mapState], live0, liveDuring, liveAfter: runtime.stats().liveBuffers, copied: counter.bytes };
        R.destroy();
        W.destroy();
        return out;
      });
      for (const [i, what] of [[0, "mapAsyncInto"], [1, "mapAsyncFrom"]]) {
        assert.equal(got.errors[i]?.name, "MapTargetDisposedError", `${what}: ${JSON.stringify(got.errors[i])}`);
        assert.equal(got.errors[i].code, "MULTIMEM_DISPOSED_WHILE_MAPPING");
        assert.match(got.errors[i].message, new RegExp(`^${what}: the (Float32List|Uint8List) was disposed while the GPUBuffer map was pending`));
      }
      assert.deepEqual(got.mapStates, ["unmapped", "unmapped"]);
      assert.equal(got.liveDuring, got.live0 + 2, "two lists (each pinned by its helper: same buffers)");
      assert.equal(got.liveAfter, got.live0, "every reference released");
      assert.equal(got.copied, 0, "nothing copied");
    });

    test("bad arguments: typed errors naming the argument; a failed map releases its reference", async () => {
      const got = await page.evaluate(async () => {
        const { glue, device, runtime, webgpu } = window.webgpuContext;
        const live0 = runtime.stats().liveBuffers;
        const R = device.createBuffer({ size: 4096, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        const S = device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE });
        using list = glue.Float32List.create(runtime, 1024);
        const shared = list.buffer; // the list's own ByteBuffer wrapper, taken first: the helpers must not dispose it
        const attempt = async (f) => {
          try {
            await f();
            return null;
          } catch (e) {
            return `${e.name}: ${e.message}`;
          }
        };
        const disposed = glue.Float32List.create(runtime, 4);
        disposed.dispose();
        const out = {
          offset: await attempt(() => webgpu.mapAsyncInto(R, list, 4)),
          size: await attempt(() => webgpu.mapAsyncInto(R, list, 0, 6)),
          tooBig: await attempt(() => webgpu.mapAsyncInto(R, glue.Float32List.create(runtime, 2), 0, 4096)),
          notAList: await attempt(() => webgpu.mapAsyncInto(R, new Float32Array(4))),
          notAGpuBuffer: await attempt(() => webgpu.mapAsyncInto({}, list)),
          disposed: await attempt(() => webgpu.mapAsyncInto(R, disposed)),
          noMapUsage: await attempt(() => webgpu.mapAsyncInto(S, list)),
          writeOffset: await attempt(() => webgpu.writeBufferFrom(device.queue, S, 2, list)),
        };
        R.destroy();
        S.destroy();
        using pinned = runtime.wrap(list.address); // one more reference: 3 if the failed maps released theirs
        return { ...out, live0, liveAfter: runtime.stats().liveBuffers, refcount: pinned.refcount, sharedDisposed: shared.disposed };
      });
      assert.match(got.offset, /^RangeError: mapAsyncInto: offset: 4 is not a multiple of 8/);
      assert.match(got.size, /^RangeError: mapAsyncInto: size: 6 is not a multiple of 4/);
      assert.match(got.tooBig, /^RangeError: mapAsyncInto: size: 4096 bytes do not fit in the Float32List of 8 bytes/);
      assert.match(got.notAList, /^TypeError: mapAsyncInto: destination: expected a typed list, ByteData or ByteBuffer of a multimem Runtime, got Float32Array/);
      assert.match(got.notAGpuBuffer, /^TypeError: mapAsyncInto: gpuBuffer: expected a GPUBuffer, got Object/);
      assert.match(got.disposed, /^TypeError: mapAsyncInto: destination: the Float32List is already disposed/);
      assert.match(got.noMapUsage, /^Error: mapAsyncInto: GPUBuffer.mapAsync\(READ, 0, 4096\) failed: /);
      assert.match(got.writeOffset, /^RangeError: writeBufferFrom: bufferOffset: 2 is not a multiple of 4/);
      // Still live: `list` (disposed after the return) and tooBig's list (never disposed).
      assert.equal(got.liveAfter, got.live0 + 2);
      assert.equal(got.refcount, 3, "the list's, its buffer wrapper's and the test's; the failed map released its pin");
      assert.equal(got.sharedDisposed, false, "list.buffer (which callers may hold) is left alone");
    });
  });
}

test("without a WebGPU adapter the page says so (and waitForStatus fails on it)", async () => {
  // Chromium without the WebGPU flags: navigator.gpu.requestAdapter() gives null (or no navigator.gpu).
  const plain = await launch(server.url, { webgpu: false });
  try {
    const { page } = await plain.open(`/?n=1024`);
    await assert.rejects(waitForStatus(page), /page reported: error: no WebGPU( adapter)?:/);
    await page.close();
  } finally {
    await plain.close();
  }
});
