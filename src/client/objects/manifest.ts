/**
 * The manifest of a coded object: the block `{id}.manifest`, stored by `put-parts` on every
 * node of the object's node list, that says how the object was cut (module, k, n, the object's
 * length and the length of each part) and what it hashes to, so that `decode` can rebuild the
 * exact bytes from any reachable node's copy and prove them right.
 *
 * Later operations update it: an encode records where every coded block lives and its digest
 * (`coded`, `encoded`), a repair records where it rebuilt a block (a block repaired on another
 * node is found there), and dropping the part replicas records that the object is `archived`.
 * Each update rewrites every node's copy with `revision` one higher, so that a reader that
 * finds copies of different ages (a node that was down during an update) takes the newest.
 *
 * The block is one JSON object (UTF-8). Parsing checks every field it knows and ignores fields
 * it does not, so a later version may add some without breaking older readers; the fields added
 * after the first version are optional, so the first version's manifests still read.
 *
 * @module
 */
import { validateBlockId } from "../../core/block_id.ts";
import type { FieldWidth } from "../../coding/lang/program.ts";
import { CdfsError } from "../../core/errors.ts";
import { CODING_MODULE_SPEC_PATTERN } from "../../core/names.ts";

/**
 * The largest manifest block read back (a real one is about 250 bytes).
 */
export const MAX_MANIFEST_BYTES = 64 * 1024;

/** The start of an ISO-8601 time, as `Date.toISOString` writes it. */
const ISO_TIME = /^\d{4}-\d\d-\d\dT/;

/**
 * Where one coded block lives, as the manifest records it.
 *
 * @example
 * ```ts
 * import type { CodedBlockRecord } from "./manifest.ts";
 * const repaired: CodedBlockRecord = { node: 15, digest: "0123456789abcdef" };
 * ```
 */
export interface CodedBlockRecord {
  /** The logical node that stores it (an index into the object's node list). */
  readonly node: number;
  /** The block digest the node committed it with (16 hex digits), when known. */
  readonly digest?: string;
}

/**
 * The encode a manifest records: the run that made the coded blocks.
 *
 * @example
 * ```ts
 * import type { EncodeRecord } from "./manifest.ts";
 * const encoded: EncodeRecord = { run: "0".repeat(32), at: "2025-01-01T00:00:00.000Z" };
 * ```
 */
export interface EncodeRecord {
  /** The encode's run id (32 lowercase hex digits). */
  readonly run: string;
  /** When it committed, ISO-8601. */
  readonly at: string;
}

/**
 * The manifest's record that the part replicas were dropped on purpose: every coded block was
 * confirmed first, and the object now lives in its coded blocks only.
 *
 * @example
 * ```ts
 * import type { ArchiveRecord } from "./manifest.ts";
 * const archived: ArchiveRecord = { at: "2025-01-01T00:00:00.000Z", replicas: 22 };
 * ```
 */
export interface ArchiveRecord {
  /** When the replicas were dropped, ISO-8601. */
  readonly at: string;
  /** How many part replicas there were to drop. */
  readonly replicas: number;
}

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
  /** How many updates followed the put (absent: none); the highest copy is the newest. */
  readonly revision?: number;
  /**
   * Where coded block i lives (`coded[i]`, one record per coded block), once an encode or a
   * repair recorded it; absent: on the module's node for it.
   */
  readonly coded?: readonly CodedBlockRecord[];
  /** The last encode recorded; absent: none was (or an older cdfs did not record it). */
  readonly encoded?: EncodeRecord;
  /** Set when the part replicas were dropped after the encode (the object is archived). */
  readonly archived?: ArchiveRecord;
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
  const { revision, coded, encoded, archived } = manifest;
  const text = JSON.stringify({
    module,
    k,
    n,
    objectLength,
    partLength,
    sha256,
    created,
    // The later fields only when set, so a manifest that has none is the first version's.
    ...(revision === undefined ? {} : { revision }),
    ...(coded === undefined ? {} : {
      coded: coded.map(({ node, digest }) => (digest === undefined ? { node } : { node, digest })),
    }),
    ...(encoded === undefined ? {} : { encoded: { run: encoded.run, at: encoded.at } }),
    ...(archived === undefined ? {} : {
      archived: { at: archived.at, replicas: archived.replicas },
    }),
  });
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
  // A field of the record or of a nested object (`at` is its path in messages: "coded[3].").
  type Fields = { readonly values: Record<string, unknown>; readonly at: string };
  const top: Fields = { values: value as Record<string, unknown>, at: "" };
  const got = (field: unknown) => JSON.stringify(field) ?? "nothing";
  const text = (from: Fields, name: string, pattern: RegExp, what: string): string => {
    const field = from.values[name];
    if (typeof field !== "string" || !pattern.test(field)) {
      fail(`"${from.at}${name}" must be ${what}, got ${got(field)}`);
    }
    return field as string;
  };
  const count = (from: Fields, name: string, min: number): number => {
    const field = from.values[name];
    if (typeof field !== "number" || !Number.isSafeInteger(field) || field < min) {
      fail(`"${from.at}${name}" must be an integer >= ${min}, got ${got(field)}`);
    }
    return field as number;
  };
  const nested = (field: unknown, at: string): Fields => {
    if (typeof field !== "object" || field === null || Array.isArray(field)) {
      fail(`"${at}" must be a JSON object, got ${got(field)}`);
    }
    return { values: field as Record<string, unknown>, at: `${at}.` };
  };
  const module = text(top, "module", CODING_MODULE_SPEC_PATTERN, "a coding module name");
  const k = count(top, "k", 1);
  const n = count(top, "n", 1);
  const objectLength = count(top, "objectLength", 0);
  const partLength = count(top, "partLength", 0);
  const sha256 = text(top, "sha256", /^[0-9a-f]{64}$/, "64 lowercase hex digits");
  const created = text(top, "created", ISO_TIME, "an ISO-8601 time");
  // Both fields allow the GF(2^16) rounding (one more byte), nothing else.
  const least = Math.ceil(objectLength / k);
  if (partLength !== least && partLength !== least + 1) {
    fail(`partLength ${partLength} does not fit objectLength ${objectLength} in k = ${k} parts`);
  }
  const manifest: ObjectManifest = { module, k, n, objectLength, partLength, sha256, created };
  const record = top.values;
  const revision = record.revision === undefined ? undefined : count(top, "revision", 0);
  let coded: CodedBlockRecord[] | undefined;
  if (record.coded !== undefined) {
    if (!Array.isArray(record.coded) || record.coded.length !== n) {
      fail(`"coded" must be a list of n = ${n} records, got ${got(record.coded)}`);
    }
    coded = (record.coded as unknown[]).map((entry, i) => {
      const fields = nested(entry, `coded[${i}]`);
      const node = count(fields, "node", 0);
      if (fields.values.digest === undefined) return { node };
      return { node, digest: text(fields, "digest", /^[0-9a-f]{16}$/, "16 lowercase hex digits") };
    });
  }
  let encoded: EncodeRecord | undefined;
  if (record.encoded !== undefined) {
    const fields = nested(record.encoded, "encoded");
    encoded = {
      run: text(fields, "run", /^[0-9a-f]{32}$/, "a run id (32 lowercase hex digits)"),
      at: text(fields, "at", ISO_TIME, "an ISO-8601 time"),
    };
  }
  let archived: ArchiveRecord | undefined;
  if (record.archived !== undefined) {
    const fields = nested(record.archived, "archived");
    archived = {
      at: text(fields, "at", ISO_TIME, "an ISO-8601 time"),
      replicas: count(fields, "replicas", 0),
    };
  }
  return {
    ...manifest,
    ...(revision === undefined ? {} : { revision }),
    ...(coded === undefined ? {} : { coded }),
    ...(encoded === undefined ? {} : { encoded }),
    ...(archived === undefined ? {} : { archived }),
  };
}
