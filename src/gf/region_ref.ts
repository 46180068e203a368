/**
 * The portable TypeScript region kernels over GF(2^8): the reference every faster kernel is
 * checked against, and fast enough to use when WebAssembly SIMD is unavailable.
 *
 * Speed comes from 32-bit words: where the destination and source share the same alignment
 * modulo 4 (always true for `dst === src` and for regions at aligned offsets), each loop
 * iteration reads one source word, looks its four bytes up in the 256-entry row of
 * `MUL_TABLE` for the coefficient, shifts each product back into its byte lane and xors the
 * assembled word into the destination: one load and one store per four bytes instead of four
 * of each. Because the product of the byte in lane k lands in lane k, the method does not
 * depend on the platform's byte order. Unaligned heads and tails, and regions whose alignments
 * differ, fall back to one lookup per byte. (Per-coefficient tables of pre-shifted 32-bit
 * products measured no faster here, and 16-bit-index tables only ~20% faster for 128 KiB of
 * table per coefficient, so the plain 64 KiB table is used.)
 *
 * Regions passed to one call must either be the same region or not overlap at all.
 *
 * @module
 */

import { MUL_TABLE } from "./gf256.ts";
import type { Matrix, RegionKernels } from "./region.ts";
import { checkCoefficient, checkSameLength, startDotProduct } from "./region_checks.ts";

/** Below this many bytes a word loop does not pay for its table and views. */
const WORD_THRESHOLD = 64;

/** `dotProduct` works on slices of this many bytes so that its outputs stay in cache. */
const DOT_CHUNK = 16 * 1024;

/** Row `c` of the product table: `c·b` at index `b`. */
function productRow(c: number): Uint8Array {
  return MUL_TABLE.subarray(c << 8, (c << 8) + 256);
}

/**
 * How to split a pair of regions for the word loop: `head` bytes done one by one until the
 * destination is 4-aligned, then `words` 32-bit words, then the rest byte by byte. `words` is 0
 * when the two regions can never be aligned together.
 */
function wordSplit(dst: Uint8Array, src: Uint8Array): { head: number; words: number } {
  const n = dst.length;
  if (n < WORD_THRESHOLD || ((dst.byteOffset - src.byteOffset) & 3) !== 0) {
    return { head: n, words: 0 };
  }
  const head = (4 - (dst.byteOffset & 3)) & 3;
  return { head, words: (n - head) >>> 2 };
}

function xorBytes(dst: Uint8Array, src: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) dst[i]! ^= src[i]!;
}

function mulBytes(dst: Uint8Array, c: number, src: Uint8Array, from: number, to: number): void {
  const row = c << 8;
  for (let i = from; i < to; i++) dst[i] = MUL_TABLE[row | src[i]!]!;
}

function mulAddBytes(dst: Uint8Array, c: number, src: Uint8Array, from: number, to: number): void {
  const row = c << 8;
  for (let i = from; i < to; i++) dst[i]! ^= MUL_TABLE[row | src[i]!]!;
}

function words(region: Uint8Array, head: number, count: number): Uint32Array {
  return new Uint32Array(region.buffer, region.byteOffset + head, count);
}

/**
 * `dst ^= src`, byte for byte.
 *
 * @example
 * ```ts
 * import { xor } from "./region_ref.ts";
 * const dst = Uint8Array.of(1, 2, 3);
 * xor(dst, Uint8Array.of(1, 1, 1));
 * console.log(dst); // Uint8Array(3) [ 0, 3, 2 ]
 * ```
 *
 * @param dst The region to update in place.
 * @param src A region of the same length (it may be `dst` itself).
 * @throws {RangeError} When the lengths differ.
 */
export function xor(dst: Uint8Array, src: Uint8Array): void {
  checkSameLength(dst, src);
  const { head, words: count } = wordSplit(dst, src);
  xorBytes(dst, src, 0, head);
  if (count === 0) return;
  const d = words(dst, head, count);
  const s = words(src, head, count);
  for (let i = 0; i < count; i++) d[i]! ^= s[i]!;
  xorBytes(dst, src, head + 4 * count, dst.length);
}

/**
 * `dst = c · src` over GF(2^8), byte for byte.
 *
 * @example
 * ```ts
 * import { mul } from "./region_ref.ts";
 * const dst = new Uint8Array(2);
 * mul(dst, 2, Uint8Array.of(128, 3));
 * console.log(dst); // Uint8Array(2) [ 29, 6 ]
 * ```
 *
 * @param dst The region to overwrite.
 * @param c The coefficient, an integer in 0..255.
 * @param src A region of the same length (it may be `dst` itself).
 * @throws {RangeError} When the lengths differ or `c` is not in 0..255.
 */
export function mul(dst: Uint8Array, c: number, src: Uint8Array): void {
  checkSameLength(dst, src);
  checkCoefficient(c);
  if (c === 0) {
    dst.fill(0);
    return;
  }
  if (c === 1) {
    if (dst !== src) dst.set(src);
    return;
  }
  const { head, words: count } = wordSplit(dst, src);
  mulBytes(dst, c, src, 0, head);
  if (count === 0) return;
  const d = words(dst, head, count);
  const s = words(src, head, count);
  const p = productRow(c);
  for (let i = 0; i < count; i++) {
    const w = s[i]!;
    d[i] = p[w & 255]! | p[(w >>> 8) & 255]! << 8 | p[(w >>> 16) & 255]! << 16 |
      p[w >>> 24]! << 24;
  }
  mulBytes(dst, c, src, head + 4 * count, dst.length);
}

/**
 * `dst ^= c · src` over GF(2^8), byte for byte.
 *
 * @example
 * ```ts
 * import { mulAdd } from "./region_ref.ts";
 * const dst = Uint8Array.of(1, 1);
 * mulAdd(dst, 2, Uint8Array.of(128, 3));
 * console.log(dst); // Uint8Array(2) [ 28, 7 ]
 * ```
 *
 * @param dst The region to update in place.
 * @param c The coefficient, an integer in 0..255.
 * @param src A region of the same length (it may be `dst` itself).
 * @throws {RangeError} When the lengths differ or `c` is not in 0..255.
 */
export function mulAdd(dst: Uint8Array, c: number, src: Uint8Array): void {
  checkSameLength(dst, src);
  checkCoefficient(c);
  if (c === 0) return;
  if (c === 1) {
    xor(dst, src);
    return;
  }
  const { head, words: count } = wordSplit(dst, src);
  mulAddBytes(dst, c, src, 0, head);
  if (count === 0) return;
  const d = words(dst, head, count);
  const s = words(src, head, count);
  const p = productRow(c);
  for (let i = 0; i < count; i++) {
    const w = s[i]!;
    d[i]! ^= p[w & 255]! | p[(w >>> 8) & 255]! << 8 | p[(w >>> 16) & 255]! << 16 |
      p[w >>> 24]! << 24;
  }
  mulAddBytes(dst, c, src, head + 4 * count, dst.length);
}

/**
 * `outs[i] = Σ_j coeffs[i][j] · ins[j]` for every output (outputs are overwritten). The work is
 * done in 16 KiB slices so each slice of every output stays in cache while the inputs stream
 * past. Outputs must not alias inputs.
 *
 * @example
 * ```ts
 * import { dotProduct } from "./region_ref.ts";
 * const out = new Uint8Array(1);
 * dotProduct([out], [Uint8Array.of(1, 2)], [Uint8Array.of(5), Uint8Array.of(128)]);
 * console.log(out[0]); // 24, that is 5 ^ 29
 * ```
 *
 * @param outs The output regions, all overwritten.
 * @param coeffs `outs.length` rows of `ins.length` coefficients, each an integer in 0..255.
 * @param ins The input regions.
 * @throws {RangeError} When the shape of `coeffs` does not match, a coefficient is out of
 * range, or the regions do not all have the same length.
 */
export function dotProduct(
  outs: readonly Uint8Array[],
  coeffs: Matrix,
  ins: readonly Uint8Array[],
): void {
  dotInSlices(outs, coeffs, ins, false);
}

/**
 * `outs[i] = froms[i] + Σ_j coeffs[i][j] · ins[j]` for every output, `froms` by default the
 * outputs themselves: {@linkcode dotProduct} added to what they hold, in the same 16 KiB slices.
 * Outputs must not alias inputs; `froms[i]` may be `outs[i]` but no other output.
 *
 * @example
 * ```ts
 * import { dotProductAdd } from "./region_ref.ts";
 * const out = Uint8Array.of(1);
 * dotProductAdd([out], [Uint8Array.of(1, 2)], [Uint8Array.of(5), Uint8Array.of(128)]);
 * console.log(out[0]); // 25, that is 1 ^ 5 ^ 29
 * ```
 *
 * @param outs The output regions.
 * @param coeffs `outs.length` rows of `ins.length` coefficients, each an integer in 0..255.
 * @param ins The input regions.
 * @param froms What each output is the sum added to (default: the outputs, added in place).
 * @throws {RangeError} When the shape of `coeffs` or `froms` does not match, a coefficient is
 * out of range, or the regions do not all have the same length.
 */
export function dotProductAdd(
  outs: readonly Uint8Array[],
  coeffs: Matrix,
  ins: readonly Uint8Array[],
  froms?: readonly Uint8Array[],
): void {
  dotInSlices(outs, coeffs, ins, true, froms);
}

/** `dotProduct` (`adds` false) or `dotProductAdd`, slice by slice. */
function dotInSlices(
  outs: readonly Uint8Array[],
  coeffs: Matrix,
  ins: readonly Uint8Array[],
  adds: boolean,
  froms?: readonly Uint8Array[],
): void {
  const n = startDotProduct(outs, coeffs, ins, adds, froms);
  if (n === 0) return;
  for (let start = 0; start < n; start += DOT_CHUNK) {
    const end = Math.min(n, start + DOT_CHUNK);
    const inSlices = ins.map((r) => r.subarray(start, end));
    for (let i = 0; i < outs.length; i++) {
      const out = outs[i]!.subarray(start, end);
      const row = coeffs[i]!;
      const from = froms?.[i];
      if (from !== undefined && from !== outs[i]) out.set(from.subarray(start, end));
      if (adds) mulAdd(out, row[0]!, inSlices[0]!);
      else mul(out, row[0]!, inSlices[0]!);
      for (let j = 1; j < inSlices.length; j++) mulAdd(out, row[j]!, inSlices[j]!);
    }
  }
}

/**
 * The reference kernels as a {@linkcode RegionKernels} named `"ts-reference"`.
 *
 * @example
 * ```ts
 * import { referenceKernels } from "./region_ref.ts";
 * const p = new Uint8Array(4);
 * referenceKernels.mulAdd(p, 3, Uint8Array.of(1, 2, 3, 4));
 * console.log(referenceKernels.name, p); // ts-reference Uint8Array(4) [ 3, 6, 5, 12 ]
 * ```
 */
export const referenceKernels: RegionKernels = Object.freeze({
  name: "ts-reference",
  xor,
  mul,
  mulAdd,
  dotProduct,
  dotProductAdd,
});
