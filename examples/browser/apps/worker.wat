;; The worker example's app, instantiated once on the main thread and once in
;; the worker. Its external memory `env.memory` is a *shared*
;; WebAssembly.Memory that the page creates and posts to the worker, so both
;; instances see the same external bytes; each instance has its own runtime
;; memory (the runtime's heap and refcounts are per thread).
(module
  (import "env" "memory" (memory $ext 1 256 shared))
  (import "multimem" "list_set_i64" (func $list_set_i64 (param i32 i32 i32 i32 i32 i64)))
  (import "multimem" "external_copy_in" (func $external_copy_in (param i32 i32 i32 i32)))

  ;; The fill pattern's state, a GC struct as a compiler would box it.
  (type $lcg (struct (field $x (mut i32))))

  ;; Next value of the generator: x = x * 1664525 + 1013904223 (mod 2^32).
  (func $next (param $g (ref $lcg)) (result i32)
    (struct.set $lcg $x (local.get $g)
      (i32.add (i32.mul (struct.get $lcg $x (local.get $g)) (i32.const 1664525))
               (i32.const 1013904223)))
    (struct.get $lcg $x (local.get $g)))

  ;; fill_list(buffer, length, seed): Int32List(buffer, 0, length)[i] = i-th
  ;; generator value, through the runtime's checked element store.
  (func (export "fill_list") (param $b i32) (param $len i32) (param $seed i32)
    (local $i i32) (local $g (ref $lcg))
    (local.set $g (struct.new $lcg (local.get $seed)))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (call $list_set_i64 (i32.const 6) (local.get $b) (i32.const 0) (local.get $len) (local.get $i)
        (i64.extend_i32_s (call $next (local.get $g))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop))))

  ;; fill_shared(address, length, seed): the same values as i32 stores straight
  ;; into the shared external memory (no runtime buffer, no copy), then
  ;; publishes `length` at `address - 4` with an atomic store and wakes waiters.
  (func (export "fill_shared") (param $at i32) (param $len i32) (param $seed i32)
    (local $i i32) (local $g (ref $lcg))
    (local.set $g (struct.new $lcg (local.get $seed)))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (i32.store $ext (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))
        (call $next (local.get $g)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop)))
    (i32.atomic.store $ext (i32.sub (local.get $at) (i32.const 4)) (local.get $len))
    (drop (memory.atomic.notify $ext (i32.sub (local.get $at) (i32.const 4)) (i32.const 1))))

  ;; sum_shared(address, length) -> wrapping i32 sum of the shared values, as
  ;; this thread sees them.
  (func (export "sum_shared") (param $at i32) (param $len i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $acc (i32.add (local.get $acc)
        (i32.load $ext (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop)))
    (local.get $acc))

  ;; copy_in(buffer, address, lengthInBytes): shared external bytes into a
  ;; buffer of this thread's runtime (one memory.copy).
  (func (export "copy_in") (param $b i32) (param $at i32) (param $len i32)
    (call $external_copy_in (local.get $b) (i32.const 0) (local.get $at) (local.get $len)))
)
