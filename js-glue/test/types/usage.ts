// Type-checked (never run) by `tsc -p js-glue/tsconfig.json`: typical use of
// the package, so the hand-written index.d.ts is exercised against real calls.
import {
  ByteData, Endian, Float32List, Float32x4List, Float64List, Int32List, Int64List, Int8List, KIND, MultimemError,
  Runtime, Uint8List, Uint64List, instantiate, supportsMultiMemory, type Build, type Stats,
} from "@multimem/js-glue";
import { ABI_VERSION } from "@multimem/js-glue/abi";

/** Both builds of a link: the engine's pick, fetched from URLs (only the chosen one is fetched). */
export async function both(base: URL, lib: WebAssembly.Instance): Promise<Build> {
  const { runtime, exports, build } = await instantiate(
    { multiMemory: new URL("app.wasm", base), singleMemory: new URL("app.single.wasm", base) },
    { env: { memory: lib } },
    { build: "auto", viewPath: "refresh" },
  );
  const same: Build = runtime.build;
  void exports.memory;
  // @ts-expect-error: not a build
  await instantiate({ multiMemory: base }, {}, { build: "fast" });
  return same === build ? build : same;
}

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
  // Lists are iterable; `buffer` is a ByteBuffer; errors carry the code's name and meaning.
  const all: number[] = [...list];
  const lanesAll: Float32Array[] = Array.from(simd);
  const bigs: bigint[] = [...big];
  const same: boolean = list.buffer === list.buffer;
  const e = new Error() as unknown;
  if (e instanceof MultimemError) console.log(e.codeName, e.meaning);
  // setRange within a number class, copyTo into any TypedArray of the same class.
  using f32 = Float32List.create(rt, 4);
  using i8 = Int8List.create(rt, 4);
  using i32 = Int32List.create(rt, 4);
  list.setRange(0, 4, f32);
  i32.setRange(0, 4, i8);
  big.setRange(0, 2, i8);
  i32.setRange(0, 2, [1, 2]);
  i32.setRange(0, 2, new Float64Array(2));
  const into: Float64Array = i32.copyTo(new Float64Array(4));
  const intoU8: Uint8Array = f32.copyTo(new Uint8Array(4));
  const intoBig: BigUint64Array = big.copyTo(new BigUint64Array(4));
  simd.setRange(0, 1, simd);
  const fixed: Float64Array = list.fixedView();
  const fixedBytes: Uint8Array = buf.fixedView();
  // wrapExports: functions take wrappers where they take addresses.
  const app = rt.wrapExports(instance.exports as { sum(kind: number, buffer: number, off: number, len: number): bigint; memory: WebAssembly.Memory });
  const s2: bigint = app.sum(KIND.Uint8List, back, 0, 4);
  const mem: WebAssembly.Memory = app.memory;
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
  // @ts-expect-error setRange from an int list into a float list throws at runtime (Dart's rule)
  list.setRange(0, 4, i8);
  // @ts-expect-error ... and from a float list into an int list
  i32.setRange(0, 4, f32);
  // @ts-expect-error a SIMD list is not a scalar source
  i32.setRange(0, 1, Int32List.create(rt, 1) && simd);
  // @ts-expect-error SIMD lists copy only from the same kind
  simd.setRange(0, 1, f32);
  // @ts-expect-error ByteData is not a list
  i32.setRange(0, 1, bd);
  // @ts-expect-error a 64-bit list copies into bigint arrays only
  big.copyTo(new Float64Array(4));
  // @ts-expect-error ... and a number list into number arrays only
  i32.copyTo(new BigInt64Array(4));
  // @ts-expect-error a DataView is not a copyTo target
  i32.copyTo(new DataView(new ArrayBuffer(16)));
  // @ts-expect-error wrapExports keeps parameter types (a string is no address)
  app.sum(KIND.Uint8List, "x", 0, 4);
  const u64: Uint64List = Uint64List.create(rt, 1);
  u64.dispose();
  void wrong;
  void notNumber;
  void [all, lanesAll, bigs, same, into, intoU8, intoBig, fixed, fixedBytes, s2, mem];
  return x + copy.length + lanes[0] + u + n + stats.liveBuffers + Number(b) + Number(s) + v;
}
