/**
 * The replies of the namenode ops (docs/namenode.md): their types, exactly as they are on the
 * wire (the client's strict validator is `parse_response.ts`). Times are ISO-8601 strings, as
 * in the datanode protocol.
 *
 * @module
 */
import type { BlockState, DatanodeState, FileState } from "./meta/model.ts";
import type { StatusReport } from "./status.ts";

/**
 * A datanode as replies name it: id and address.
 *
 * @example
 * ```ts
 * import type { NodeRef } from "./responses.ts";
 * const ref: NodeRef = { node: "dn3", address: "127.0.0.1:13103" };
 * ```
 */
export interface NodeRef {
  /** The datanode id. */
  node: string;
  /** Where clients reach it. */
  address: string;
}

/**
 * One block copy of a file, with where to find it.
 *
 * @example
 * ```ts
 * import type { BlockView } from "./responses.ts";
 * const block: BlockView = {
 *   block: "f7.part0",
 *   kind: "part",
 *   index: 0,
 *   node: "dn3",
 *   address: "127.0.0.1:13103",
 *   alive: true,
 *   state: "stored",
 * };
 * ```
 */
export interface BlockView {
  /** The block id on the datanode. */
  block: string;
  /** `part` or `coded`. */
  kind: "part" | "coded";
  /** The part or coded-block index. */
  index: number;
  /** The datanode holding the copy. */
  node: string;
  /** Its address (null if the namenode has no record of it). */
  address: string | null;
  /** Whether the datanode is alive now (heard from within the namenode's `deadAfterMs`). */
  alive: boolean;
  /** `pending` (being written) or `stored` (committed). */
  state: BlockState;
}

/**
 * What a file's record and its entry in a listing both say of it.
 *
 * @example
 * ```ts
 * import type { FileFacts } from "./responses.ts";
 * const facts: FileFacts = {
 *   fileId: 7,
 *   name: "a.bin",
 *   code: "replication",
 *   length: 10,
 *   digest: "ab".repeat(32),
 *   state: "replicated",
 *   created: "2026-01-01T00:00:00.000Z",
 *   committed: "2026-01-01T00:00:01.000Z",
 * };
 * ```
 */
export interface FileFacts {
  /** The file id. */
  fileId: number;
  /** The name. */
  name: string;
  /** The coding module. */
  code: string;
  /** The length in bytes (null until known). */
  length: number | null;
  /** The digest, lowercase hex (null until known). */
  digest: string | null;
  /** `pending`, `replicated`, `encoded` or `archived`. */
  state: FileState;
  /** When it was created. */
  created: string;
  /** When it was first committed (null while pending). */
  committed: string | null;
}

/**
 * A file with its blocks.
 *
 * @example
 * ```ts
 * import type { FileView } from "./responses.ts";
 * const file: FileView = {
 *   fileId: 7,
 *   objectId: "f7",
 *   name: "a.bin",
 *   code: "replication",
 *   length: 10,
 *   digest: "ab".repeat(32),
 *   state: "replicated",
 *   created: "2026-01-01T00:00:00.000Z",
 *   committed: "2026-01-01T00:00:01.000Z",
 *   version: 2,
 *   blocks: [],
 * };
 * ```
 */
export interface FileView extends FileFacts {
  /** `f<fileId>`: the `{id}` of its block ids in the coding modules' templates. */
  objectId: string;
  /** +1 at every change. */
  version: number;
  /** Its block copies, parts first, then by index and node. */
  blocks: BlockView[];
}

/**
 * A file in a listing (without its blocks).
 *
 * @example
 * ```ts
 * import type { FileSummary } from "./responses.ts";
 * const entry: FileSummary = {
 *   fileId: 7,
 *   name: "a.bin",
 *   code: "replication",
 *   length: 10,
 *   digest: "ab".repeat(32),
 *   state: "replicated",
 *   created: "2026-01-01T00:00:00.000Z",
 *   committed: "2026-01-01T00:00:01.000Z",
 *   blocks: 2,
 * };
 * ```
 */
export interface FileSummary extends FileFacts {
  /** How many block copies it has. */
  blocks: number;
}

/**
 * A datanode's record.
 *
 * @example
 * ```ts
 * import type { DatanodeView } from "./responses.ts";
 * const node: DatanodeView = {
 *   node: "dn0",
 *   address: "127.0.0.1:13100",
 *   capacity: 100,
 *   free: 90,
 *   registered: "2026-01-01T00:00:00.000Z",
 *   lastHeartbeat: "2026-01-01T00:00:03.000Z",
 *   state: "alive",
 * };
 * ```
 */
export interface DatanodeView {
  /** The id. */
  node: string;
  /** The address. */
  address: string;
  /** Capacity in bytes. */
  capacity: number;
  /** Free bytes at the last heartbeat. */
  free: number;
  /** When it first registered. */
  registered: string;
  /** When it was last heard from. */
  lastHeartbeat: string;
  /** Alive (heard from within `deadAfterMs`) or dead. */
  state: DatanodeState;
}

/**
 * Why a block copy cannot be read: its datanode is dead, or the datanode's reports say it
 * does not have the block.
 *
 * @example
 * ```ts
 * import type { UnavailableBlock } from "./responses.ts";
 * const lost: UnavailableBlock = { block: "f7.coded3", node: "dn3", why: "dead" };
 * ```
 */
export interface UnavailableBlock {
  /** The block id. */
  block: string;
  /** The datanode the file places it on. */
  node: string;
  /** `dead` or `missing`. */
  why: "dead" | "missing";
}

/**
 * A datanode that holds the blocks of more than one logical node of a file's code: a repair
 * that found no datanode holding nothing of the file put them together. Its loss takes all of
 * them at once, so the file survives fewer datanode losses than its code promises.
 *
 * @example
 * ```ts
 * import type { SharedDatanode } from "./responses.ts";
 * const shared: SharedDatanode = { node: "dn15", blocks: ["f7.coded3", "f7.coded15"] };
 * ```
 */
export interface SharedDatanode {
  /** The datanode. */
  node: string;
  /** The file's block copies on it, in the record's order. */
  blocks: string[];
}

/**
 * The health of a file. `healthy`: every committed copy is available. `degraded`: some are
 * not, but the available ones decode the file. `lost`: they do not. `unknown`: some copies are
 * unavailable and the namenode cannot load the file's code to tell (see `note`).
 *
 * @example
 * ```ts
 * import type { FileHealth } from "./responses.ts";
 * const health: FileHealth = {
 *   fileId: 7,
 *   name: "a.bin",
 *   code: "rapidraid",
 *   state: "archived",
 *   status: "degraded",
 *   decodable: true,
 *   blocks: 16,
 *   unavailable: [{ block: "f7.coded3", node: "dn3", why: "dead" }],
 *   note: null,
 *   shared: [],
 * };
 * ```
 */
export interface FileHealth {
  /** The file id. */
  fileId: number;
  /** The name. */
  name: string;
  /** The coding module. */
  code: string;
  /** The file's state. */
  state: FileState;
  /** See above. */
  status: "healthy" | "degraded" | "lost" | "unknown";
  /** Whether the available copies decode the file (null when it could not be decided). */
  decodable: boolean | null;
  /** How many committed copies the file has. */
  blocks: number;
  /** The copies that cannot be read. */
  unavailable: UnavailableBlock[];
  /** Why the status is `unknown`, else null. */
  note: string | null;
  /**
   * The datanodes that are several logical nodes of the file's code (empty when none, or when
   * the namenode cannot load the code). Whatever the status: a healthy file can have them.
   */
  shared: SharedDatanode[];
}

/**
 * A block copy no file places on the datanode that reported it.
 *
 * @example
 * ```ts
 * import type { OrphanView } from "./responses.ts";
 * const orphan: OrphanView = {
 *   node: "dn0",
 *   address: "127.0.0.1:13100",
 *   block: "f9.part0",
 *   length: 10,
 *   firstSeen: "2026-01-01T00:00:00.000Z",
 * };
 * ```
 */
export interface OrphanView {
  /** The datanode holding it. */
  node: string;
  /** Its address. */
  address: string | null;
  /** The block id. */
  block: string;
  /** Its length as reported. */
  length: number;
  /** When the datanode first reported it. */
  firstSeen: string;
}

/**
 * The reply of each op.
 *
 * @example
 * ```ts
 * import type { NameNodeResponseOf } from "./responses.ts";
 * const ping: NameNodeResponseOf["PING"] = { service: "namenode", version: "0.1.0", id: "nn1" };
 * ```
 */
export interface NameNodeResponseOf {
  /** Who answers. */
  PING: { service: "namenode"; version: string; id: string };
  /** The registration, and how often the datanode should heartbeat and report. */
  REGISTER: {
    node: string;
    address: string;
    state: "alive";
    deadAfterMs: number;
    heartbeatIntervalMs: number;
    blockReportIntervalMs: number;
  };
  /** The heartbeat was recorded. */
  HEARTBEAT: { node: string; state: "alive" };
  /** The datanode is dead from now on (until it registers or heartbeats again). */
  LEAVE: { node: string; state: "dead" };
  /** What the report told the namenode: copies it lacks, blocks no file places on it. */
  BLOCK_REPORT: {
    node: string;
    kind: "full" | "incremental";
    blocks: number;
    missing: number;
    unknown: number;
  };
  /** The file (pending) and the datanode of each logical node of the layout. */
  CREATE_FILE: { file: FileView; nodes: (NodeRef | null)[] };
  /** The committed file. */
  COMMIT_FILE: { file: FileView };
  /** What is left of the file (null: a pending file was removed). */
  ABORT_FILE: { fileId: number; file: FileView | null };
  /** The file. */
  GET_FILE: { file: FileView };
  /** One page of files; `next` is the `after` of the next page, null on the last. */
  LIST_FILES: { files: FileSummary[]; next: string | null };
  /** The file's last record (its blocks are now to be deleted from the datanodes). */
  DELETE_FILE: { file: FileView };
  /** The file after the move. */
  MOVE_BLOCK: { file: FileView };
  /** The file with its new pending blocks; with a layout, the datanode of each logical node. */
  ADD_BLOCKS: { file: FileView; nodes: (NodeRef | null)[] | null };
  /** The file after the drop. */
  DROP_BLOCKS: { file: FileView };
  /** One page of datanodes. */
  LIST_DATANODES: { datanodes: DatanodeView[]; next: string | null };
  /** One page of file healths. */
  FSCK: { files: FileHealth[]; next: string | null };
  /** One page of orphans; `next` is the `after` of the next page. */
  ORPHANS: { orphans: OrphanView[]; next: { block: string; node: string } | null };
  /** The cluster at a glance. */
  STATUS: StatusReport;
}
