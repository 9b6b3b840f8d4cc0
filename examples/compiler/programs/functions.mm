// Functions with typed-data parameters and results, and recursion.
// `fill` and `checksum` only borrow their list; `merge` and `mergeSort`
// return new lists whose only reference the caller receives (a fresh
// result: the caller releases it when its variable's scope ends, or owns
// it with a token if it keeps it). `pick` returns one of its parameters,
// so what it is given escapes and is owned by tokens.
void fill(Int32List a, int seed) {
  for (var i = 0; i < a.length; i++) {
    a[i] = (seed * 7919 + i * 104729) % 1000;
  }
}

int checksum(Int32List a) {
  var h = 0;
  for (var i = 0; i < a.length; i++) {
    h = (h * 31 + a[i]) % 1000000007;
  }
  return h;
}

Int32List merge(Int32List a, Int32List b) {
  var out = Int32List(a.length + b.length);
  var i = 0;
  var j = 0;
  for (var k = 0; k < out.length; k++) {
    if (j >= b.length || (i < a.length && a[i] <= b[j])) {
      out[k] = a[i];
      i++;
    } else {
      out[k] = b[j];
      j++;
    }
  }
  return out;
}

Int32List mergeSort(Int32List a) {
  if (a.length <= 1) {
    var copy = Int32List(a.length);
    for (var i = 0; i < a.length; i++) {
      copy[i] = a[i];
    }
    return copy;
  }
  var mid = a.length ~/ 2;
  var left = mergeSort(Int32List.sublistView(a, 0, mid));
  var right = mergeSort(Int32List.sublistView(a, mid));
  return merge(left, right);
}

Uint8List pick(Uint8List a, Uint8List b, bool first) {
  if (first) {
    return a;
  }
  return b;
}

int fib(int n) {
  if (n < 2) {
    return n;
  }
  return fib(n - 1) + fib(n - 2);
}

var data = Int32List(1000);
fill(data, 42);
var sorted = mergeSort(data);
print(checksum(sorted));
var ordered = true;
for (var i = 1; i < sorted.length; i++) {
  if (sorted[i - 1] > sorted[i]) {
    ordered = false;
  }
}
print(ordered);
print(sum(data) == sum(sorted));
print(sorted[0]);
print(sorted[999]);
var x = Uint8List(4);
var y = Uint8List(8);
print(pick(x, y, false).length);
print(pick(x, y, true).length);
print(fib(20));
