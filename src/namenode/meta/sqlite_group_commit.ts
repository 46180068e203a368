/**
 * The group commit of the SQLite backend.
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
 * **Writes that may sync later.** A group whose writes all may (`WriteOptions.syncLater`: the
 * SQLite store's creation of a pending file) commits with `synchronous = NORMAL`: WAL frames
 * written, no fsync. The next synced commit's fsync of the log covers them. Such a write
 * survives a crash of the process as soon as it is committed; only a power loss of the machine
 * before that next fsync can take it back.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { DatabaseSync } from "node:sqlite";
import { CdfsError, isCdfsError } from "../../core/errors.ts";

/** The most writes one group transaction takes; more wait for the next group. */
const MAX_GROUP = 256;

/** A write waiting for its group. */
interface QueuedWrite {
  readonly what: string;
  readonly fn: (synced: boolean) => unknown;
  readonly syncLater: boolean;
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
 * import type { GroupCommitStats } from "./sqlite_group_commit.ts";
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
 * How a write may be committed.
 *
 * @example
 * ```ts
 * import type { WriteOptions } from "./sqlite_group_commit.ts";
 * const creation: WriteOptions = { syncLater: true };
 * ```
 */
export interface WriteOptions {
  /**
   * The write may commit without waiting for the disk (`synchronous = NORMAL` in WAL mode): it
   * is answered once committed, survives a crash of this process at once, and a power loss
   * until the next synced commit on the database (which syncs the whole log, every write
   * before it included) may take it back. A group runs so only when every write in it may.
   * Default false: answered once durable.
   */
  readonly syncLater?: boolean;
}

/**
 * Thrown by a write that runs without the sync and finds that it needs it: its group is rolled
 * back, nothing of it applied, and run again, synced.
 *
 * @example
 * ```ts
 * import { SyncRequired } from "./sqlite_group_commit.ts";
 * const check = (synced: boolean) => {
 *   if (!synced) throw new SyncRequired("the reservation of ids must grow first");
 * };
 * check(true);
 * ```
 */
export class SyncRequired extends Error {
  /**
   * Creates the request for the sync.
   *
   * @param reason Why the write needs the sync.
   */
  constructor(reason: string) {
    super(`this write must be synced: ${reason}`);
    this.name = "SyncRequired";
  }
}

/**
 * The writes of one SQLite connection, grouped into transactions per event-loop turn.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { GroupCommit } from "./sqlite_group_commit.ts";
 * const db = new DatabaseSync(":memory:");
 * db.exec("CREATE TABLE t (x)");
 * const groups = new GroupCommit(db, true);
 * await Promise.all([1, 2, 3].map((x) => groups.write("insert", () => db.exec(`INSERT INTO t VALUES (${x})`))));
 * console.log(groups.stats); // { writes: 3, commits: 1, largest: 3 }
 * ```
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #enabled: boolean;
  /** Writes waiting for the end of this event-loop turn. */
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  #stats = { writes: 0, commits: 0, largest: 0 };
  #closed = false;

  /**
   * Groups the writes on `db`.
   *
   * @param db The connection.
   * @param enabled Whether the writes of one turn share a transaction (false: one each).
   */
  constructor(db: DatabaseSync, enabled: boolean) {
    this.#db = db;
    this.#enabled = enabled;
  }

  /** How the writes so far were grouped into transactions. */
  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /**
   * Queues a write for this turn's group (or runs it alone without group commit).
   *
   * @example
   * ```ts
   * import { DatabaseSync } from "node:sqlite";
   * import { GroupCommit } from "./sqlite_group_commit.ts";
   * const db = new DatabaseSync(":memory:");
   * db.exec("CREATE TABLE t (x)");
   * const groups = new GroupCommit(db, true);
   * await groups.write("insert", () => db.exec("INSERT INTO t VALUES (1)"));
   * console.log(groups.stats.commits); // 1
   * ```
   *
   * @param what What the write does, for messages.
   * @param fn The write; it runs inside the group's transaction, and is told whether that
   * transaction waits for the disk (`synced`). It may run twice: a group run without the sync
   * that one of its writes refused ({@linkcode SyncRequired}) is rolled back and run again.
   * @param options Whether the write may commit without waiting for the disk.
   * @returns What `fn` returned, once the group's COMMIT is durable (or, for a write that may
   * sync later, committed: see {@linkcode WriteOptions.syncLater}).
   * @throws {CdfsError} What `fn` threw, or `UNAVAILABLE`/`INTERNAL` when the group failed.
   */
  write<T>(what: string, fn: (synced: boolean) => T, options: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        what,
        fn,
        syncLater: options.syncLater ?? false,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.#enabled) {
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
   * Runs the writes already asked for (or fails them), then takes no more.
   *
   * @example
   * ```ts
   * import { DatabaseSync } from "node:sqlite";
   * import { GroupCommit } from "./sqlite_group_commit.ts";
   * const groups = new GroupCommit(new DatabaseSync(":memory:"), true);
   * groups.close();
   * ```
   */
  close(): void {
    while (this.#queue.length > 0) this.#flush();
    this.#closed = true;
  }

  /**
   * Runs the queued writes (at most {@linkcode MAX_GROUP}) in one transaction, each in a
   * savepoint of its own when there are several, and settles them once it committed. A group
   * of writes that all may sync later commits without waiting for the disk, unless one of them
   * asks for the sync ({@linkcode SyncRequired}): then it runs again, synced.
   */
  #flush(): void {
    const group = this.#queue.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    this.#stats.writes += group.length;
    this.#stats.largest = Math.max(this.#stats.largest, group.length);
    const unsynced = group.every((write) => write.syncLater)
      ? this.#transaction(group, false)
      : "sync";
    // A synced run never answers "sync": there a SyncRequired fails its write like any error.
    const outcomes = unsynced === "sync"
      ? this.#transaction(group, true) as WriteOutcome[]
      : unsynced;
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

  /**
   * One transaction of a group: the outcome of each write (every one failed when the group
   * failed), or "sync" when a write run without the sync asked for it (nothing was applied).
   */
  #transaction(group: readonly QueuedWrite[], synced: boolean): WriteOutcome[] | "sync" {
    this.#stats.commits++;
    const failAll = (error: unknown, what: string): WriteOutcome[] => {
      const failure = isCdfsError(error) ? error : sqliteError(error, what);
      return group.map(() => ({ ok: false, error: failure }));
    };
    try {
      // The connection's level is FULL; it may not change inside a transaction.
      if (!synced) this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      this.#restoreSync(synced);
      return failAll(error, group[0]!.what);
    }
    try {
      const alone = group.length === 1;
      const outcomes: WriteOutcome[] = [];
      for (const write of group) {
        try {
          if (!alone) this.#db.exec("SAVEPOINT w");
          const value = write.fn(synced);
          if (!alone) this.#db.exec("RELEASE w");
          outcomes.push({ ok: true, value });
        } catch (error) {
          if (error instanceof SyncRequired && !synced) {
            this.#rollback();
            return "sync";
          }
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
      return outcomes;
    } finally {
      this.#restoreSync(synced);
    }
  }

  /** Back to FULL after a transaction run without the sync. */
  #restoreSync(synced: boolean): void {
    if (synced) return;
    try {
      this.#db.exec("PRAGMA synchronous = FULL");
    } catch {
      // Only a closed connection refuses it, and that one writes nothing more.
    }
  }

  #rollback(): void {
    try {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    } catch {
      // The failed statement may already have rolled the transaction back.
    }
  }
}

/** SQLite's messages of SQLITE_BUSY, _LOCKED, _IOERR, _FULL and _CANTOPEN (sqlite3ErrStr). */
const UNAVAILABLE_MESSAGES =
  /^(database is locked|database table is locked|disk I\/O error|database or disk is full|unable to open database file)/;

/**
 * A SQLite error as a {@linkcode CdfsError}: `UNAVAILABLE` for a busy, locked, failing or full
 * database (another try may work), `INTERNAL` for anything else.
 *
 * @example
 * ```ts
 * import { sqliteError } from "./sqlite_group_commit.ts";
 * console.log(sqliteError(new Error("database is locked"), "reading").code); // "UNAVAILABLE"
 * ```
 *
 * @param error What SQLite threw.
 * @param what What was being done, for the message.
 * @returns The error to throw.
 */
export function sqliteError(error: unknown, what: string): CdfsError {
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
