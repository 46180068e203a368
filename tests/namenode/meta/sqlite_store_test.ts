import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
import { SCHEMA_VERSION } from "../../../src/namenode/meta/sqlite_schema.ts";
import { cdfsError } from "../../helpers/assert_error.ts";
import { runSharedSuite, type StoreFactory } from "./_suite.ts";

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-meta-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sqlite backend: the shared metadata suite", async (t) => {
  await withTempDir(async (dir) => {
    let n = 0;
    const factory: StoreFactory = {
      create(clock) {
        const path = `${dir}/meta${n++}.db`;
        const open = () => SqliteMetadataStore.open(path, { now: clock.now });
        return Promise.resolve({ store: open(), reopen: () => Promise.resolve(open()) });
      },
    };
    await runSharedSuite(t, factory);
  });
});

Deno.test("sqlite backend: WAL mode, versioned schema, a newer schema is refused", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/meta.db`;
    await SqliteMetadataStore.open(path).close();
    const db = new DatabaseSync(path);
    assert.deepEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
    assert.deepEqual({ ...db.prepare("PRAGMA user_version").get() }, {
      user_version: SCHEMA_VERSION,
    });
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => SqliteMetadataStore.open(path),
      cdfsError(
        "UNAVAILABLE",
        new RegExp(
          `schema version ${SCHEMA_VERSION + 1}, newer than this cdfs \\(${SCHEMA_VERSION}\\)`,
        ),
      ),
    );
  });
});

Deno.test("sqlite backend: a closed store refuses calls; an unopenable path is UNAVAILABLE", async () => {
  const store = SqliteMetadataStore.open(":memory:");
  await store.close();
  await assert.rejects(store.listDatanodes(), cdfsError("UNAVAILABLE", /is closed/));
  assert.throws(
    () => SqliteMetadataStore.open("/nonexistent-dir/x/meta.db"),
    cdfsError("UNAVAILABLE", /cannot open metadata database/),
  );
});

Deno.test("sqlite backend: a change starts from the file as the database holds it, even when another store changed it since this one wrote it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/meta.db`;
    const a = SqliteMetadataStore.open(path);
    const b = SqliteMetadataStore.open(path);
    try {
      for (const id of ["dn0", "dn1", "dn2"]) {
        await a.registerDatanode({
          id,
          address: `127.0.0.1:${13100 + id.length}`,
          capacity: 9,
          free: 9,
        });
      }
      const part = (index: number, node: string) => ({
        role: { kind: "part" as const, index },
        node,
      });
      // A begins the file (and remembers it as written); B adds a copy behind its back.
      const begun = await a.beginFile({ name: "f", code: "replication", blocks: [part(0, "dn0")] });
      const added = await b.addBlocks(begun.fileId, [part(0, "dn1")]);
      assert.equal(added.version, begun.version + 1);
      // A's commit starts from B's version: both copies, stored.
      const committed = await a.commitFile(begun.fileId, { length: 5, digest: "ab".repeat(32) });
      assert.deepEqual(committed.blocks.map((x) => `${x.node}:${x.state}`), [
        "dn0:stored",
        "dn1:stored",
      ]);
      assert.deepEqual(await b.getFileById(begun.fileId), committed);
      // A's own next change starts from what it wrote: the same as reading it back.
      const moved = await a.moveBlock(begun.fileId, committed.blocks[0]!.blockId, "dn0", "dn2");
      assert.deepEqual(await b.getFileById(begun.fileId), moved);
      assert.deepEqual(moved.blocks.map((x) => x.node).sort(), ["dn1", "dn2"]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("sqlite backend: pending files are listed by their own index; a version-1 database gets it and keeps its files", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/meta.db`;
    const part = (index: number, node: string) => ({
      role: { kind: "part" as const, index },
      node,
    });
    const store = SqliteMetadataStore.open(path);
    await store.registerDatanode({ id: "dn0", address: "127.0.0.1:13100", capacity: 9, free: 9 });
    const kept = await store.beginFile({
      name: "p",
      code: "replication",
      blocks: [part(0, "dn0")],
    });
    const done = await store.beginFile({
      name: "c",
      code: "replication",
      blocks: [part(0, "dn0")],
    });
    await store.commitFile(done.fileId, { length: 1, digest: "ab".repeat(32) });
    await store.close();
    // Back to schema version 1, as an older cdfs left it.
    const old = new DatabaseSync(path);
    old.exec("DROP INDEX files_pending; DROP TABLE file_id_reservation; PRAGMA user_version = 1");
    old.close();
    const reopened = SqliteMetadataStore.open(path);
    try {
      assert.deepEqual((await reopened.listFiles("", { pending: "only" })).map((f) => f.fileId), [
        kept.fileId,
      ]);
      assert.deepEqual((await reopened.listFiles("")).map((f) => f.name), ["c"]);
    } finally {
      await reopened.close();
    }
    const db = new DatabaseSync(path);
    try {
      assert.equal(
        (db.prepare("PRAGMA user_version").get() as { user_version: number })
          .user_version,
        SCHEMA_VERSION,
      );
      // The listing's query of pending files walks the index, not the whole table.
      const plan = db.prepare(
        `EXPLAIN QUERY PLAN SELECT * FROM files
         WHERE name >= '' AND substr(name, 1, length('')) = '' AND (NULL IS NULL OR name > NULL)
           AND state = 'pending' ORDER BY name LIMIT 1000`,
      ).all().map((row) => String((row as { detail: string }).detail)).join("; ");
      assert.match(plan, /USING INDEX files_pending/);
    } finally {
      db.close();
    }
  });
});
