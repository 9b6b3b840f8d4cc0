// Benchmark (multimem-ownership-bench): allocation-heavy code, compiled
// with both backends. Every list is made, each element written and read,
// then dropped; `n` lists of `len` bytes per call.
// - temporaries: a list that never leaves its loop body (scope-based
//   release: no token);
// - factory: lists made by a function and returned to the caller, which
//   only borrows them (a fresh result: no token either);
// - ring: lists stored in a List of 64 slots until replaced (they escape:
//   each is owned by a multimem:gc.own token).
Uint8List make(int i, int len) {
  var l = Uint8List(len);
  for (var j = 0; j < len; j++) {
    l[j] = i + j;
  }
  return l;
}

int total(Uint8List l) {
  var s = 0;
  for (var j = 0; j < l.length; j++) {
    s += l[j];
  }
  return s;
}

export int temporaries(int n, int len) {
  var check = 0;
  for (var i = 0; i < n; i++) {
    var l = Uint8List(len);
    for (var j = 0; j < len; j++) {
      l[j] = i + j;
    }
    for (var j = 0; j < len; j++) {
      check += l[j];
    }
  }
  return check;
}

export int factory(int n, int len) {
  var check = 0;
  for (var i = 0; i < n; i++) {
    check += total(make(i, len));
  }
  return check;
}

export int ring(int n, int len) {
  var slots = <Uint8List>[];
  for (var k = 0; k < 64; k++) {
    slots.add(Uint8List(len));
  }
  var check = 0;
  for (var i = 0; i < n; i++) {
    check += total(slots[i % 64]);
    slots[i % 64] = make(i, len);
  }
  return check;
}

print(temporaries(1000, 16) + factory(1000, 16) + ring(1000, 16));
