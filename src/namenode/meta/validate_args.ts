/**
 * Validation of the plain arguments of `MetadataStore` calls (ids, grace periods,
 * listing options), shared by both backends.
 *
 * @module
 */
import { typeName } from "../../core/quote.ts";
import { CdfsError } from "../../core/errors.ts";
import { LIST_LIMITS, type ListFilesOptions, PENDING_FILES, type PendingFiles } from "./model.ts";
import { validateNamePrefix } from "./validate_fields.ts";

/**
 * Validates a file id: a positive safe integer.
 *
 * @example
 * ```ts
 * import { validateFileId } from "./validate_args.ts";
 * console.log(validateFileId(7)); // 7
 * ```
 *
 * @param value The candidate.
 * @returns `value`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateFileId(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new CdfsError(
      "BAD_REQUEST",
      `file id must be a positive integer, got ${
        typeof value === "number" ? value : typeName(value)
      }`,
    );
  }
  return value;
}

/**
 * Validates a grace period in ms: a non-negative finite number.
 *
 * @example
 * ```ts
 * import { validateGrace } from "./validate_args.ts";
 * console.log(validateGrace(60_000)); // 60000
 * ```
 *
 * @param value The candidate.
 * @returns `value`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateGrace(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new CdfsError(
      "BAD_REQUEST",
      `grace period must be a non-negative number of ms, got ${
        typeof value === "number" ? value : typeName(value)
      }`,
    );
  }
  return value;
}

/**
 * Validates listing options, filling in the default limit.
 *
 * @example
 * ```ts
 * import { validateListOptions } from "./validate_args.ts";
 * console.log(validateListOptions({}).limit); // 1000
 * ```
 *
 * @param options The candidate.
 * @returns A validated copy with `limit` set.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateListOptions(
  options: ListFilesOptions,
): ListFilesOptions & { readonly limit: number; readonly pending: PendingFiles } {
  const limit = options.limit ?? LIST_LIMITS.default;
  const pending = options.pending ?? "exclude";
  if (!PENDING_FILES.includes(pending)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `pending must be "exclude", "include" or "only", got ${String(pending)}`,
    );
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMITS.max) {
    throw new CdfsError(
      "BAD_REQUEST",
      `limit must be an integer from 1 to ${LIST_LIMITS.max}, got ${limit}`,
    );
  }
  return {
    limit,
    pending,
    ...(options.after === undefined ? {} : { after: validateNamePrefix(options.after, "after") }),
  };
}
