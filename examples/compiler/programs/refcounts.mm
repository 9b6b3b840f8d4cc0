// References copied and dropped in loops: every iteration makes a view
// (inline retain), aliases it (inline retain) and drops both at the end of
// the body (buffer_release). Live buffers must be back to 0 at exit.
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
  scratch = Uint8List(i + 1);      // reassignment releases the old buffer
  scratch[i] = i;
}
print(sum(scratch));
print(scratch.length);
