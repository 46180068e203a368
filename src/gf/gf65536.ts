/**
 * Arithmetic in GF(2^16) with the primitive polynomial 0x1100B (x¹⁶+x¹²+x³+x+1) and generator
 * 2, bit-compatible with Jerasure 1.2 (`galois.c`, w = 16). A full product table would take
 * 8 GiB, so products go through log/antilog tables built once when the module loads.
 *
 * @module
 */

/** The primitive polynomial of the field, including the x¹⁶ term. */
export const POLYNOMIAL = 0x1100b;

/** The number of elements of the field. */
export const FIELD_SIZE = 65536;

/** The order of the multiplicative group (the period of {@linkcode EXP}). */
export const ORDER = 65535;

/**
 * Antilogarithms: `EXP[j] = 2^j`, with the period 65535 stored twice so that
 * `EXP[LOG[a] + LOG[b]]` needs no reduction.
 *
 * @example
 * ```ts
 * import { EXP, LOG } from "./gf65536.ts";
 * console.log(EXP[LOG[2]! + LOG[32768]!]); // 4107
 * ```
 */
export const EXP: Uint16Array = new Uint16Array(2 * ORDER);

/**
 * Discrete logarithms base 2: `LOG[a]` for `a` in 1..65535. `LOG[0]` is 0 but meaningless; use
 * {@linkcode log} for a checked lookup.
 *
 * @example
 * ```ts
 * import { LOG } from "./gf65536.ts";
 * console.log(LOG[2]); // 1
 * ```
 */
export const LOG: Uint32Array = new Uint32Array(FIELD_SIZE);

{
  let b = 1;
  for (let j = 0; j < ORDER; j++) {
    EXP[j] = b;
    EXP[j + ORDER] = b;
    LOG[b] = j;
    b <<= 1;
    if (b & 0x10000) b ^= POLYNOMIAL;
  }
}

function checkElement(name: string, x: number): void {
  if (!Number.isInteger(x) || x < 0 || x > 65535) {
    throw new RangeError(`${name} must be an integer in 0..65535, got ${x}`);
  }
}

/**
 * Adds two field elements (XOR; subtraction is the same operation).
 *
 * @example
 * ```ts
 * import { add } from "./gf65536.ts";
 * console.log(add(0x1234, 0x1200)); // 52
 * ```
 *
 * @param a A field element in 0..65535.
 * @param b A field element in 0..65535.
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
 * import { mul } from "./gf65536.ts";
 * console.log(mul(2, 32768)); // 4107
 * ```
 *
 * @param a A field element in 0..65535.
 * @param b A field element in 0..65535.
 * @returns `a · b`.
 */
export function mul(a: number, b: number): number {
  checkElement("a", a);
  checkElement("b", b);
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

/**
 * Divides one field element by another.
 *
 * @example
 * ```ts
 * import { div } from "./gf65536.ts";
 * console.log(div(4107, 2)); // 32768
 * ```
 *
 * @param a The dividend, in 0..65535.
 * @param b The divisor, in 1..65535.
 * @returns `a / b`.
 * @throws {RangeError} When `b` is 0 or an operand is out of range.
 */
export function div(a: number, b: number): number {
  checkElement("a", a);
  checkElement("b", b);
  if (b === 0) throw new RangeError("division by zero in GF(2^16)");
  if (a === 0) return 0;
  return EXP[LOG[a]! + ORDER - LOG[b]!]!;
}

/**
 * The multiplicative inverse of a field element.
 *
 * @example
 * ```ts
 * import { inv } from "./gf65536.ts";
 * console.log(inv(48386)); // 15748
 * ```
 *
 * @param a A field element in 1..65535.
 * @returns `a⁻¹`.
 * @throws {RangeError} When `a` is 0 (it has no inverse) or out of range.
 */
export function inv(a: number): number {
  checkElement("a", a);
  if (a === 0) throw new RangeError("0 has no inverse in GF(2^16)");
  return EXP[ORDER - LOG[a]!]!;
}

/**
 * Raises a field element to an integer power. `pow(0, 0)` is 1; negative powers of nonzero
 * elements are powers of the inverse.
 *
 * @example
 * ```ts
 * import { pow } from "./gf65536.ts";
 * console.log(pow(2, 16)); // 4107, since x¹⁶ = x¹²+x³+x+1
 * ```
 *
 * @param a A field element in 0..65535.
 * @param n An integer exponent.
 * @returns `aⁿ`.
 * @throws {RangeError} When `a` is 0 and `n` is negative, or an operand is invalid.
 */
export function pow(a: number, n: number): number {
  checkElement("a", a);
  if (!Number.isSafeInteger(n)) throw new RangeError(`exponent must be an integer, got ${n}`);
  if (n === 0) return 1;
  if (a === 0) {
    if (n < 0) throw new RangeError("0 has no negative powers in GF(2^16)");
    return 0;
  }
  // LOG[a] · n can exceed 2^53, so reduce n first.
  const e = (LOG[a]! * (n % ORDER)) % ORDER;
  return EXP[e < 0 ? e + ORDER : e]!;
}

/**
 * The generator 2 raised to the power `n` (any integer; taken modulo 65535).
 *
 * @example
 * ```ts
 * import { exp } from "./gf65536.ts";
 * console.log(exp(16)); // 4107
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
 * import { log } from "./gf65536.ts";
 * console.log(log(4107)); // 16
 * ```
 *
 * @param a A field element in 1..65535.
 * @returns The `j` in 0..65534 with `2^j = a`.
 * @throws {RangeError} When `a` is 0 or out of range.
 */
export function log(a: number): number {
  checkElement("a", a);
  if (a === 0) throw new RangeError("log(0) is undefined in GF(2^16)");
  return LOG[a]!;
}
