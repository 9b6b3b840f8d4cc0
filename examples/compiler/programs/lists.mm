// Lists of lists: the rows of an image in a List<Uint8List> built by a
// function, views of one buffer stored in a list (they share its token:
// the buffer lives while any view does), and a List<List<Int32List>>.
List<Uint8List> rows(int h, int w) {
  var out = <Uint8List>[];
  for (var y = 0; y < h; y++) {
    var row = Uint8List(w);
    for (var x = 0; x < w; x++) {
      row[x] = x * y;
    }
    out.add(row);
  }
  return out;
}

var img = rows(8, 16);
print(img.length);
var total = 0;
for (var y = 0; y < img.length; y++) {
  total += sum(img[y]);
}
print(total);

var block = Uint8List(64);
for (var i = 0; i < 64; i++) {
  block[i] = i;
}
var quarters = <Uint8List>[];
for (var q = 0; q < 4; q++) {
  quarters.add(Uint8List.sublistView(block, q * 16, q * 16 + 16));
}
print(sum(quarters[3]));
block = Uint8List(1);                 // the 64 bytes live on through the views
print(sum(quarters[0]) + sum(quarters[1]));
print(quarters[2].offsetInBytes);
print(quarters[2].buffer.lengthInBytes);

var last = img.removeLast();
print(img.length);
print(last[15]);

var grid = <List<Int32List>>[];
for (var i = 0; i < 3; i++) {
  var line = <Int32List>[];
  for (var j = 0; j < 3; j++) {
    var t = Int32List(4);
    t[0] = i * 3 + j;
    line.add(t);
  }
  grid.add(line);
}
print(grid[2][1][0]);
grid[0] = grid[2];
print(grid[0][0][0] + grid[1][2][0]);
grid.clear();
print(grid.length);
