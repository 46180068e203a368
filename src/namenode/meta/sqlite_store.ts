/**
 * The SQLite backend of {@linkcode MetadataStore}, through `node:sqlite` (nothing to install):
 * one file, WAL mode (readers never wait for the writer), `synchronous = FULL` (a commit
 * survives a power loss: this is the file system's metadata), foreign keys on, temporary
 * journals in memory. Every mutating operation runs in a `BEGIN IMMEDIATE` transaction: it
 * takes the write lock before reading, so two connections (two processes on one file)
 * serialize instead of failing on a lock upgrade; a connection waits up to the busy timeout for
 * the lock. The calls are synchronous inside, so the concurrent callers of one instance never
 * interleave inside a transaction.
 *
 * **Group commit.** `node:sqlite` is synchronous: a commit and its fsync stop the event loop,
 * so one transaction per write would make concurrent callers (a namenode's clients) wait for
 * one fsync each, in turn. Instead the writes asked for in one turn of the event loop are
 * queued and run at its end (`setImmediate`) in one `BEGIN IMMEDIATE` ... `COMMIT`, one fsync
 * for the group, each write inside a `SAVEPOINT` of its own: a write that fails (a name taken,
 * a bad state) is rolled back to its savepoint and fails alone, the others go on and see the
 * effects of the writes before them, as if run one after another in the order asked. No write
 * is answered before the group's COMMIT is durable; if the COMMIT (or an error that ends the
 * whole transaction) fails, every write of the group fails with it, none applied. A lone
 * write costs one more turn of the event loop, a few microseconds.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import {
  type BlockPlacement,
  type BlockRecord,
  type BlockRef,
  type BlockReport,
  compareBlocks,
  type DatanodeRecord,
  type DatanodeRegistration,
  type FileCommit,
  type FileRecord,
  type FileState,
  type HeartbeatStats,
  LIST_LIMITS,
  type ListFilesOptions,
  type NewFile,
  objectIdOf,
  type PlacedBlock,
  type ReportedBlock,
  type ReportResult,
  validateFileName,
  validateNamePrefix,
  validateNodeId,
} from "./model.ts";
import { nameTaken, noFileNamed, noFileWithId, notRegistered } from "./failures.ts";
import { classifyReport, planReport, reportIds, validateReport } from "./reports.ts";
import { migrate } from "./sqlite_schema.ts";
import { DEFAULT_DEAD_AFTER_MS, type MetadataStore, type MetadataStoreOptions } from "./store.ts";
import {
  abortRecord,
  addBlocksRecord,
  checkPlacementTarget,
  commitRecord,
  copyKey,
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

type Row = Record<string, unknown>;

/** The most writes one group transaction takes; more wait for the next group. */
const MAX_GROUP = 256;

/** A write waiting for its group. */
interface QueuedWrite {
  readonly what: string;
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** What one write of a group came to, before the group's COMMIT. */
type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Statistics of the group commit: how many writes, in how many transactions.
 *
 * @example
 * ```ts
 * import type { GroupCommitStats } from "./sqlite_store.ts";
 * const perCommit = (s: GroupCommitStats) => s.writes / Math.max(1, s.commits);
 * ```
 */
export interface GroupCommitStats {
  /** Writes run. */
  readonly writes: number;
  /** Transactions committed (or attempted) for them. */
  readonly commits: number;
  /** The most writes one transaction took. */
  readonly largest: number;
}

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
  /** Prepared statements by SQL text: preparing costs as much as running a small one. */
  readonly #statements = new Map<string, StatementSync>();
  readonly #groupCommit: boolean;
  /** Writes waiting for the end of this event-loop turn. */
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  #stats = { writes: 0, commits: 0, largest: 0 };
  #closed = false;

  private constructor(db: DatabaseSync, path: string, options: SqliteStoreOptions) {
    this.#db = db;
    this.description = `sqlite:${path}`;
    this.#now = options.now ?? Date.now;
    this.#deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.#groupCommit = options.groupCommit ?? true;
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
    return { ...this.#stats };
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
      this.#run(
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
    return this.#read(() => this.#all("SELECT * FROM datanodes ORDER BY id").map(nodeOf));
  }

  markDeadDatanodes(): Promise<string[]> {
    return this.#write("mark datanodes dead", () => {
      const now = this.#now();
      const silent = this.#all("SELECT * FROM datanodes WHERE state = 'alive' ORDER BY id")
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
          const row = this.#get("SELECT * FROM reported WHERE node = ? AND block_id = ?", node, id);
          if (row !== undefined) before.set(id, reportedOf(row));
          placed.push(...this.#placed(node, id));
        }
      }
      const changes = planReport(node, before, valid, this.#now());
      for (const r of changes.upserts) {
        this.#run(
          `INSERT INTO reported (node, block_id, length, first_seen) VALUES (?, ?, ?, ?)
           ON CONFLICT (node, block_id) DO UPDATE SET length = excluded.length`,
          r.node,
          r.blockId,
          r.length,
          r.firstSeen,
        );
      }
      for (const id of changes.removed) {
        this.#run("DELETE FROM reported WHERE node = ? AND block_id = ?", node, id);
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
      return this.#all(
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
    return this.#write("begin a file", () => {
      const valid = validateNewFile(spec);
      this.#checkPlacement(valid.blocks);
      const taken = this.#get("SELECT state FROM files WHERE name = ?", valid.name);
      if (taken !== undefined) throw nameTaken(valid.name, taken.state === "pending");
      const now = this.#now();
      // AUTOINCREMENT: an id is never handed out again, even after its file is deleted.
      const row = this.#get(
        `INSERT INTO files (name, code, length, digest, state, created, version)
         VALUES (?, ?, ?, ?, 'pending', ?, 1) RETURNING file_id`,
        valid.name,
        valid.code,
        valid.length ?? null,
        valid.digest ?? null,
        now,
      )!;
      const file = newFileRecord(row.file_id as number, valid, now);
      this.#saveFile(null, file);
      return file;
    });
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
      const row = this.#get("SELECT * FROM files WHERE name = ? AND state != 'pending'", valid);
      if (row === undefined) throw noFileNamed(valid);
      return this.#fileOf(row);
    });
  }

  getFileById(fileId: number): Promise<FileRecord> {
    return this.#read(() => this.#existingFile(validateFileId(fileId)));
  }

  listFiles(prefix: string, options: ListFilesOptions = {}): Promise<FileRecord[]> {
    return this.#read(() => {
      const valid = validateNamePrefix(prefix);
      const { after, limit, includePending } = validateListOptions(options);
      const rows = this.#all(
        `SELECT * FROM files
         WHERE name >= ? AND substr(name, 1, length(?)) = ? AND (? IS NULL OR name > ?)
           AND (? OR state != 'pending')
         ORDER BY name LIMIT ?`,
        valid,
        valid,
        valid,
        after ?? null,
        after ?? null,
        includePending ? 1 : 0,
        limit ?? LIST_LIMITS.default,
      );
      return rows.map((r) => this.#fileOf(r));
    });
  }

  deleteFile(name: string): Promise<FileRecord> {
    return this.#write("delete a file", () => {
      const valid = validateFileName(name);
      const row = this.#get("SELECT * FROM files WHERE name = ? AND state != 'pending'", valid);
      if (row === undefined) throw noFileNamed(valid);
      const file = this.#fileOf(row);
      this.#saveFile(file, null);
      return file;
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      // Writes already asked for are run (or fail) before the connection goes.
      while (this.#queue.length > 0) this.#flush();
      this.#closed = true;
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
  #write<T>(what: string, fn: () => T): Promise<T> {
    try {
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ what, fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#groupCommit) {
        this.#flush();
      } else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          while (this.#queue.length > 0 && !this.#closed) this.#flush();
        });
      }
    });
  }

  /**
   * Runs the queued writes (at most {@linkcode MAX_GROUP}) in one transaction, each in a
   * savepoint of its own when there are several, and settles them once it committed.
   */
  #flush(): void {
    const group = this.#queue.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    this.#stats.writes += group.length;
    this.#stats.commits++;
    this.#stats.largest = Math.max(this.#stats.largest, group.length);
    const failAll = (error: unknown, what: string) => {
      const failure = isCdfsError(error) ? error : sqliteError(error, what);
      for (const write of group) write.reject(failure);
    };
    try {
      this.#db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      return failAll(error, group[0]!.what);
    }
    const alone = group.length === 1;
    const outcomes: WriteOutcome[] = [];
    for (const write of group) {
      try {
        if (!alone) this.#db.exec("SAVEPOINT w");
        const value = write.fn();
        if (!alone) this.#db.exec("RELEASE w");
        outcomes.push({ ok: true, value });
      } catch (error) {
        outcomes.push({ ok: false, error });
        // Some errors (a full disk, an I/O error) end the whole transaction: then nothing of
        // the group stands, the writes before this one included.
        if (!this.#db.isTransaction) return failAll(error, write.what);
        try {
          if (alone) {
            this.#db.exec("ROLLBACK");
          } else {
            this.#db.exec("ROLLBACK TO w");
            this.#db.exec("RELEASE w");
          }
        } catch (undo) {
          this.#rollback();
          return failAll(undo, write.what);
        }
      }
    }
    if (this.#db.isTransaction) {
      try {
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#rollback();
        return failAll(error, `${group[0]!.what} (committing ${group.length} writes)`);
      }
    }
    group.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        write.resolve(outcome.value);
      } else {
        const { error } = outcome;
        write.reject(isCdfsError(error) ? error : sqliteError(error, write.what));
      }
    });
  }

  #rollback(): void {
    try {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    } catch {
      // The failed statement may already have rolled the transaction back.
    }
  }

  #mutate<T extends FileRecord | null>(
    fileId: number,
    what: string,
    change: (file: FileRecord) => T,
  ): Promise<T> {
    return this.#write(`${what} a file`, () => {
      const file = this.#existingFile(validateFileId(fileId));
      const next = change(file);
      this.#saveFile(file, next);
      return next;
    });
  }

  #open(): void {
    if (this.#closed) throw new CdfsError("UNAVAILABLE", `${this.description} is closed`);
  }

  // --- rows ---------------------------------------------------------------------------------

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(sql: string, ...params: SQLInputValue[]): void {
    this.#statement(sql).run(...params);
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#statement(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#statement(sql).all(...params) as Row[];
  }

  #node(id: string): DatanodeRecord | undefined {
    const row = this.#get("SELECT * FROM datanodes WHERE id = ?", id);
    return row === undefined ? undefined : nodeOf(row);
  }

  #existingNode(nodeId: string): DatanodeRecord {
    const id = validateNodeId(nodeId);
    const node = this.#node(id);
    if (node === undefined) throw notRegistered(id);
    return node;
  }

  #saveNode(node: DatanodeRecord): void {
    this.#run(
      "UPDATE datanodes SET capacity = ?, free = ?, last_heartbeat = ?, state = ? WHERE id = ?",
      node.capacity,
      node.free,
      node.lastHeartbeat,
      node.state,
      node.id,
    );
  }

  #checkPlacement(placements: readonly BlockPlacement[]): void {
    const ids = [...new Set(placements.map((p) => p.node))];
    // One statement for every node (a put places on up to 16), not one per node.
    const found = new Map(
      this.#all(
        "SELECT id, state FROM datanodes WHERE id IN (SELECT value FROM json_each(?))",
        JSON.stringify(ids),
      ).map((row) => [row.id as string, { state: row.state as DatanodeRecord["state"] }]),
    );
    for (const id of ids) checkPlacementTarget(id, found.get(id));
  }

  #reported(node: string): ReportedBlock[] {
    return this.#all("SELECT * FROM reported WHERE node = ? ORDER BY block_id", node)
      .map(reportedOf);
  }

  #placed(node: string, blockId?: string): PlacedBlock[] {
    const rows = this.#all(
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
    const row = this.#get("SELECT * FROM files WHERE file_id = ?", fileId);
    if (row === undefined) throw noFileWithId(fileId);
    return this.#fileOf(row);
  }

  #fileOf(row: Row): FileRecord {
    const fileId = row.file_id as number;
    const blocks = this.#all("SELECT * FROM blocks WHERE file_id = ?", fileId).map(blockOf);
    return {
      fileId,
      objectId: objectIdOf(fileId),
      name: row.name as string,
      code: row.code as string,
      length: row.length as number | null,
      digest: row.digest as string | null,
      state: row.state as FileState,
      created: row.created as number,
      committed: row.committed as number | null,
      version: row.version as number,
      blocks: blocks.sort(compareBlocks),
    };
  }

  /** Writes the difference between two records of one file (null: absent). */
  #saveFile(old: FileRecord | null, next: FileRecord | null): void {
    if (next === null) {
      if (old !== null) this.#run("DELETE FROM files WHERE file_id = ?", old.fileId);
      return;
    }
    // (A new file's row was just inserted with everything but its blocks.)
    if (old !== null) this.#updateFileRow(next);
    this.#saveBlocks(old, next);
  }

  #updateFileRow(next: FileRecord): void {
    this.#run(
      `UPDATE files SET length = ?, digest = ?, state = ?, committed = ?, version = ?
       WHERE file_id = ?`,
      next.length,
      next.digest,
      next.state,
      next.committed,
      next.version,
      next.fileId,
    );
  }

  #saveBlocks(old: FileRecord | null, next: FileRecord): void {
    if (old === null || old.blocks.length === 0) {
      for (const b of next.blocks) this.#insertBlock(next.fileId, b);
      return;
    }
    const before = new Map(old.blocks.map((b) => [copyKey(b.blockId, b.node), b]));
    // Each copy of the new record with its old self (undefined: a new copy).
    const pairs = next.blocks.map((b) => ({ b, was: before.get(copyKey(b.blockId, b.node)) }));
    for (const { was } of pairs) {
      if (was !== undefined) before.delete(copyKey(was.blockId, was.node));
    }
    // What is left of the old record are the copies dropped.
    for (const b of before.values()) {
      this.#run("DELETE FROM blocks WHERE node = ? AND block_id = ?", b.node, b.blockId);
    }
    // The copies kept whose state changed. When they all take one state and are every kept
    // copy not in it already (a commit: every pending copy becomes stored), one statement
    // does it; the rows of the file are the kept copies here (the new ones come after).
    let changed = 0;
    let to: BlockRecord["state"] | undefined;
    let bulk = true;
    for (const { b, was } of pairs) {
      if (was === undefined || was.state === b.state) continue;
      changed++;
      to ??= b.state;
      if (b.state !== to) bulk = false;
    }
    if (bulk && changed > 1) {
      for (const { b, was } of pairs) {
        if (was !== undefined && was.state !== to && b.state !== to) bulk = false;
      }
    }
    if (bulk && changed > 1) {
      this.#run(
        "UPDATE blocks SET state = ? WHERE file_id = ? AND state != ?",
        to!,
        next.fileId,
        to!,
      );
    } else {
      for (const { b, was } of pairs) {
        if (was === undefined || was.state === b.state) continue;
        this.#run(
          "UPDATE blocks SET state = ? WHERE node = ? AND block_id = ?",
          b.state,
          b.node,
          b.blockId,
        );
      }
    }
    for (const { b, was } of pairs) if (was === undefined) this.#insertBlock(next.fileId, b);
  }

  #insertBlock(fileId: number, b: BlockRecord): void {
    this.#run(
      "INSERT INTO blocks (node, block_id, file_id, kind, idx, state) VALUES (?, ?, ?, ?, ?, ?)",
      b.node,
      b.blockId,
      fileId,
      b.role.kind,
      b.role.index,
      b.state,
    );
  }
}

function nodeOf(row: Row): DatanodeRecord {
  return {
    id: row.id as string,
    address: row.address as string,
    capacity: row.capacity as number,
    free: row.free as number,
    registered: row.registered as number,
    lastHeartbeat: row.last_heartbeat as number,
    state: row.state as DatanodeRecord["state"],
  };
}

function blockOf(row: Row): BlockRecord {
  return {
    blockId: row.block_id as string,
    role: { kind: row.kind as "part" | "coded", index: row.idx as number },
    node: row.node as string,
    state: row.state as BlockRecord["state"],
  };
}

function reportedOf(row: Row): ReportedBlock {
  return {
    node: row.node as string,
    blockId: row.block_id as string,
    length: row.length as number,
    firstSeen: row.first_seen as number,
  };
}

/** SQLite's messages of SQLITE_BUSY, _LOCKED, _IOERR, _FULL and _CANTOPEN (sqlite3ErrStr). */
const UNAVAILABLE_MESSAGES =
  /^(database is locked|database table is locked|disk I\/O error|database or disk is full|unable to open database file)/;

function sqliteError(error: unknown, what: string): CdfsError {
  const message = (error as Error)?.message ?? String(error);
  const code = (error as { errcode?: number })?.errcode;
  // 5 SQLITE_BUSY, 6 SQLITE_LOCKED, 10 SQLITE_IOERR, 13 SQLITE_FULL, 14 SQLITE_CANTOPEN.
  const primary = code === undefined ? undefined : code & 0xff;
  // Deno's node:sqlite gives no errcode: then SQLite's messages for the same codes tell.
  const unavailable = code === undefined
    ? UNAVAILABLE_MESSAGES.test(message)
    : primary === 5 || primary === 6 || primary === 10 || primary === 13 || primary === 14;
  return new CdfsError(
    unavailable ? "UNAVAILABLE" : "INTERNAL",
    `metadata database: ${what}: ${message.split("\n")[0]}`,
    { cause: error },
  );
}
