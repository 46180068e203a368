/**
 * Region arithmetic over GF(2^16) (polynomial 0x1100B). A region is a sequence of
 * **little-endian** 16-bit words (Jerasure's layout on x86), so its byte length must be even.
 * The same rules as the GF(2^8) kernels apply: regions of one call have the same length and
 * are either the same region or do not overlap. Plain TypeScript: GF(2^16) is offered for
 * compatibility, not speed.
 *
 * @module
 */

import { EXP, LOG } from "./gf65536.ts";

function checkRegions(dst: Uint8Array, src: Uint8Array): void {
  if (dst.length !== src.length) {
    throw new RangeError(
      `region lengths differ: destination has ${dst.length} bytes, source has ${src.length}`,
    );
  }
  if (dst.length % 2 !== 0) {
    throw new RangeError(
      `GF(2^16) region length must be even (whole 16-bit words), got ${dst.length} bytes`,
    );
  }
}

function checkCoefficient(c: number): void {
  if (!Number.isInteger(c) || c < 0 || c > 65535) {
    throw new RangeError(`coefficient must be an integer in 0..65535, got ${c}`);
  }
}

/** Multiplies each word of `src` by `2^logC` and stores or xors it into `dst`. */
function multiplyWords(dst: Uint8Array, logC: number, src: Uint8Array, accumulate: boolean): void {
  for (let i = 0; i < src.length; i += 2) {
    const x = src[i]! | src[i + 1]! << 8;
    const p = x === 0 ? 0 : EXP[LOG[x]! + logC]!;
    if (accumulate) {
      dst[i]! ^= p & 255;
      dst[i + 1]! ^= p >>> 8;
    } else {
      dst[i] = p & 255;
      dst[i + 1] = p >>> 8;
    }
  }
}

/**
 * `dst ^= src` (addition of GF(2^16) words is XOR, so this is a byte-wise XOR).
 *
 * @example
 * ```ts
 * import { xor16 } from "./region16.ts";
 * const dst = Uint8Array.of(1, 2);
 * xor16(dst, Uint8Array.of(1, 0));
 * console.log(dst); // Uint8Array(2) [ 0, 2 ]
 * ```
 *
 * @param dst The region to update in place.
 * @param src A region of the same, even length.
 * @throws {RangeError} When the lengths differ or are odd.
 */
export function xor16(dst: Uint8Array, src: Uint8Array): void {
  checkRegions(dst, src);
  for (let i = 0; i < dst.length; i++) dst[i]! ^= src[i]!;
}

/**
 * `dst = c · src` over GF(2^16), word by word.
 *
 * @example
 * ```ts
 * import { mul16 } from "./region16.ts";
 * const dst = new Uint8Array(2);
 * mul16(dst, 2, Uint8Array.of(0x00, 0x80)); // the word 32768
 * console.log(dst[0]! | dst[1]! << 8); // 4107
 * ```
 *
 * @param dst The region to overwrite.
 * @param c The coefficient, an integer in 0..65535.
 * @param src A region of the same, even length (it may be `dst` itself).
 * @throws {RangeError} When the lengths differ or are odd, or `c` is out of range.
 */
export function mul16(dst: Uint8Array, c: number, src: Uint8Array): void {
  checkRegions(dst, src);
  checkCoefficient(c);
  if (c === 0) dst.fill(0);
  else multiplyWords(dst, LOG[c]!, src, false);
}

/**
 * `dst ^= c · src` over GF(2^16), word by word.
 *
 * @example
 * ```ts
 * import { mulAdd16 } from "./region16.ts";
 * const dst = Uint8Array.of(1, 0);
 * mulAdd16(dst, 2, Uint8Array.of(0x00, 0x80));
 * console.log(dst[0]! | dst[1]! << 8); // 4106
 * ```
 *
 * @param dst The region to update in place.
 * @param c The coefficient, an integer in 0..65535.
 * @param src A region of the same, even length (it may be `dst` itself).
 * @throws {RangeError} When the lengths differ or are odd, or `c` is out of range.
 */
export function mulAdd16(dst: Uint8Array, c: number, src: Uint8Array): void {
  checkRegions(dst, src);
  checkCoefficient(c);
  if (c !== 0) multiplyWords(dst, LOG[c]!, src, true);
}
