;; The single-memory benchmark's app (bench/single-memory/run.sh links it with
;; runtime.wasm twice: multi-memory, and --single-memory). Memory $ext is
;; env.memory (lowered in the single-memory build), $own the runtime's (native
;; in both builds).
(module
  (import "env" "memory" (memory $ext 1))
  (import "multimem" "memory" (memory $own 0))
  (import "multimem" "buffer_new" (func $buffer_new (param i32) (result i32)))

  ;; sum_i32(address, n): the elements of a runtime Int32List, summed by a
  ;; plain loop of loads on the runtime's memory (as compiled code reads lists).
  (func (export "sum_i32") (param $a i32) (param $n i32) (result i32)
    (local $end i32) (local $acc i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $acc (i32.add (local.get $acc) (i32.load $own (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $next)))
    (local.get $acc))

  ;; scale_f64(address, n, k): x[i] *= k over a runtime Float64List.
  (func (export "scale_f64") (param $a i32) (param $n i32) (param $k f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (f64.store $own (local.get $a) (f64.mul (f64.load $own (local.get $a)) (local.get $k)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next)))
  )

  ;; copy_in(dst, src, len, reps): `reps` times memory.copy from env.memory
  ;; at src to the runtime's memory at dst (a cross-memory copy).
  (func (export "copy_in") (param $dst i32) (param $src i32) (param $len i32) (param $reps i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $reps)))
        (memory.copy $own $ext (local.get $dst) (local.get $src) (local.get $len))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (br $next))))

  ;; copy_out(dst, src, len, reps): the other way, runtime memory to env.memory.
  (func (export "copy_out") (param $dst i32) (param $src i32) (param $len i32) (param $reps i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $reps)))
        (memory.copy $ext $own (local.get $dst) (local.get $src) (local.get $len))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (br $next))))

  ;; alloc(n): a runtime buffer of n bytes (its address).
  (func (export "alloc") (param $n i32) (result i32) (call $buffer_new (local.get $n)))
)
