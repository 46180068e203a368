/**
 * {@linkcode MetadataStore}: everything the NameNode keeps, behind one interface with two
 * backends (`sqlite_store.ts`, `etcd_store.ts`). Every mutating operation is atomic: it
 * happens whole or not at all, and two callers (two namenodes on one etcd, two connections on
 * one SQLite file) never allocate the same id, lose each other's update or see half a change.
 * The rules of each change live in `transitions.ts` and `reports.ts`, shared by both backends.
 *
 * @module
 */
import type {
  BlockPlacement,
  BlockRef,
  BlockReport,
  DatanodeRecord,
  DatanodeRegistration,
  FileCommit,
  FileRecord,
  FileState,
  HeartbeatStats,
  ListFilesOptions,
  NewFile,
  PlacedBlock,
  ReportedBlock,
  ReportResult,
} from "./model.ts";

/**
 * Options every backend takes.
 *
 * @example
 * ```ts
 * import type { MetadataStoreOptions } from "./store.ts";
 * let t = 0;
 * const options: MetadataStoreOptions = { now: () => t, deadAfterMs: 30_000 };
 * ```
 */
export interface MetadataStoreOptions {
  /** The clock of every timestamp, ms since the epoch (default `Date.now`; tests inject one). */
  readonly now?: () => number;
  /**
   * The silence after which {@linkcode MetadataStore.markDeadDatanodes} marks an alive node
   * dead (default 30 000 ms). On etcd it is also the TTL of each node's liveness lease.
   */
  readonly deadAfterMs?: number;
}

/**
 * The default of {@linkcode MetadataStoreOptions.deadAfterMs}.
 */
export const DEFAULT_DEAD_AFTER_MS = 30_000;

/**
 * The NameNode's metadata. Errors are `CdfsError`s: `BAD_REQUEST` (malformed input),
 * `NOT_FOUND` (no such file, block or datanode), `EXISTS` (name taken), `CONFLICT` (the record
 * is not in a state that allows the change, or concurrent updates kept winning),
 * `UNAVAILABLE` (the backend cannot be reached).
 *
 * @example
 * ```ts
 * import type { MetadataStore } from "./store.ts";
 * async function put(store: MetadataStore): Promise<void> {
 *   await store.registerDatanode({ id: "dn0", address: "127.0.0.1:13100", capacity: 1e9, free: 1e9 });
 *   const file = await store.beginFile({
 *     name: "a.txt",
 *     code: "replication",
 *     blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 *   });
 *   // ... store the blocks file.blocks[i].blockId on the datanodes ...
 *   await store.commitFile(file.fileId, { length: 5, digest: "ab".repeat(32) });
 * }
 * ```
 */
export interface MetadataStore {
  /** What the store is, for logs: `sqlite:/path` or `etcd:http://...` with its key prefix. */
  readonly description: string;

  /**
   * Registers a datanode, or re-registers it after a restart (same id, same address): alive,
   * heard from now. The same id at another address is refused with `CONFLICT`.
   */
  registerDatanode(registration: DatanodeRegistration): Promise<DatanodeRecord>;
  /** Records a heartbeat: heard from now, free space, alive again if it was dead. */
  heartbeat(nodeId: string, stats: HeartbeatStats): Promise<DatanodeRecord>;
  /** One datanode's record (`NOT_FOUND` if it never registered). */
  getDatanode(nodeId: string): Promise<DatanodeRecord>;
  /** Every datanode, by id. */
  listDatanodes(): Promise<DatanodeRecord[]>;
  /**
   * Marks dead every alive datanode silent for longer than `deadAfterMs` (on etcd, also those
   * whose liveness lease expired), atomically per node; returns the ids it marked.
   */
  markDeadDatanodes(): Promise<string[]>;
  /**
   * Marks one datanode dead now, whatever its last heartbeat: it said it is leaving (a
   * graceful stop), so waiting out `deadAfterMs` would only hide its loss. Returns true when
   * this call marked it, false when it was dead already (so only one caller logs the death).
   * Why it died is the caller's to log: the store keeps the state, not its history. Its next
   * registration or heartbeat makes it alive again. `NOT_FOUND` for an unregistered node.
   */
  markDatanodeDead(nodeId: string): Promise<boolean>;

  /**
   * Records a block report (full: replaces what the node reported; incremental: adds and
   * removes) and says which committed copies the node lacks and which reported blocks no file
   * places on it. `NOT_FOUND` for an unregistered node.
   */
  reportBlocks(nodeId: string, report: BlockReport): Promise<ReportResult>;
  /** What a node has reported, by block id. */
  listReportedBlocks(nodeId: string): Promise<ReportedBlock[]>;
  /**
   * Reported block copies that no file (pending ones included) places on the reporting node,
   * first reported at least `graceMs` ago: garbage for the datanodes to delete. By node, then
   * block id.
   */
  listOrphans(graceMs: number): Promise<ReportedBlock[]>;
  /** The copies files place on a node (pending ones too), by block id: what its loss costs. */
  blocksOnNode(nodeId: string): Promise<PlacedBlock[]>;

  /**
   * Begins a file: reserves the name (`EXISTS` if a file, pending or not, has it), allocates
   * a file id and the block ids, places the blocks on registered alive nodes. The file is
   * pending: invisible to {@linkcode getFile} and {@linkcode listFiles} until committed.
   */
  beginFile(spec: NewFile): Promise<FileRecord>;
  /** Commits a file's pending changes (see `commitRecord` in `transitions.ts`). */
  commitFile(fileId: number, commit: FileCommit): Promise<FileRecord>;
  /**
   * Aborts a file's pending changes: a pending file is removed and its name freed; a
   * committed one loses its pending blocks. Returns the record left, or null.
   */
  abortFile(fileId: number): Promise<FileRecord | null>;
  /** Adds pending blocks to a file (an encode's coded blocks, new replicas). */
  addBlocks(fileId: number, placements: readonly BlockPlacement[]): Promise<FileRecord>;
  /** Removes block copies from a committed file, optionally setting its state. */
  dropBlocks(
    fileId: number,
    refs: readonly BlockRef[],
    state?: Exclude<FileState, "pending">,
  ): Promise<FileRecord>;
  /**
   * Records that a copy moved from one node to another (after a repair): `CONFLICT` if it is
   * not on `from` any more, already on `to`, or `to` is dead.
   */
  moveBlock(fileId: number, blockId: string, from: string, to: string): Promise<FileRecord>;
  /** A committed file by name (`NOT_FOUND` for a pending or unknown one). */
  getFile(name: string): Promise<FileRecord>;
  /** A file by id, pending or not (`NOT_FOUND` if it does not exist). */
  getFileById(fileId: number): Promise<FileRecord>;
  /** Files whose names start with `prefix`, by name (UTF-8 byte order), one page. */
  listFiles(prefix: string, options?: ListFilesOptions): Promise<FileRecord[]>;
  /**
   * Deletes a committed file by name, returning its last record (the namenode then deletes
   * the blocks; copies left behind show up as orphans).
   */
  deleteFile(name: string): Promise<FileRecord>;

  /** Releases the connection. Further calls fail. */
  close(): Promise<void>;
}
