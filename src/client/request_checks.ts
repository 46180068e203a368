/**
 * Checks of the numbers of a STORE or RETRIEVE request made before it is sent, so that a bad
 * one fails here, naming the value, rather than at the node.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from "../protocol/frame.ts";

/**
 * A chunk size the protocol allows (4096..16777216).
 *
 * @example
 * ```ts
 * import { checkChunkSize } from "./request_checks.ts";
 * console.log(checkChunkSize(1 << 20)); // 1048576
 * ```
 *
 * @param chunkSize The chunk size asked for.
 * @returns It, when allowed.
 * @throws {CdfsError} `BAD_REQUEST` otherwise.
 */
export function checkChunkSize(chunkSize: number): number {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CdfsError(
      "BAD_REQUEST",
      `chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}, got ${chunkSize}`,
    );
  }
  return chunkSize;
}

/**
 * A byte count or offset: a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { checkByteCount } from "./request_checks.ts";
 * console.log(checkByteCount(10, "length")); // 10
 * ```
 *
 * @param value The number.
 * @param what What it is, for the message.
 * @returns It, when valid.
 * @throws {CdfsError} `BAD_REQUEST` otherwise.
 */
export function checkByteCount(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CdfsError("BAD_REQUEST", `${what} must be a non-negative integer, got ${value}`);
  }
  return value;
}
