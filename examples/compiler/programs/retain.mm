// The smallest reference copy: `b = a` is the inline retain (one load, one
// add, one store at buffer - 4); the end of scope releases both references.
var a = Uint8List(16);
var b = a;
print(b.length);
