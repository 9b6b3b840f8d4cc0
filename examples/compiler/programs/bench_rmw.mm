// Benchmark: read-modify-write of Float64List elements in a hot loop.
var n = 2048;
var a = Float64List(n);
for (var i = 0; i < n; i++) {
  a[i] = i;
}
for (var r = 0; r < 2000; r++) {
  for (var i = 0; i < n; i++) {
    a[i] = a[i] * 0.5 + 1.0;
  }
}
print(sum(a));
