// Shared by the WebGPU page, its tests and the benchmark page: the device,
// the shader, the inputs and the naive paths the helpers are compared with.

/** out[i] = a[i] * b[i] over the whole buffers, 256 invocations per workgroup. */
export const SHADER = `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i < arrayLength(&out)) { out[i] = a[i] * b[i]; }
}`;

/**
 * A GPUDevice whose buffers may be `bytes` large. Throws an Error saying
 * what is missing when the browser has no WebGPU or no adapter: the page
 * shows it and the tests fail on it.
 */
export async function requestDevice(bytes) {
  if (!("gpu" in navigator)) {
    throw new Error("no WebGPU: navigator.gpu is undefined in this browser (Chromium needs --enable-unsafe-webgpu on Linux, and a secure context)");
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw new Error("no WebGPU adapter: navigator.gpu.requestAdapter() returned null (headless Chromium: --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader --enable-features=Vulkan)");
  }
  const need = Math.max(bytes, 1 << 20);
  for (const limit of ["maxBufferSize", "maxStorageBufferBindingSize"]) {
    if (adapter.limits[limit] < need) throw new Error(`WebGPU adapter: ${limit} is ${adapter.limits[limit]}, ${need} needed`);
  }
  return adapter.requestDevice({ requiredLimits: { maxBufferSize: need, maxStorageBufferBindingSize: need } });
}

/** Seed-style inputs: an LCG per list, values k/64 - 512 for k in 0..65535 (exact in f32; their products round, the same way on both sides when both round correctly, as WGSL requires for f32 `*`). */
export function fill(list, seed) {
  const v = list.view();
  let x = seed >>> 0;
  for (let i = 0; i < v.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    v[i] = (x >>> 16) / 64 - 512;
  }
}

/** Today's readback: mapAsync, getMappedRange().slice() (copy 1), unmap, set() (copy 2). */
export async function naiveReadback(gpuBuffer, list, counter) {
  await gpuBuffer.mapAsync(GPUMapMode.READ, 0, list.lengthInBytes);
  const copy = gpuBuffer.getMappedRange(0, list.lengthInBytes).slice(0);
  counter?.add(copy.byteLength);
  gpuBuffer.unmap();
  const v = list.view();
  new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(new Uint8Array(copy));
  counter?.add(copy.byteLength);
}

/** Today's upload from a list: list.copyTo() (one copy, for APIs that reject resizable buffers), then writeBuffer. */
export function naiveUpload(queue, gpuBuffer, list, counter) {
  const copy = list.copyTo();
  counter?.add(copy.byteLength);
  queue.writeBuffer(gpuBuffer, 0, copy.buffer, 0, copy.byteLength);
}
