;; The baseline for engines without multi-memory (jsc): one memory, the same
;; loops, and memory.copy within that memory (what the engine's native
;; memory.copy costs), for bench/single-memory/bench.js.
(module
  (memory (export "memory") 1 65536)
  (func (export "sum_i32") (param $a i32) (param $n i32) (result i32)
    (local $end i32) (local $acc i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $acc (i32.add (local.get $acc) (i32.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $next)))
    (local.get $acc))
  (func (export "scale_f64") (param $a i32) (param $n i32) (param $k f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (f64.store (local.get $a) (f64.mul (f64.load (local.get $a)) (local.get $k)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next))))
  (func (export "copy") (param $dst i32) (param $src i32) (param $len i32) (param $reps i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $reps)))
        (memory.copy (local.get $dst) (local.get $src) (local.get $len))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (br $next))))
)
