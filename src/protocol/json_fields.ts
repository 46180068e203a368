/**
 * Strict validators of the fields of JSON messages, the one set both kinds of messages use
 * (the datanode's, `request_validation.ts` and `response_validation.ts`, and the namenode's,
 * `src/namenode/requests.ts` and `responses.ts`): a message holds exactly the fields its op
 * defines (an unknown field is an error, not something to ignore), every type, integer range
 * and length is checked, and a failure is a {@linkcode CdfsError} `BAD_REQUEST` naming the
 * message and the field. The server validates requests with them and the client validates
 * responses: each side trusts only itself.
 *
 * @module
 */
import { quoteForMessage, typeName } from "../core/quote.ts";
import { CdfsError } from "../core/errors.ts";

/**
 * A parsed JSON object, before validation.
 *
 * @example
 * ```ts
 * import type { JsonObject } from "./json_fields.ts";
 * const request: JsonObject = { op: "PING" };
 * ```
 */
export type JsonObject = Record<string, unknown>;

/**
 * Checks that a value is a JSON object (not null, not an array).
 *
 * @example
 * ```ts
 * import { expectObject } from "./json_fields.ts";
 * console.log(expectObject({ a: 1 }, "request").a); // 1
 * ```
 *
 * @param value The candidate.
 * @param what The message or field, for errors.
 * @returns The object.
 * @throws {CdfsError} `BAD_REQUEST` naming the type found.
 */
export function expectObject(value: unknown, what: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CdfsError("BAD_REQUEST", `${what} must be a JSON object, got ${typeName(value)}`);
  }
  return value as JsonObject;
}

/**
 * Refuses fields other than `allowed`.
 *
 * @example
 * ```ts
 * import { onlyFields } from "./json_fields.ts";
 * onlyFields({ op: "PING" }, "PING", ["op"]);
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param allowed The fields it may have.
 * @throws {CdfsError} `BAD_REQUEST` naming the first unknown field.
 */
export function onlyFields(object: JsonObject, what: string, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new CdfsError("BAD_REQUEST", `${what} has an unknown field ${quoteForMessage(key)}`);
    }
  }
}

/**
 * Checks that a REQUEST payload is an object naming its op as a string: the first step of
 * every request validator (the op's own fields are the caller's to check).
 *
 * @example
 * ```ts
 * import { requestOp } from "./json_fields.ts";
 * const { object, op } = requestOp({ op: "PING" });
 * console.log(op, Object.keys(object)); // "PING" [ "op" ]
 * ```
 *
 * @param value The parsed JSON.
 * @returns The object and its op.
 * @throws {CdfsError} `BAD_REQUEST` when it is not an object, has no `op`, or a non-string one.
 */
export function requestOp(value: unknown): { object: JsonObject; op: string } {
  const object = expectObject(value, "request");
  const op = object.op;
  if (op === undefined) throw new CdfsError("BAD_REQUEST", `request has no "op"`);
  if (typeof op !== "string") {
    throw new CdfsError("BAD_REQUEST", `request "op" must be a string, got ${typeName(op)}`);
  }
  return { object, op };
}

/**
 * Reads a required integer field within `min..max`.
 *
 * @example
 * ```ts
 * import { integerField } from "./json_fields.ts";
 * console.log(integerField({ n: 16 }, "CREATE_FILE", "n", 1, 256)); // 16
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param min The smallest value allowed.
 * @param max The largest value allowed.
 * @returns The value.
 * @throws {CdfsError} `BAD_REQUEST` naming the field, the range and what was found.
 */
export function integerField(
  object: JsonObject,
  what: string,
  key: string,
  min: number,
  max: number,
): number {
  const value = object[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const got = typeof value === "number" ? String(value) : typeName(value);
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" must be an integer in ${min}..${max}, got ${got}`,
    );
  }
  return value;
}

/**
 * Reads an optional integer field within `min..max` (absent: undefined).
 *
 * @example
 * ```ts
 * import { optionalInteger } from "./json_fields.ts";
 * console.log(optionalInteger({}, "LIST_FILES", "limit", 1, 10000)); // undefined
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param min The smallest value allowed.
 * @param max The largest value allowed.
 * @returns The value, or undefined.
 * @throws {CdfsError} `BAD_REQUEST` as {@linkcode integerField}.
 */
export function optionalInteger(
  object: JsonObject,
  what: string,
  key: string,
  min: number,
  max: number,
): number | undefined {
  return object[key] === undefined ? undefined : integerField(object, what, key, min, max);
}

/**
 * Reads a required boolean field.
 *
 * @example
 * ```ts
 * import { booleanField } from "./json_fields.ts";
 * console.log(booleanField({ alive: true }, "block", "alive")); // true
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @returns The value.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function booleanField(object: JsonObject, what: string, key: string): boolean {
  const value = object[key];
  if (typeof value !== "boolean") {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" must be true or false, got ${typeName(value)}`,
    );
  }
  return value;
}

/**
 * Reads a required array field of at most `max` elements (the elements are the caller's to
 * validate).
 *
 * @example
 * ```ts
 * import { arrayField } from "./json_fields.ts";
 * console.log(arrayField({ removed: ["b1"] }, "BLOCK_REPORT", "removed", 100).length); // 1
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param max The most elements allowed.
 * @returns The array.
 * @throws {CdfsError} `BAD_REQUEST` when it is not an array or is too long.
 */
export function arrayField(
  object: JsonObject,
  what: string,
  key: string,
  max: number,
): readonly unknown[] {
  const value = object[key];
  if (!Array.isArray(value)) {
    throw new CdfsError("BAD_REQUEST", `${what} "${key}" must be an array, got ${typeName(value)}`);
  }
  if (value.length > max) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" has ${value.length} entries, the limit is ${max}`,
    );
  }
  return value;
}

/**
 * Reads a required string field that must be one of `values`.
 *
 * @example
 * ```ts
 * import { enumField } from "./json_fields.ts";
 * console.log(enumField({ kind: "full" }, "BLOCK_REPORT", "kind", ["full", "incremental"])); // "full"
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param values The values allowed.
 * @returns The value.
 * @throws {CdfsError} `BAD_REQUEST` listing the values allowed.
 */
export function enumField<T extends string>(
  object: JsonObject,
  what: string,
  key: string,
  values: readonly T[],
): T {
  const value = object[key];
  if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
  throw new CdfsError(
    "BAD_REQUEST",
    `${what} "${key}" must be ${values.map((v) => JSON.stringify(v)).join(" or ")}, got ${
      typeof value === "string" ? quoteForMessage(value) : typeName(value)
    }`,
  );
}

/**
 * Reads a field that is a string matching `pattern` (versions, service names).
 *
 * @example
 * ```ts
 * import { patternField } from "./json_fields.ts";
 * console.log(patternField({ version: "0.1.0" }, "PING", "version", /^[0-9.]+$/)); // "0.1.0"
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param pattern What the string must match (anchored).
 * @returns The value.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function patternField(
  object: JsonObject,
  what: string,
  key: string,
  pattern: RegExp,
): string {
  const value = object[key];
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" is not valid: got ${
        typeof value === "string" ? quoteForMessage(value) : typeName(value)
      }`,
    );
  }
  return value;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads a time field: an ISO-8601 date-time string, or null when `nullable`.
 *
 * @example
 * ```ts
 * import { timeField } from "./json_fields.ts";
 * console.log(timeField({ created: "2026-01-01T00:00:00.000Z" }, "file", "created")); // "2026-01-01T00:00:00.000Z"
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param nullable Whether null is allowed.
 * @returns The value.
 * @throws {CdfsError} `BAD_REQUEST` naming the field.
 */
export function timeField(
  object: JsonObject,
  what: string,
  key: string,
  nullable: true,
): string | null;
/**
 * The same for a field that must not be null.
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param nullable `false` (the default).
 * @returns The value.
 */
export function timeField(object: JsonObject, what: string, key: string, nullable?: false): string;
export function timeField(
  object: JsonObject,
  what: string,
  key: string,
  nullable = false,
): string | null {
  const value = object[key];
  if (value === null && nullable) return null;
  if (typeof value !== "string" || !ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} "${key}" must be an ISO-8601 date-time${nullable ? " or null" : ""}`,
    );
  }
  return value;
}

/**
 * Reads a field through a validator that takes the raw value (the metadata model's
 * validators: file names, node ids, digests), naming the message in its errors.
 *
 * @example
 * ```ts
 * import { checkedField } from "./json_fields.ts";
 * import { validateNodeId } from "./node_id.ts";
 * console.log(checkedField({ node: "dn0" }, "HEARTBEAT", "node", validateNodeId)); // "dn0"
 * ```
 *
 * @param object The message.
 * @param what Its name, for errors.
 * @param key The field.
 * @param validate The validator; it throws `BAD_REQUEST` for a bad value.
 * @returns The validated value.
 * @throws {CdfsError} `BAD_REQUEST` from `validate`, prefixed with the message and field.
 */
export function checkedField<T>(
  object: JsonObject,
  what: string,
  key: string,
  validate: (value: unknown) => T,
): T {
  try {
    return validate(object[key]);
  } catch (error) {
    if (error instanceof CdfsError) {
      throw new CdfsError(error.code, `${what} "${key}": ${error.message}`);
    }
    throw error;
  }
}
