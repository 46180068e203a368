/**
 * An assertion for `assert.throws` / `assert.rejects`: the error is a {@linkcode CdfsError}
 * with this code and a message matching the pattern.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CdfsError, type ErrorCode } from "../../src/core/errors.ts";

/**
 * A validator for `assert.throws(fn, cdfsError("BAD_REQUEST", /.../))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CdfsError } from "../../src/core/errors.ts";
 * import { cdfsError } from "./assert_error.ts";
 * assert.throws(() => {
 *   throw new CdfsError("USAGE", "--nodes is required");
 * }, cdfsError("USAGE", /--nodes/));
 * ```
 *
 * @param code The error code wanted.
 * @param pattern What the message must match.
 * @returns The validator (true when it matches; it asserts otherwise).
 */
export function cdfsError(code: ErrorCode, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof CdfsError, `expected a CdfsError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}
