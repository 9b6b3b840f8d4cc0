;; The inspector example's app: a WasmGC module that makes buffers for JS and
;; keeps some of its own in a GC array, as compiled code would. Imports the
;; runtime as `multimem.*` and the external memory as `env.memory` (a plain
;; WebAssembly.Memory the page creates and grows).
(module
  (import "env" "memory" (memory $ext 1))
  (import "multimem" "buffer_new" (func $buffer_new (param i32) (result i32)))
  (import "multimem" "buffer_release" (func $buffer_release (param i32) (result i32)))
  (import "multimem" "bytes_fill" (func $bytes_fill (param i32 i32 i32 i32)))
  (import "multimem" "external_copy_out" (func $external_copy_out (param i32 i32 i32 i32)))

  ;; Buffers the app itself holds: a GC array of addresses.
  (type $addresses (array (mut i32)))
  (global $held (mut (ref null $addresses)) (ref.null $addresses))

  ;; make(length, byte) -> buffer: a new buffer filled with `byte`; the caller
  ;; (JS, through runtime.adopt) owns its reference.
  (func $make (export "make") (param $len i32) (param $byte i32) (result i32)
    (local $b i32)
    (local.set $b (call $buffer_new (local.get $len)))
    (call $bytes_fill (local.get $b) (i32.const 0) (local.get $len) (local.get $byte))
    (local.get $b))

  ;; hold(count, length): the app keeps `count` buffers of `length` bytes
  ;; (replacing any it held before).
  (func (export "hold") (param $count i32) (param $len i32)
    (local $i i32) (local $a (ref $addresses))
    (call $unhold)
    (local.set $a (array.new_default $addresses (local.get $count)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (array.set $addresses (local.get $a) (local.get $i)
        (call $make (local.get $len) (i32.add (local.get $i) (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (global.set $held (local.get $a)))

  ;; unhold(): releases every buffer the app holds.
  (func $unhold (export "unhold")
    (local $i i32) (local $a (ref null $addresses))
    (local.set $a (global.get $held))
    (if (ref.is_null (local.get $a)) (then (return)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (array.len (local.get $a))))
      (drop (call $buffer_release (array.get $addresses (local.get $a) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (global.set $held (ref.null $addresses)))

  ;; held() -> number of buffers the app holds.
  (func (export "held") (result i32)
    (if (result i32) (ref.is_null (global.get $held))
      (then (i32.const 0))
      (else (array.len (global.get $held)))))

  ;; copy_out(externalAddress, buffer, lengthInBytes): into the external memory.
  (func (export "copy_out") (param $at i32) (param $b i32) (param $len i32)
    (call $external_copy_out (local.get $at) (local.get $b) (i32.const 0) (local.get $len)))
)
