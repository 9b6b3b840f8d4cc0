// Element access in a hot loop (the benchmark program): fill an Int32List,
// then read every element many times. Runs on both backends.
var n = 4096;
var a = Int32List(n);
for (var i = 0; i < n; i++) {
  a[i] = i * 3 - 7;
}
var total = 0;
for (var r = 0; r < 2000; r++) {
  for (var i = 0; i < n; i++) {
    total += a[i];
  }
}
print(total);
