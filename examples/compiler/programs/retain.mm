// The inline retain of docs/ABI.md (one load, one add, one store at
// buffer - 4) remains where a buffer gets a second owner: a list the host
// hands to `keep` is borrowed for the call, so the program, which keeps
// it, takes a reference of its own and owns it with a token. Inside the
// program a copy of a reference is a copy of a GC pointer: `b = a`
// changes no refcount.
var kept = <Uint8List>[];

export void keep(Uint8List list) {
  kept.add(list);
}

var a = Uint8List(16);
var b = a;
print(b.length);
