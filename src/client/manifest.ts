/**
 * The manifest of a coded object: the block `{id}.manifest`, stored by `put-parts` on every
 * node of the object's node list, that says how the object was cut (module, k, n, the object's
 * length and the length of each part) and what it hashes to, so that `decode` can rebuild the
 * exact bytes from any reachable node's copy and prove them right.
 *
 * The block is one JSON object (UTF-8). Parsing checks every field it knows and ignores fields
 * it does not, so a later version may add some without breaking older readers.
 *
 * @module
 */
import { validateBlockId } from "../block_id.ts";
import type { FieldWidth } from "../coding/program.ts";
import { CdfsError } from "../errors.ts";

/**
 * The largest manifest block read back (a real one is about 250 bytes).
 *
 * @example
 * ```ts
 * import { MAX_MANIFEST_BYTES } from "./manifest.ts";
 * console.log(MAX_MANIFEST_BYTES); // 65536
 * ```
 */
export const MAX_MANIFEST_BYTES = 64 * 1024;

/**
 * What a manifest records.
 *
 * @example
 * ```ts
 * import type { ObjectManifest } from "./manifest.ts";
 * const manifest: ObjectManifest = {
 *   module: "rapidraid",
 *   k: 11,
 *   n: 16,
 *   objectLength: 100,
 *   partLength: 10,
 *   sha256: "0".repeat(64),
 *   created: "2025-01-01T00:00:00.000Z",
 * };
 * ```
 */
export interface ObjectManifest {
  /** The coding module's name. */
  readonly module: string;
  /** The number of parts. */
  readonly k: number;
  /** The number of coded blocks. */
  readonly n: number;
  /** The object's length in bytes. */
  readonly objectLength: number;
  /** The length of every part (and coded block); the last part is zero-padded to it. */
  readonly partLength: number;
  /** The SHA-256 of the object, 64 lowercase hex digits. */
  readonly sha256: string;
  /** When the parts were put, ISO-8601. */
  readonly created: string;
}

/**
 * The id of an object's manifest block.
 *
 * @example
 * ```ts
 * import { manifestBlockId } from "./manifest.ts";
 * console.log(manifestBlockId("movie")); // "movie.manifest"
 * ```
 *
 * @param objectId The object id.
 * @returns `{id}.manifest`.
 * @throws {CdfsError} BAD_REQUEST when the object id (or the manifest id) is not a valid
 * block id.
 */
export function manifestBlockId(objectId: string): string {
  validateBlockId(objectId, "object id");
  return validateBlockId(`${objectId}.manifest`, "manifest block id");
}

/**
 * The length of each part when an object of `objectLength` bytes is cut into k parts:
 * ⌈objectLength / k⌉, rounded up to an even number in GF(2^16) (whose regions hold 16-bit
 * symbols).
 *
 * @example
 * ```ts
 * import { partLengthOf } from "./manifest.ts";
 * console.log(partLengthOf(100, 11, 8), partLengthOf(100, 11, 16)); // 10 10
 * console.log(partLengthOf(12, 11, 16)); // 2
 * ```
 *
 * @param objectLength The object's length in bytes.
 * @param k The number of parts, at least 1.
 * @param field The module's field.
 * @returns The part length.
 */
export function partLengthOf(objectLength: number, k: number, field: FieldWidth): number {
  const length = Math.ceil(objectLength / k);
  return field === 16 && length % 2 === 1 ? length + 1 : length;
}

/**
 * Serializes a manifest (one line of JSON and a newline).
 *
 * @example
 * ```ts
 * import { encodeManifest, parseManifest } from "./manifest.ts";
 * const manifest = {
 *   module: "rs",
 *   k: 11,
 *   n: 16,
 *   objectLength: 0,
 *   partLength: 0,
 *   sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
 *   created: new Date(0).toISOString(),
 * };
 * console.log(parseManifest(encodeManifest(manifest)).module); // "rs"
 * ```
 *
 * @param manifest The manifest.
 * @returns Its bytes.
 */
export function encodeManifest(manifest: ObjectManifest): Uint8Array<ArrayBuffer> {
  const { module, k, n, objectLength, partLength, sha256, created } = manifest;
  const text = JSON.stringify({ module, k, n, objectLength, partLength, sha256, created });
  return new TextEncoder().encode(`${text}\n`);
}

/**
 * Parses and checks a manifest block.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * try {
 *   parseManifest(new TextEncoder().encode("{}"), "node 0");
 * } catch (e) {
 *   console.log((e as Error).message); // "manifest from node 0: \"module\" must be ..."
 * }
 * ```
 *
 * @param bytes The block's bytes.
 * @param source Where it came from, for messages (e.g. `node 3 (10.0.0.3:13100)`).
 * @returns The manifest.
 * @throws {CdfsError} CORRUPT naming the source and the first field that is missing or wrong.
 */
export function parseManifest(bytes: Uint8Array, source = "manifest"): ObjectManifest {
  const fail = (reason: string): never => {
    throw new CdfsError("CORRUPT", `manifest from ${source}: ${reason}`);
  };
  if (bytes.length > MAX_MANIFEST_BYTES) {
    fail(`${bytes.length} bytes, more than ${MAX_MANIFEST_BYTES}: not a manifest`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    fail("not a JSON document");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("not a JSON object");
  }
  const record = value as Record<string, unknown>;
  const text = (name: string, pattern: RegExp, what: string): string => {
    const field = record[name];
    if (typeof field !== "string" || !pattern.test(field)) {
      fail(`"${name}" must be ${what}, got ${JSON.stringify(field) ?? "nothing"}`);
    }
    return field as string;
  };
  const count = (name: string, min: number): number => {
    const field = record[name];
    if (typeof field !== "number" || !Number.isSafeInteger(field) || field < min) {
      fail(`"${name}" must be an integer >= ${min}, got ${JSON.stringify(field) ?? "nothing"}`);
    }
    return field as number;
  };
  const module = text("module", /^[a-z][a-z0-9_-]{0,63}$/, "a coding module name");
  const k = count("k", 1);
  const n = count("n", 1);
  const objectLength = count("objectLength", 0);
  const partLength = count("partLength", 0);
  const sha256 = text("sha256", /^[0-9a-f]{64}$/, "64 lowercase hex digits");
  const created = text("created", /^\d{4}-\d\d-\d\dT/, "an ISO-8601 time");
  // Both fields allow the GF(2^16) rounding (one more byte), nothing else.
  const least = Math.ceil(objectLength / k);
  if (partLength !== least && partLength !== least + 1) {
    fail(`partLength ${partLength} does not fit objectLength ${objectLength} in k = ${k} parts`);
  }
  return { module, k, n, objectLength, partLength, sha256, created };
}
