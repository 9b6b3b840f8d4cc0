// Benchmark: element reads through a variable that holds one of two lists,
// chosen per outer iteration, so the optimiser cannot know the list's
// fields and every access goes through the object (the realistic case for
// code that receives lists from elsewhere). Each outer iteration copies a
// reference (a GC pointer; both lists are owned by tokens).
var n = 4096;
var a = Int32List(n);
var b = Int32List(n);
for (var i = 0; i < n; i++) {
  a[i] = i * 3 - 7;
  b[i] = 5 - i;
}
var total = 0;
for (var r = 0; r < 2000; r++) {
  var v = a;
  if (r % 2 == 1) {
    v = b;
  }
  for (var i = 0; i < v.length; i++) {
    total += v[i];
  }
}
print(total);
