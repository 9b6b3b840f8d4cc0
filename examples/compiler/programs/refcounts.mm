// References copied and dropped in loops: every iteration makes a view of
// `data` and aliases it; both hold data's token (a copy of a GC pointer,
// no refcount change). `scratch` is reassigned 50 times: each old buffer
// becomes garbage, released once wasmtime's GC collects its token.
var data = Float64List(100);
for (var i = 0; i < 100; i++) {
  data[i] = i * 0.5;
}
var acc = 0.0;
for (var i = 0; i < 90; i++) {
  var window = Float64List.sublistView(data, i, i + 10);
  var same = window;
  acc += sum(same);
}
print(acc);
var scratch = Uint8List(8);
for (var i = 0; i < 50; i++) {
  scratch = Uint8List(i + 1);      // the old buffer becomes garbage
  scratch[i] = i;
}
print(sum(scratch));
print(scratch.length);
