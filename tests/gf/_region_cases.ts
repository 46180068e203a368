/**
 * The lengths, offsets, random bytes and case loops every GF(2^8) region kernel is tested with
 * (the WebAssembly kernels in region_wasm_test.ts, ISA-L's in region_isal_test.ts), so all
 * kernels meet the same edge cases, checked against the portable reference.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { WasmArena } from "../../src/buffer/arena.ts";
import type { Matrix, RegionKernels } from "../../src/gf/region.ts";
import { referenceKernels as ref } from "../../src/gf/region_ref.ts";

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

/** An arena region of `n` bytes starting `shift` bytes past a 64-byte boundary. */
export function unaligned(arena: WasmArena, n: number, shift: number): Uint8Array {
  return arena.alloc(n + shift).subarray(shift);
}

/** The kernels a case runs, the arena their regions come from, and what else must agree. */
export interface KernelsUnderTest {
  /** The kernels tested. */
  readonly k: RegionKernels;
  /** Where the regions are allocated. */
  readonly arena: WasmArena;
  /** Other kernels that must give the same bytes too (the arena's WebAssembly for ISA-L's). */
  readonly also?: RegionKernels;
}

/**
 * xor, mul and mulAdd equal the reference (and `also`) at every length of LENGTHS, every
 * (dst, src) offset of SHIFTS and every coefficient of `coefficients`, over stale dst bytes.
 */
export function checkTwoRegionOps({ k, arena, also }: KernelsUnderTest, seed: number): void {
  const next = random(seed);
  for (const n of LENGTHS) {
    for (const [dstShift, srcShift] of SHIFTS) {
      const src = unaligned(arena, n, srcShift);
      const dst = unaligned(arena, n, dstShift);
      const viaAlso = unaligned(arena, n, dstShift);
      fillRandom(src, next);
      for (const c of coefficients(next)) {
        const what = `n=${n} c=${c} shifts=${dstShift},${srcShift}`;
        for (const op of ["mulAdd", "mul"] as const) {
          fillRandom(dst, next);
          viaAlso.set(dst);
          const expected = dst.slice();
          ref[op](expected, c, src.slice());
          k[op](dst, c, src);
          assertSameBytes(dst, expected, `${op} ${what}`);
          if (also === undefined) continue;
          also[op](viaAlso, c, src);
          assertSameBytes(dst, viaAlso, `${op} ${what} (${also.name})`);
        }
      }
      fillRandom(dst, next);
      viaAlso.set(dst);
      const expected = dst.slice();
      ref.xor(expected, src.slice());
      k.xor(dst, src);
      assertSameBytes(dst, expected, `xor n=${n}`);
      if (also === undefined) continue;
      also.xor(viaAlso, src);
      assertSameBytes(dst, viaAlso, `xor n=${n} (${also.name})`);
    }
  }
}

/** mulAdd, mul and xor with dst === src equal the reference, aligned and not. */
export function checkInPlace({ k, arena }: KernelsUnderTest): void {
  const next = random(7);
  for (const n of [17, 64, 129, ...LOOP_EDGES, 4095, 4096, 65536 + 7]) {
    for (const shift of [0, 1, 32]) {
      const r = unaligned(arena, n, shift);
      for (const c of coefficients(next)) {
        fillRandom(r, next);
        const expected = r.slice();
        ref.mulAdd(expected, c, expected);
        k.mulAdd(r, c, r);
        assertSameBytes(r, expected, `mulAdd n=${n} c=${c} shift=${shift}`);
        ref.mul(expected, c, expected);
        k.mul(r, c, r);
        assertSameBytes(r, expected, `mul n=${n} c=${c} shift=${shift}`);
      }
      k.xor(r, r);
      assertSameBytes(r, new Uint8Array(n), `xor n=${n}`);
    }
  }
}

/** How {@linkcode checkDotProductShapes} places the inputs and how often it calls. */
export interface DotProductCaseOptions {
  /** Input `j` of `n` bytes (default: in the arena, `j % 4` bytes past a boundary). */
  readonly input?: (arena: WasmArena, n: number, j: number) => Uint8Array;
  /** How many calls with the same matrix (a second one takes cached tables); default 1. */
  readonly rounds?: number;
  /** Output `i` of `n` bytes (default: in the arena, `(3 i) % 5` bytes past a boundary). */
  readonly output?: (arena: WasmArena, n: number, i: number) => Uint8Array;
  /** Test `dotProductAdd` instead: the products added to the stale output bytes. */
  readonly adds?: boolean;
  /**
   * With `adds`: what output `i` is the sum added to, when not itself (null): a region of `n`
   * bytes, which may be one of the inputs.
   */
  readonly from?: (
    arena: WasmArena,
    n: number,
    i: number,
    ins: readonly Uint8Array[],
  ) => Uint8Array | null;
}

/**
 * dotProduct equals the reference (and `also`) for every shape: (9, 2) and (17, 4) need several
 * output groups; (40, 70) splits the call in the WebAssembly kernels' parameter area (outputs
 * beyond 32, and inputs beyond 64 that accumulate). Stale output bytes must be overwritten.
 * With `adds`, dotProductAdd must equal the stale bytes (or the `from` region's) plus every
 * term, added one `mulAdd` of the reference at a time.
 */
export function checkDotProductShapes(
  { k, arena, also }: KernelsUnderTest,
  {
    input = (arena, n, j) => unaligned(arena, n, j % 4),
    output = (arena, n, i) => unaligned(arena, n, (i * 3) % 5),
    rounds = 1,
    adds = false,
    from,
  }: DotProductCaseOptions = {},
): void {
  const op = adds ? "dotProductAdd" : "dotProduct";
  const next = random(0xd07);
  const shapes = [[1, 1], [5, 11], [4, 10], [8, 3], [3, 8], [9, 2], [17, 4], [40, 70]];
  for (const [m, kIns] of shapes as [number, number][]) {
    const lengths = m * kIns > 100 ? [0, 1, 64, 4095] : [0, 1, 15, 16, 17, 63, 64, 65, 200, 4095];
    if (m === 5 && kIns === 11) lengths.push(1 << 20);
    for (const n of lengths) {
      const ins = Array.from({ length: kIns }, (_, j) => input(arena, n, j));
      ins.forEach((r) => fillRandom(r, next));
      const outs = Array.from({ length: m }, (_, i) => output(arena, n, i));
      const coeffs: Matrix = Array.from({ length: m }, () => {
        const row = new Uint8Array(kIns);
        fillRandom(row, next);
        return row;
      });
      coeffs[0]![0] = 0;
      if (kIns > 1) coeffs[0]![1] = 1;
      if (m > 1) coeffs[1]![0] = 255;
      const separate = outs.map((_, i) => from?.(arena, n, i, ins) ?? null);
      const stale = outs.map(() => new Uint8Array(n));
      const expected = outs.map(() => new Uint8Array(n));
      const viaAlso = outs.map(() => new Uint8Array(n));
      for (let round = 1; round <= rounds; round++) {
        outs.forEach((r, i) => {
          fillRandom(r, next);
          viaAlso[i]!.set(r);
          const f = separate[i]!;
          if (f !== null && !ins.includes(f)) fillRandom(f, next);
          stale[i]!.set(f ?? r);
        });
        if (adds) {
          expected.forEach((e, i) => {
            e.set(stale[i]!);
            ins.forEach((input, j) => ref.mulAdd(e, coeffs[i]![j]!, input.slice()));
          });
        } else ref.dotProduct(expected, coeffs, ins.map((r) => r.slice()));
        if (from === undefined) {
          also?.[op](viaAlso, coeffs, ins);
          k[op](outs, coeffs, ins);
        } else {
          also?.dotProductAdd(viaAlso, coeffs, ins, separate.map((f, i) => f ?? viaAlso[i]!));
          k.dotProductAdd(outs, coeffs, ins, separate.map((f, i) => f ?? outs[i]!));
        }
        outs.forEach((out, i) => {
          const what = `${op} (${m},${kIns}) n=${n} out ${i} round ${round}`;
          assertSameBytes(out, expected[i]!, what);
          if (also !== undefined) assertSameBytes(out, viaAlso[i]!, `${what} (${also.name})`);
        });
      }
    }
  }
}
