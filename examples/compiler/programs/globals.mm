// Globals: a memo table of lists kept across calls in a global List, a
// global "current" list that functions replace, and a global view of it.
// When main returns, what the globals still reach stays live (the driver
// checks it is exactly that), until the host drops the globals.
var cache = <Float64List>[];
var current = Float64List(4);
var tail = Float64List.sublistView(current, 1);

Float64List table(int n) {
  for (var i = 0; i < cache.length; i++) {
    if (cache[i].length == n) {
      return cache[i];
    }
  }
  var t = Float64List(n);
  for (var i = 0; i < n; i++) {
    t[i] = i * i * 0.5;
  }
  cache.add(t);
  return t;
}

void replace(int n) {
  current = table(n);
  tail = Float64List.sublistView(current, n ~/ 2);
}

var acc = 0.0;
for (var r = 0; r < 100; r++) {
  replace(r % 5 + 3);
  acc += sum(tail);
}
print(acc);
print(cache.length);
print(current.length);
print(sum(current));
print(tail.length);
