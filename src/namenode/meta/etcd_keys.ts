/**
 * The key layout of the etcd backend. Everything lives under one prefix (default `/cdfs/`), so
 * several clusters can share an etcd:
 *
 * | key                                  | value                                              |
 * | ------------------------------------ | -------------------------------------------------- |
 * | `schema`                             | `{"version":1}`                                    |
 * | `seq/file`                           | the next file id no namenode has reserved          |
 * | `names/<name>`                       | the file's record (JSON), pending or committed     |
 * | `files/<fileId>`                     | the file's name (never changes: cacheable)         |
 * | `placements/<node>/<blockId>`        | the id of the file placing that copy on the node   |
 * | `nodes/<nodeId>`                     | the datanode's record (JSON)                       |
 * | `live/<nodeId>`                      | empty, attached to the node's liveness lease       |
 * | `reportgen/<nodeId>`                 | the generation of the node's current reported set  |
 * | `reports/<nodeId>/<gen>/<blockId>`   | `[length, firstSeen]`                              |
 *
 * Node ids and block ids use the block-id alphabet (no `/`), so every prefix above is exact.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { CdfsError } from "../../core/errors.ts";

/**
 * The default key prefix.
 */
export const DEFAULT_ETCD_PREFIX = "/cdfs/";

/**
 * Builds the keys of one cluster's metadata.
 *
 * @example
 * ```ts
 * import { EtcdKeys } from "./etcd_keys.ts";
 * const keys = new EtcdKeys("/lab/");
 * console.log(keys.name("a.txt")); // "/lab/names/a.txt"
 * ```
 */
export class EtcdKeys {
  /** The prefix, ending with `/`. */
  readonly prefix: string;

  /**
   * The keys under one prefix.
   *
   * @param prefix The prefix: starts and ends with `/` (one is added at the end if missing).
   * @throws {CdfsError} `USAGE` for a prefix that does not start with `/` or has control
   * characters.
   */
  constructor(prefix: string = DEFAULT_ETCD_PREFIX) {
    // deno-lint-ignore no-control-regex
    if (!prefix.startsWith("/") || /[\u0000-\u001f\u007f]/.test(prefix)) {
      throw new CdfsError("USAGE", `etcd key prefix ${JSON.stringify(prefix)} must start with "/"`);
    }
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
  }

  /** The schema version key. */
  schema(): string {
    return `${this.prefix}schema`;
  }

  /** The file id counter. */
  fileSeq(): string {
    return `${this.prefix}seq/file`;
  }

  /** A file's record, by name. */
  name(name: string): string {
    return `${this.prefix}names/${name}`;
  }

  /** The records of the files whose name starts with `prefix`. */
  namesWith(prefix: string): string {
    return `${this.prefix}names/${prefix}`;
  }

  /** A file's name, by id. */
  file(fileId: number): string {
    return `${this.prefix}files/${fileId}`;
  }

  /** The index entry of one copy on one node. */
  placement(node: string, blockId: string): string {
    return `${this.prefix}placements/${node}/${blockId}`;
  }

  /** The index entries of a node's copies (`node` undefined: every node's). */
  placementsOf(node?: string): string {
    return node === undefined ? `${this.prefix}placements/` : `${this.prefix}placements/${node}/`;
  }

  /** A datanode's record. */
  node(id: string): string {
    return `${this.prefix}nodes/${id}`;
  }

  /** Every datanode's record. */
  nodes(): string {
    return `${this.prefix}nodes/`;
  }

  /** A datanode's liveness key (attached to its lease). */
  live(id: string): string {
    return `${this.prefix}live/${id}`;
  }

  /** Every liveness key. */
  lives(): string {
    return `${this.prefix}live/`;
  }

  /** The current generation of a node's reported set. */
  reportGen(node: string): string {
    return `${this.prefix}reportgen/${node}`;
  }

  /** A reported block (`gen` undefined: the prefix of every generation of the node). */
  report(node: string, gen?: string, blockId?: string): string {
    if (gen === undefined) return `${this.prefix}reports/${node}/`;
    return `${this.prefix}reports/${node}/${gen}/${blockId ?? ""}`;
  }
}

/**
 * The end of the range of keys that start with `prefix` (etcd's `range_end`): the prefix with
 * its last byte below 0xff incremented and what follows dropped.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { prefixEnd } from "./etcd_keys.ts";
 * console.log(prefixEnd(Buffer.from("a/")).toString()); // "a0"
 * ```
 *
 * @param prefix The prefix.
 * @returns The first key after every key starting with it (`\0` for "to the end").
 */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
