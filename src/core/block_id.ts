/**
 * Block ids: the names blocks have on the wire and (as file names) in the block store. The
 * rules keep every id a single harmless path component: 1 to 200 characters from
 * `[A-Za-z0-9._-]`, and never `.`, `..` or anything containing `..`. Shared by the protocol
 * validators and the store, so both reject exactly the same ids.
 *
 * @module
 */
import { CdfsError } from "./errors.ts";
import { quoteForMessage, typeName } from "./quote.ts";

/**
 * The longest block id, in characters (well under the 255-byte file-name limit of common file
 * systems, leaving room for the store's temp-file suffix).
 */
export const MAX_BLOCK_ID_LENGTH = 200;

/**
 * The characters and length a block id may have; {@linkcode validateBlockId} adds the `..`
 * rules.
 *
 * @example
 * ```ts
 * import { BLOCK_ID_PATTERN } from "./block_id.ts";
 * console.log(BLOCK_ID_PATTERN.test("file-1.part.03")); // true
 * ```
 */
export const BLOCK_ID_PATTERN: RegExp = /^[A-Za-z0-9._-]{1,200}$/;

const ALLOWED_CHARACTER = /^[A-Za-z0-9._-]$/;
/** A string of allowed characters only, of any length. */
const ALLOWED_ID = /^[A-Za-z0-9._-]*$/;

/**
 * Tells whether `id` is a valid block id, without saying why not (for scanning a directory).
 *
 * @example
 * ```ts
 * import { isValidBlockId } from "./block_id.ts";
 * console.log(isValidBlockId("part-1"), isValidBlockId("../x")); // true false
 * ```
 *
 * @param id Anything.
 * @returns Whether it is a valid block id.
 */
export function isValidBlockId(id: unknown): id is string {
  return typeof id === "string" && BLOCK_ID_PATTERN.test(id) && id !== "." && !id.includes("..");
}

/**
 * Validates a block id and returns it.
 *
 * @example
 * ```ts
 * import { validateBlockId } from "./block_id.ts";
 * console.log(validateBlockId("movie.mkv.7")); // "movie.mkv.7"
 * try {
 *   validateBlockId("../etc/passwd");
 * } catch (e) {
 *   console.log((e as Error).message); // block id "../etc/passwd" contains "/", ...
 * }
 * ```
 *
 * @param id The candidate, of any type (it usually comes from parsed JSON).
 * @param what How to call the value in the error message.
 * @returns `id`, now known to be a valid block id.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateBlockId(id: unknown, what = "block id"): string {
  if (typeof id !== "string") {
    throw new CdfsError("BAD_REQUEST", `${what} must be a string, got ${typeName(id)}`);
  }
  checkIdCharacters(id, what, 1);
  if (id === "." || id === "..") {
    throw new CdfsError("BAD_REQUEST", `${what} must not be ${JSON.stringify(id)}`);
  }
  if (id.includes("..")) {
    throw new CdfsError("BAD_REQUEST", `${what} ${quoteForMessage(id)} must not contain ".."`);
  }
  return id;
}

/**
 * Validates a string that is compared with block ids but never used as a file name (a LIST
 * `prefix` or `after` cursor): at most 200 characters from the block-id alphabet. `..` is
 * allowed here, since such a string never reaches a path.
 *
 * @example
 * ```ts
 * import { validateBlockIdFragment } from "./block_id.ts";
 * console.log(validateBlockIdFragment("", "prefix", 0)); // ""
 * ```
 *
 * @param value The candidate.
 * @param what How to call the value in the error message.
 * @param minLength 0 when the empty string is acceptable.
 * @returns `value` as a string.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateBlockIdFragment(value: unknown, what: string, minLength = 0): string {
  if (typeof value !== "string") {
    throw new CdfsError("BAD_REQUEST", `${what} must be a string, got ${typeName(value)}`);
  }
  checkIdCharacters(value, what, minLength);
  return value;
}

function checkIdCharacters(id: string, what: string, minLength: number): void {
  if (id.length < minLength) {
    throw new CdfsError("BAD_REQUEST", `${what} is empty`);
  }
  if (id.length > MAX_BLOCK_ID_LENGTH) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} is ${id.length} characters long, the limit is ${MAX_BLOCK_ID_LENGTH}`,
    );
  }
  // One pass over the whole id for the usual case; the loop only names the culprit.
  if (ALLOWED_ID.test(id)) return;
  for (const ch of id) {
    if (!ALLOWED_CHARACTER.test(ch)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `${what} ${quoteForMessage(id)} contains ${
          JSON.stringify(ch)
        }, only A-Z a-z 0-9 . _ - are allowed`,
      );
    }
  }
}
