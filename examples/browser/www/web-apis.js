// Which views the Web APIs that take bytes accept, tested live: each API is
// handed the bytes of a runtime list in three ways, and the result is
// checked against the bytes themselves:
//   view()                      the zero-copy view (on the resizable path, a view
//                               of a resizable ArrayBuffer; on the refresh path,
//                               of the memory's fixed-length ArrayBuffer);
//   fixedView() / withFixedView(fn)   the glue's view for Web APIs: view() itself
//                               where the memory's buffer is fixed-length (no copy),
//                               else one copy (written back by withFixedView for
//                               APIs that write);
//   copyTo()                    always one copy, on an ordinary ArrayBuffer.
// No DOM or glue import here: the page (web-apis-page.js) and the Node runner
// (test/web-apis-node.mjs) pass in the glue and a runtime, so browsers and Node
// run exactly these cases.

/** 64 ASCII bytes: valid UTF-8 for the text APIs, 4x4 RGBA pixels for ImageData. */
export const TEXT = "multimem: zero-copy views, one copy where nothing else works...!";

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const u8 = (v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

async function roundTripStream(chunk) {
  const gz = new CompressionStream("gzip");
  const w = gz.writable.getWriter();
  // The writer's promises carry the API's verdict on the chunk: awaited together
  // with the output, so a refusal is this case's error (never an unhandled rejection).
  const written = Promise.all([w.write(chunk), w.close()]);
  // Read with a reader, not new Response(stream): Firefox logs a console error
  // when a Response body stream fails, even when the rejection is handled.
  const read = async () => {
    const reader = gz.readable.pipeThrough(new DecompressionStream("gzip")).getReader();
    const parts = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(...r.value);
    return new Uint8Array(parts);
  };
  const [out] = await Promise.all([read(), written]);
  return out;
}

/**
 * The cases: `run(view, env)` hands `view` to the API and resolves to the
 * bytes the API saw (read APIs) or writes them (write APIs: `writes` is the
 * check run on the list afterwards). `available(env)` says whether this
 * engine has the API.
 */
export const CASES = [
  {
    api: "TextDecoder.decode",
    run: (v) => new TextEncoder().encode(new TextDecoder().decode(v)),
  },
  {
    api: "TextEncoder.encodeInto",
    write: true,
    run: (v) => {
      const r = new TextEncoder().encodeInto(TEXT.toUpperCase(), v);
      if (r.written !== v.length) throw new Error(`wrote ${r.written} bytes`);
    },
    expect: () => new TextEncoder().encode(TEXT.toUpperCase()),
  },
  {
    api: "crypto.getRandomValues",
    write: true,
    run: (v) => crypto.getRandomValues(v),
    // 64 random bytes are all zero with probability 2^-512.
    expect: (got) => (got.some((x) => x !== 0) ? got : null),
  },
  {
    api: "Blob",
    run: async (v) => new Uint8Array(await new Blob([v]).arrayBuffer()),
  },
  {
    api: "Response body",
    run: async (v) => new Uint8Array(await new Response(v).arrayBuffer()),
  },
  {
    api: "fetch body",
    available: (env) => typeof env.echoUrl === "string",
    run: async (v, env) => new Uint8Array(await (await fetch(env.echoUrl, { method: "POST", body: v })).arrayBuffer()),
  },
  {
    api: "postMessage (copy)",
    run: (v) =>
      new Promise((resolve, reject) => {
        const { port1, port2 } = new MessageChannel();
        port2.onmessage = (e) => {
          port1.close();
          port2.close();
          // The clone of a view carries its whole ArrayBuffer: report its size.
          resolve(Object.assign(u8(e.data), { clonedBytes: e.data.buffer.byteLength }));
        };
        port2.onmessageerror = () => reject(new Error("messageerror"));
        try {
          port1.postMessage(v);
        } catch (e) {
          port1.close();
          port2.close();
          reject(e);
        }
      }),
  },
  {
    api: "ImageData",
    available: () => typeof ImageData === "function",
    clamped: true,
    // ImageData keeps the array it is given (no copy): read the pixels back through it.
    run: (v) => u8(new ImageData(v, 4, 4).data).slice(),
  },
  {
    api: "CanvasRenderingContext2D.putImageData",
    available: () => typeof OffscreenCanvas === "function" || typeof document !== "undefined",
    clamped: true,
    run: (v) => {
      const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(4, 4) : Object.assign(document.createElement("canvas"), { width: 4, height: 4 });
      const ctx = canvas.getContext("2d");
      ctx.putImageData(new ImageData(v, 4, 4), 0, 0);
      return new Uint8Array(ctx.getImageData(0, 0, 4, 4).data.buffer);
    },
    // Canvas stores premultiplied alpha: compare opaque pixels only (the page makes alpha 255).
  },
  {
    api: "WebSocket.send",
    available: (env) => typeof WebSocket === "function" && typeof env.wsUrl === "string",
    run: (v, env) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(env.wsUrl);
        ws.binaryType = "arraybuffer";
        ws.onopen = () => {
          try {
            ws.send(v);
          } catch (e) {
            ws.close();
            reject(e);
          }
        };
        ws.onmessage = (e) => {
          ws.close();
          resolve(new Uint8Array(e.data));
        };
        ws.onerror = () => reject(new Error("WebSocket error"));
      }),
  },
  {
    api: "CompressionStream",
    available: () => typeof CompressionStream === "function",
    run: (v) => roundTripStream(v),
  },
  {
    api: "GPUQueue.writeBuffer",
    available: (env) => env.gpu !== null && env.gpu !== undefined,
    run: async (v, env) => {
      const device = env.gpu;
      const dst = device.createBuffer({ size: v.byteLength, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      const read = device.createBuffer({ size: v.byteLength, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      device.queue.writeBuffer(dst, 0, v);
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(dst, 0, read, 0, v.byteLength);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const out = new Uint8Array(read.getMappedRange().slice(0));
      read.unmap();
      dst.destroy();
      read.destroy();
      return out;
    },
  },
];

/** The ways of handing over the bytes. */
export const HOWS = ["view()", "fixedView()", "copyTo()"];

function errorText(e) {
  return `${e?.name ?? "Error"}: ${e?.message ?? e}`;
}

/**
 * Runs every case on `runtime` (a js-glue Runtime) with `glue` (the module).
 * `env`: { echoUrl, wsUrl, gpu (a GPUDevice or null), gpuReason }.
 * Resolves to [{ api, how, path, status: "ok" | "rejected" | "wrong bytes" |
 * "unavailable", error, copied, clonedBytes }].
 */
export async function runCases(glue, runtime, env = {}) {
  const results = [];
  const want = new TextEncoder().encode(TEXT);
  if (want.length !== 64) throw new Error(`TEXT must be 64 bytes, is ${want.length}`);
  for (const c of CASES) {
    for (const how of HOWS) {
      const row = { api: c.api, how: c.write && how === "fixedView()" ? "withFixedView()" : how, path: runtime.viewPath };
      results.push(row);
      if (c.available && !c.available(env)) {
        row.status = "unavailable";
        row.error = c.api === "GPUQueue.writeBuffer" ? env.gpuReason ?? "no WebGPU" : "not in this engine";
        continue;
      }
      if (c.write && how === "copyTo()") {
        row.status = "n/a";
        row.error = "writes into the view: a copy would not reach the list";
        continue;
      }
      const List = c.clamped ? glue.Uint8ClampedList : glue.Uint8List;
      const list = List.create(runtime, 64);
      try {
        list.copyFrom(want);
        if (c.clamped) for (let i = 3; i < 64; i += 4) list.set(i, 255); // opaque pixels
        const expected = c.write ? null : list.copyTo();
        let got;
        let copied = false;
        if (c.write) {
          if (how === "view()") {
            await c.run(list.view(), env);
          } else {
            list.withFixedView((v) => {
              copied = v !== list.view();
              c.run(v, env);
            });
          }
          got = list.copyTo();
        } else {
          const v = how === "view()" ? list.view() : how === "fixedView()" ? list.fixedView() : list.copyTo();
          copied = how === "copyTo()" || v !== list.view();
          got = await c.run(v, env);
        }
        row.copied = copied;
        if (got?.clonedBytes !== undefined) row.clonedBytes = got.clonedBytes;
        const good = c.write ? c.expect(new Uint8Array(got)) : expected;
        row.status = good !== null && sameBytes(u8(got), u8(good)) ? "ok" : "wrong bytes";
        if (row.status !== "ok") row.error = `got ${Array.from(u8(got).slice(0, 8))}...`;
      } catch (e) {
        row.status = "rejected";
        row.error = errorText(e);
      } finally {
        list.dispose();
      }
    }
  }
  return results;
}
