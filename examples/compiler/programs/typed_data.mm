// Typed data tour: lists, views, sums, ByteData and a call into the
// external library. Expected output is checked by tests/tests/compiler_programs.rs.
var bytes = Uint8List(64);
for (var i = 0; i < bytes.length; i++) {
  bytes[i] = i * 7 + 3;          // truncated to 8 bits on store
}
var mid = Uint8List.sublistView(bytes, 8, 40);   // shares bytes and their token
print(sum(mid));
print(mid.offsetInBytes);

var ints = Int32List(16);
for (var i = 0; i < 16; i++) {
  ints[i] = i * i - 50;
}
print(sum(ints));
var asBytes = Uint8List.sublistView(ints, 2, 4);  // bytes of ints[2..4]
print(asBytes.length);
print(asBytes[0] + asBytes[4]);

var f = Float64List(10);
for (var i = 0; i < 10; i++) {
  f[i] = i / 4;
}
print(sum(f));

var bd = ByteData(16);
bd.setUint32(0, 0xDEADBEEF);                 // big-endian by default
print(bd.getUint8(0));
print(bd.getUint32(0, Endian.little));
bd.setFloat64(8, 2.5, Endian.little);
print(bd.getFloat64(8, Endian.little));

var alias = bytes;                           // a copy of a GC reference
alias[0] = 255;
print(bytes[0]);
print(lib.adler32(bytes));
print(lib.brighten(mid, 200));               // in place, in the library's memory
print(sum(mid));
print(bytes.buffer.lengthInBytes);
