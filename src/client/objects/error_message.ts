/**
 * The text of anything thrown, for the messages that list several failures.
 *
 * @module
 */

/**
 * An error's message (or the value as text).
 *
 * @example
 * ```ts
 * import { errorMessage } from "./error_message.ts";
 * console.log(errorMessage(new Error("gone"))); // "gone"
 * ```
 *
 * @param error Anything thrown.
 * @returns Its message.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
