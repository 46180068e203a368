;; xxh64 (seed 0) over bytes of a shared WebAssembly memory, read in place: the checksum of a
;; chunk in a pooled buffer costs no copy (hash-wasm first copies every 16 KiB into its own
;; memory, and copies out of shared memory are slow). Embedded in `xxh64_wasm.ts`; to change
;; it, edit this file and follow the instructions at the top of that module.
;;
;; The algorithm is the reference XXH64 (https://github.com/Cyan4973/xxHash, doc/xxhash_spec.md):
;; four lanes over 32-byte stripes, then the remaining 8-, 4- and 1-byte pieces, then the
;; avalanche. Constants are PRIME64_1..5 of the specification.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; round(acc, input) = rotl(acc + input * PRIME64_2, 31) * PRIME64_1
  (func $round (param $acc i64) (param $input i64) (result i64)
    (i64.mul
      (i64.rotl
        (i64.add (local.get $acc) (i64.mul (local.get $input) (i64.const 0xC2B2AE3D27D4EB4F)))
        (i64.const 31))
      (i64.const 0x9E3779B185EBCA87)))

  ;; mergeRound(acc, lane) = (acc ^ round(0, lane)) * PRIME64_1 + PRIME64_4
  (func $merge (param $acc i64) (param $lane i64) (result i64)
    (i64.add
      (i64.mul
        (i64.xor (local.get $acc) (call $round (i64.const 0) (local.get $lane)))
        (i64.const 0x9E3779B185EBCA87))
      (i64.const 0x85EBCA77C2B2AE63)))

  ;; xxh64(offset, length): the hash of memory[offset, offset + length), as a signed i64
  ;; (JavaScript reads it with BigInt.asUintN(64, ...)).
  (func (export "xxh64") (param $p i32) (param $length i32) (result i64)
    (local $end i32) (local $lastStripe i32) (local $h i64)
    (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
    (local.set $end (i32.add (local.get $p) (local.get $length)))
    (if (i32.ge_u (local.get $length) (i32.const 32))
      (then
        (local.set $lastStripe (i32.sub (local.get $end) (i32.const 32)))
        (local.set $v1 (i64.const 0x60EA27EEADC0B5D6)) ;; PRIME64_1 + PRIME64_2
        (local.set $v2 (i64.const 0xC2B2AE3D27D4EB4F)) ;; PRIME64_2
        (local.set $v3 (i64.const 0))
        (local.set $v4 (i64.const 0x61C8864E7A143579)) ;; -PRIME64_1
        ;; The rounds are written out (not calls) so the four lanes' multiplies overlap.
        (loop $stripes
          (local.set $v1 (i64.mul (i64.rotl (i64.add (local.get $v1)
            (i64.mul (i64.load offset=0 (local.get $p)) (i64.const 0xC2B2AE3D27D4EB4F)))
            (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
          (local.set $v2 (i64.mul (i64.rotl (i64.add (local.get $v2)
            (i64.mul (i64.load offset=8 (local.get $p)) (i64.const 0xC2B2AE3D27D4EB4F)))
            (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
          (local.set $v3 (i64.mul (i64.rotl (i64.add (local.get $v3)
            (i64.mul (i64.load offset=16 (local.get $p)) (i64.const 0xC2B2AE3D27D4EB4F)))
            (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
          (local.set $v4 (i64.mul (i64.rotl (i64.add (local.get $v4)
            (i64.mul (i64.load offset=24 (local.get $p)) (i64.const 0xC2B2AE3D27D4EB4F)))
            (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br_if $stripes (i32.le_u (local.get $p) (local.get $lastStripe))))
        (local.set $h
          (i64.add
            (i64.add (i64.rotl (local.get $v1) (i64.const 1)) (i64.rotl (local.get $v2) (i64.const 7)))
            (i64.add (i64.rotl (local.get $v3) (i64.const 12)) (i64.rotl (local.get $v4) (i64.const 18)))))
        (local.set $h (call $merge (local.get $h) (local.get $v1)))
        (local.set $h (call $merge (local.get $h) (local.get $v2)))
        (local.set $h (call $merge (local.get $h) (local.get $v3)))
        (local.set $h (call $merge (local.get $h) (local.get $v4))))
      (else
        (local.set $h (i64.const 0x27D4EB2F165667C5)))) ;; PRIME64_5
    (local.set $h (i64.add (local.get $h) (i64.extend_i32_u (local.get $length))))
    ;; 8-byte pieces.
    (block $done8
      (loop $pieces8
        (br_if $done8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
        (local.set $h (i64.xor (local.get $h) (call $round (i64.const 0) (i64.load (local.get $p)))))
        (local.set $h
          (i64.add
            (i64.mul (i64.rotl (local.get $h) (i64.const 27)) (i64.const 0x9E3779B185EBCA87))
            (i64.const 0x85EBCA77C2B2AE63)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $pieces8)))
    ;; At most one 4-byte piece.
    (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
      (then
        (local.set $h
          (i64.xor (local.get $h)
            (i64.mul (i64.load32_u (local.get $p)) (i64.const 0x9E3779B185EBCA87))))
        (local.set $h
          (i64.add
            (i64.mul (i64.rotl (local.get $h) (i64.const 23)) (i64.const 0xC2B2AE3D27D4EB4F))
            (i64.const 0x165667B19E3779F9)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))))
    ;; The last 0..3 bytes.
    (block $done1
      (loop $bytes
        (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h
          (i64.xor (local.get $h)
            (i64.mul (i64.load8_u (local.get $p)) (i64.const 0x27D4EB2F165667C5))))
        (local.set $h (i64.mul (i64.rotl (local.get $h) (i64.const 11)) (i64.const 0x9E3779B185EBCA87)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    ;; Avalanche.
    (local.set $h (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))))
    (local.set $h (i64.mul (local.get $h) (i64.const 0xC2B2AE3D27D4EB4F)))
    (local.set $h (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))))
    (local.set $h (i64.mul (local.get $h) (i64.const 0x165667B19E3779F9)))
    (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))
)
