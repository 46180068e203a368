/**
 * The SQLite schema of the metadata store and its migrations. The version lives in
 * `PRAGMA user_version`; {@linkcode migrate} brings a database from whatever version it has up
 * to {@linkcode SCHEMA_VERSION} in one write transaction (so two processes opening a fresh file
 * at once do not both create it), and refuses a database from a newer cdfs.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { CdfsError } from "../../core/errors.ts";

/**
 * The schema version this code writes.
 */
export const SCHEMA_VERSION = 3;

/**
 * Migration `i` takes a database from version `i` to `i + 1`. Tables are STRICT (a wrong type
 * is an error, not a silent conversion); the block and report tables are keyed by (node,
 * block id), the questions asked of them most (block reports, orphans), with an index by file.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE datanodes (
    id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    free INTEGER NOT NULL,
    registered INTEGER NOT NULL,
    last_heartbeat INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('alive', 'dead'))
  ) STRICT;
  CREATE TABLE files (
    file_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL,
    length INTEGER,
    digest TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'replicated', 'encoded', 'archived')),
    created INTEGER NOT NULL,
    committed INTEGER,
    version INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE blocks (
    node TEXT NOT NULL REFERENCES datanodes(id),
    block_id TEXT NOT NULL,
    file_id INTEGER NOT NULL REFERENCES files(file_id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('part', 'coded')),
    idx INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'stored')),
    PRIMARY KEY (node, block_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX blocks_by_file ON blocks(file_id);
  CREATE TABLE reported (
    node TEXT NOT NULL REFERENCES datanodes(id),
    block_id TEXT NOT NULL,
    length INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (node, block_id)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: the pending files by name, for the expiry of abandoned creations (which otherwise read
  // every file with its blocks); a file leaves it at its commit.
  `
  CREATE INDEX files_pending ON files(name) WHERE state = 'pending';
  `,
  // 3: the file ids reserved by synced commits, so that a creation committed without the sync
  // and taken back by a power loss never has its id handed out again (sqlite_file_ids.ts).
  `
  CREATE TABLE file_id_reservation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    up_to INTEGER NOT NULL
  ) STRICT;
  INSERT INTO file_id_reservation (id, up_to)
    VALUES (1, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'files'), 0));
  `,
];

/**
 * Brings the database to {@linkcode SCHEMA_VERSION}.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { migrate } from "./sqlite_schema.ts";
 * const db = new DatabaseSync(":memory:");
 * migrate(db, "memory");
 * db.close();
 * ```
 *
 * @param db An open connection (busy timeout already set).
 * @param where The path, for messages.
 * @throws {CdfsError} `UNAVAILABLE` when the database was written by a newer cdfs.
 */
export function migrate(db: DatabaseSync, where: string): void {
  if (userVersion(db) === SCHEMA_VERSION) return;
  writeTransaction(db, () => {
    // Read again inside the write lock: another process may have migrated meanwhile.
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new CdfsError(
        "UNAVAILABLE",
        `metadata database ${where} has schema version ${version}, newer than this cdfs (${SCHEMA_VERSION})`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}

/**
 * Runs `fn` in a write transaction of its own (`BEGIN IMMEDIATE`: the write lock first, so two
 * processes do not both read, then both write): committed when it returns, rolled back when
 * it throws. For the store's housekeeping outside the group commit (schema, id reservation).
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { writeTransaction } from "./sqlite_schema.ts";
 * const db = new DatabaseSync(":memory:");
 * writeTransaction(db, () => db.exec("CREATE TABLE t (x)"));
 * db.close();
 * ```
 *
 * @param db The connection.
 * @param fn The writes.
 */
export function writeTransaction(db: DatabaseSync, fn: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    fn();
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function userVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}
