// A million lists allocated and dropped. `make` returns a new list; `keep`
// stores it in a global ring of 64 slots, so every list escapes and is
// owned by a multimem:gc.own token, and the list it replaces becomes
// garbage. A forced GC every 100,000 lists; between them only wasmtime's
// own collections (and the release batches `own` applies) free buffers.
// The runtime memory stays a few pages; 64 lists are reachable at the end.
var ring = <Uint8List>[];

Uint8List make(int i) {
  var l = Uint8List(16 + i % 48);
  l[0] = i;
  l[l.length - 1] = i >> 8;
  return l;
}

int keep(Uint8List l, int i) {
  var old = ring[i % 64];
  ring[i % 64] = l;
  return old[0] + old[old.length - 1];
}

for (var i = 0; i < 64; i++) {
  ring.add(make(i));
}
var check = 0;
for (var i = 64; i < 1000000; i++) {
  check = (check + keep(make(i), i)) % 1000000007;
  if (i % 100000 == 0) {
    gc();
  }
}
print(check);
print(ring.length);
print(ring[5][0]);
