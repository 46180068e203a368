/**
 * The lengths, offsets and random bytes every GF(2^8) region kernel is tested with (the
 * WebAssembly kernels in region_wasm_test.ts, ISA-L's in region_isal_test.ts), so all kernels
 * meet the same edge cases.
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Around the bytes per main-loop iteration (256 for xor, 512 for mul and mulAdd) and its multiples;
 * 1023 leaves the longest tail after the 512-byte loop (31 vectors, then 15 bytes).
 */
export const LOOP_EDGES = [255, 256, 257, 511, 512, 513, 1023, 1024, 1025];
/** Around the 64-byte blocks of the mul and mulAdd loops (16-byte vectors below that). */
export const BLOCK_EDGES = [63, 64, 65, 127, 128, 129, 512 + 63, 512 + 64, 512 + 65];
export const LENGTHS = [0, 1, 15, 16, 17, ...BLOCK_EDGES, ...LOOP_EDGES, 1000, 4095, 1 << 20];

/** A small deterministic generator (xorshift32), so failures reproduce. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

export function fillRandom(r: Uint8Array, next: () => number): void {
  let i = 0;
  for (; i + 4 <= r.length; i += 4) {
    const w = next();
    r[i] = w;
    r[i + 1] = w >>> 8;
    r[i + 2] = w >>> 16;
    r[i + 3] = w >>> 24;
  }
  for (; i < r.length; i++) r[i] = next();
}

export function coefficients(next: () => number): number[] {
  return [0, 1, 2, 255, ...Array.from({ length: 4 }, () => next() & 255)];
}

/** Compares without dumping megabytes into the failure message. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** The (dst, src) offsets from a 64-byte boundary every two-region kernel is run at. */
export const SHIFTS: readonly (readonly [number, number])[] = [[0, 0], [1, 3], [3, 1]];
