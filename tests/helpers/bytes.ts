/**
 * Byte helpers shared by the tests.
 *
 * @module
 */

/**
 * Random bytes of any length (getRandomValues takes at most 64 KiB at a time).
 *
 * @example
 * ```ts
 * import { randomBytes } from "./bytes.ts";
 * console.log(randomBytes(100_000).length); // 100000
 * ```
 *
 * @param length How many.
 */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(length, at + 65536)));
  }
  return bytes;
}

/**
 * The parts, one after the other, in a new array.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 *
 * @param parts The arrays to join.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
