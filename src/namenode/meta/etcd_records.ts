/**
 * The records the etcd backend keeps under its keys: a file's or datanode's record plus the
 * token of the operation that wrote it last (and a datanode's lease), and their parsing.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import type { DatanodeRecord, FileRecord } from "./model.ts";
import type { Kv } from "./etcd_kv.ts";

/**
 * A file's record as stored: with the token of the operation that wrote it.
 *
 * @example
 * ```ts
 * import type { StoredFile } from "./etcd_records.ts";
 * const token = (stored: StoredFile) => stored.op;
 * ```
 */
export type StoredFile = FileRecord & { readonly op: string };

/**
 * A datanode's record as stored: with the token of the operation that wrote it and the lease
 * holding its liveness key.
 *
 * @example
 * ```ts
 * import type { StoredNode } from "./etcd_records.ts";
 * const lease = (stored: StoredNode) => stored.lease;
 * ```
 */
export type StoredNode = DatanodeRecord & { readonly op: string; readonly lease: string };

/**
 * Parses a file's stored record.
 *
 * @example
 * ```ts
 * import { parseFile } from "./etcd_records.ts";
 * const kv = { key: "/cdfs/names/a", value: `{"fileId":1,"op":"x:1"}`, modRevision: "5", lease: "0" };
 * console.log(parseFile(kv).op); // "x:1"
 * ```
 *
 * @param kv The key and its value.
 * @returns The record.
 * @throws {CdfsError} `CORRUPT` when the value is not JSON.
 */
export function parseFile(kv: Kv): StoredFile {
  return parseJson(kv) as StoredFile;
}

/**
 * Parses a datanode's stored record.
 *
 * @example
 * ```ts
 * import { parseNode } from "./etcd_records.ts";
 * const kv = { key: "/cdfs/nodes/dn0", value: `{"id":"dn0","lease":"7"}`, modRevision: "5", lease: "0" };
 * console.log(parseNode(kv).lease); // "7"
 * ```
 *
 * @param kv The key and its value.
 * @returns The record.
 * @throws {CdfsError} `CORRUPT` when the value is not JSON.
 */
export function parseNode(kv: Kv): StoredNode {
  return parseJson(kv) as StoredNode;
}

function parseJson(kv: Kv): unknown {
  try {
    return JSON.parse(kv.value);
  } catch (error) {
    throw new CdfsError("CORRUPT", `etcd key ${kv.key} does not hold valid JSON`, {
      cause: error,
    });
  }
}

/**
 * A file's record without the bookkeeping fields.
 *
 * @example
 * ```ts
 * import { fileOf, type StoredFile } from "./etcd_records.ts";
 * const strip = (stored: StoredFile) => fileOf(stored);
 * ```
 *
 * @param stored The stored record.
 * @returns The record.
 */
export function fileOf(stored: StoredFile): FileRecord {
  const { op: _op, ...file } = stored;
  return file;
}

/**
 * A datanode's record without the bookkeeping fields.
 *
 * @example
 * ```ts
 * import { nodeOf, type StoredNode } from "./etcd_records.ts";
 * const strip = (stored: StoredNode) => nodeOf(stored);
 * ```
 *
 * @param stored The stored record.
 * @returns The record.
 */
export function nodeOf(stored: StoredNode): DatanodeRecord {
  const { op: _op, lease: _lease, ...node } = stored;
  return node;
}
