/**
 * The NameNode's metadata model: what a file, its blocks, a datanode and a block report are,
 * the bounds every backend enforces, and the id scheme. Plain data; no I/O (the validators of
 * its fields are in `validate_fields.ts`).
 *
 * A file is created in two steps: {@linkcode FileState} `pending` (its name is reserved and its
 * block ids allocated, but readers do not see it) and then a committed state. A block record is
 * one stored copy: a replicated part is two records with the same block id on two nodes. Block
 * ids are `f<fileId>.part<j>` / `f<fileId>.coded<i>`, the names the coding modules' templates
 * `{id}.part<j>` / `{id}.coded<i>` give when `{id}` is the file's {@linkcode FileRecord.objectId};
 * since a file id is never allocated twice, neither is a block id.
 *
 * @module
 */

/**
 * The longest file name, in UTF-8 bytes (it is part of a key in etcd, where keys should stay
 * small; HDFS bounds a path component at 255 and a path at 8000).
 */
export const MAX_FILE_NAME_BYTES = 1024;

/**
 * The most block records one file may have. etcd refuses a transaction of more than 128
 * operations by default, and creating or deleting a file writes one index key per block plus
 * two; 100 leaves room and covers RapidRAID's 22 replicas and 16 coded blocks twice over.
 */
export const MAX_BLOCKS_PER_FILE = 100;

/**
 * The largest part or coded-block index (GF(2^16) codes may have thousands of blocks).
 */
export const MAX_ROLE_INDEX = 65535;

/**
 * The most entries (added plus removed) of one incremental block report: it is applied in one
 * etcd transaction. A datanode sends one per stored or deleted block, so real ones are tiny; a
 * caller with more sends a full report instead.
 */
export const MAX_INCREMENTAL_REPORT = 100;

/**
 * The most blocks of one full block report (a datanode of 100 000 blocks of 64 MiB holds
 * 6.4 TB).
 */
export const MAX_FULL_REPORT = 100_000;

/**
 * The longest coding module name.
 */
export const MAX_CODE_NAME_LENGTH = 64;

/**
 * The life of a file. `pending`: begun, name reserved, invisible to readers. `replicated`: its
 * parts are stored as replicas. `encoded`: its coded blocks are stored, replicas still kept.
 * `archived`: only coded blocks are kept.
 *
 * @example
 * ```ts
 * import type { FileState } from "./model.ts";
 * const state: FileState = "replicated";
 * ```
 */
export type FileState = "pending" | "replicated" | "encoded" | "archived";

/**
 * Every {@linkcode FileState}, in life order.
 *
 * @example
 * ```ts
 * import { FILE_STATES } from "./model.ts";
 * console.log(FILE_STATES.includes("archived")); // true
 * ```
 */
export const FILE_STATES: readonly FileState[] = ["pending", "replicated", "encoded", "archived"];

/**
 * The life of a block record. `pending`: allocated, being written, not yet committed (a reader
 * must not rely on it). `stored`: committed. Whether the node really still has the block is
 * what its block reports say (see {@linkcode ReportResult}), not a state kept here: reports are
 * frequent and large, and rewriting file records on every one would not scale.
 *
 * @example
 * ```ts
 * import type { BlockState } from "./model.ts";
 * const state: BlockState = "stored";
 * ```
 */
export type BlockState = "pending" | "stored";

/**
 * What a block is to its file: part `j` of the data, or coded block `i`.
 *
 * @example
 * ```ts
 * import type { BlockRole } from "./model.ts";
 * const role: BlockRole = { kind: "coded", index: 15 };
 * ```
 */
export interface BlockRole {
  /** `part` (a piece of the file's data) or `coded` (an output of the code). */
  readonly kind: "part" | "coded";
  /** `j` or `i`, from 0. */
  readonly index: number;
}

/**
 * Where a block of a file is to be stored: its role and the datanode.
 *
 * @example
 * ```ts
 * import type { BlockPlacement } from "./model.ts";
 * const placement: BlockPlacement = { role: { kind: "part", index: 0 }, node: "dn3" };
 * ```
 */
export interface BlockPlacement {
  /** What the block is to the file. */
  readonly role: BlockRole;
  /** The id of the datanode that stores it. */
  readonly node: string;
}

/**
 * One stored copy of a block of a file.
 *
 * @example
 * ```ts
 * import type { BlockRecord } from "./model.ts";
 * const block: BlockRecord = {
 *   blockId: "f7.part0",
 *   role: { kind: "part", index: 0 },
 *   node: "dn3",
 *   state: "stored",
 * };
 * ```
 */
export interface BlockRecord extends BlockPlacement {
  /** The block id on the datanode (`f<fileId>.part<j>` or `f<fileId>.coded<i>`). */
  readonly blockId: string;
  /** Whether the copy is committed. */
  readonly state: BlockState;
}

/**
 * A file's record.
 *
 * @example
 * ```ts
 * import type { FileRecord } from "./model.ts";
 * const file: FileRecord = {
 *   fileId: 7,
 *   objectId: "f7",
 *   name: "photos/cat.jpg",
 *   code: "replication",
 *   length: 1000,
 *   digest: "ab".repeat(32),
 *   state: "replicated",
 *   created: 1764000000000,
 *   committed: 1764000001000,
 *   version: 2,
 *   blocks: [],
 * };
 * ```
 */
export interface FileRecord {
  /** Allocated by the store, never twice. */
  readonly fileId: number;
  /** `f<fileId>`: the `{id}` of the file's block ids in the coding modules' templates. */
  readonly objectId: string;
  /** The file's name (unique among the files that exist, pending ones included). */
  readonly name: string;
  /** The coding module the file is stored with (`rapidraid`, `rs`, `replication`, ...). */
  readonly code: string;
  /** The length in bytes; null until known (at the latest at commit). */
  readonly length: number | null;
  /** The digest of the content, lowercase hex; null until known (at the latest at commit). */
  readonly digest: string | null;
  /** See {@linkcode FileState}. */
  readonly state: FileState;
  /** When it was begun, ms since the epoch (the store's clock). */
  readonly created: number;
  /** When it was first committed, ms since the epoch; null while pending. */
  readonly committed: number | null;
  /** 1 at creation, +1 at every change: a cheap way to see that a file changed. */
  readonly version: number;
  /** Its block records, sorted by role (parts first) and node. */
  readonly blocks: readonly BlockRecord[];
}

/**
 * What a caller gives to begin a file.
 *
 * @example
 * ```ts
 * import type { NewFile } from "./model.ts";
 * const spec: NewFile = {
 *   name: "a.bin",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 * };
 * ```
 */
export interface NewFile {
  /** The name to reserve. */
  readonly name: string;
  /** The coding module's name. */
  readonly code: string;
  /** Where each block goes (1 to {@linkcode MAX_BLOCKS_PER_FILE}). */
  readonly blocks: readonly BlockPlacement[];
  /** The length, when already known. */
  readonly length?: number;
  /** The digest, when already known. */
  readonly digest?: string;
}

/**
 * What a commit sets: length and digest (required for a pending file unless given at begin,
 * and if given again they must match) and the state the file is in now.
 *
 * @example
 * ```ts
 * import type { FileCommit } from "./model.ts";
 * const commit: FileCommit = { length: 10, digest: "ab".repeat(32), state: "replicated" };
 * ```
 */
export interface FileCommit {
  /** The length in bytes. */
  readonly length?: number;
  /** The digest, lowercase hex. */
  readonly digest?: string;
  /** The new state (not `pending`); default: the current one, `replicated` for a new file. */
  readonly state?: Exclude<FileState, "pending">;
}

/**
 * One block copy named by its id and node.
 *
 * @example
 * ```ts
 * import type { BlockRef } from "./model.ts";
 * const ref: BlockRef = { blockId: "f7.part0", node: "dn3" };
 * ```
 */
export interface BlockRef {
  /** The block id. */
  readonly blockId: string;
  /** The datanode holding the copy. */
  readonly node: string;
}

/**
 * Whether a datanode is heard from.
 *
 * @example
 * ```ts
 * import type { DatanodeState } from "./model.ts";
 * const state: DatanodeState = "alive";
 * ```
 */
export type DatanodeState = "alive" | "dead";

/**
 * What a datanode says when it registers.
 *
 * @example
 * ```ts
 * import type { DatanodeRegistration } from "./model.ts";
 * const reg: DatanodeRegistration = { id: "dn0", address: "127.0.0.1:13100", capacity: 100, free: 90 };
 * ```
 */
export interface DatanodeRegistration {
  /** Its stable id (block-id alphabet). */
  readonly id: string;
  /** `HOST:PORT` where clients reach it. */
  readonly address: string;
  /** Its capacity in bytes. */
  readonly capacity: number;
  /** Its free bytes. */
  readonly free: number;
}

/**
 * What a heartbeat carries.
 *
 * @example
 * ```ts
 * import type { HeartbeatStats } from "./model.ts";
 * const stats: HeartbeatStats = { free: 80 };
 * ```
 */
export interface HeartbeatStats {
  /** Its free bytes now. */
  readonly free: number;
  /** Its capacity, when it changed. */
  readonly capacity?: number;
}

/**
 * A datanode's record.
 *
 * @example
 * ```ts
 * import type { DatanodeRecord } from "./model.ts";
 * const node: DatanodeRecord = {
 *   id: "dn0",
 *   address: "127.0.0.1:13100",
 *   capacity: 100,
 *   free: 90,
 *   registered: 1764000000000,
 *   lastHeartbeat: 1764000000000,
 *   state: "alive",
 * };
 * ```
 */
export interface DatanodeRecord {
  /** Its id. */
  readonly id: string;
  /** `HOST:PORT`, canonical form. */
  readonly address: string;
  /** Capacity in bytes. */
  readonly capacity: number;
  /** Free bytes at the last heartbeat. */
  readonly free: number;
  /** When it first registered, ms since the epoch. */
  readonly registered: number;
  /** When it was last heard from (registration or heartbeat), ms since the epoch. */
  readonly lastHeartbeat: number;
  /**
   * Alive, or dead after a silence (`MetadataStore.markDeadDatanodes`) or because it said it
   * was leaving (`MetadataStore.markDatanodeDead`).
   */
  readonly state: DatanodeState;
}

/**
 * One block in a block report.
 *
 * @example
 * ```ts
 * import type { ReportedBlockEntry } from "./model.ts";
 * const entry: ReportedBlockEntry = { blockId: "f7.part0", length: 1000 };
 * ```
 */
export interface ReportedBlockEntry {
  /** The block id. */
  readonly blockId: string;
  /** Its length in bytes on the node. */
  readonly length: number;
}

/**
 * A block report: `full` replaces everything the node reported before; `incremental` adds and
 * removes blocks.
 *
 * @example
 * ```ts
 * import type { BlockReport } from "./model.ts";
 * const full: BlockReport = { kind: "full", blocks: [{ blockId: "f7.part0", length: 10 }] };
 * const delta: BlockReport = { kind: "incremental", added: [], removed: ["f7.part0"] };
 * ```
 */
export type BlockReport =
  | { readonly kind: "full"; readonly blocks: readonly ReportedBlockEntry[] }
  | {
    readonly kind: "incremental";
    readonly added: readonly ReportedBlockEntry[];
    readonly removed: readonly string[];
  };

/**
 * A block a datanode has reported, as the store keeps it.
 *
 * @example
 * ```ts
 * import type { ReportedBlock } from "./model.ts";
 * const seen: ReportedBlock = { node: "dn0", blockId: "f7.part0", length: 10, firstSeen: 1 };
 * ```
 */
export interface ReportedBlock {
  /** The node that reported it. */
  readonly node: string;
  /** The block id. */
  readonly blockId: string;
  /** Its length as last reported. */
  readonly length: number;
  /** When the node first reported it (kept across reports), ms since the epoch. */
  readonly firstSeen: number;
}

/**
 * A block copy some file places on a node, with its file.
 *
 * @example
 * ```ts
 * import type { PlacedBlock } from "./model.ts";
 * const placed: PlacedBlock = {
 *   fileId: 7,
 *   name: "a.bin",
 *   blockId: "f7.part0",
 *   role: { kind: "part", index: 0 },
 *   node: "dn0",
 *   state: "stored",
 * };
 * ```
 */
export interface PlacedBlock extends BlockRecord {
  /** The file's id. */
  readonly fileId: number;
  /** The file's name. */
  readonly name: string;
}

/**
 * What a block report told the store, for the namenode to act on.
 *
 * @example
 * ```ts
 * import type { ReportResult } from "./model.ts";
 * const result: ReportResult = { missing: [], unknown: ["f9.coded3"] };
 * ```
 */
export interface ReportResult {
  /**
   * Committed copies a file places on this node that the report says the node does not have
   * (left out of a full report, or removed by an incremental one): lost, to be repaired.
   */
  readonly missing: readonly PlacedBlock[];
  /**
   * Reported block ids that no file places on this node: kept as reported, and listed by
   * `listOrphans` once older than the grace period (a repair's new copy is unknown until the
   * move is recorded, so it must not be collected at once).
   */
  readonly unknown: readonly string[];
}

/**
 * Options of file listing.
 *
 * @example
 * ```ts
 * import type { ListFilesOptions } from "./model.ts";
 * const options: ListFilesOptions = { after: "a/b", limit: 100 };
 * ```
 */
export interface ListFilesOptions {
  /** Only names after this one (the last name of the previous page). */
  readonly after?: string;
  /** At most this many (1..10000, default 1000). */
  readonly limit?: number;
  /**
   * Pending files: none (`exclude`, the default: a pending file is invisible until its
   * commit), too (`include`), or them alone (`only`: a namenode expiring abandoned creations
   * looks at nothing else).
   */
  readonly pending?: PendingFiles;
}

/**
 * Which pending files a listing holds: none, them too, or them alone (see
 * {@linkcode ListFilesOptions.pending}).
 *
 * @example
 * ```ts
 * import { PENDING_FILES, type PendingFiles } from "./model.ts";
 * const only: PendingFiles = PENDING_FILES[2];
 * console.log(only); // "only"
 * ```
 */
export const PENDING_FILES = ["exclude", "include", "only"] as const;

/** One of {@linkcode PENDING_FILES}. */
export type PendingFiles = typeof PENDING_FILES[number];

/**
 * The default and the largest page of a file listing.
 */
export const LIST_LIMITS = { default: 1000, max: 10_000 } as const;

/**
 * The object id of a file: the `{id}` of its block ids.
 *
 * @example
 * ```ts
 * import { objectIdOf } from "./model.ts";
 * console.log(objectIdOf(7)); // "f7"
 * ```
 *
 * @param fileId The file id.
 * @returns `f<fileId>`.
 */
export function objectIdOf(fileId: number): string {
  return `f${fileId}`;
}

/**
 * The block id of a block of a file, in the coding modules' naming.
 *
 * @example
 * ```ts
 * import { blockIdOf } from "./model.ts";
 * console.log(blockIdOf(7, { kind: "coded", index: 3 })); // "f7.coded3"
 * ```
 *
 * @param fileId The file id.
 * @param role What the block is to the file.
 * @returns `f<fileId>.part<j>` or `f<fileId>.coded<i>`.
 */
export function blockIdOf(fileId: number, role: BlockRole): string {
  return `${objectIdOf(fileId)}.${role.kind}${role.index}`;
}

/**
 * Orders block records: parts before coded blocks, then by index, then by node, so that every
 * backend returns a file's blocks in the same order.
 *
 * @example
 * ```ts
 * import { compareBlocks } from "./model.ts";
 * const a = { blockId: "f1.part0", role: { kind: "part", index: 0 }, node: "b", state: "stored" } as const;
 * const b = { ...a, node: "a" };
 * console.log([a, b].sort(compareBlocks)[0]?.node); // "a"
 * ```
 *
 * @param a One block.
 * @param b Another.
 * @returns Negative, zero or positive.
 */
export function compareBlocks(a: BlockRecord, b: BlockRecord): number {
  if (a.role.kind !== b.role.kind) return a.role.kind === "part" ? -1 : 1;
  if (a.role.index !== b.role.index) return a.role.index - b.role.index;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}
