;; Variant (a), GC arrays: a `Uint8List` kept as a WasmGC `(array (mut i8))`,
;; as dart2wasm keeps it today. WasmGC arrays cannot be the source or target
;; of `memory.copy`, so bytes reach the codec's linear memory the two ways
;; such a compiler has:
;;
;;   - in wasm (`process`): an element loop, `array.get_u` + `i32.store8`
;;     into the codec's memory (imported as `codec.memory`), and
;;     `i32.load8_u` + `array.set` back. This needs the app to import the
;;     library's memory, which dart2wasm cannot do today; it is the best case.
;;   - through JS (the `a-js` driver in pipeline.js, using `bytes_*` below):
;;     each byte crosses the wasm/JS boundary into a JS `Uint8Array`
;;     (dart2wasm's `toJS` / `toDart` on a GC-array `Uint8List`), and
;;     wasm-bindgen's glue copies that into the codec's memory.
;;
;; Not linked with anything: the app is its own instance, next to the codec's
;; (imports `codec.*` from it). Hand-written in the shape of the compiler's
;; `--backend gc-array` output, for the reasons given in multimem.wat.
;;
;; process(input, delta, quality) -> output (null on a codec error; status() says which)
;; Phases: JPEG to the codec (element loop), decode, RGBA into a new GC array
;; (element loop), brighten (array.get_u / array.set), RGBA to the codec
;; (element loop), encode, JPEG into a new GC array (element loop).
(module
  (import "codec" "memory" (memory $ext 0))
  (import "codec" "codec_alloc" (func $codec_alloc (param i32) (result i32)))
  (import "codec" "codec_free" (func $codec_free (param i32 i32) (result i32)))
  (import "codec" "codec_decode" (func $codec_decode (param i32 i32) (result i32)))
  (import "codec" "codec_encode" (func $codec_encode (param i32 i32 i32 i32) (result i32)))
  (import "codec" "codec_output_ptr" (func $out_ptr (result i32)))
  (import "codec" "codec_output_len" (func $out_len (result i32)))
  (import "codec" "codec_output_width" (func $out_width (result i32)))
  (import "codec" "codec_output_height" (func $out_height (result i32)))
  (import "codec" "codec_output_free" (func $out_free))

  (type $bytes (array (mut i8)))

  (global $status (mut i32) (i32.const 0))
  (global $to_codec (mut i64) (i64.const 0))
  (global $from_codec (mut i64) (i64.const 0))

  ;; A codec block holding the array's bytes: one array.get_u + i32.store8 per byte.
  (func $send (param $a (ref $bytes)) (result i32)
    (local $p i32) (local $n i32) (local $i i32)
    (local.set $n (array.len (local.get $a)))
    (local.set $p (call $codec_alloc (local.get $n)))
    (if (i32.eqz (local.get $p)) (then (unreachable)))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 $ext (i32.add (local.get $p) (local.get $i)) (array.get_u $bytes (local.get $a) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (global.set $to_codec (i64.add (global.get $to_codec) (i64.extend_i32_u (local.get $n))))
    (local.get $p))

  ;; The codec's output slot as a new GC array: one i32.load8_u + array.set per byte; frees the slot.
  (func $receive (result (ref $bytes))
    (local $a (ref $bytes)) (local $p i32) (local $n i32) (local $i i32)
    (local.set $n (call $out_len))
    (local.set $p (call $out_ptr))
    (local.set $a (array.new_default $bytes (local.get $n)))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (array.set $bytes (local.get $a) (local.get $i) (i32.load8_u $ext (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (global.set $from_codec (i64.add (global.get $from_codec) (i64.extend_i32_u (local.get $n))))
    (call $out_free)
    (local.get $a))

  ;; Dart: for (var i = 0; i < px.length; i += 4) { px[i] = min(255, px[i] + delta); ... i + 1, i + 2 }
  (func $brighten (export "brighten") (param $a (ref $bytes)) (param $delta i32)
    (local $n i32) (local $i i32) (local $j i32) (local $end i32) (local $v i32)
    (local.set $n (array.len (local.get $a)))
    (block $done
      (loop $px
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (local.get $i))
        (local.set $end (i32.add (local.get $i) (i32.const 3)))
        (loop $channel
          (local.set $v (i32.add (array.get_u $bytes (local.get $a) (local.get $j)) (local.get $delta)))
          (array.set $bytes (local.get $a) (local.get $j)
            (select (i32.const 255) (local.get $v) (i32.gt_u (local.get $v) (i32.const 255))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $channel (i32.lt_u (local.get $j) (local.get $end))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $px))))

  (func (export "process") (param $input (ref $bytes)) (param $delta i32) (param $quality i32)
    (result (ref null $bytes))
    (local $p i32) (local $n i32) (local $st i32) (local $w i32) (local $h i32) (local $px (ref $bytes))
    ;; 1. the JPEG file to the codec, decode.
    (local.set $n (array.len (local.get $input)))
    (local.set $p (call $send (local.get $input)))
    (local.set $st (call $codec_decode (local.get $p) (local.get $n)))
    (drop (call $codec_free (local.get $p) (local.get $n)))
    (global.set $status (local.get $st))
    (if (local.get $st) (then (return (ref.null $bytes))))
    ;; 2. the RGBA pixels into a GC array.
    (local.set $w (call $out_width))
    (local.set $h (call $out_height))
    (local.set $px (call $receive))
    ;; 3. brighten in the app.
    (call $brighten (local.get $px) (local.get $delta))
    ;; 4. the pixels to the codec, encode.
    (local.set $n (array.len (local.get $px)))
    (local.set $p (call $send (local.get $px)))
    (local.set $st (call $codec_encode (local.get $p) (local.get $w) (local.get $h) (local.get $quality)))
    (drop (call $codec_free (local.get $p) (local.get $n)))
    (global.set $status (local.get $st))
    (if (local.get $st) (then (return (ref.null $bytes))))
    ;; 5. the JPEG into a new GC array.
    (call $receive))

  ;; Per-element access for JS: what dart2wasm's `toJS` / `toDart` on a
  ;; GC-array Uint8List amount to (one boundary crossing per byte).
  (func (export "bytes_new") (param $n i32) (result (ref $bytes)) (array.new_default $bytes (local.get $n)))
  (func (export "bytes_length") (param $a (ref $bytes)) (result i32) (array.len (local.get $a)))
  (func (export "bytes_get") (param $a (ref $bytes)) (param $i i32) (result i32)
    (array.get_u $bytes (local.get $a) (local.get $i)))
  (func (export "bytes_set") (param $a (ref $bytes)) (param $i i32) (param $v i32)
    (array.set $bytes (local.get $a) (local.get $i) (local.get $v)))

  ;; For the benchmark's copy-only measurement: the array's bytes to a codec
  ;; block and back into a new array, by the same element loops as process();
  ;; the block is freed. Not counted in copied_to_codec / copied_from_codec.
  (func (export "copy_round_trip") (param $a (ref $bytes)) (result (ref $bytes))
    (local $p i32) (local $n i32) (local $i i32) (local $b (ref $bytes))
    (local.set $n (array.len (local.get $a)))
    (local.set $p (call $send (local.get $a)))
    (local.set $b (array.new_default $bytes (local.get $n)))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (array.set $bytes (local.get $b) (local.get $i) (i32.load8_u $ext (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (drop (call $codec_free (local.get $p) (local.get $n)))
    (global.set $to_codec (i64.sub (global.get $to_codec) (i64.extend_i32_u (local.get $n))))
    (local.get $b))

  ;; Codec status of the last process() (0: ok; codec's status codes otherwise).
  (func (export "status") (result i32) (global.get $status))
  ;; Bytes copied so far by process(): GC array -> codec, codec -> GC array.
  (func (export "copied_to_codec") (result i64) (global.get $to_codec))
  (func (export "copied_from_codec") (result i64) (global.get $from_codec))
)
