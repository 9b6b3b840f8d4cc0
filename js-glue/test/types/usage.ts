// Type-checked (never run) by `tsc -p js-glue/tsconfig.json`: typical use of
// the package, so the hand-written index.d.ts is exercised against real calls.
import {
  ByteData, Endian, Float32x4List, Float64List, Int64List, KIND, Runtime, Uint8List,
  instantiate, supportsMultiMemory, type Stats,
} from "@multimem/js-glue";
import { ABI_VERSION } from "@multimem/js-glue/abi";

export async function demo(bytes: Uint8Array, lib: WebAssembly.Instance, response: Response): Promise<number> {
  if (!supportsMultiMemory()) throw new Error("no multi-memory");
  const { instance, runtime } = await instantiate(bytes, { env: { memory: lib } });
  const rt: Runtime = runtime;
  const v: 1 = ABI_VERSION;
  using list = Float64List.create(rt, 16);
  list.set(0, 1.5);
  const x: number = list.get(0);
  const view: Float64Array = list.view();
  view[1] = x * 2;
  const copy: Float64Array = list.copyTo();
  list.copyFrom(new Float64Array([1, 2, 3]), 2);
  using big = Int64List.create(rt, 4);
  big.set(0, 5n);
  big.set(1, 7);
  const b: bigint = big.get(0);
  using simd = Float32x4List.create(rt, 2);
  simd.set(0, [1, 2, 3, 4]);
  const lanes: Float32Array = simd.get(0);
  using buf = rt.allocate(64);
  using bd = ByteData.view(buf, 3, 8);
  bd.setUint32(0, 0xdeadbeef, Endian.little);
  const u: number = bd.getUint32(0, Endian.big);
  using bytes2 = buf.asUint8List(16);
  const sub: Uint8List = Uint8List.sublistView(bytes2, 2, 10);
  sub.dispose();
  const out: ArrayBuffer = buf.copyOut();
  using back = rt.copyIn(out);
  const got = await rt.readInto(response);
  const n: number = got.lengthInBytes;
  got.dispose();
  const fn = instance.exports.sum as (kind: number, buffer: number, off: number, len: number) => bigint;
  const s: bigint = rt.call(fn, KIND.Uint8List, back, 0, back.lengthInBytes);
  const stats: Stats = rt.stats();
  // The declarations must reject these (tsc fails on an unused @ts-expect-error).
  // @ts-expect-error a Float64List view is a Float64Array
  const wrong: Int32Array = list.view();
  // @ts-expect-error Int64List elements are bigint
  const notNumber: number = big.get(0);
  // @ts-expect-error SIMD elements are lane arrays
  simd.set(0, 1.5);
  // @ts-expect-error the constructor is private: use create/view/allocate
  new Uint8List();
  // @ts-expect-error endian is "big" | "little"
  bd.getUint16(0, "middle");
  void wrong;
  void notNumber;
  return x + copy.length + lanes[0] + u + n + stats.liveBuffers + Number(b) + Number(s) + v;
}
