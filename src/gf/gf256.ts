/**
 * Arithmetic in GF(2^8) with the primitive polynomial 0x11D (x⁸+x⁴+x³+x²+1) and generator 2,
 * bit-compatible with Jerasure 1.2 (`galois.c`, w = 8) and ISA-L. Every table is built once when
 * the module loads; the functions validate their operands and never allocate.
 *
 * @module
 */

/** The primitive polynomial of the field, including the x⁸ term. */
export const POLYNOMIAL = 0x11d;

/** The number of elements of the field. */
export const FIELD_SIZE = 256;

/** The order of the multiplicative group (the period of {@linkcode EXP}). */
export const ORDER = 255;

/**
 * Antilogarithms: `EXP[j] = 2^j`. It has 512 entries (the period 255 repeated, plus padding)
 * so that `EXP[LOG[a] + LOG[b]]` needs no reduction modulo 255.
 *
 * @example
 * ```ts
 * import { EXP, LOG } from "./gf256.ts";
 * console.log(EXP[LOG[3]! + LOG[7]!]); // 9, the product 3·7
 * ```
 */
export const EXP: Uint8Array = new Uint8Array(512);

/**
 * Discrete logarithms base 2: `LOG[a]` for `a` in 1..255. `LOG[0]` is 0 but meaningless; use
 * {@linkcode log} for a checked lookup.
 *
 * @example
 * ```ts
 * import { LOG } from "./gf256.ts";
 * console.log(LOG[2]); // 1
 * ```
 */
export const LOG: Uint8Array = new Uint8Array(256);

/**
 * The full product table: `MUL_TABLE[a << 8 | b] = a·b`. Row `a` (bytes `a << 8` to
 * `a << 8 | 255`) is everything a region kernel needs to multiply by `a`.
 *
 * @example
 * ```ts
 * import { MUL_TABLE } from "./gf256.ts";
 * console.log(MUL_TABLE[2 << 8 | 128]); // 29
 * ```
 */
export const MUL_TABLE: Uint8Array = new Uint8Array(256 * 256);

/**
 * Multiplicative inverses: `INV[a] · a = 1` for `a` in 1..255; `INV[0]` is 0 but meaningless.
 *
 * @example
 * ```ts
 * import { INV } from "./gf256.ts";
 * console.log(INV[141]); // 105
 * ```
 */
export const INV: Uint8Array = new Uint8Array(256);

// Tables, as in Jerasure: walk the powers of the generator, reducing by the polynomial whenever
// the x⁸ bit appears.
{
  let b = 1;
  for (let j = 0; j < ORDER; j++) {
    EXP[j] = b;
    LOG[b] = j;
    b <<= 1;
    if (b & 0x100) b ^= POLYNOMIAL;
  }
  for (let j = ORDER; j < EXP.length; j++) EXP[j] = EXP[j - ORDER]!;
  for (let a = 1; a < 256; a++) {
    const la = LOG[a]!;
    INV[a] = EXP[ORDER - la]!;
    for (let x = 1; x < 256; x++) MUL_TABLE[a << 8 | x] = EXP[la + LOG[x]!]!;
  }
}

function checkElement(name: string, x: number): void {
  if (!Number.isInteger(x) || x < 0 || x > 255) {
    throw new RangeError(`${name} must be an integer in 0..255, got ${x}`);
  }
}

/**
 * Adds two field elements (XOR; subtraction is the same operation).
 *
 * @example
 * ```ts
 * import { add } from "./gf256.ts";
 * console.log(add(0b1100, 0b1010)); // 6
 * ```
 *
 * @param a A field element in 0..255.
 * @param b A field element in 0..255.
 * @returns `a + b`.
 */
export function add(a: number, b: number): number {
  checkElement("a", a);
  checkElement("b", b);
  return a ^ b;
}

/**
 * Multiplies two field elements.
 *
 * @example
 * ```ts
 * import { mul } from "./gf256.ts";
 * console.log(mul(141, 129)); // 80
 * ```
 *
 * @param a A field element in 0..255.
 * @param b A field element in 0..255.
 * @returns `a · b`.
 */
export function mul(a: number, b: number): number {
  checkElement("a", a);
  checkElement("b", b);
  return MUL_TABLE[a << 8 | b]!;
}

/**
 * Divides one field element by another.
 *
 * @example
 * ```ts
 * import { div } from "./gf256.ts";
 * console.log(div(80, 129)); // 141
 * ```
 *
 * @param a The dividend, in 0..255.
 * @param b The divisor, in 1..255.
 * @returns `a / b`.
 * @throws {RangeError} When `b` is 0 or an operand is out of range.
 */
export function div(a: number, b: number): number {
  checkElement("a", a);
  checkElement("b", b);
  if (b === 0) throw new RangeError("division by zero in GF(2^8)");
  return MUL_TABLE[a << 8 | INV[b]!]!;
}

/**
 * The multiplicative inverse of a field element.
 *
 * @example
 * ```ts
 * import { inv } from "./gf256.ts";
 * console.log(inv(141)); // 105
 * ```
 *
 * @param a A field element in 1..255.
 * @returns `a⁻¹`.
 * @throws {RangeError} When `a` is 0 (it has no inverse) or out of range.
 */
export function inv(a: number): number {
  checkElement("a", a);
  if (a === 0) throw new RangeError("0 has no inverse in GF(2^8)");
  return INV[a]!;
}

/**
 * Raises a field element to an integer power. `pow(0, 0)` is 1; negative powers of nonzero
 * elements are powers of the inverse.
 *
 * @example
 * ```ts
 * import { pow } from "./gf256.ts";
 * console.log(pow(2, 8)); // 29, since x⁸ = x⁴+x³+x²+1
 * ```
 *
 * @param a A field element in 0..255.
 * @param n An integer exponent.
 * @returns `aⁿ`.
 * @throws {RangeError} When `a` is 0 and `n` is negative, or an operand is invalid.
 */
export function pow(a: number, n: number): number {
  checkElement("a", a);
  if (!Number.isSafeInteger(n)) throw new RangeError(`exponent must be an integer, got ${n}`);
  if (n === 0) return 1;
  if (a === 0) {
    if (n < 0) throw new RangeError("0 has no negative powers in GF(2^8)");
    return 0;
  }
  // LOG[a] · n can exceed 2^53, so reduce n first.
  const e = (LOG[a]! * (n % ORDER)) % ORDER;
  return EXP[e < 0 ? e + ORDER : e]!;
}

/**
 * The generator 2 raised to the power `n` (any integer; taken modulo 255).
 *
 * @example
 * ```ts
 * import { exp } from "./gf256.ts";
 * console.log(exp(8)); // 29
 * ```
 *
 * @param n An integer exponent.
 * @returns `2ⁿ`.
 * @throws {RangeError} When `n` is not an integer.
 */
export function exp(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`exponent must be an integer, got ${n}`);
  const e = n % ORDER;
  return EXP[e < 0 ? e + ORDER : e]!;
}

/**
 * The discrete logarithm base 2 of a nonzero field element.
 *
 * @example
 * ```ts
 * import { log } from "./gf256.ts";
 * console.log(log(29)); // 8
 * ```
 *
 * @param a A field element in 1..255.
 * @returns The `j` in 0..254 with `2^j = a`.
 * @throws {RangeError} When `a` is 0 or out of range.
 */
export function log(a: number): number {
  checkElement("a", a);
  if (a === 0) throw new RangeError("log(0) is undefined in GF(2^8)");
  return LOG[a]!;
}

/**
 * The split 4-bit ("nibble") tables of a coefficient, as used by PSHUFB / `i8x16.swizzle`
 * kernels: 32 bytes, first `c·x` for `x` = 0..15 (the low nibble), then `c·(x << 4)` for
 * `x` = 0..15 (the high nibble). Then `c·b = lo[b & 15] ^ hi[b >> 4]` by distributivity.
 *
 * @example
 * ```ts
 * import { mul, nibbleTables } from "./gf256.ts";
 * const t = nibbleTables(7);
 * const b = 0xa5;
 * console.log((t[b & 15]! ^ t[16 + (b >> 4)]!) === mul(7, b)); // true
 * ```
 *
 * @param c The coefficient, in 0..255.
 * @returns A new 32-byte table.
 * @throws {RangeError} When `c` is out of range.
 */
export function nibbleTables(c: number): Uint8Array<ArrayBuffer> {
  checkElement("c", c);
  const t = new Uint8Array(32);
  const row = c << 8;
  for (let x = 0; x < 16; x++) {
    t[x] = MUL_TABLE[row | x]!;
    t[16 + x] = MUL_TABLE[row | x << 4]!;
  }
  return t;
}
