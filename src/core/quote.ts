/**
 * Renders values a peer sent for one-line error messages.
 *
 * @module
 */

/**
 * Quotes a value a peer sent for an error message: JSON-escaped and cut to 40 characters, so a
 * message stays one short line whatever the peer sent.
 *
 * @example
 * ```ts
 * import { quoteForMessage } from "./quote.ts";
 * console.log(quoteForMessage("a\nb")); // "\"a\\nb\""
 * ```
 *
 * @param value A string from a peer.
 * @returns A printable, bounded rendering.
 */
export function quoteForMessage(value: string): string {
  return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);
}

/**
 * Describes the JSON type of a value for error messages.
 *
 * @example
 * ```ts
 * import { typeName } from "./quote.ts";
 * console.log(typeName(null), typeName([1])); // "null" "array"
 * ```
 *
 * @param value Anything.
 * @returns `"null"`, `"array"` or the `typeof` of `value`.
 */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
