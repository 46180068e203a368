;; GF(2^8) region kernels over one shared WebAssembly memory (polynomial 0x11D).
;;
;; This file is the hand-maintained source. `make wasm` (scripts/build_wasm.ts) assembles it
;; twice: as written, with i8x16.relaxed_swizzle, and with every i8x16.relaxed_swizzle replaced
;; by i8x16.swizzle for engines without relaxed SIMD. Both are exact here because every
;; swizzle index is a nibble (< 16), the only range where relaxed_swizzle is fully defined.
;;
;; Multiplication uses split 4-bit tables (the PSHUFB technique of ISA-L and GF-Complete): for a
;; coefficient c, 32 bytes "tables" hold c*x for x = 0..15 then c*(x << 4) for x = 0..15, and
;; c*b = lo[b & 15] ^ hi[b >> 4]. A byte shift does not exist in SIMD, so the high nibble is
;; taken with a 16-bit shift and the 0x0f mask (two cheap instructions; i8x16.shr_u would expand
;; into more on x64).
;;
;; Every function takes byte offsets into the memory and a length; any length and any alignment
;; works (xor, mul, mul_add: 128-byte main loops, then 16-byte vectors, then single bytes;
;; dot_product: 64-byte columns, then 16, then 1). dst may equal src; partially overlapping
;; regions are not supported. Offsets plus lengths must not wrap 2^32: the host keeps the memory
;; below 4 GiB - 64 KiB. The loaders live in ../region_wasm.ts.
;;
;; Speeds on the reference machine (Zen 4, one core, relaxed build, `make bench`): mul_add
;; ~23 GB/s (0.50x ISA-L at 1 MiB), xor ~34 GB/s, dot_product RS(11+5) ~6.8 GB/s of input
;; (0.61x ISA-L at 64 KiB). Both are at the 128-bit ALU limit: mul_add is 7 vector operations per
;; 16 bytes, 2 of them swizzles; tried and slower: i8x16.shr_u for the high nibble (-17%), loads
;; grouped ahead of the arithmetic (-13%), accumulators in memory for dot_product (-35%).
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; xor(dst, src, len): dst ^= src.
  (func (export "xor") (param $dst i32) (param $src i32) (param $len i32)
    (local $end i32)
    ;; 128 bytes per iteration.
    (local.set $end (i32.add (local.get $dst) (i32.and (local.get $len) (i32.const -128))))
    (block $done128
      (loop $next128
        (br_if $done128 (i32.eq (local.get $dst) (local.get $end)))
        (v128.store offset=0 (local.get $dst)
          (v128.xor (v128.load offset=0 (local.get $dst)) (v128.load offset=0 (local.get $src))))
        (v128.store offset=16 (local.get $dst)
          (v128.xor (v128.load offset=16 (local.get $dst)) (v128.load offset=16 (local.get $src))))
        (v128.store offset=32 (local.get $dst)
          (v128.xor (v128.load offset=32 (local.get $dst)) (v128.load offset=32 (local.get $src))))
        (v128.store offset=48 (local.get $dst)
          (v128.xor (v128.load offset=48 (local.get $dst)) (v128.load offset=48 (local.get $src))))
        (v128.store offset=64 (local.get $dst)
          (v128.xor (v128.load offset=64 (local.get $dst)) (v128.load offset=64 (local.get $src))))
        (v128.store offset=80 (local.get $dst)
          (v128.xor (v128.load offset=80 (local.get $dst)) (v128.load offset=80 (local.get $src))))
        (v128.store offset=96 (local.get $dst)
          (v128.xor (v128.load offset=96 (local.get $dst)) (v128.load offset=96 (local.get $src))))
        (v128.store offset=112 (local.get $dst)
          (v128.xor (v128.load offset=112 (local.get $dst)) (v128.load offset=112 (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $src (i32.add (local.get $src) (i32.const 128)))
        (br $next128)))
    ;; Then 16 bytes at a time.
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 112))))
    (block $done16
      (loop $next16
        (br_if $done16 (i32.eq (local.get $dst) (local.get $end)))
        (v128.store offset=0 (local.get $dst)
          (v128.xor (v128.load offset=0 (local.get $dst)) (v128.load offset=0 (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $next16)))
    ;; Then the last 0..15 bytes one by one.
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 15))))
    (block $done1
      (loop $next1
        (br_if $done1 (i32.eq (local.get $dst) (local.get $end)))
        (i32.store8 (local.get $dst)
          (i32.xor (i32.load8_u (local.get $dst)) (i32.load8_u (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (br $next1))))

  ;; mul(dst, tables, src, len): dst = c * src, where tables holds the nibble tables of c.
  (func (export "mul") (param $dst i32) (param $tables i32) (param $src i32) (param $len i32)
    (local $end i32) (local $b i32) (local $x v128) (local $lo v128) (local $hi v128) (local $mask v128)
    (local.set $lo (v128.load (local.get $tables)))
    (local.set $hi (v128.load offset=16 (local.get $tables)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    ;; 128 bytes per iteration.
    (local.set $end (i32.add (local.get $dst) (i32.and (local.get $len) (i32.const -128))))
    (block $done128
      (loop $next128
        (br_if $done128 (i32.eq (local.get $dst) (local.get $end)))
        (local.set $x (v128.load offset=0 (local.get $src)))
        (v128.store offset=0 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $x (v128.load offset=16 (local.get $src)))
        (v128.store offset=16 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $x (v128.load offset=32 (local.get $src)))
        (v128.store offset=32 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $x (v128.load offset=48 (local.get $src)))
        (v128.store offset=48 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $x (v128.load offset=64 (local.get $src)))
        (v128.store offset=64 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $x (v128.load offset=80 (local.get $src)))
        (v128.store offset=80 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $x (v128.load offset=96 (local.get $src)))
        (v128.store offset=96 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $x (v128.load offset=112 (local.get $src)))
        (v128.store offset=112 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $src (i32.add (local.get $src) (i32.const 128)))
        (br $next128)))
    ;; Then 16 bytes at a time.
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 112))))
    (block $done16
      (loop $next16
        (br_if $done16 (i32.eq (local.get $dst) (local.get $end)))
        (local.set $x (v128.load offset=0 (local.get $src)))
        (v128.store offset=0 (local.get $dst)
          (v128.xor
            (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
            (i8x16.relaxed_swizzle (local.get $hi)
              (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $next16)))
    ;; Then the last 0..15 bytes one by one.
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 15))))
    (block $done1
      (loop $next1
        (br_if $done1 (i32.eq (local.get $dst) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $src)))
        (i32.store8 (local.get $dst)
        (i32.xor
          (i32.load8_u (i32.add (local.get $tables) (i32.and (local.get $b) (i32.const 15))))
          (i32.load8_u offset=16 (i32.add (local.get $tables) (i32.shr_u (local.get $b) (i32.const 4))))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (br $next1))))

  ;; mul_add(dst, tables, src, len): dst ^= c * src, where tables holds the nibble tables of c.
  (func (export "mul_add") (param $dst i32) (param $tables i32) (param $src i32) (param $len i32)
    (local $end i32) (local $b i32) (local $x v128) (local $lo v128) (local $hi v128) (local $mask v128)
    (local.set $lo (v128.load (local.get $tables)))
    (local.set $hi (v128.load offset=16 (local.get $tables)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    ;; 128 bytes per iteration.
    (local.set $end (i32.add (local.get $dst) (i32.and (local.get $len) (i32.const -128))))
    (block $done128
      (loop $next128
        (br_if $done128 (i32.eq (local.get $dst) (local.get $end)))
        (local.set $x (v128.load offset=0 (local.get $src)))
        (v128.store offset=0 (local.get $dst)
          (v128.xor (v128.load offset=0 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $x (v128.load offset=16 (local.get $src)))
        (v128.store offset=16 (local.get $dst)
          (v128.xor (v128.load offset=16 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $x (v128.load offset=32 (local.get $src)))
        (v128.store offset=32 (local.get $dst)
          (v128.xor (v128.load offset=32 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $x (v128.load offset=48 (local.get $src)))
        (v128.store offset=48 (local.get $dst)
          (v128.xor (v128.load offset=48 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $x (v128.load offset=64 (local.get $src)))
        (v128.store offset=64 (local.get $dst)
          (v128.xor (v128.load offset=64 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $x (v128.load offset=80 (local.get $src)))
        (v128.store offset=80 (local.get $dst)
          (v128.xor (v128.load offset=80 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $x (v128.load offset=96 (local.get $src)))
        (v128.store offset=96 (local.get $dst)
          (v128.xor (v128.load offset=96 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $x (v128.load offset=112 (local.get $src)))
        (v128.store offset=112 (local.get $dst)
          (v128.xor (v128.load offset=112 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $src (i32.add (local.get $src) (i32.const 128)))
        (br $next128)))
    ;; Then 16 bytes at a time.
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 112))))
    (block $done16
      (loop $next16
        (br_if $done16 (i32.eq (local.get $dst) (local.get $end)))
        (local.set $x (v128.load offset=0 (local.get $src)))
        (v128.store offset=0 (local.get $dst)
          (v128.xor (v128.load offset=0 (local.get $dst))
            (v128.xor
              (i8x16.relaxed_swizzle (local.get $lo) (v128.and (local.get $x) (local.get $mask)))
              (i8x16.relaxed_swizzle (local.get $hi)
                (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $next16)))
    ;; Then the last 0..15 bytes one by one.
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 15))))
    (block $done1
      (loop $next1
        (br_if $done1 (i32.eq (local.get $dst) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $src)))
        (i32.store8 (local.get $dst)
        (i32.xor (i32.load8_u (local.get $dst))
          (i32.xor
          (i32.load8_u (i32.add (local.get $tables) (i32.and (local.get $b) (i32.const 15))))
          (i32.load8_u offset=16 (i32.add (local.get $tables) (i32.shr_u (local.get $b) (i32.const 4)))))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (br $next1))))

  ;; gather_tables(dst, coeffs, count, cache): lays out the tables of a dot_product call. For
  ;; each of the count coefficient bytes at coeffs, copies its 32 bytes of nibble tables from
  ;; cache + 32 * c (the tables of all 256 coefficients) to the next 32 bytes at dst.
  (func (export "gather_tables") (param $dst i32) (param $coeffs i32) (param $count i32) (param $cache i32)
    (local $end i32) (local $t i32)
    (local.set $end (i32.add (local.get $coeffs) (local.get $count)))
    (block $done
      (loop $next
        (br_if $done (i32.eq (local.get $coeffs) (local.get $end)))
        (local.set $t (i32.add (local.get $cache) (i32.shl (i32.load8_u (local.get $coeffs)) (i32.const 5))))
        (v128.store (local.get $dst) (v128.load (local.get $t)))
        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $t)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $coeffs (i32.add (local.get $coeffs) (i32.const 1)))
        (br $next))))

  ;; dot_product(outs, nouts, ins, nins, tables, len, accumulate): for every output i,
  ;; out_i = sum over j of c_ij * in_j, or out_i ^= that sum when accumulate is nonzero.
  ;;
  ;; outs and ins are offsets of arrays of i32 region offsets (nouts >= 1 and nins >= 1 of them).
  ;; The nibble tables of c_ij are at tables + (j * nouts + i) * 32: input-major, so the tables
  ;; one input needs for a run of outputs are adjacent and addressed with constant offsets.
  ;; Outputs must not overlap inputs.
  ;;
  ;; The work goes in 64-byte columns: every input of a column is loaded once and multiplied
  ;; into the accumulators of a group of outputs, which are locals, so the engine keeps them in
  ;; registers (or spills a few; measured: still far faster than accumulators in memory). Groups
  ;; have 8 outputs at most and are balanced (9 = 5 + 4); bigger groups read the inputs
  ;; fewer times (RS(11+5), m = 5: one group of 5 ran 6.9 GB/s, 3 + 2 groups 5.6 GB/s).
  ;; $dot_product_1 .. $dot_product_8 are one loop unrolled for 1..8 outputs: change
  ;; them together. The last len % 64 bytes go to $dot_product_tail.
  (func (export "dot_product") (param $outs i32) (param $nouts i32) (param $ins i32) (param $nins i32)
    (param $tables i32) (param $len i32) (param $accumulate i32)
    (local $tstride i32) (local $groups i32) (local $n i32) (local $end i32)
    (local.set $tstride (i32.shl (local.get $nouts) (i32.const 5)))
    (local.set $end (i32.and (local.get $len) (i32.const -64)))
    (call $dot_product_tail (local.get $outs) (local.get $nouts) (local.get $ins) (local.get $nins)
      (local.get $tables) (local.get $end) (local.get $len) (local.get $accumulate))
    (if (i32.eqz (local.get $end)) (then (return)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $nouts)))
        (local.set $groups (i32.div_u (i32.add (local.get $nouts) (i32.const 7)) (i32.const 8)))
        (local.set $n (i32.div_u (i32.add (local.get $nouts) (i32.sub (local.get $groups) (i32.const 1)))
          (local.get $groups)))
        (block $called
          (if (i32.eq (local.get $n) (i32.const 1)) (then
            (call $dot_product_1 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (if (i32.eq (local.get $n) (i32.const 2)) (then
            (call $dot_product_2 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (if (i32.eq (local.get $n) (i32.const 3)) (then
            (call $dot_product_3 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (if (i32.eq (local.get $n) (i32.const 4)) (then
            (call $dot_product_4 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (if (i32.eq (local.get $n) (i32.const 5)) (then
            (call $dot_product_5 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (if (i32.eq (local.get $n) (i32.const 6)) (then
            (call $dot_product_6 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (if (i32.eq (local.get $n) (i32.const 7)) (then
            (call $dot_product_7 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (if (i32.eq (local.get $n) (i32.const 8)) (then
            (call $dot_product_8 (local.get $outs) (local.get $ins) (local.get $nins) (local.get $tables)
              (local.get $tstride) (local.get $end) (local.get $accumulate))
            (br $called)))
          (unreachable))
        (local.set $outs (i32.add (local.get $outs) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $tables (i32.add (local.get $tables) (i32.shl (local.get $n) (i32.const 5))))
        (local.set $nouts (i32.sub (local.get $nouts) (local.get $n)))
        (br $next))))

  ;; A group of 1 output, 64-byte columns; len is a multiple of 64.
  (func $dot_product_1 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; A group of 2 outputs, 64-byte columns; len is a multiple of 64.
  (func $dot_product_2 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32) (local $o1 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local $a1_0 v128) (local $a1_1 v128) (local $a1_2 v128) (local $a1_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $o1 (i32.load offset=4 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o1) (local.get $col)))
          (local.set $a1_0 (v128.load offset=0 (local.get $at)))
          (local.set $a1_1 (v128.load offset=16 (local.get $at)))
          (local.set $a1_2 (v128.load offset=32 (local.get $at)))
          (local.set $a1_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
          (local.set $a1_0 (v128.const i64x2 0 0)) (local.set $a1_1 (v128.const i64x2 0 0)) (local.set $a1_2 (v128.const i64x2 0 0)) (local.set $a1_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=32 (local.get $t)))
        (local.set $th (v128.load offset=48 (local.get $t)))
        (local.set $a1_0 (v128.xor (local.get $a1_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a1_1 (v128.xor (local.get $a1_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a1_2 (v128.xor (local.get $a1_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a1_3 (v128.xor (local.get $a1_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $at (i32.add (local.get $o1) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a1_0))
      (v128.store offset=16 (local.get $at) (local.get $a1_1))
      (v128.store offset=32 (local.get $at) (local.get $a1_2))
      (v128.store offset=48 (local.get $at) (local.get $a1_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; A group of 3 outputs, 64-byte columns; len is a multiple of 64.
  (func $dot_product_3 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32) (local $o1 i32) (local $o2 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local $a1_0 v128) (local $a1_1 v128) (local $a1_2 v128) (local $a1_3 v128)
    (local $a2_0 v128) (local $a2_1 v128) (local $a2_2 v128) (local $a2_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $o1 (i32.load offset=4 (local.get $outs)))
    (local.set $o2 (i32.load offset=8 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o1) (local.get $col)))
          (local.set $a1_0 (v128.load offset=0 (local.get $at)))
          (local.set $a1_1 (v128.load offset=16 (local.get $at)))
          (local.set $a1_2 (v128.load offset=32 (local.get $at)))
          (local.set $a1_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o2) (local.get $col)))
          (local.set $a2_0 (v128.load offset=0 (local.get $at)))
          (local.set $a2_1 (v128.load offset=16 (local.get $at)))
          (local.set $a2_2 (v128.load offset=32 (local.get $at)))
          (local.set $a2_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
          (local.set $a1_0 (v128.const i64x2 0 0)) (local.set $a1_1 (v128.const i64x2 0 0)) (local.set $a1_2 (v128.const i64x2 0 0)) (local.set $a1_3 (v128.const i64x2 0 0))
          (local.set $a2_0 (v128.const i64x2 0 0)) (local.set $a2_1 (v128.const i64x2 0 0)) (local.set $a2_2 (v128.const i64x2 0 0)) (local.set $a2_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=32 (local.get $t)))
        (local.set $th (v128.load offset=48 (local.get $t)))
        (local.set $a1_0 (v128.xor (local.get $a1_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a1_1 (v128.xor (local.get $a1_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a1_2 (v128.xor (local.get $a1_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a1_3 (v128.xor (local.get $a1_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=64 (local.get $t)))
        (local.set $th (v128.load offset=80 (local.get $t)))
        (local.set $a2_0 (v128.xor (local.get $a2_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a2_1 (v128.xor (local.get $a2_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a2_2 (v128.xor (local.get $a2_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a2_3 (v128.xor (local.get $a2_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $at (i32.add (local.get $o1) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a1_0))
      (v128.store offset=16 (local.get $at) (local.get $a1_1))
      (v128.store offset=32 (local.get $at) (local.get $a1_2))
      (v128.store offset=48 (local.get $at) (local.get $a1_3))
      (local.set $at (i32.add (local.get $o2) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a2_0))
      (v128.store offset=16 (local.get $at) (local.get $a2_1))
      (v128.store offset=32 (local.get $at) (local.get $a2_2))
      (v128.store offset=48 (local.get $at) (local.get $a2_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; A group of 4 outputs, 64-byte columns; len is a multiple of 64.
  (func $dot_product_4 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local $a1_0 v128) (local $a1_1 v128) (local $a1_2 v128) (local $a1_3 v128)
    (local $a2_0 v128) (local $a2_1 v128) (local $a2_2 v128) (local $a2_3 v128)
    (local $a3_0 v128) (local $a3_1 v128) (local $a3_2 v128) (local $a3_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $o1 (i32.load offset=4 (local.get $outs)))
    (local.set $o2 (i32.load offset=8 (local.get $outs)))
    (local.set $o3 (i32.load offset=12 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o1) (local.get $col)))
          (local.set $a1_0 (v128.load offset=0 (local.get $at)))
          (local.set $a1_1 (v128.load offset=16 (local.get $at)))
          (local.set $a1_2 (v128.load offset=32 (local.get $at)))
          (local.set $a1_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o2) (local.get $col)))
          (local.set $a2_0 (v128.load offset=0 (local.get $at)))
          (local.set $a2_1 (v128.load offset=16 (local.get $at)))
          (local.set $a2_2 (v128.load offset=32 (local.get $at)))
          (local.set $a2_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o3) (local.get $col)))
          (local.set $a3_0 (v128.load offset=0 (local.get $at)))
          (local.set $a3_1 (v128.load offset=16 (local.get $at)))
          (local.set $a3_2 (v128.load offset=32 (local.get $at)))
          (local.set $a3_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
          (local.set $a1_0 (v128.const i64x2 0 0)) (local.set $a1_1 (v128.const i64x2 0 0)) (local.set $a1_2 (v128.const i64x2 0 0)) (local.set $a1_3 (v128.const i64x2 0 0))
          (local.set $a2_0 (v128.const i64x2 0 0)) (local.set $a2_1 (v128.const i64x2 0 0)) (local.set $a2_2 (v128.const i64x2 0 0)) (local.set $a2_3 (v128.const i64x2 0 0))
          (local.set $a3_0 (v128.const i64x2 0 0)) (local.set $a3_1 (v128.const i64x2 0 0)) (local.set $a3_2 (v128.const i64x2 0 0)) (local.set $a3_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=32 (local.get $t)))
        (local.set $th (v128.load offset=48 (local.get $t)))
        (local.set $a1_0 (v128.xor (local.get $a1_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a1_1 (v128.xor (local.get $a1_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a1_2 (v128.xor (local.get $a1_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a1_3 (v128.xor (local.get $a1_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=64 (local.get $t)))
        (local.set $th (v128.load offset=80 (local.get $t)))
        (local.set $a2_0 (v128.xor (local.get $a2_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a2_1 (v128.xor (local.get $a2_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a2_2 (v128.xor (local.get $a2_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a2_3 (v128.xor (local.get $a2_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=96 (local.get $t)))
        (local.set $th (v128.load offset=112 (local.get $t)))
        (local.set $a3_0 (v128.xor (local.get $a3_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a3_1 (v128.xor (local.get $a3_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a3_2 (v128.xor (local.get $a3_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a3_3 (v128.xor (local.get $a3_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $at (i32.add (local.get $o1) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a1_0))
      (v128.store offset=16 (local.get $at) (local.get $a1_1))
      (v128.store offset=32 (local.get $at) (local.get $a1_2))
      (v128.store offset=48 (local.get $at) (local.get $a1_3))
      (local.set $at (i32.add (local.get $o2) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a2_0))
      (v128.store offset=16 (local.get $at) (local.get $a2_1))
      (v128.store offset=32 (local.get $at) (local.get $a2_2))
      (v128.store offset=48 (local.get $at) (local.get $a2_3))
      (local.set $at (i32.add (local.get $o3) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a3_0))
      (v128.store offset=16 (local.get $at) (local.get $a3_1))
      (v128.store offset=32 (local.get $at) (local.get $a3_2))
      (v128.store offset=48 (local.get $at) (local.get $a3_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; A group of 5 outputs, 64-byte columns; len is a multiple of 64.
  (func $dot_product_5 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local $a1_0 v128) (local $a1_1 v128) (local $a1_2 v128) (local $a1_3 v128)
    (local $a2_0 v128) (local $a2_1 v128) (local $a2_2 v128) (local $a2_3 v128)
    (local $a3_0 v128) (local $a3_1 v128) (local $a3_2 v128) (local $a3_3 v128)
    (local $a4_0 v128) (local $a4_1 v128) (local $a4_2 v128) (local $a4_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $o1 (i32.load offset=4 (local.get $outs)))
    (local.set $o2 (i32.load offset=8 (local.get $outs)))
    (local.set $o3 (i32.load offset=12 (local.get $outs)))
    (local.set $o4 (i32.load offset=16 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o1) (local.get $col)))
          (local.set $a1_0 (v128.load offset=0 (local.get $at)))
          (local.set $a1_1 (v128.load offset=16 (local.get $at)))
          (local.set $a1_2 (v128.load offset=32 (local.get $at)))
          (local.set $a1_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o2) (local.get $col)))
          (local.set $a2_0 (v128.load offset=0 (local.get $at)))
          (local.set $a2_1 (v128.load offset=16 (local.get $at)))
          (local.set $a2_2 (v128.load offset=32 (local.get $at)))
          (local.set $a2_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o3) (local.get $col)))
          (local.set $a3_0 (v128.load offset=0 (local.get $at)))
          (local.set $a3_1 (v128.load offset=16 (local.get $at)))
          (local.set $a3_2 (v128.load offset=32 (local.get $at)))
          (local.set $a3_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o4) (local.get $col)))
          (local.set $a4_0 (v128.load offset=0 (local.get $at)))
          (local.set $a4_1 (v128.load offset=16 (local.get $at)))
          (local.set $a4_2 (v128.load offset=32 (local.get $at)))
          (local.set $a4_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
          (local.set $a1_0 (v128.const i64x2 0 0)) (local.set $a1_1 (v128.const i64x2 0 0)) (local.set $a1_2 (v128.const i64x2 0 0)) (local.set $a1_3 (v128.const i64x2 0 0))
          (local.set $a2_0 (v128.const i64x2 0 0)) (local.set $a2_1 (v128.const i64x2 0 0)) (local.set $a2_2 (v128.const i64x2 0 0)) (local.set $a2_3 (v128.const i64x2 0 0))
          (local.set $a3_0 (v128.const i64x2 0 0)) (local.set $a3_1 (v128.const i64x2 0 0)) (local.set $a3_2 (v128.const i64x2 0 0)) (local.set $a3_3 (v128.const i64x2 0 0))
          (local.set $a4_0 (v128.const i64x2 0 0)) (local.set $a4_1 (v128.const i64x2 0 0)) (local.set $a4_2 (v128.const i64x2 0 0)) (local.set $a4_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=32 (local.get $t)))
        (local.set $th (v128.load offset=48 (local.get $t)))
        (local.set $a1_0 (v128.xor (local.get $a1_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a1_1 (v128.xor (local.get $a1_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a1_2 (v128.xor (local.get $a1_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a1_3 (v128.xor (local.get $a1_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=64 (local.get $t)))
        (local.set $th (v128.load offset=80 (local.get $t)))
        (local.set $a2_0 (v128.xor (local.get $a2_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a2_1 (v128.xor (local.get $a2_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a2_2 (v128.xor (local.get $a2_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a2_3 (v128.xor (local.get $a2_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=96 (local.get $t)))
        (local.set $th (v128.load offset=112 (local.get $t)))
        (local.set $a3_0 (v128.xor (local.get $a3_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a3_1 (v128.xor (local.get $a3_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a3_2 (v128.xor (local.get $a3_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a3_3 (v128.xor (local.get $a3_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=128 (local.get $t)))
        (local.set $th (v128.load offset=144 (local.get $t)))
        (local.set $a4_0 (v128.xor (local.get $a4_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a4_1 (v128.xor (local.get $a4_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a4_2 (v128.xor (local.get $a4_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a4_3 (v128.xor (local.get $a4_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $at (i32.add (local.get $o1) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a1_0))
      (v128.store offset=16 (local.get $at) (local.get $a1_1))
      (v128.store offset=32 (local.get $at) (local.get $a1_2))
      (v128.store offset=48 (local.get $at) (local.get $a1_3))
      (local.set $at (i32.add (local.get $o2) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a2_0))
      (v128.store offset=16 (local.get $at) (local.get $a2_1))
      (v128.store offset=32 (local.get $at) (local.get $a2_2))
      (v128.store offset=48 (local.get $at) (local.get $a2_3))
      (local.set $at (i32.add (local.get $o3) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a3_0))
      (v128.store offset=16 (local.get $at) (local.get $a3_1))
      (v128.store offset=32 (local.get $at) (local.get $a3_2))
      (v128.store offset=48 (local.get $at) (local.get $a3_3))
      (local.set $at (i32.add (local.get $o4) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a4_0))
      (v128.store offset=16 (local.get $at) (local.get $a4_1))
      (v128.store offset=32 (local.get $at) (local.get $a4_2))
      (v128.store offset=48 (local.get $at) (local.get $a4_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; A group of 6 outputs, 64-byte columns; len is a multiple of 64.
  (func $dot_product_6 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local $a1_0 v128) (local $a1_1 v128) (local $a1_2 v128) (local $a1_3 v128)
    (local $a2_0 v128) (local $a2_1 v128) (local $a2_2 v128) (local $a2_3 v128)
    (local $a3_0 v128) (local $a3_1 v128) (local $a3_2 v128) (local $a3_3 v128)
    (local $a4_0 v128) (local $a4_1 v128) (local $a4_2 v128) (local $a4_3 v128)
    (local $a5_0 v128) (local $a5_1 v128) (local $a5_2 v128) (local $a5_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $o1 (i32.load offset=4 (local.get $outs)))
    (local.set $o2 (i32.load offset=8 (local.get $outs)))
    (local.set $o3 (i32.load offset=12 (local.get $outs)))
    (local.set $o4 (i32.load offset=16 (local.get $outs)))
    (local.set $o5 (i32.load offset=20 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o1) (local.get $col)))
          (local.set $a1_0 (v128.load offset=0 (local.get $at)))
          (local.set $a1_1 (v128.load offset=16 (local.get $at)))
          (local.set $a1_2 (v128.load offset=32 (local.get $at)))
          (local.set $a1_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o2) (local.get $col)))
          (local.set $a2_0 (v128.load offset=0 (local.get $at)))
          (local.set $a2_1 (v128.load offset=16 (local.get $at)))
          (local.set $a2_2 (v128.load offset=32 (local.get $at)))
          (local.set $a2_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o3) (local.get $col)))
          (local.set $a3_0 (v128.load offset=0 (local.get $at)))
          (local.set $a3_1 (v128.load offset=16 (local.get $at)))
          (local.set $a3_2 (v128.load offset=32 (local.get $at)))
          (local.set $a3_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o4) (local.get $col)))
          (local.set $a4_0 (v128.load offset=0 (local.get $at)))
          (local.set $a4_1 (v128.load offset=16 (local.get $at)))
          (local.set $a4_2 (v128.load offset=32 (local.get $at)))
          (local.set $a4_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o5) (local.get $col)))
          (local.set $a5_0 (v128.load offset=0 (local.get $at)))
          (local.set $a5_1 (v128.load offset=16 (local.get $at)))
          (local.set $a5_2 (v128.load offset=32 (local.get $at)))
          (local.set $a5_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
          (local.set $a1_0 (v128.const i64x2 0 0)) (local.set $a1_1 (v128.const i64x2 0 0)) (local.set $a1_2 (v128.const i64x2 0 0)) (local.set $a1_3 (v128.const i64x2 0 0))
          (local.set $a2_0 (v128.const i64x2 0 0)) (local.set $a2_1 (v128.const i64x2 0 0)) (local.set $a2_2 (v128.const i64x2 0 0)) (local.set $a2_3 (v128.const i64x2 0 0))
          (local.set $a3_0 (v128.const i64x2 0 0)) (local.set $a3_1 (v128.const i64x2 0 0)) (local.set $a3_2 (v128.const i64x2 0 0)) (local.set $a3_3 (v128.const i64x2 0 0))
          (local.set $a4_0 (v128.const i64x2 0 0)) (local.set $a4_1 (v128.const i64x2 0 0)) (local.set $a4_2 (v128.const i64x2 0 0)) (local.set $a4_3 (v128.const i64x2 0 0))
          (local.set $a5_0 (v128.const i64x2 0 0)) (local.set $a5_1 (v128.const i64x2 0 0)) (local.set $a5_2 (v128.const i64x2 0 0)) (local.set $a5_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=32 (local.get $t)))
        (local.set $th (v128.load offset=48 (local.get $t)))
        (local.set $a1_0 (v128.xor (local.get $a1_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a1_1 (v128.xor (local.get $a1_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a1_2 (v128.xor (local.get $a1_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a1_3 (v128.xor (local.get $a1_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=64 (local.get $t)))
        (local.set $th (v128.load offset=80 (local.get $t)))
        (local.set $a2_0 (v128.xor (local.get $a2_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a2_1 (v128.xor (local.get $a2_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a2_2 (v128.xor (local.get $a2_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a2_3 (v128.xor (local.get $a2_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=96 (local.get $t)))
        (local.set $th (v128.load offset=112 (local.get $t)))
        (local.set $a3_0 (v128.xor (local.get $a3_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a3_1 (v128.xor (local.get $a3_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a3_2 (v128.xor (local.get $a3_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a3_3 (v128.xor (local.get $a3_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=128 (local.get $t)))
        (local.set $th (v128.load offset=144 (local.get $t)))
        (local.set $a4_0 (v128.xor (local.get $a4_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a4_1 (v128.xor (local.get $a4_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a4_2 (v128.xor (local.get $a4_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a4_3 (v128.xor (local.get $a4_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=160 (local.get $t)))
        (local.set $th (v128.load offset=176 (local.get $t)))
        (local.set $a5_0 (v128.xor (local.get $a5_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a5_1 (v128.xor (local.get $a5_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a5_2 (v128.xor (local.get $a5_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a5_3 (v128.xor (local.get $a5_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $at (i32.add (local.get $o1) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a1_0))
      (v128.store offset=16 (local.get $at) (local.get $a1_1))
      (v128.store offset=32 (local.get $at) (local.get $a1_2))
      (v128.store offset=48 (local.get $at) (local.get $a1_3))
      (local.set $at (i32.add (local.get $o2) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a2_0))
      (v128.store offset=16 (local.get $at) (local.get $a2_1))
      (v128.store offset=32 (local.get $at) (local.get $a2_2))
      (v128.store offset=48 (local.get $at) (local.get $a2_3))
      (local.set $at (i32.add (local.get $o3) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a3_0))
      (v128.store offset=16 (local.get $at) (local.get $a3_1))
      (v128.store offset=32 (local.get $at) (local.get $a3_2))
      (v128.store offset=48 (local.get $at) (local.get $a3_3))
      (local.set $at (i32.add (local.get $o4) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a4_0))
      (v128.store offset=16 (local.get $at) (local.get $a4_1))
      (v128.store offset=32 (local.get $at) (local.get $a4_2))
      (v128.store offset=48 (local.get $at) (local.get $a4_3))
      (local.set $at (i32.add (local.get $o5) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a5_0))
      (v128.store offset=16 (local.get $at) (local.get $a5_1))
      (v128.store offset=32 (local.get $at) (local.get $a5_2))
      (v128.store offset=48 (local.get $at) (local.get $a5_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; A group of 7 outputs, 64-byte columns; len is a multiple of 64.
  (func $dot_product_7 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local $a1_0 v128) (local $a1_1 v128) (local $a1_2 v128) (local $a1_3 v128)
    (local $a2_0 v128) (local $a2_1 v128) (local $a2_2 v128) (local $a2_3 v128)
    (local $a3_0 v128) (local $a3_1 v128) (local $a3_2 v128) (local $a3_3 v128)
    (local $a4_0 v128) (local $a4_1 v128) (local $a4_2 v128) (local $a4_3 v128)
    (local $a5_0 v128) (local $a5_1 v128) (local $a5_2 v128) (local $a5_3 v128)
    (local $a6_0 v128) (local $a6_1 v128) (local $a6_2 v128) (local $a6_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $o1 (i32.load offset=4 (local.get $outs)))
    (local.set $o2 (i32.load offset=8 (local.get $outs)))
    (local.set $o3 (i32.load offset=12 (local.get $outs)))
    (local.set $o4 (i32.load offset=16 (local.get $outs)))
    (local.set $o5 (i32.load offset=20 (local.get $outs)))
    (local.set $o6 (i32.load offset=24 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o1) (local.get $col)))
          (local.set $a1_0 (v128.load offset=0 (local.get $at)))
          (local.set $a1_1 (v128.load offset=16 (local.get $at)))
          (local.set $a1_2 (v128.load offset=32 (local.get $at)))
          (local.set $a1_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o2) (local.get $col)))
          (local.set $a2_0 (v128.load offset=0 (local.get $at)))
          (local.set $a2_1 (v128.load offset=16 (local.get $at)))
          (local.set $a2_2 (v128.load offset=32 (local.get $at)))
          (local.set $a2_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o3) (local.get $col)))
          (local.set $a3_0 (v128.load offset=0 (local.get $at)))
          (local.set $a3_1 (v128.load offset=16 (local.get $at)))
          (local.set $a3_2 (v128.load offset=32 (local.get $at)))
          (local.set $a3_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o4) (local.get $col)))
          (local.set $a4_0 (v128.load offset=0 (local.get $at)))
          (local.set $a4_1 (v128.load offset=16 (local.get $at)))
          (local.set $a4_2 (v128.load offset=32 (local.get $at)))
          (local.set $a4_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o5) (local.get $col)))
          (local.set $a5_0 (v128.load offset=0 (local.get $at)))
          (local.set $a5_1 (v128.load offset=16 (local.get $at)))
          (local.set $a5_2 (v128.load offset=32 (local.get $at)))
          (local.set $a5_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o6) (local.get $col)))
          (local.set $a6_0 (v128.load offset=0 (local.get $at)))
          (local.set $a6_1 (v128.load offset=16 (local.get $at)))
          (local.set $a6_2 (v128.load offset=32 (local.get $at)))
          (local.set $a6_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
          (local.set $a1_0 (v128.const i64x2 0 0)) (local.set $a1_1 (v128.const i64x2 0 0)) (local.set $a1_2 (v128.const i64x2 0 0)) (local.set $a1_3 (v128.const i64x2 0 0))
          (local.set $a2_0 (v128.const i64x2 0 0)) (local.set $a2_1 (v128.const i64x2 0 0)) (local.set $a2_2 (v128.const i64x2 0 0)) (local.set $a2_3 (v128.const i64x2 0 0))
          (local.set $a3_0 (v128.const i64x2 0 0)) (local.set $a3_1 (v128.const i64x2 0 0)) (local.set $a3_2 (v128.const i64x2 0 0)) (local.set $a3_3 (v128.const i64x2 0 0))
          (local.set $a4_0 (v128.const i64x2 0 0)) (local.set $a4_1 (v128.const i64x2 0 0)) (local.set $a4_2 (v128.const i64x2 0 0)) (local.set $a4_3 (v128.const i64x2 0 0))
          (local.set $a5_0 (v128.const i64x2 0 0)) (local.set $a5_1 (v128.const i64x2 0 0)) (local.set $a5_2 (v128.const i64x2 0 0)) (local.set $a5_3 (v128.const i64x2 0 0))
          (local.set $a6_0 (v128.const i64x2 0 0)) (local.set $a6_1 (v128.const i64x2 0 0)) (local.set $a6_2 (v128.const i64x2 0 0)) (local.set $a6_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=32 (local.get $t)))
        (local.set $th (v128.load offset=48 (local.get $t)))
        (local.set $a1_0 (v128.xor (local.get $a1_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a1_1 (v128.xor (local.get $a1_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a1_2 (v128.xor (local.get $a1_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a1_3 (v128.xor (local.get $a1_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=64 (local.get $t)))
        (local.set $th (v128.load offset=80 (local.get $t)))
        (local.set $a2_0 (v128.xor (local.get $a2_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a2_1 (v128.xor (local.get $a2_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a2_2 (v128.xor (local.get $a2_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a2_3 (v128.xor (local.get $a2_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=96 (local.get $t)))
        (local.set $th (v128.load offset=112 (local.get $t)))
        (local.set $a3_0 (v128.xor (local.get $a3_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a3_1 (v128.xor (local.get $a3_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a3_2 (v128.xor (local.get $a3_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a3_3 (v128.xor (local.get $a3_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=128 (local.get $t)))
        (local.set $th (v128.load offset=144 (local.get $t)))
        (local.set $a4_0 (v128.xor (local.get $a4_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a4_1 (v128.xor (local.get $a4_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a4_2 (v128.xor (local.get $a4_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a4_3 (v128.xor (local.get $a4_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=160 (local.get $t)))
        (local.set $th (v128.load offset=176 (local.get $t)))
        (local.set $a5_0 (v128.xor (local.get $a5_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a5_1 (v128.xor (local.get $a5_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a5_2 (v128.xor (local.get $a5_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a5_3 (v128.xor (local.get $a5_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=192 (local.get $t)))
        (local.set $th (v128.load offset=208 (local.get $t)))
        (local.set $a6_0 (v128.xor (local.get $a6_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a6_1 (v128.xor (local.get $a6_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a6_2 (v128.xor (local.get $a6_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a6_3 (v128.xor (local.get $a6_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $at (i32.add (local.get $o1) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a1_0))
      (v128.store offset=16 (local.get $at) (local.get $a1_1))
      (v128.store offset=32 (local.get $at) (local.get $a1_2))
      (v128.store offset=48 (local.get $at) (local.get $a1_3))
      (local.set $at (i32.add (local.get $o2) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a2_0))
      (v128.store offset=16 (local.get $at) (local.get $a2_1))
      (v128.store offset=32 (local.get $at) (local.get $a2_2))
      (v128.store offset=48 (local.get $at) (local.get $a2_3))
      (local.set $at (i32.add (local.get $o3) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a3_0))
      (v128.store offset=16 (local.get $at) (local.get $a3_1))
      (v128.store offset=32 (local.get $at) (local.get $a3_2))
      (v128.store offset=48 (local.get $at) (local.get $a3_3))
      (local.set $at (i32.add (local.get $o4) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a4_0))
      (v128.store offset=16 (local.get $at) (local.get $a4_1))
      (v128.store offset=32 (local.get $at) (local.get $a4_2))
      (v128.store offset=48 (local.get $at) (local.get $a4_3))
      (local.set $at (i32.add (local.get $o5) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a5_0))
      (v128.store offset=16 (local.get $at) (local.get $a5_1))
      (v128.store offset=32 (local.get $at) (local.get $a5_2))
      (v128.store offset=48 (local.get $at) (local.get $a5_3))
      (local.set $at (i32.add (local.get $o6) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a6_0))
      (v128.store offset=16 (local.get $at) (local.get $a6_1))
      (v128.store offset=32 (local.get $at) (local.get $a6_2))
      (v128.store offset=48 (local.get $at) (local.get $a6_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; A group of 8 outputs, 64-byte columns; len is a multiple of 64.
  (func $dot_product_8 (param $outs i32) (param $ins i32) (param $nins i32) (param $tables i32)
    (param $tstride i32) (param $len i32) (param $accumulate i32)
    (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)
    (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)
    (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)
    (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32) (local $o7 i32)
    (local $a0_0 v128) (local $a0_1 v128) (local $a0_2 v128) (local $a0_3 v128)
    (local $a1_0 v128) (local $a1_1 v128) (local $a1_2 v128) (local $a1_3 v128)
    (local $a2_0 v128) (local $a2_1 v128) (local $a2_2 v128) (local $a2_3 v128)
    (local $a3_0 v128) (local $a3_1 v128) (local $a3_2 v128) (local $a3_3 v128)
    (local $a4_0 v128) (local $a4_1 v128) (local $a4_2 v128) (local $a4_3 v128)
    (local $a5_0 v128) (local $a5_1 v128) (local $a5_2 v128) (local $a5_3 v128)
    (local $a6_0 v128) (local $a6_1 v128) (local $a6_2 v128) (local $a6_3 v128)
    (local $a7_0 v128) (local $a7_1 v128) (local $a7_2 v128) (local $a7_3 v128)
    (local.set $o0 (i32.load offset=0 (local.get $outs)))
    (local.set $o1 (i32.load offset=4 (local.get $outs)))
    (local.set $o2 (i32.load offset=8 (local.get $outs)))
    (local.set $o3 (i32.load offset=12 (local.get $outs)))
    (local.set $o4 (i32.load offset=16 (local.get $outs)))
    (local.set $o5 (i32.load offset=20 (local.get $outs)))
    (local.set $o6 (i32.load offset=24 (local.get $outs)))
    (local.set $o7 (i32.load offset=28 (local.get $outs)))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))
    (loop $column
      (if (local.get $accumulate)
        (then
          (local.set $at (i32.add (local.get $o0) (local.get $col)))
          (local.set $a0_0 (v128.load offset=0 (local.get $at)))
          (local.set $a0_1 (v128.load offset=16 (local.get $at)))
          (local.set $a0_2 (v128.load offset=32 (local.get $at)))
          (local.set $a0_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o1) (local.get $col)))
          (local.set $a1_0 (v128.load offset=0 (local.get $at)))
          (local.set $a1_1 (v128.load offset=16 (local.get $at)))
          (local.set $a1_2 (v128.load offset=32 (local.get $at)))
          (local.set $a1_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o2) (local.get $col)))
          (local.set $a2_0 (v128.load offset=0 (local.get $at)))
          (local.set $a2_1 (v128.load offset=16 (local.get $at)))
          (local.set $a2_2 (v128.load offset=32 (local.get $at)))
          (local.set $a2_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o3) (local.get $col)))
          (local.set $a3_0 (v128.load offset=0 (local.get $at)))
          (local.set $a3_1 (v128.load offset=16 (local.get $at)))
          (local.set $a3_2 (v128.load offset=32 (local.get $at)))
          (local.set $a3_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o4) (local.get $col)))
          (local.set $a4_0 (v128.load offset=0 (local.get $at)))
          (local.set $a4_1 (v128.load offset=16 (local.get $at)))
          (local.set $a4_2 (v128.load offset=32 (local.get $at)))
          (local.set $a4_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o5) (local.get $col)))
          (local.set $a5_0 (v128.load offset=0 (local.get $at)))
          (local.set $a5_1 (v128.load offset=16 (local.get $at)))
          (local.set $a5_2 (v128.load offset=32 (local.get $at)))
          (local.set $a5_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o6) (local.get $col)))
          (local.set $a6_0 (v128.load offset=0 (local.get $at)))
          (local.set $a6_1 (v128.load offset=16 (local.get $at)))
          (local.set $a6_2 (v128.load offset=32 (local.get $at)))
          (local.set $a6_3 (v128.load offset=48 (local.get $at)))
          (local.set $at (i32.add (local.get $o7) (local.get $col)))
          (local.set $a7_0 (v128.load offset=0 (local.get $at)))
          (local.set $a7_1 (v128.load offset=16 (local.get $at)))
          (local.set $a7_2 (v128.load offset=32 (local.get $at)))
          (local.set $a7_3 (v128.load offset=48 (local.get $at)))
        )
        (else
          (local.set $a0_0 (v128.const i64x2 0 0)) (local.set $a0_1 (v128.const i64x2 0 0)) (local.set $a0_2 (v128.const i64x2 0 0)) (local.set $a0_3 (v128.const i64x2 0 0))
          (local.set $a1_0 (v128.const i64x2 0 0)) (local.set $a1_1 (v128.const i64x2 0 0)) (local.set $a1_2 (v128.const i64x2 0 0)) (local.set $a1_3 (v128.const i64x2 0 0))
          (local.set $a2_0 (v128.const i64x2 0 0)) (local.set $a2_1 (v128.const i64x2 0 0)) (local.set $a2_2 (v128.const i64x2 0 0)) (local.set $a2_3 (v128.const i64x2 0 0))
          (local.set $a3_0 (v128.const i64x2 0 0)) (local.set $a3_1 (v128.const i64x2 0 0)) (local.set $a3_2 (v128.const i64x2 0 0)) (local.set $a3_3 (v128.const i64x2 0 0))
          (local.set $a4_0 (v128.const i64x2 0 0)) (local.set $a4_1 (v128.const i64x2 0 0)) (local.set $a4_2 (v128.const i64x2 0 0)) (local.set $a4_3 (v128.const i64x2 0 0))
          (local.set $a5_0 (v128.const i64x2 0 0)) (local.set $a5_1 (v128.const i64x2 0 0)) (local.set $a5_2 (v128.const i64x2 0 0)) (local.set $a5_3 (v128.const i64x2 0 0))
          (local.set $a6_0 (v128.const i64x2 0 0)) (local.set $a6_1 (v128.const i64x2 0 0)) (local.set $a6_2 (v128.const i64x2 0 0)) (local.set $a6_3 (v128.const i64x2 0 0))
          (local.set $a7_0 (v128.const i64x2 0 0)) (local.set $a7_1 (v128.const i64x2 0 0)) (local.set $a7_2 (v128.const i64x2 0 0)) (local.set $a7_3 (v128.const i64x2 0 0))
        ))
      (local.set $p (local.get $ins))
      (local.set $t (local.get $tables))
      (loop $input
        (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))
        (local.set $x (v128.load offset=0 (local.get $at)))
        (local.set $l0 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=16 (local.get $at)))
        (local.set $l1 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=32 (local.get $at)))
        (local.set $l2 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $x (v128.load offset=48 (local.get $at)))
        (local.set $l3 (v128.and (local.get $x) (local.get $mask)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
        (local.set $tl (v128.load offset=0 (local.get $t)))
        (local.set $th (v128.load offset=16 (local.get $t)))
        (local.set $a0_0 (v128.xor (local.get $a0_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a0_1 (v128.xor (local.get $a0_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a0_2 (v128.xor (local.get $a0_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a0_3 (v128.xor (local.get $a0_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=32 (local.get $t)))
        (local.set $th (v128.load offset=48 (local.get $t)))
        (local.set $a1_0 (v128.xor (local.get $a1_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a1_1 (v128.xor (local.get $a1_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a1_2 (v128.xor (local.get $a1_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a1_3 (v128.xor (local.get $a1_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=64 (local.get $t)))
        (local.set $th (v128.load offset=80 (local.get $t)))
        (local.set $a2_0 (v128.xor (local.get $a2_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a2_1 (v128.xor (local.get $a2_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a2_2 (v128.xor (local.get $a2_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a2_3 (v128.xor (local.get $a2_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=96 (local.get $t)))
        (local.set $th (v128.load offset=112 (local.get $t)))
        (local.set $a3_0 (v128.xor (local.get $a3_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a3_1 (v128.xor (local.get $a3_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a3_2 (v128.xor (local.get $a3_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a3_3 (v128.xor (local.get $a3_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=128 (local.get $t)))
        (local.set $th (v128.load offset=144 (local.get $t)))
        (local.set $a4_0 (v128.xor (local.get $a4_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a4_1 (v128.xor (local.get $a4_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a4_2 (v128.xor (local.get $a4_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a4_3 (v128.xor (local.get $a4_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=160 (local.get $t)))
        (local.set $th (v128.load offset=176 (local.get $t)))
        (local.set $a5_0 (v128.xor (local.get $a5_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a5_1 (v128.xor (local.get $a5_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a5_2 (v128.xor (local.get $a5_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a5_3 (v128.xor (local.get $a5_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=192 (local.get $t)))
        (local.set $th (v128.load offset=208 (local.get $t)))
        (local.set $a6_0 (v128.xor (local.get $a6_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a6_1 (v128.xor (local.get $a6_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a6_2 (v128.xor (local.get $a6_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a6_3 (v128.xor (local.get $a6_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $tl (v128.load offset=224 (local.get $t)))
        (local.set $th (v128.load offset=240 (local.get $t)))
        (local.set $a7_0 (v128.xor (local.get $a7_0) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l0)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h0)))))
        (local.set $a7_1 (v128.xor (local.get $a7_1) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l1)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h1)))))
        (local.set $a7_2 (v128.xor (local.get $a7_2) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l2)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h2)))))
        (local.set $a7_3 (v128.xor (local.get $a7_3) (v128.xor
          (i8x16.relaxed_swizzle (local.get $tl) (local.get $l3)) (i8x16.relaxed_swizzle (local.get $th) (local.get $h3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (local.get $tstride)))
        (br_if $input (i32.ne (local.get $p) (local.get $pend))))
      (local.set $at (i32.add (local.get $o0) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a0_0))
      (v128.store offset=16 (local.get $at) (local.get $a0_1))
      (v128.store offset=32 (local.get $at) (local.get $a0_2))
      (v128.store offset=48 (local.get $at) (local.get $a0_3))
      (local.set $at (i32.add (local.get $o1) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a1_0))
      (v128.store offset=16 (local.get $at) (local.get $a1_1))
      (v128.store offset=32 (local.get $at) (local.get $a1_2))
      (v128.store offset=48 (local.get $at) (local.get $a1_3))
      (local.set $at (i32.add (local.get $o2) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a2_0))
      (v128.store offset=16 (local.get $at) (local.get $a2_1))
      (v128.store offset=32 (local.get $at) (local.get $a2_2))
      (v128.store offset=48 (local.get $at) (local.get $a2_3))
      (local.set $at (i32.add (local.get $o3) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a3_0))
      (v128.store offset=16 (local.get $at) (local.get $a3_1))
      (v128.store offset=32 (local.get $at) (local.get $a3_2))
      (v128.store offset=48 (local.get $at) (local.get $a3_3))
      (local.set $at (i32.add (local.get $o4) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a4_0))
      (v128.store offset=16 (local.get $at) (local.get $a4_1))
      (v128.store offset=32 (local.get $at) (local.get $a4_2))
      (v128.store offset=48 (local.get $at) (local.get $a4_3))
      (local.set $at (i32.add (local.get $o5) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a5_0))
      (v128.store offset=16 (local.get $at) (local.get $a5_1))
      (v128.store offset=32 (local.get $at) (local.get $a5_2))
      (v128.store offset=48 (local.get $at) (local.get $a5_3))
      (local.set $at (i32.add (local.get $o6) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a6_0))
      (v128.store offset=16 (local.get $at) (local.get $a6_1))
      (v128.store offset=32 (local.get $at) (local.get $a6_2))
      (v128.store offset=48 (local.get $at) (local.get $a6_3))
      (local.set $at (i32.add (local.get $o7) (local.get $col)))
      (v128.store offset=0 (local.get $at) (local.get $a7_0))
      (v128.store offset=16 (local.get $at) (local.get $a7_1))
      (v128.store offset=32 (local.get $at) (local.get $a7_2))
      (v128.store offset=48 (local.get $at) (local.get $a7_3))
      (local.set $col (i32.add (local.get $col) (i32.const 64)))
      (br_if $column (i32.ne (local.get $col) (local.get $len)))))

  ;; Columns col..len of dot_product (fewer than 64 bytes), all outputs at once: 16-byte
  ;; columns, then single bytes. Products go straight into the outputs: the first input's
  ;; overwrites them unless accumulate is set.
  (func $dot_product_tail (param $outs i32) (param $nouts i32) (param $ins i32) (param $nins i32)
    (param $tables i32) (param $col i32) (param $len i32) (param $accumulate i32)
    (local $i i32) (local $j i32) (local $out i32) (local $t i32) (local $b i32) (local $end i32)
    (local $x v128) (local $xl v128) (local $xh v128) (local $mask v128)
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $end (i32.add (local.get $col) (i32.and (i32.sub (local.get $len) (local.get $col)) (i32.const -16))))
    (block $done16
      (loop $column16
        (br_if $done16 (i32.eq (local.get $col) (local.get $end)))
        (local.set $t (local.get $tables))
        (local.set $j (i32.const 0))
        (loop $input
          (local.set $x (v128.load (i32.add (i32.load (i32.add (local.get $ins) (i32.shl (local.get $j) (i32.const 2))))
            (local.get $col))))
          (local.set $xl (v128.and (local.get $x) (local.get $mask)))
          (local.set $xh (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))
          (local.set $i (i32.const 0))
          (loop $output
            (local.set $out (i32.add (i32.load (i32.add (local.get $outs) (i32.shl (local.get $i) (i32.const 2))))
              (local.get $col)))
            (local.set $x (v128.xor
              (i8x16.relaxed_swizzle (v128.load (local.get $t)) (local.get $xl))
              (i8x16.relaxed_swizzle (v128.load offset=16 (local.get $t)) (local.get $xh))))
            (if (i32.or (local.get $j) (local.get $accumulate))
              (then (local.set $x (v128.xor (local.get $x) (v128.load (local.get $out))))))
            (v128.store (local.get $out) (local.get $x))
            (local.set $t (i32.add (local.get $t) (i32.const 32)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $output (i32.ne (local.get $i) (local.get $nouts))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $input (i32.ne (local.get $j) (local.get $nins))))
        (local.set $col (i32.add (local.get $col) (i32.const 16)))
        (br $column16)))
    (block $done1
      (loop $column1
        (br_if $done1 (i32.eq (local.get $col) (local.get $len)))
        (local.set $t (local.get $tables))
        (local.set $j (i32.const 0))
        (loop $input
          (local.set $b (i32.load8_u (i32.add (i32.load (i32.add (local.get $ins) (i32.shl (local.get $j) (i32.const 2))))
            (local.get $col))))
          (local.set $i (i32.const 0))
          (loop $output
            (local.set $out (i32.add (i32.load (i32.add (local.get $outs) (i32.shl (local.get $i) (i32.const 2))))
              (local.get $col)))
            (i32.store8 (local.get $out) (i32.xor
              (select (i32.load8_u (local.get $out)) (i32.const 0) (i32.or (local.get $j) (local.get $accumulate)))
              (i32.xor
                (i32.load8_u (i32.add (local.get $t) (i32.and (local.get $b) (i32.const 15))))
                (i32.load8_u offset=16 (i32.add (local.get $t) (i32.shr_u (local.get $b) (i32.const 4)))))))
            (local.set $t (i32.add (local.get $t) (i32.const 32)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $output (i32.ne (local.get $i) (local.get $nouts))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $input (i32.ne (local.get $j) (local.get $nins))))
        (local.set $col (i32.add (local.get $col) (i32.const 1)))
        (br $column1))))
)
