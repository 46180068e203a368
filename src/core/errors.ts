/**
 * The one error type that crosses module boundaries in cdfs. Its `code` is stable (it travels
 * in protocol error frames and decides CLI exit codes); its message is one line for a person.
 *
 * @module
 */

/**
 * Stable error codes. New codes may be added; existing ones never change meaning.
 *
 * @example
 * ```ts
 * import { ERROR_CODES } from "./errors.ts";
 * console.log(ERROR_CODES.includes("NOT_FOUND")); // true
 * ```
 */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "NOT_FOUND",
  "EXISTS",
  "CONFLICT",
  "CORRUPT",
  "TIMEOUT",
  "UNAVAILABLE",
  "BUSY",
  "NO_SPACE",
  "SINGULAR",
  "USAGE",
  "INTERNAL",
  "UNAUTHENTICATED",
  "FORBIDDEN",
] as const;

/**
 * One of {@linkcode ERROR_CODES}.
 *
 * @example
 * ```ts
 * import type { ErrorCode } from "./errors.ts";
 * const code: ErrorCode = "CORRUPT";
 * ```
 */
export type ErrorCode = typeof ERROR_CODES[number];

/**
 * An error with a stable code and a one-line message naming the problem.
 *
 * @example
 * ```ts
 * import { CdfsError } from "./errors.ts";
 * try {
 *   throw new CdfsError("NOT_FOUND", "block 'x' does not exist");
 * } catch (e) {
 *   if (e instanceof CdfsError) console.log(e.code); // "NOT_FOUND"
 * }
 * ```
 */
export class CdfsError extends Error {
  /** The stable code of the error. */
  readonly code: ErrorCode;

  /**
   * Creates an error.
   *
   * @param code The stable code.
   * @param message One line naming the problem.
   * @param options The cause, if any.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CdfsError";
    this.code = code;
  }
}

/**
 * Tells whether a value is a {@linkcode CdfsError}, optionally of a given code.
 *
 * @example
 * ```ts
 * import { CdfsError, isCdfsError } from "./errors.ts";
 * console.log(isCdfsError(new CdfsError("EXISTS", "x"), "EXISTS")); // true
 * ```
 *
 * @param value Anything caught.
 * @param code When given, the code the error must have.
 * @returns Whether `value` is such an error.
 */
export function isCdfsError(value: unknown, code?: ErrorCode): value is CdfsError {
  return value instanceof CdfsError && (code === undefined || value.code === code);
}
