/**
 * The SQLite backend of {@linkcode MetadataStore}, through `node:sqlite` (nothing to install):
 * one file, WAL mode (readers never wait for the writer), `synchronous = FULL` (a commit
 * survives a power loss: this is the file system's metadata; the one exception, the creation
 * of a pending file, is in `sqlite_file_ids.ts`), foreign keys on, temporary
 * journals in memory. Every mutating operation runs in a `BEGIN IMMEDIATE` transaction: it
 * takes the write lock before reading, so two connections (two processes on one file)
 * serialize instead of failing on a lock upgrade; a connection waits up to the busy timeout for
 * the lock. The calls are synchronous inside, so the concurrent callers of one instance never
 * interleave inside a transaction.
 *
 * **Group commit.** The writes asked for in one turn of the event loop share one transaction
 * and its fsync, each in a savepoint of its own (`sqlite_group_commit.ts`).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import {
  type BlockPlacement,
  type BlockRef,
  type BlockReport,
  type DatanodeRecord,
  type DatanodeRegistration,
  type FileCommit,
  type FileRecord,
  type FileState,
  type HeartbeatStats,
  type ListFilesOptions,
  type NewFile,
  type PendingFiles,
  type PlacedBlock,
  type ReportedBlock,
  type ReportResult,
} from "./model.ts";
import { validateFileName, validateNamePrefix, validateNodeId } from "./validate_fields.ts";
import { nameTaken, noFileNamed, noFileWithId, notRegistered } from "./failures.ts";
import { classifyReport, planReport, reportIds, validateReport } from "./reports.ts";
import { coverFileId, releaseFileIds, restoreFileIdFloor } from "./sqlite_file_ids.ts";
import {
  GroupCommit,
  type GroupCommitStats,
  sqliteError,
  type WriteOptions,
} from "./sqlite_group_commit.ts";
import { blockOf, nodeOf, reportedOf, SqliteRows } from "./sqlite_rows.ts";
import { migrate } from "./sqlite_schema.ts";
import { DEFAULT_DEAD_AFTER_MS, type MetadataStore, type MetadataStoreOptions } from "./store.ts";
import {
  abortRecord,
  addBlocksRecord,
  checkPlacementTarget,
  commitRecord,
  dropBlocksRecord,
  heartbeatRecord,
  isSilent,
  moveBlockRecord,
  newFileRecord,
  registerRecord,
  validateNewFile,
} from "./transitions.ts";
import { validateFileId, validateGrace, validateListOptions } from "./validate_args.ts";

/**
 * Options of {@linkcode SqliteMetadataStore.open}.
 *
 * @example
 * ```ts
 * import type { SqliteStoreOptions } from "./sqlite_store.ts";
 * const options: SqliteStoreOptions = { busyTimeoutMs: 10_000 };
 * ```
 */
export interface SqliteStoreOptions extends MetadataStoreOptions {
  /** How long a write waits for another connection's lock (default 10 000 ms). */
  readonly busyTimeoutMs?: number;
  /**
   * Whether the writes of one event-loop turn share a transaction and its fsync (default true;
   * false: one transaction per write, as the group's size-1 case).
   */
  readonly groupCommit?: boolean;
}

/** How many files the store remembers as it wrote them last (a few puts' worth of each client). */
const RECENT_FILES = 1024;

/** The condition on a file's state of each `pending` option of a listing. */
const PENDING_FILTER: Readonly<Record<PendingFiles, string>> = {
  exclude: "state != 'pending'",
  include: "1",
  only: "state = 'pending'",
};

/**
 * The SQLite metadata store.
 *
 * @example
 * ```ts
 * import { SqliteMetadataStore } from "./sqlite_store.ts";
 * const store = SqliteMetadataStore.open(await Deno.makeTempFile({ suffix: ".db" }));
 * await store.registerDatanode({ id: "dn0", address: "127.0.0.1:13100", capacity: 10, free: 10 });
 * console.log((await store.listDatanodes()).length); // 1
 * await store.close();
 * ```
 */
export class SqliteMetadataStore implements MetadataStore {
  /** `sqlite:PATH`. */
  readonly description: string;
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #deadAfterMs: number;
  readonly #rows: SqliteRows;
  readonly #groups: GroupCommit;
  /**
   * The files this store wrote last, as committed (by id, oldest first): a change to one of them
   * (a put's commit, an archive's steps) starts from this record when the file's version in the
   * database is still its version, instead of reading the file and its block rows back.
   */
  readonly #recent = new Map<number, FileRecord>();
  #closed = false;

  private constructor(db: DatabaseSync, path: string, options: SqliteStoreOptions) {
    this.#db = db;
    this.description = `sqlite:${path}`;
    this.#now = options.now ?? Date.now;
    this.#deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.#rows = new SqliteRows(db);
    this.#groups = new GroupCommit(db, options.groupCommit ?? true);
  }

  /**
   * How the writes so far were grouped into transactions.
   *
   * @example
   * ```ts
   * import { SqliteMetadataStore } from "./sqlite_store.ts";
   * const store = SqliteMetadataStore.open(":memory:");
   * await Promise.all([0, 1, 2].map((i) =>
   *   store.registerDatanode({ id: `dn${i}`, address: `127.0.0.1:${13100 + i}`, capacity: 10, free: 10 })
   * ));
   * console.log(store.groupCommitStats); // { writes: 3, commits: 1, largest: 3 }
   * await store.close();
   * ```
   */
  get groupCommitStats(): GroupCommitStats {
    return this.#groups.stats;
  }

  /**
   * Opens (creating if needed) the database at `path` and brings its schema up to date.
   *
   * @example
   * ```ts
   * import { SqliteMetadataStore } from "./sqlite_store.ts";
   * const store = SqliteMetadataStore.open(":memory:");
   * await store.close();
   * ```
   *
   * @param path A file path (`:memory:` for a private in-memory database).
   * @param options Clock, silence, busy timeout.
   * @returns The store.
   * @throws {CdfsError} `UNAVAILABLE` when the file cannot be opened or is from a newer cdfs.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteMetadataStore {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 10_000 });
    } catch (error) {
      throw new CdfsError(
        "UNAVAILABLE",
        `cannot open metadata database ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA foreign_keys = ON");
      // The statement journal of a multi-row UPDATE and the savepoints of a group commit
      // (transient, never needed after a crash: the WAL is) in memory, not in temporary files.
      db.exec("PRAGMA temp_store = MEMORY");
      migrate(db, path);
      restoreFileIdFloor(db);
    } catch (error) {
      db.close();
      throw isCdfsError(error) ? error : sqliteError(error, `opening ${path}`);
    }
    return new SqliteMetadataStore(db, path, options);
  }

  registerDatanode(registration: DatanodeRegistration): Promise<DatanodeRecord> {
    return this.#write("register a datanode", () => {
      const old = this.#node(validateNodeId(registration.id));
      const next = registerRecord(old ?? null, registration, this.#now());
      this.#rows.run(
        `INSERT INTO datanodes (id, address, capacity, free, registered, last_heartbeat, state)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity, free = excluded.free,
           last_heartbeat = excluded.last_heartbeat, state = excluded.state`,
        next.id,
        next.address,
        next.capacity,
        next.free,
        next.registered,
        next.lastHeartbeat,
        next.state,
      );
      return next;
    });
  }

  heartbeat(nodeId: string, stats: HeartbeatStats): Promise<DatanodeRecord> {
    return this.#write("record a heartbeat", () => {
      const next = heartbeatRecord(this.#existingNode(nodeId), stats, this.#now());
      this.#saveNode(next);
      return next;
    });
  }

  getDatanode(nodeId: string): Promise<DatanodeRecord> {
    return this.#read(() => this.#existingNode(nodeId));
  }

  listDatanodes(): Promise<DatanodeRecord[]> {
    return this.#read(() => this.#rows.all("SELECT * FROM datanodes ORDER BY id").map(nodeOf));
  }

  markDeadDatanodes(): Promise<string[]> {
    return this.#write("mark datanodes dead", () => {
      const now = this.#now();
      const silent = this.#rows.all("SELECT * FROM datanodes WHERE state = 'alive' ORDER BY id")
        .map(nodeOf).filter((n) => isSilent(n, now, this.#deadAfterMs));
      for (const node of silent) this.#saveNode({ ...node, state: "dead" });
      return silent.map((n) => n.id);
    });
  }

  markDatanodeDead(nodeId: string): Promise<boolean> {
    return this.#write("mark a datanode dead", () => {
      const node = this.#existingNode(nodeId);
      if (node.state === "dead") return false;
      this.#saveNode({ ...node, state: "dead" });
      return true;
    });
  }

  reportBlocks(nodeId: string, report: BlockReport): Promise<ReportResult> {
    return this.#write("record a block report", () => {
      const node = this.#existingNode(nodeId).id;
      const valid = validateReport(report);
      const before = new Map<string, ReportedBlock>();
      const placed: PlacedBlock[] = [];
      if (valid.kind === "full") {
        for (const r of this.#reported(node)) before.set(r.blockId, r);
        placed.push(...this.#placed(node));
      } else {
        for (const id of reportIds(valid)) {
          const row = this.#rows.get(
            "SELECT * FROM reported WHERE node = ? AND block_id = ?",
            node,
            id,
          );
          if (row !== undefined) before.set(id, reportedOf(row));
          placed.push(...this.#placed(node, id));
        }
      }
      const changes = planReport(node, before, valid, this.#now());
      for (const r of changes.upserts) {
        this.#rows.run(
          `INSERT INTO reported (node, block_id, length, first_seen) VALUES (?, ?, ?, ?)
           ON CONFLICT (node, block_id) DO UPDATE SET length = excluded.length`,
          r.node,
          r.blockId,
          r.length,
          r.firstSeen,
        );
      }
      for (const id of changes.removed) {
        this.#rows.run("DELETE FROM reported WHERE node = ? AND block_id = ?", node, id);
      }
      return classifyReport(placed, valid);
    });
  }

  listReportedBlocks(nodeId: string): Promise<ReportedBlock[]> {
    return this.#read(() => this.#reported(this.#existingNode(nodeId).id));
  }

  listOrphans(graceMs: number): Promise<ReportedBlock[]> {
    return this.#read(() => {
      const cutoff = this.#now() - validateGrace(graceMs);
      return this.#rows.all(
        `SELECT r.* FROM reported r WHERE r.first_seen <= ? AND NOT EXISTS
           (SELECT 1 FROM blocks b WHERE b.node = r.node AND b.block_id = r.block_id)
         ORDER BY r.node, r.block_id`,
        cutoff,
      ).map(reportedOf);
    });
  }

  blocksOnNode(nodeId: string): Promise<PlacedBlock[]> {
    return this.#read(() => this.#placed(validateNodeId(nodeId)));
  }

  beginFile(spec: NewFile): Promise<FileRecord> {
    // Committed without waiting for the disk: a pending file is no one's until its commit,
    // which is synced (and syncs it). A power loss in between takes the creation back, and
    // the commit then fails NOT_FOUND like that of an expired put (docs/namenode.md §7).
    return this.#write("begin a file", (synced) => {
      const valid = validateNewFile(spec);
      this.#checkPlacement(valid.blocks);
      const now = this.#now();
      // AUTOINCREMENT: an id is never handed out again, even after its file is deleted. A
      // taken name is found by the name's UNIQUE index, not by a query before every insert.
      let row;
      try {
        row = this.#rows.get(
          `INSERT INTO files (name, code, length, digest, state, created, version)
           VALUES (?, ?, ?, ?, 'pending', ?, 1) RETURNING file_id`,
          valid.name,
          valid.code,
          valid.length ?? null,
          valid.digest ?? null,
          now,
        )!;
      } catch (error) {
        throw this.#nameTakenError(valid.name) ?? error;
      }
      coverFileId(this.#rows, row.file_id as number, synced);
      const file = newFileRecord(row.file_id as number, valid, now);
      this.#rows.saveFile(null, file);
      return file;
    }, { syncLater: true }).then((file) => this.#remember(file.fileId, file));
  }

  commitFile(fileId: number, commit: FileCommit): Promise<FileRecord> {
    return this.#mutate(fileId, "commit", (file) => commitRecord(file, commit, this.#now()));
  }

  abortFile(fileId: number): Promise<FileRecord | null> {
    return this.#mutate(fileId, "abort", abortRecord);
  }

  addBlocks(fileId: number, placements: readonly BlockPlacement[]): Promise<FileRecord> {
    return this.#mutate(fileId, "add blocks to", (file) => {
      const next = addBlocksRecord(file, placements);
      this.#checkPlacement(placements);
      return next;
    });
  }

  dropBlocks(
    fileId: number,
    refs: readonly BlockRef[],
    state?: Exclude<FileState, "pending">,
  ): Promise<FileRecord> {
    return this.#mutate(fileId, "drop blocks of", (file) => dropBlocksRecord(file, refs, state));
  }

  moveBlock(fileId: number, blockId: string, from: string, to: string): Promise<FileRecord> {
    return this.#mutate(fileId, "move a block of", (file) => {
      const next = moveBlockRecord(file, blockId, from, to);
      this.#checkPlacement([{ node: to, role: { kind: "part", index: 0 } }]);
      return next;
    });
  }

  getFile(name: string): Promise<FileRecord> {
    return this.#read(() => {
      const valid = validateFileName(name);
      const row = this.#rows.get(
        "SELECT * FROM files WHERE name = ? AND state != 'pending'",
        valid,
      );
      if (row === undefined) throw noFileNamed(valid);
      return this.#rows.fileOf(row);
    });
  }

  getFileById(fileId: number): Promise<FileRecord> {
    return this.#read(() => this.#existingFile(validateFileId(fileId)));
  }

  listFiles(prefix: string, options: ListFilesOptions = {}): Promise<FileRecord[]> {
    return this.#read(() => {
      const valid = validateNamePrefix(prefix);
      const { after, limit, pending } = validateListOptions(options);
      // Pending files by their partial index (`files_pending`): the expiry's scan reads the
      // few pending files, not every file of the namespace with its blocks.
      const rows = this.#rows.all(
        `SELECT * FROM files
         WHERE name >= ? AND substr(name, 1, length(?)) = ? AND (? IS NULL OR name > ?)
           AND ${PENDING_FILTER[pending]}
         ORDER BY name LIMIT ?`,
        valid,
        valid,
        valid,
        after ?? null,
        after ?? null,
        limit,
      );
      return rows.map((r) => this.#rows.fileOf(r));
    });
  }

  deleteFile(name: string): Promise<FileRecord> {
    return this.#write("delete a file", () => {
      const valid = validateFileName(name);
      const row = this.#rows.get(
        "SELECT * FROM files WHERE name = ? AND state != 'pending'",
        valid,
      );
      if (row === undefined) throw noFileNamed(valid);
      const file = this.#rows.fileOf(row);
      this.#rows.saveFile(file, null);
      return file;
    }).then((file) => {
      this.#remember(file.fileId, null);
      return file;
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      // Writes already asked for are run (or fail) before the connection goes.
      this.#groups.close();
      this.#closed = true;
      try {
        releaseFileIds(this.#db);
      } catch {
        // The ids stay reserved: the next open skips them, no harm done.
      }
      this.#db.close();
    }
    return Promise.resolve();
  }

  // --- transactions -------------------------------------------------------------------------

  #read<T>(fn: () => T): Promise<T> {
    try {
      this.#open();
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(isCdfsError(error) ? error : sqliteError(error, "reading"));
    }
  }

  /** Queues a write for this turn's group (or runs it alone without group commit). */
  #write<T>(what: string, fn: (synced: boolean) => T, options?: WriteOptions): Promise<T> {
    try {
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#groups.write(what, fn, options);
  }

  #mutate<T extends FileRecord | null>(
    fileId: number,
    what: string,
    change: (file: FileRecord) => T,
  ): Promise<T> {
    return this.#write(`${what} a file`, () => {
      const id = validateFileId(fileId);
      const file = this.#recentFile(id) ?? this.#existingFile(id);
      const next = change(file);
      this.#rows.saveFile(file, next);
      return next;
    }).then((next) => this.#remember(fileId, next));
  }

  /**
   * Remembers what a write made of a file once it is durable (a write rolled back never gets
   * here), forgets a file removed.
   */
  #remember<T extends FileRecord | null>(fileId: number, file: T): T {
    this.#recent.delete(fileId);
    if (file !== null) {
      this.#recent.set(fileId, file);
      if (this.#recent.size > RECENT_FILES) {
        this.#recent.delete(this.#recent.keys().next().value!);
      }
    }
    return file;
  }

  /**
   * The remembered record of a file when the database still holds that version of it. Every
   * change to a file goes through `saveFile`, which writes its version + 1, whichever process
   * made it (another namenode on the same file), so an equal version is the same record.
   */
  #recentFile(fileId: number): FileRecord | undefined {
    const known = this.#recent.get(fileId);
    if (known === undefined) return undefined;
    const row = this.#rows.get("SELECT version FROM files WHERE file_id = ?", fileId);
    return row?.version === known.version ? known : undefined;
  }

  #open(): void {
    if (this.#closed) throw new CdfsError("UNAVAILABLE", `${this.description} is closed`);
  }

  // --- rows ---------------------------------------------------------------------------------

  #node(id: string): DatanodeRecord | undefined {
    const row = this.#rows.get("SELECT * FROM datanodes WHERE id = ?", id);
    return row === undefined ? undefined : nodeOf(row);
  }

  #existingNode(nodeId: string): DatanodeRecord {
    const id = validateNodeId(nodeId);
    const node = this.#node(id);
    if (node === undefined) throw notRegistered(id);
    return node;
  }

  #saveNode(node: DatanodeRecord): void {
    this.#rows.run(
      "UPDATE datanodes SET capacity = ?, free = ?, last_heartbeat = ?, state = ? WHERE id = ?",
      node.capacity,
      node.free,
      node.lastHeartbeat,
      node.state,
      node.id,
    );
  }

  /** `EXISTS` when a file holds the name (why an insert failed), else undefined. */
  #nameTakenError(name: string): CdfsError | undefined {
    try {
      const taken = this.#rows.get("SELECT state FROM files WHERE name = ?", name);
      return taken === undefined ? undefined : nameTaken(name, taken.state === "pending");
    } catch {
      return undefined; // the insert's own error says more
    }
  }

  #checkPlacement(placements: readonly BlockPlacement[]): void {
    const ids = [...new Set(placements.map((p) => p.node))];
    const list = JSON.stringify(ids);
    // One statement for every node (a put places on up to 16), not one per node; the usual
    // case, every node registered and alive, is a count, and only a shortfall reads the rows
    // to name the node at fault.
    const alive = this.#rows.get(
      `SELECT count(*) AS n FROM datanodes
       WHERE id IN (SELECT value FROM json_each(?)) AND state = 'alive'`,
      list,
    )!;
    if (alive.n === ids.length) return;
    const found = new Map(
      this.#rows.all(
        "SELECT id, state FROM datanodes WHERE id IN (SELECT value FROM json_each(?))",
        list,
      ).map((row) => [row.id as string, { state: row.state as DatanodeRecord["state"] }]),
    );
    for (const id of ids) checkPlacementTarget(id, found.get(id));
  }

  #reported(node: string): ReportedBlock[] {
    return this.#rows.all("SELECT * FROM reported WHERE node = ? ORDER BY block_id", node)
      .map(reportedOf);
  }

  #placed(node: string, blockId?: string): PlacedBlock[] {
    const rows = this.#rows.all(
      `SELECT b.*, f.name FROM blocks b JOIN files f ON f.file_id = b.file_id
       WHERE b.node = ? AND (? IS NULL OR b.block_id = ?) ORDER BY b.block_id`,
      node,
      blockId ?? null,
      blockId ?? null,
    );
    return rows.map((r) => ({
      ...blockOf(r),
      fileId: r.file_id as number,
      name: r.name as string,
    }));
  }

  #existingFile(fileId: number): FileRecord {
    const row = this.#rows.get("SELECT * FROM files WHERE file_id = ?", fileId);
    if (row === undefined) throw noFileWithId(fileId);
    return this.#rows.fileOf(row);
  }
}
