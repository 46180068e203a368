/**
 * The reservation of file ids (`sqlite_file_ids.ts`): creations committed without the sync
 * only take ids that a synced commit reserved, so that one taken back by a power loss never has
 * its id handed out again; a clean close gives the unused ids back; a version-2 database gets
 * the reservation at its ids.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
import { FILE_ID_RESERVE } from "../../../src/namenode/meta/sqlite_file_ids.ts";
import type { NewFile } from "../../../src/namenode/meta/model.ts";
import { tempDir } from "../../helpers/temp_dir.ts";

const NODE = { id: "dn0", address: "127.0.0.1:13100", capacity: 1e12, free: 1e12 };

const file = (name: string): NewFile => ({
  name,
  code: "replication",
  blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
});

/** The reservation and AUTOINCREMENT's counter, read on a connection of their own. */
function counters(path: string): { reserved: number; counter: number } {
  const db = new DatabaseSync(path);
  try {
    const reserved = db.prepare("SELECT up_to FROM file_id_reservation").get()!.up_to as number;
    const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'files'").get();
    return { reserved, counter: (row?.seq as number | undefined) ?? 0 };
  } finally {
    db.close();
  }
}

Deno.test("file ids: every id handed out lies inside the reservation; one creation in FILE_ID_RESERVE waits for the sync", async () => {
  await using dir = await tempDir("cdfs-ids-");
  const path = `${dir.path}/meta.db`;
  const store = SqliteMetadataStore.open(path);
  try {
    await store.registerDatanode(NODE);
    const count = 2 * FILE_ID_RESERVE + 10;
    const before = store.groupCommitStats;
    for (let i = 0; i < count; i++) {
      const { fileId } = await store.beginFile(file(`f${i}`));
      const { reserved } = counters(path);
      assert.ok(fileId <= reserved, `file id ${fileId} past the reservation ${reserved}`);
    }
    const after = store.groupCommitStats;
    // Each creation alone: one transaction each, and one more (the synced run) each time the
    // reservation ran out: at the first id (none reserved yet) and every FILE_ID_RESERVE + 1
    // ids after it (ids 1, 258 and 515 here).
    const reruns = after.commits - before.commits - count;
    assert.equal(reruns, Math.ceil(count / (FILE_ID_RESERVE + 1)));
  } finally {
    await store.close();
  }
});

Deno.test("file ids: a creation taken back by a power loss does not have its id handed out again", async () => {
  await using dir = await tempDir("cdfs-ids-");
  const path = `${dir.path}/meta.db`;
  const first = SqliteMetadataStore.open(path);
  let second: SqliteMetadataStore | undefined;
  try {
    await first.registerDatanode(NODE);
    await first.beginFile(file("a"));
    const lost = await first.beginFile(file("b"));
    // The power loss, as the database would come back from it: b's creation, committed
    // without the sync, is gone, and with it AUTOINCREMENT's count of it. The reservation was
    // written by a synced commit and stays. (The first store is never closed: it crashed.)
    const db = new DatabaseSync(path);
    db.exec(`DELETE FROM files WHERE file_id = ${lost.fileId}`);
    db.exec(`UPDATE sqlite_sequence SET seq = ${lost.fileId - 1} WHERE name = 'files'`);
    db.close();
    second = SqliteMetadataStore.open(path);
    const next = await second.beginFile(file("c"));
    assert.ok(next.fileId > lost.fileId, `id ${next.fileId} handed out again`);
  } finally {
    await second?.close();
    await first.close();
  }
});

Deno.test("file ids: a clean close gives the reserved ids back; the next open goes on from the last one", async () => {
  await using dir = await tempDir("cdfs-ids-");
  const path = `${dir.path}/meta.db`;
  const store = SqliteMetadataStore.open(path);
  await store.registerDatanode(NODE);
  const last = await store.beginFile(file("a"));
  assert.ok(counters(path).reserved > last.fileId);
  await store.close();
  assert.deepEqual(counters(path), { reserved: last.fileId, counter: last.fileId });
  const reopened = SqliteMetadataStore.open(path);
  try {
    assert.equal((await reopened.beginFile(file("b"))).fileId, last.fileId + 1);
  } finally {
    await reopened.close();
  }
});

Deno.test("file ids: a version-2 database gets the reservation at its ids and keeps its files", async () => {
  await using dir = await tempDir("cdfs-ids-");
  const path = `${dir.path}/meta.db`;
  const store = SqliteMetadataStore.open(path);
  await store.registerDatanode(NODE);
  await store.beginFile(file("a"));
  const last = await store.beginFile(file("b"));
  await store.close();
  const old = new DatabaseSync(path);
  old.exec("DROP TABLE file_id_reservation; PRAGMA user_version = 2");
  old.close();
  const reopened = SqliteMetadataStore.open(path);
  try {
    assert.deepEqual(counters(path), { reserved: last.fileId, counter: last.fileId });
    assert.deepEqual((await reopened.listFiles("", { pending: "include" })).map((f) => f.name), [
      "a",
      "b",
    ]);
    assert.equal((await reopened.beginFile(file("c"))).fileId, last.fileId + 1);
  } finally {
    await reopened.close();
  }
});
