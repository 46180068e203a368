/**
 * The reservation of file ids that lets the SQLite store commit the creation of a pending file
 * without waiting for the disk (`WriteOptions.syncLater` of the group commit).
 *
 * A file id is never handed out twice (AUTOINCREMENT): its blocks on the datanodes are named
 * by it, and a client commits its put by it. A creation committed without the sync can be
 * taken back by a power loss, and `sqlite_sequence` with it, so SQLite alone would hand the
 * same id out again after the restart, while the first client may still be storing blocks
 * under it and commit it. So ids are reserved ahead by synced commits (`up_to` in the
 * one-row table `file_id_reservation`): a creation run without the sync only takes an id
 * inside the reservation, and asks for the sync when it reaches its end; a synced creation
 * moves the reservation {@linkcode FILE_ID_RESERVE} ids past its own. On open, the store moves
 * AUTOINCREMENT's counter up to the reservation ({@linkcode restoreFileIdFloor}): every id
 * handed out before, lost or not, is behind it. A clean close gives back the ids reserved and
 * not used ({@linkcode releaseFileIds}), so ids stay consecutive across restarts; after a
 * crash up to {@linkcode FILE_ID_RESERVE} of them are skipped.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { SyncRequired } from "./sqlite_group_commit.ts";
import type { SqliteRows } from "./sqlite_rows.ts";
import { writeTransaction } from "./sqlite_schema.ts";

/**
 * How many ids a synced creation reserves past its own: when creations come one at a time, one
 * in this many + 1 waits for the disk (the one past the reservation).
 *
 * @example
 * ```ts
 * import { FILE_ID_RESERVE } from "./sqlite_file_ids.ts";
 * console.log(FILE_ID_RESERVE); // 256
 * ```
 */
export const FILE_ID_RESERVE = 256;

/**
 * Checks, inside the transaction that created the file, that its id is covered: a synced
 * transaction moves the reservation ahead when it runs low; one without the sync needs the id
 * inside the reservation and throws {@linkcode SyncRequired} otherwise (the group then runs
 * again, synced).
 *
 * @example
 * Not run by `deno test --doc`: it needs the schema.
 * ```ts ignore
 * coverFileId(rows, fileId, synced);
 * ```
 *
 * @param rows The store's statements.
 * @param fileId The id just handed out.
 * @param synced Whether the transaction waits for the disk.
 * @throws {SyncRequired} Without the sync, for an id past the reservation.
 */
export function coverFileId(rows: SqliteRows, fileId: number, synced: boolean): void {
  const reserved = rows.get("SELECT up_to FROM file_id_reservation")!.up_to as number;
  if (!synced) {
    if (fileId > reserved) {
      throw new SyncRequired(`file id ${fileId} is past the ids reserved (up to ${reserved})`);
    }
  } else if (fileId + FILE_ID_RESERVE / 2 > reserved) {
    rows.run("UPDATE file_id_reservation SET up_to = ?", fileId + FILE_ID_RESERVE);
  }
}

/**
 * On open: moves AUTOINCREMENT's counter of file ids up to the reservation, in a synced
 * transaction, so that no id handed out before (even one whose creation a power loss took
 * back) is handed out again.
 *
 * @example
 * Not run by `deno test --doc`: it needs the schema.
 * ```ts ignore
 * migrate(db, path);
 * restoreFileIdFloor(db);
 * ```
 *
 * @param db The connection (schema migrated, `synchronous = FULL`).
 */
export function restoreFileIdFloor(db: DatabaseSync): void {
  writeTransaction(db, () => {
    const { reserved, counter } = fileIdCounts(db);
    if (counter === null) {
      if (reserved > 0) {
        db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('files', ?)").run(reserved);
      }
    } else if (counter < reserved) {
      db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'files'").run(reserved);
    }
  });
}

/**
 * On a clean close: gives back the ids reserved and not handed out (the reservation down to
 * the last id handed out), so the next open goes on from there.
 *
 * @example
 * Not run by `deno test --doc`: it needs the schema.
 * ```ts ignore
 * releaseFileIds(db);
 * db.close();
 * ```
 *
 * @param db The connection.
 */
export function releaseFileIds(db: DatabaseSync): void {
  writeTransaction(db, () => {
    const { reserved, counter } = fileIdCounts(db);
    if (reserved > (counter ?? 0)) {
      db.prepare("UPDATE file_id_reservation SET up_to = ?").run(counter ?? 0);
    }
  });
}

/**
 * The reservation, and AUTOINCREMENT's counter of file ids (null: no row yet, no file was
 * ever created).
 */
function fileIdCounts(db: DatabaseSync): { reserved: number; counter: number | null } {
  const reservation = db.prepare("SELECT up_to FROM file_id_reservation").get()!;
  const counter = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'files'").get();
  return {
    reserved: reservation.up_to as number,
    counter: counter === undefined ? null : counter.seq as number,
  };
}
