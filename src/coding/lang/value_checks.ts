/**
 * The checks of raw values that validation is made of (an object, an array, a name, an integer
 * in range, a node index, a block template), each failing with a `BAD_REQUEST` that says where
 * in the module the value is ({@linkcode Place}).
 *
 * @module
 */

import { isValidBlockId } from "../../core/block_id.ts";
import { quoteForMessage, typeName } from "../../core/quote.ts";
import { CdfsError } from "../../core/errors.ts";

/**
 * The placeholder for the object id in block name templates.
 *
 * @example
 * ```ts
 * import { ID_PLACEHOLDER } from "./value_checks.ts";
 * console.log("{id}.part0".replaceAll(ID_PLACEHOLDER, "movie")); // "movie.part0"
 * ```
 */
export const ID_PLACEHOLDER = "{id}";

/**
 * Builds messages that say where in the module a problem is.
 *
 * @example
 * ```ts
 * import { Place } from "./value_checks.ts";
 * const place = new Place("coding module 'x'").at(": program 'enc'");
 * try {
 *   place.fail("no instructions");
 * } catch (e) {
 *   console.log((e as Error).message); // "coding module 'x': program 'enc': no instructions"
 * }
 * ```
 */
export class Place {
  /**
   * Makes a place.
   *
   * @param prefix What the messages start with.
   */
  constructor(readonly prefix: string) {}
  /**
   * A place inside this one.
   *
   * @param what Appended to the prefix (`, stream 2`).
   * @returns The place.
   */
  at(what: string): Place {
    return new Place(`${this.prefix}${what}`);
  }
  /**
   * Fails here.
   *
   * @param message What is wrong.
   * @throws {CdfsError} `BAD_REQUEST`, prefixed with the place.
   */
  fail(message: string): never {
    throw new CdfsError("BAD_REQUEST", `${this.prefix}: ${message}`);
  }
}

/**
 * The place of a whole module: `coding module 'name' (source)`.
 *
 * @example
 * ```ts
 * import { modulePlace } from "./value_checks.ts";
 * console.log(modulePlace("rs", "coding/rs.ts").prefix); // "coding module 'rs' (coding/rs.ts)"
 * ```
 *
 * @param name The module's name as given (anything).
 * @param source Where it comes from, or "".
 * @returns The place.
 */
export function modulePlace(name: unknown, source: string): Place {
  const shown = typeof name === "string" ? nameForMessage(name) : "?";
  return new Place(source === "" ? `coding module ${shown}` : `coding module ${shown} (${source})`);
}

/**
 * A name from a module or a peer as messages show it: `'enc0'` when it is printable ASCII of
 * at most 64 characters, else JSON-quoted and cut (no line break or endless name gets into a
 * message).
 *
 * @example
 * ```ts
 * import { nameForMessage } from "./value_checks.ts";
 * console.log(nameForMessage("enc0"), nameForMessage("a\nb")); // 'enc0' "a\nb"
 * ```
 *
 * @param name The name as given.
 * @returns Its rendering.
 */
export function nameForMessage(name: string): string {
  return /^[\x21-\x7e]{1,64}$/.test(name) ? `'${name}'` : quoteForMessage(name);
}

/**
 * Whether a value is a plain object (not null, not an array).
 *
 * @example
 * ```ts
 * import { isRecord } from "./value_checks.ts";
 * console.log(isRecord({}), isRecord([]), isRecord(null)); // true false false
 * ```
 *
 * @param value Anything.
 * @returns True for an object.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * An object, or fails.
 *
 * @example
 * ```ts
 * import { expectRecord, Place } from "./value_checks.ts";
 * console.log(expectRecord(new Place("m"), { a: 1 }, "the module").a); // 1
 * ```
 *
 * @param place Where the value is.
 * @param value The value.
 * @param what Its description, for the message.
 * @returns The object.
 * @throws {CdfsError} `BAD_REQUEST` when it is not one.
 */
export function expectRecord(place: Place, value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) place.fail(`${what} must be an object, got ${typeName(value)}`);
  return value;
}

/**
 * An array, or fails.
 *
 * @example
 * ```ts
 * import { expectArray, Place } from "./value_checks.ts";
 * console.log(expectArray(new Place("m"), [1, 2], "parts").length); // 2
 * ```
 *
 * @param place Where the value is.
 * @param value The value.
 * @param what Its description, for the message.
 * @returns The array.
 * @throws {CdfsError} `BAD_REQUEST` when it is not one.
 */
export function expectArray(place: Place, value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) place.fail(`${what} must be an array, got ${typeName(value)}`);
  return value;
}

/**
 * Refuses an object with a property not in `allowed` (a typo must not be ignored).
 *
 * @example
 * ```ts
 * import { checkKeys, Place } from "./value_checks.ts";
 * checkKeys(new Place("m"), { block: "{id}.a" }, ["block", "node"], "a source");
 * ```
 *
 * @param place Where the object is.
 * @param value The object.
 * @param allowed Its allowed properties.
 * @param what Its description, for the message.
 * @throws {CdfsError} `BAD_REQUEST` naming the unknown property.
 */
export function checkKeys(
  place: Place,
  value: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      place.fail(
        `${what} has an unknown property ${quoteForMessage(key)} (allowed: ${allowed.join(", ")})`,
      );
    }
  }
}

/**
 * A string, or fails.
 *
 * @example
 * ```ts
 * import { expectString, Place } from "./value_checks.ts";
 * console.log(expectString(new Place("m"), "RS(16,11)", "description")); // "RS(16,11)"
 * ```
 *
 * @param place Where the value is.
 * @param value The value.
 * @param what Its description, for the message.
 * @returns The string.
 * @throws {CdfsError} `BAD_REQUEST` when it is not one.
 */
export function expectString(place: Place, value: unknown, what: string): string {
  if (typeof value !== "string") place.fail(`${what} must be a string, got ${typeName(value)}`);
  return value;
}

/**
 * A string matching `pattern`, or fails.
 *
 * @example
 * ```ts
 * import { expectName, Place } from "./value_checks.ts";
 * console.log(expectName(new Place("m"), "enc_node0", /^[a-z_0-9]+$/, "program name"));
 * ```
 *
 * @param place Where the value is.
 * @param value The value.
 * @param pattern The names allowed.
 * @param what Its description, for the message.
 * @returns The name.
 * @throws {CdfsError} `BAD_REQUEST` when it is not a string or does not match.
 */
export function expectName(place: Place, value: unknown, pattern: RegExp, what: string): string {
  const name = expectString(place, value, what);
  if (!pattern.test(name)) {
    place.fail(`${what} ${quoteForMessage(name)} is not a valid name (${pattern.source})`);
  }
  return name;
}

/**
 * An integer in `min..max`, or fails.
 *
 * @example
 * ```ts
 * import { expectInteger, Place } from "./value_checks.ts";
 * console.log(expectInteger(new Place("m"), 16, 1, 4096, "n")); // 16
 * ```
 *
 * @param place Where the value is.
 * @param value The value.
 * @param min The least allowed.
 * @param max The largest allowed.
 * @param what Its description, for the message.
 * @returns The integer.
 * @throws {CdfsError} `BAD_REQUEST` when it is not an integer in range.
 */
export function expectInteger(
  place: Place,
  value: unknown,
  min: number,
  max: number,
  what: string,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    place.fail(
      `${what} must be an integer, got ${typeof value === "number" ? value : typeName(value)}`,
    );
  }
  if (value < min || value > max) place.fail(`${what} ${value} is outside ${min}..${max}`);
  return value;
}

/**
 * A node index in `0..n-1`, or fails.
 *
 * @example
 * ```ts
 * import { expectNode, Place } from "./value_checks.ts";
 * console.log(expectNode(new Place("m"), 3, 16, "node")); // 3
 * ```
 *
 * @param place Where the value is.
 * @param value The value.
 * @param n The module's number of nodes.
 * @param what Its description, for the message.
 * @returns The node index.
 * @throws {CdfsError} `BAD_REQUEST` when it is not a node of the module.
 */
export function expectNode(place: Place, value: unknown, n: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    place.fail(
      `${what} must be an integer, got ${typeof value === "number" ? value : typeName(value)}`,
    );
  }
  if (value < 0 || value >= n) place.fail(`${what} ${value} is outside 0..${n - 1} (n = ${n})`);
  return value;
}

/**
 * A block name template: contains `{id}` and expands to a valid block id, or fails.
 *
 * @example
 * ```ts
 * import { expectTemplate, Place } from "./value_checks.ts";
 * console.log(expectTemplate(new Place("m"), "{id}.part3", "block")); // "{id}.part3"
 * ```
 *
 * @param place Where the value is.
 * @param value The value.
 * @param what Its description, for the message.
 * @returns The template.
 * @throws {CdfsError} `BAD_REQUEST` when it is not a valid template.
 */
export function expectTemplate(place: Place, value: unknown, what: string): string {
  const template = expectString(place, value, what);
  if (!template.includes(ID_PLACEHOLDER)) {
    place.fail(`${what} ${quoteForMessage(template)} does not contain ${ID_PLACEHOLDER}`);
  }
  // Expanded with a one-character id, the template must be a valid block id; any longer id
  // is checked when the template is expanded.
  if (!isValidBlockId(template.replaceAll(ID_PLACEHOLDER, "x"))) {
    place.fail(
      `${what} ${quoteForMessage(template)} does not make a valid block id ` +
        `(only A-Z a-z 0-9 . _ - and ${ID_PLACEHOLDER}, no "..", at most 200 characters)`,
    );
  }
  return template;
}

/**
 * Renders an instruction for messages: `MULADD prev 300 local` (at most 80 characters).
 *
 * @example
 * ```ts
 * import { showInstruction } from "./value_checks.ts";
 * console.log(showInstruction(["MULADD", "prev", 300, "local"])); // "MULADD prev 300 local"
 * ```
 *
 * @param value An instruction, or anything.
 * @returns Its rendering.
 */
export function showInstruction(value: unknown): string {
  if (!Array.isArray(value)) return typeName(value);
  // A peer's value: a string outside printable ASCII is quoted (no line break gets into a log
  // line), anything else is named by its type (JSON.stringify of a 10,000-deep value would
  // overflow the stack).
  const text = value.slice(0, 5).map((x) =>
    typeof x === "string"
      ? /^[\x21-\x7e]{0,80}$/.test(x) ? x : quoteForMessage(x)
      : typeof x === "number"
      ? String(x)
      : typeName(x)
  ).join(" ");
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
