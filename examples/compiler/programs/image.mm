// Image-ish: a 16x16 grayscale gradient in a Uint8List, one row brightened
// by the external library (in its own memory), another row reversed there,
// checksums before and after.
var w = 16;
var h = 16;
var img = Uint8List(w * h);
for (var y = 0; y < h; y++) {
  for (var x = 0; x < w; x++) {
    img[y * w + x] = x * 16 + y;
  }
}
print(lib.adler32(img));
var row = Uint8List.sublistView(img, 3 * w, 4 * w);
print(lib.brighten(row, 100));
var last = Uint8List.sublistView(img, (h - 1) * w);
print(lib.reverse(last));
print(last[0]);
print(img[3 * w + 15]);
print(lib.adler32(img));
var total = 0;
for (var y = 0; y < h; y++) {
  total += sum(Uint8List.sublistView(img, y * w, y * w + w));
}
print(total == sum(img));
print(total);
