/**
 * The message fields that carry names: run ids, and coding module and program names (checked
 * against the one rule of each in `src/core/names.ts`). Both the request and the response
 * validators read them, so a name is refused with the same message on either side.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { quoteForMessage, typeName } from "../core/quote.ts";
import type { JsonObject } from "./json_fields.ts";

/**
 * A run id: 32 lower-case hex digits, the same for every program of a CODING run.
 *
 * @example
 * ```ts
 * import { RUN_ID_PATTERN } from "./name_fields.ts";
 * console.log(RUN_ID_PATTERN.test("0123456789abcdef0123456789abcdef")); // true
 * ```
 */
export const RUN_ID_PATTERN: RegExp = /^[0-9a-f]{32}$/;

/**
 * Reads a required string field that must match a name rule (a coding module or program
 * name); the error shows the rule.
 *
 * @example
 * ```ts
 * import { PROGRAM_NAME_PATTERN } from "../core/names.ts";
 * import { nameField } from "./name_fields.ts";
 * console.log(nameField({ program: "enc_node0" }, "CODING", "program", PROGRAM_NAME_PATTERN)); // "enc_node0"
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param pattern The name rule.
 * @returns The name.
 * @throws {CdfsError} `BAD_REQUEST` naming the field and the rule.
 */
export function nameField(object: JsonObject, what: string, key: string, pattern: RegExp): string {
  const value = object[key];
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" must match ${pattern.source}, got ${
        typeof value === "string" ? quoteForMessage(value) : typeName(value)
      }`,
    );
  }
  return value;
}

/**
 * Reads the required `run` field: a run id ({@linkcode RUN_ID_PATTERN}).
 *
 * @example
 * ```ts
 * import { runIdField } from "./name_fields.ts";
 * const run = "0123456789abcdef0123456789abcdef";
 * console.log(runIdField({ run }, "STATS") === run); // true
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @returns The run id.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function runIdField(object: JsonObject, what: string): string {
  const value = object.run;
  if (typeof value !== "string" || !RUN_ID_PATTERN.test(value)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "run" must be 32 lower-case hex digits, got ${
        typeof value === "string" ? quoteForMessage(value) : typeName(value)
      }`,
    );
  }
  return value;
}
