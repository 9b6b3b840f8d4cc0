// Type-checks js-glue/src/webgpu.d.ts against how the example uses it
// (tsc -p examples/webgpu/test/types; scripts/test-data-paths.sh runs it).
import { Float32List, type Runtime } from "../../../../js-glue/src/index.js";
import {
  CopyCounter,
  MapTargetDisposedError,
  mapAsyncFrom,
  mapAsyncInto,
  writeBufferFrom,
  type GPUBufferLike,
  type GPUQueueLike,
} from "../../../../js-glue/src/webgpu.js";

export async function roundTrip(runtime: Runtime, queue: GPUQueueLike, storage: unknown, read: GPUBufferLike, write: GPUBufferLike) {
  const counter = new CopyCounter();
  using list = Float32List.create(runtime, 1024);
  const uploaded: number = writeBufferFrom(queue, storage, 0, list, { counter });
  const read1: number = await mapAsyncInto(read, list, 0, 4096, { counter });
  const read2: number = await mapAsyncInto(read, list.buffer);
  const written: number = await mapAsyncFrom(write, list, 0, undefined, { counter });
  try {
    await mapAsyncInto(read, list);
  } catch (e) {
    if (e instanceof MapTargetDisposedError) {
      const code: "MULTIMEM_DISPOSED_WHILE_MAPPING" = e.code;
      return code.length;
    }
  }
  counter.reset();
  return uploaded + read1 + read2 + written + counter.bytes + counter.copies;
}
