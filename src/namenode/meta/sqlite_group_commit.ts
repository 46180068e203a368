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
   * @param fn The write; it runs inside the group's transaction.
   * @returns What `fn` returned, once the group's COMMIT is durable.
   * @throws {CdfsError} What `fn` threw, or `UNAVAILABLE`/`INTERNAL` when the group failed.
   */
  write<T>(what: string, fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ what, fn, resolve: resolve as (value: unknown) => void, reject });
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
