;; The image example's app: what a WasmGC compiler would emit for a small
;; image pipeline. It imports
;;   - the multimem runtime as `multimem.*` (bound by `multimem-link` at build time),
;;   - the external library's memory as `env.memory` (imagelib's own memory,
;;     given at instantiation), and imagelib's functions as `imagelib.*`
;;     (left as imports by the linker, given at instantiation too).
;; The image lives in a GC struct that holds the file buffer's address, as a
;; compiler keeps a ByteBuffer field. Pixel data stays in runtime memory; the
;; app reaches imagelib's memory only through the runtime's cross-memory
;; copies, and counts the bytes each copy moves.
(module
  (import "env" "memory" (memory $ext 1))
  (import "multimem" "buffer_new" (func $buffer_new (param i32) (result i32)))
  (import "multimem" "buffer_retain" (func $buffer_retain (param i32)))
  (import "multimem" "buffer_release" (func $buffer_release (param i32) (result i32)))
  (import "multimem" "list_set_range"
    (func $list_set_range (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "multimem" "list_mul" (func $list_mul (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "multimem" "list_add" (func $list_add (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "multimem" "external_copy_out" (func $external_copy_out (param i32 i32 i32 i32)))
  (import "multimem" "external_copy_in" (func $external_copy_in (param i32 i32 i32 i32)))
  (import "imagelib" "alloc" (func $lib_alloc (param i32) (result i32)))
  (import "imagelib" "reset" (func $lib_reset))
  (import "imagelib" "blur_rgb_to_rgba" (func $lib_blur (param i32 i32 i32 i32) (result i32)))

  ;; Kind codes from docs/ABI.md ("Typed-data kinds").
  ;;   2 Uint8List, 3 Uint8ClampedList, 6 Int32List

  ;; An RGB image: buffer address, where the pixels start in it, size.
  (type $image (struct
    (field $buffer i32) (field $offset i32) (field $width i32) (field $height i32)))
  (global $current (mut (ref null $image)) (ref.null $image))
  (global $copied_out (mut i32) (i32.const 0))
  (global $copied_in (mut i32) (i32.const 0))

  ;; load(buffer, offsetInBytes, width, height): keep the image (retains the buffer).
  (func (export "load") (param $b i32) (param $off i32) (param $w i32) (param $h i32)
    (call $unload)
    (call $buffer_retain (local.get $b))
    (global.set $current (struct.new $image (local.get $b) (local.get $off) (local.get $w) (local.get $h))))

  ;; unload(): drop the image's reference.
  (func $unload (export "unload")
    (if (ref.is_null (global.get $current)) (then (return)))
    (drop (call $buffer_release (struct.get $image $buffer (global.get $current))))
    (global.set $current (ref.null $image)))

  (func $samples (result i32)
    (i32.mul (i32.const 3)
      (i32.mul (struct.get $image $width (global.get $current))
               (struct.get $image $height (global.get $current)))))

  ;; adjust(gain, bias) -> rgb: for every sample p of the image,
  ;; clamp(p * gain[i] + bias[i]) with gain and bias Int32 buffers of one
  ;; element per sample. Widen (Uint8 -> Int32, list_set_range), multiply and
  ;; add (list_mul / list_add: the runtime's simd128 kernels), narrow with
  ;; clamping (Int32 -> Uint8Clamped, list_set_range). All in runtime memory,
  ;; no copies out. Returns a new buffer; the caller owns its reference.
  (func (export "adjust") (param $gain i32) (param $bias i32) (result i32)
    (local $n i32) (local $wide i32) (local $rgb i32) (local $img (ref $image))
    (local.set $img (ref.as_non_null (global.get $current)))
    (local.set $n (call $samples))
    (local.set $wide (call $buffer_new (i32.shl (local.get $n) (i32.const 2))))
    (call $list_set_range
      (i32.const 6) (local.get $wide) (i32.const 0) (local.get $n)
      (i32.const 0) (local.get $n)
      (i32.const 2) (struct.get $image $buffer (local.get $img))
      (struct.get $image $offset (local.get $img)) (local.get $n)
      (i32.const 0))
    (call $list_mul (i32.const 6) (local.get $wide) (i32.const 0)
      (local.get $wide) (i32.const 0) (local.get $gain) (i32.const 0) (local.get $n))
    (call $list_add (i32.const 6) (local.get $wide) (i32.const 0)
      (local.get $wide) (i32.const 0) (local.get $bias) (i32.const 0) (local.get $n))
    (local.set $rgb (call $buffer_new (local.get $n)))
    (call $list_set_range
      (i32.const 3) (local.get $rgb) (i32.const 0) (local.get $n)
      (i32.const 0) (local.get $n)
      (i32.const 6) (local.get $wide) (i32.const 0) (local.get $n)
      (i32.const 0))
    (drop (call $buffer_release (local.get $wide)))
    (local.get $rgb))

  ;; blur(rgb) -> rgba: hands the RGB samples to imagelib's blur_rgb_to_rgba.
  ;; Copies rgb out into imagelib's memory (external_copy_out), runs the
  ;; library, copies its RGBA result back into a new runtime buffer
  ;; (external_copy_in). Returns that buffer; the caller owns its reference.
  ;; Traps (unreachable) if the library cannot allocate or rejects the image.
  (func (export "blur") (param $rgb i32) (result i32)
    (local $n3 i32) (local $n4 i32) (local $src i32) (local $dst i32) (local $rgba i32)
    (local $img (ref $image))
    (local.set $img (ref.as_non_null (global.get $current)))
    (local.set $n3 (call $samples))
    (local.set $n4 (i32.add (local.get $n3) (i32.div_u (local.get $n3) (i32.const 3))))
    (call $lib_reset)
    (local.set $src (call $lib_alloc (local.get $n3)))
    (local.set $dst (call $lib_alloc (local.get $n4)))
    (if (i32.or (i32.eqz (local.get $src)) (i32.eqz (local.get $dst))) (then (unreachable)))
    (call $external_copy_out (local.get $src) (local.get $rgb) (i32.const 0) (local.get $n3))
    (global.set $copied_out (i32.add (global.get $copied_out) (local.get $n3)))
    (if (call $lib_blur (local.get $src) (local.get $dst)
          (struct.get $image $width (local.get $img)) (struct.get $image $height (local.get $img)))
      (then (unreachable)))
    (local.set $rgba (call $buffer_new (local.get $n4)))
    (call $external_copy_in (local.get $rgba) (i32.const 0) (local.get $dst) (local.get $n4))
    (global.set $copied_in (i32.add (global.get $copied_in) (local.get $n4)))
    (local.get $rgba))

  ;; Bytes moved so far by external_copy_out / external_copy_in.
  (func (export "copied_out") (result i32) (global.get $copied_out))
  (func (export "copied_in") (result i32) (global.get $copied_in))
)
