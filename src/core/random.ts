/**
 * Random names for temporary things: directories, files, ids no one else may guess.
 *
 * @module
 */

/**
 * `bytes` random bytes (from `crypto.getRandomValues`) as lowercase hex, two digits a byte.
 *
 * @example
 * ```ts
 * import { randomHex } from "./random.ts";
 * console.log(/^[0-9a-f]{12}$/.test(randomHex(6))); // true
 * ```
 *
 * @param bytes How many random bytes (at most 65536).
 * @returns `2 * bytes` hex digits.
 */
export function randomHex(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
}
