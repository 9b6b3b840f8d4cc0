;; Variant (b), multimem: what a WasmGC compiler emits when a `Uint8List` lives
;; in the multimem runtime's memory. Hand-written, in the shape of
;; examples/compiler's generated code (a GC struct holds the buffer address
;; and the length; element access is a bounds check and a load/store on the
;; runtime memory), because that compiler has no functions, no results of
;; unknown size and no calls into a library other than its own `lib.*` ABI.
;;
;; Linked into ONE module with the runtime and the codec
;; (examples/image-pipeline/build.sh):
;;   multimem-link codec=codec_bg.wasm app=multimem.wasm multimem=runtime.wasm
;;                 --external-memory codec.memory --export ...
;; so `codec.memory` is the codec's own memory (the `external` role) and
;; `multimem.memory` is the runtime's (`own`). Bytes cross between them with
;; ONE memory.copy each way: the intrinsics `memory_copy_external_own`
;; (runtime -> codec) and `memory_copy_own_external` (codec -> runtime),
;; which the linker lowers to `memory.copy`.
;;
;; process(input, delta, quality) -> output
;;   input:  a runtime buffer holding a JPEG file (the caller keeps its reference)
;;   output: a new runtime buffer holding the re-encoded JPEG (the caller owns
;;           its reference), or 0 on a codec error (status() says which)
;; Phases: JPEG to the codec (1 copy), decode, RGBA back into a runtime
;; buffer (1 copy), brighten in place (element loop on the runtime memory),
;; RGBA to the codec (1 copy), encode, JPEG back into a runtime buffer (1 copy).
(module
  (import "codec" "memory" (memory $ext 0))
  (import "multimem" "memory" (memory $own 0))
  (import "multimem" "buffer_new" (func $buffer_new (param i32) (result i32)))
  (import "multimem" "buffer_release" (func $buffer_release (param i32) (result i32)))
  (import "multimem:intrinsics" "memory_copy_external_own" (func $copy_to_codec (param i32 i32 i32)))
  (import "multimem:intrinsics" "memory_copy_own_external" (func $copy_from_codec (param i32 i32 i32)))
  (import "codec" "codec_alloc" (func $codec_alloc (param i32) (result i32)))
  (import "codec" "codec_free" (func $codec_free (param i32 i32) (result i32)))
  (import "codec" "codec_decode" (func $codec_decode (param i32 i32) (result i32)))
  (import "codec" "codec_encode" (func $codec_encode (param i32 i32 i32 i32) (result i32)))
  (import "codec" "codec_output_ptr" (func $out_ptr (result i32)))
  (import "codec" "codec_output_len" (func $out_len (result i32)))
  (import "codec" "codec_output_width" (func $out_width (result i32)))
  (import "codec" "codec_output_height" (func $out_height (result i32)))
  (import "codec" "codec_output_free" (func $out_free))

  ;; A Uint8List as the compiler represents it: buffer address and length
  ;; (offsetInBytes is 0 here), plus the image size it holds.
  (type $image (struct (field $buffer i32) (field $length i32) (field $width i32) (field $height i32)))

  (global $status (mut i32) (i32.const 0))
  (global $to_codec (mut i64) (i64.const 0))
  (global $from_codec (mut i64) (i64.const 0))

  ;; lengthInBytes of a buffer: the header word at buffer - 8 (docs/ABI.md).
  (func $length (param $b i32) (result i32)
    (i32.load $own offset=0 (i32.sub (local.get $b) (i32.const 8))))

  ;; A codec block holding bytes [buf, buf + len) of a runtime buffer: one memory.copy.
  (func $send (param $buf i32) (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (call $codec_alloc (local.get $len)))
    (if (i32.eqz (local.get $p)) (then (unreachable)))
    (call $copy_to_codec (local.get $p) (local.get $buf) (local.get $len))
    (global.set $to_codec (i64.add (global.get $to_codec) (i64.extend_i32_u (local.get $len))))
    (local.get $p))

  ;; The codec's output slot as a new runtime buffer: one memory.copy; frees the slot.
  (func $receive (result i32)
    (local $len i32) (local $b i32)
    (local.set $len (call $out_len))
    (local.set $b (call $buffer_new (local.get $len)))
    (call $copy_from_codec (local.get $b) (call $out_ptr) (local.get $len))
    (global.set $from_codec (i64.add (global.get $from_codec) (i64.extend_i32_u (local.get $len))))
    (call $out_free)
    (local.get $b))

  ;; Dart: for (var i = 0; i < px.length; i += 4) { px[i] = min(255, px[i] + delta); ... i + 1, i + 2 }
  ;; Each element access is the compiler's: `i <u length` else trap, then a
  ;; load/store at buffer + i on the runtime memory.
  (func $brighten (param $img (ref $image)) (param $delta i32)
    (local $b i32) (local $n i32) (local $i i32) (local $j i32) (local $end i32) (local $v i32)
    (local.set $b (struct.get $image $buffer (local.get $img)))
    (local.set $n (struct.get $image $length (local.get $img)))
    (block $done
      (loop $px
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (local.get $i))
        (local.set $end (i32.add (local.get $i) (i32.const 3)))
        (loop $channel
          (if (i32.ge_u (local.get $j) (local.get $n)) (then (unreachable)))
          (local.set $v (i32.add (i32.load8_u $own (i32.add (local.get $b) (local.get $j))) (local.get $delta)))
          (i32.store8 $own (i32.add (local.get $b) (local.get $j))
            (select (i32.const 255) (local.get $v) (i32.gt_u (local.get $v) (i32.const 255))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $channel (i32.lt_u (local.get $j) (local.get $end))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $px))))

  (func (export "process") (param $input i32) (param $delta i32) (param $quality i32) (result i32)
    (local $n i32) (local $p i32) (local $st i32) (local $img (ref $image)) (local $len i32)
    (local $w i32) (local $h i32)
    ;; 1. the JPEG file to the codec, decode.
    (local.set $n (call $length (local.get $input)))
    (local.set $p (call $send (local.get $input) (local.get $n)))
    (local.set $st (call $codec_decode (local.get $p) (local.get $n)))
    (drop (call $codec_free (local.get $p) (local.get $n)))
    (global.set $status (local.get $st))
    (if (local.get $st) (then (return (i32.const 0))))
    ;; 2. the RGBA pixels into a runtime buffer (a Uint8List of the app).
    (local.set $len (call $out_len))
    (local.set $w (call $out_width))
    (local.set $h (call $out_height))
    (local.set $img (struct.new $image (call $receive) (local.get $len) (local.get $w) (local.get $h)))
    ;; 3. brighten in the app.
    (call $brighten (local.get $img) (local.get $delta))
    ;; 4. the pixels to the codec, encode; drop the app's pixel buffer.
    (local.set $p (call $send (struct.get $image $buffer (local.get $img)) (local.get $len)))
    (drop (call $buffer_release (struct.get $image $buffer (local.get $img))))
    (local.set $st (call $codec_encode (local.get $p)
      (local.get $w) (local.get $h) (local.get $quality)))
    (drop (call $codec_free (local.get $p) (local.get $len)))
    (global.set $status (local.get $st))
    (if (local.get $st) (then (return (i32.const 0))))
    ;; 5. the JPEG into a new runtime buffer, owned by the caller.
    (call $receive))

  ;; For the benchmark's copy-only measurement: the buffer's bytes to a codec
  ;; block and back into a new runtime buffer (the caller owns it), one
  ;; memory.copy each way as in process(); the block is freed. Not counted in
  ;; copied_to_codec / copied_from_codec.
  (func (export "copy_round_trip") (param $buf i32) (result i32)
    (local $p i32) (local $n i32) (local $b i32)
    (local.set $n (call $length (local.get $buf)))
    (local.set $p (call $send (local.get $buf) (local.get $n)))
    (local.set $b (call $buffer_new (local.get $n)))
    (call $copy_from_codec (local.get $b) (local.get $p) (local.get $n))
    (drop (call $codec_free (local.get $p) (local.get $n)))
    (global.set $to_codec (i64.sub (global.get $to_codec) (i64.extend_i32_u (local.get $n))))
    (local.get $b))

  ;; Codec status of the last process() (0: ok; codec's status codes otherwise).
  (func (export "status") (result i32) (global.get $status))
  ;; Bytes copied so far by the app: runtime -> codec, codec -> runtime.
  (func (export "copied_to_codec") (result i64) (global.get $to_codec))
  (func (export "copied_from_codec") (result i64) (global.get $from_codec))
)
