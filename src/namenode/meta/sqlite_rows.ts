/**
 * The rows of the SQLite backend: prepared statements (cached by SQL text: preparing costs as
 * much as running a small one), and the records of files, blocks, datanodes and reports as
 * rows, including the smallest set of statements that turns one record of a file into the
 * next.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import {
  type BlockRecord,
  compareBlocks,
  type DatanodeRecord,
  type FileRecord,
  type FileState,
  objectIdOf,
  type ReportedBlock,
} from "./model.ts";
import { copyKey } from "./transitions.ts";

/**
 * A row as `node:sqlite` returns it.
 *
 * @example
 * ```ts
 * import type { Row } from "./sqlite_rows.ts";
 * const row: Row = { id: "dn0" };
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * Statements and file records on one SQLite connection.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { SqliteRows } from "./sqlite_rows.ts";
 * const rows = new SqliteRows(new DatabaseSync(":memory:"));
 * console.log(rows.get("SELECT 1 AS one")); // { one: 1 }
 * ```
 */
export class SqliteRows {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  /**
   * Runs statements on `db`.
   *
   * @param db The connection.
   */
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs a statement.
   *
   * @example
   * ```ts
   * import { DatabaseSync } from "node:sqlite";
   * import { SqliteRows } from "./sqlite_rows.ts";
   * new SqliteRows(new DatabaseSync(":memory:")).run("CREATE TABLE t (x)");
   * ```
   *
   * @param sql The statement.
   * @param params Its parameters.
   */
  run(sql: string, ...params: SQLInputValue[]): void {
    this.#statement(sql).run(...params);
  }

  /**
   * The first row of a query.
   *
   * @example
   * ```ts
   * import { DatabaseSync } from "node:sqlite";
   * import { SqliteRows } from "./sqlite_rows.ts";
   * console.log(new SqliteRows(new DatabaseSync(":memory:")).get("SELECT 2 AS two")); // { two: 2 }
   * ```
   *
   * @param sql The query.
   * @param params Its parameters.
   * @returns The row, or undefined.
   */
  get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#statement(sql).get(...params) as Row | undefined;
  }

  /**
   * Every row of a query.
   *
   * @example
   * ```ts
   * import { DatabaseSync } from "node:sqlite";
   * import { SqliteRows } from "./sqlite_rows.ts";
   * console.log(new SqliteRows(new DatabaseSync(":memory:")).all("SELECT 3 AS x").length); // 1
   * ```
   *
   * @param sql The query.
   * @param params Its parameters.
   * @returns The rows.
   */
  all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#statement(sql).all(...params) as Row[];
  }

  /**
   * A file's record from its row and its blocks' rows.
   *
   * @example
   * Not run by `deno test --doc`: it needs the schema.
   * ```ts ignore
   * const file = rows.fileOf(rows.get("SELECT * FROM files WHERE file_id = ?", 7)!);
   * ```
   *
   * @param row The file's row.
   * @returns The record, its blocks in {@linkcode compareBlocks} order.
   */
  fileOf(row: Row): FileRecord {
    const fileId = row.file_id as number;
    const blocks = this.all("SELECT * FROM blocks WHERE file_id = ?", fileId).map(blockOf);
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

  /**
   * Writes the difference between two records of one file (null: absent).
   *
   * @example
   * Not run by `deno test --doc`: it needs the schema.
   * ```ts ignore
   * rows.saveFile(file, null); // deletes the file's row (its blocks go by cascade)
   * ```
   *
   * @param old The record as stored (null: a new file, whose row was just inserted).
   * @param next The record to store (null: delete).
   */
  saveFile(old: FileRecord | null, next: FileRecord | null): void {
    if (next === null) {
      if (old !== null) this.run("DELETE FROM files WHERE file_id = ?", old.fileId);
      return;
    }
    // (A new file's row was just inserted with everything but its blocks.)
    if (old !== null) this.#updateFileRow(next);
    this.#saveBlocks(old, next);
  }

  #updateFileRow(next: FileRecord): void {
    this.run(
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
      this.#insertBlocks(next.fileId, next.blocks);
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
      this.run("DELETE FROM blocks WHERE node = ? AND block_id = ?", b.node, b.blockId);
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
      this.run(
        "UPDATE blocks SET state = ? WHERE file_id = ? AND state != ?",
        to!,
        next.fileId,
        to!,
      );
    } else {
      for (const { b, was } of pairs) {
        if (was === undefined || was.state === b.state) continue;
        this.run(
          "UPDATE blocks SET state = ? WHERE node = ? AND block_id = ?",
          b.state,
          b.node,
          b.blockId,
        );
      }
    }
    this.#insertBlocks(next.fileId, pairs.filter(({ was }) => was === undefined).map(({ b }) => b));
  }

  /**
   * Inserts blocks, up to {@linkcode INSERT_ROWS} rows per statement: one statement for a put's
   * 22 copies instead of 22 (each run of a statement costs a call into SQLite and a reset).
   */
  #insertBlocks(fileId: number, blocks: readonly BlockRecord[]): void {
    for (let at = 0; at < blocks.length; at += INSERT_ROWS) {
      const rows = blocks.slice(at, at + INSERT_ROWS);
      const params: SQLInputValue[] = [];
      for (const b of rows) {
        params.push(b.node, b.blockId, fileId, b.role.kind, b.role.index, b.state);
      }
      this.run(insertBlocksSql(rows.length), ...params);
    }
  }
}

/** The most block rows one INSERT takes (6 parameters each, far below SQLite's 32766). */
const INSERT_ROWS = 64;

/** The INSERT of n block rows, by n (each made once: the statement cache is keyed by it). */
const INSERT_BLOCKS_SQL: string[] = [];

function insertBlocksSql(n: number): string {
  return INSERT_BLOCKS_SQL[n] ??=
    "INSERT INTO blocks (node, block_id, file_id, kind, idx, state) " +
    `VALUES ${Array(n).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`;
}

/**
 * A datanode's record from its row.
 *
 * @example
 * ```ts
 * import { nodeOf } from "./sqlite_rows.ts";
 * console.log(nodeOf({ id: "dn0", address: "127.0.0.1:13100", capacity: 1, free: 1, registered: 0, last_heartbeat: 0, state: "alive" }).lastHeartbeat); // 0
 * ```
 *
 * @param row The row.
 * @returns The record.
 */
export function nodeOf(row: Row): DatanodeRecord {
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

/**
 * A block copy's record from its row.
 *
 * @example
 * ```ts
 * import { blockOf } from "./sqlite_rows.ts";
 * console.log(blockOf({ block_id: "f1.part0", kind: "part", idx: 0, node: "dn0", state: "stored" }).role.kind); // "part"
 * ```
 *
 * @param row The row.
 * @returns The record.
 */
export function blockOf(row: Row): BlockRecord {
  return {
    blockId: row.block_id as string,
    role: { kind: row.kind as "part" | "coded", index: row.idx as number },
    node: row.node as string,
    state: row.state as BlockRecord["state"],
  };
}

/**
 * A reported block from its row.
 *
 * @example
 * ```ts
 * import { reportedOf } from "./sqlite_rows.ts";
 * console.log(reportedOf({ node: "dn0", block_id: "f1.part0", length: 4, first_seen: 9 }).firstSeen); // 9
 * ```
 *
 * @param row The row.
 * @returns The record.
 */
export function reportedOf(row: Row): ReportedBlock {
  return {
    node: row.node as string,
    blockId: row.block_id as string,
    length: row.length as number,
    firstSeen: row.first_seen as number,
  };
}
