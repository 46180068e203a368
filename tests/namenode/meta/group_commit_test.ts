/**
 * Group commit of the SQLite store (`sqlite_store.ts`): the writes asked for in one turn of the
 * event loop share one transaction, each in a savepoint of its own. Each succeeds or fails
 * alone (a name taken inside the group, a dead datanode, a bad argument, a statement that fails
 * half-way through a write), sees the writes before it, and nothing is answered before the
 * COMMIT; an error that ends the whole transaction, or a group that cannot begin, fails every
 * write of the group and the next group goes on. Through the namenode: 16 clients creating at
 * once, one name asked twice. Writes that may sync later: a group of only such writes runs at
 * `synchronous = NORMAL`, any other at FULL; one that asks for the sync has its group run again,
 * synced, each write applied once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
import { GroupCommit, SyncRequired } from "../../../src/namenode/meta/sqlite_group_commit.ts";
import type { NewFile } from "../../../src/namenode/meta/model.ts";
import { NameNodeClient } from "../../../src/namenode/client.ts";
import { isCdfsError } from "../../../src/core/errors.ts";
import { tempDir } from "../../helpers/temp_dir.ts";
import { DIGEST, MIRROR, startNameNode } from "../_namenode.ts";

const node = (i: number) => ({
  id: `dn${i}`,
  address: `127.0.0.1:${13100 + i}`,
  capacity: 1e12,
  free: 1e12,
});

const file = (name: string, ...nodes: number[]): NewFile => ({
  name,
  code: "replication",
  blocks: nodes.map((n) => ({ role: { kind: "part", index: 0 }, node: `dn${n}` })),
});

/** What each settled promise came to: "ok" or the error's code. */
function outcomes(settled: PromiseSettledResult<unknown>[]): string[] {
  return settled.map((s) =>
    s.status === "fulfilled" ? "ok" : (s.reason as { code?: string }).code ?? String(s.reason)
  );
}

Deno.test("group commit: one transaction for a turn's writes; each succeeds or fails alone, in order", async () => {
  await using dir = await tempDir("cdfs-group-");
  const path = `${dir.path}/meta.db`;
  const store = SqliteMetadataStore.open(path);
  try {
    for (let i = 0; i < 4; i++) await store.registerDatanode(node(i));
    await store.markDatanodeDead("dn3");
    const before = store.groupCommitStats;
    // All asked for in one turn: one group, run in this order.
    const settled = await Promise.allSettled([
      store.beginFile(file("a", 0)),
      store.beginFile(file("dup", 1)),
      store.beginFile(file("dup", 2)), // the name the write before took
      store.beginFile(file("x", 3)), // a dead datanode
      store.registerDatanode(node(9)),
      store.beginFile(file("y", 9)), // on the datanode registered just before, in the group
      store.beginFile(file("", 0)), // not a name
      store.beginFile(file("b", 1, 2)),
    ]);
    assert.deepEqual(outcomes(settled), [
      "ok",
      "ok",
      "EXISTS",
      "CONFLICT",
      "ok",
      "ok",
      "BAD_REQUEST",
      "ok",
    ]);
    const after = store.groupCommitStats;
    assert.equal(after.commits - before.commits, 1);
    assert.equal(after.writes - before.writes, 8);
    assert.ok(after.largest >= 8);
  } finally {
    await store.close();
  }
  // What the group committed is durable; what failed left nothing.
  const reopened = SqliteMetadataStore.open(path);
  try {
    const files = await reopened.listFiles("", { pending: "include" });
    assert.deepEqual(
      files.map((f) => `${f.name}:${f.blocks.map((b) => b.node).join("+")}`),
      ["a:dn0", "b:dn1+dn2", "dup:dn1", "y:dn9"],
    );
    assert.deepEqual(await reopened.blocksOnNode("dn3"), []);
    assert.equal((await reopened.getDatanode("dn9")).state, "alive");
  } finally {
    await reopened.close();
  }
});

Deno.test("group commit: a write failing half-way is rolled back to its savepoint; one ending the transaction fails the group", async () => {
  await using dir = await tempDir("cdfs-group-");
  const path = `${dir.path}/meta.db`;
  const store = SqliteMetadataStore.open(path);
  try {
    for (let i = 0; i < 3; i++) await store.registerDatanode(node(i));
    // Statements that fail after a write has begun changing rows: the second block of a file
    // named "half" (its file row and first block are in by then), and any block of "all".
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TRIGGER half BEFORE INSERT ON blocks
      WHEN (SELECT name FROM files WHERE file_id = NEW.file_id) = 'half' AND NEW.node = 'dn1'
      BEGIN SELECT RAISE(ABORT, 'half-way'); END;
      CREATE TRIGGER whole BEFORE INSERT ON blocks
      WHEN (SELECT name FROM files WHERE file_id = NEW.file_id) = 'all'
      BEGIN SELECT RAISE(ROLLBACK, 'the whole transaction'); END;
    `);
    db.close();
    const half = await Promise.allSettled([
      store.beginFile(file("p", 0)),
      store.beginFile(file("half", 0, 1)),
      store.beginFile(file("q", 2)),
    ]);
    assert.deepEqual(outcomes(half), ["ok", "INTERNAL", "ok"]);
    assert.match((half[1] as PromiseRejectedResult).reason.message, /half-way/);
    const all = await Promise.allSettled([
      store.beginFile(file("r", 0)),
      store.beginFile(file("all", 1)),
      store.beginFile(file("s", 2)),
    ]);
    // The rollback took the writes before it too: none of the group stands.
    assert.deepEqual(outcomes(all), ["INTERNAL", "INTERNAL", "INTERNAL"]);
    assert.ok(
      all.every((s) => /the whole transaction/.test((s as PromiseRejectedResult).reason.message)),
    );
    // The next group goes on.
    await store.beginFile(file("t", 0));
    const files = await store.listFiles("", { pending: "include" });
    assert.deepEqual(files.map((f) => f.name), ["p", "q", "t"]);
    assert.deepEqual((await store.blocksOnNode("dn0")).map((b) => b.name), ["p", "t"]);
  } finally {
    await store.close();
  }
});

Deno.test("group commit: a group that cannot begin fails each of its writes; without grouping, one transaction each", async () => {
  await using dir = await tempDir("cdfs-group-");
  const path = `${dir.path}/meta.db`;
  const store = SqliteMetadataStore.open(path, { busyTimeoutMs: 20 });
  try {
    await store.registerDatanode(node(0));
    // Another connection holds the write lock past the busy timeout.
    const other = new DatabaseSync(path);
    other.exec("BEGIN IMMEDIATE");
    const blocked = await Promise.allSettled([
      store.beginFile(file("a", 0)),
      store.beginFile(file("b", 0)),
    ]);
    assert.deepEqual(outcomes(blocked), ["UNAVAILABLE", "UNAVAILABLE"]);
    other.exec("ROLLBACK");
    other.close();
    await Promise.all([store.beginFile(file("a", 0)), store.beginFile(file("b", 0))]);
    assert.equal((await store.listFiles("", { pending: "include" })).length, 2);
  } finally {
    await store.close();
  }
  const single = SqliteMetadataStore.open(`${dir.path}/single.db`, { groupCommit: false });
  try {
    await Promise.all([0, 1, 2].map((i) => single.registerDatanode(node(i))));
    assert.deepEqual(single.groupCommitStats, { writes: 3, commits: 3, largest: 1 });
  } finally {
    await single.close();
  }
});

Deno.test("group commit through the namenode: 16 clients create at once; a name asked twice fails once", async () => {
  const { server } = await startNameNode();
  const clients: NameNodeClient[] = [];
  try {
    for (let i = 0; i < 16; i++) clients.push(await NameNodeClient.connect(server.address));
    for (let i = 0; i < 4; i++) await clients[0]!.register(node(i));
    const names = clients.map((_, i) => i === 15 ? "f3" : `f${i}`);
    const settled = await Promise.allSettled(
      clients.map((c, i) =>
        c.createFile({ name: names[i]!, code: "replication", length: 10, layout: MIRROR })
      ),
    );
    const codes = outcomes(settled);
    assert.equal(codes.filter((c) => c === "EXISTS").length, 1);
    assert.equal(codes.filter((c) => c === "ok").length, 15);
    // Each created file commits on its own, all at once too.
    await Promise.all(
      settled.map((s, i) =>
        s.status === "fulfilled"
          ? clients[i]!.commitFile(s.value.file.fileId, { length: 10, digest: DIGEST })
          : undefined
      ),
    );
    const listed = await clients[0]!.listFiles();
    assert.deepEqual(listed.files.map((f) => f.name), [...new Set(names)].sort());
    const stats = (server.store as SqliteMetadataStore).groupCommitStats;
    assert.ok(stats.writes >= 4 + 16 + 15);
  } catch (error) {
    if (isCdfsError(error)) throw new Error(`${error.code}: ${error.message}`);
    throw error;
  } finally {
    for (const c of clients) c.close();
    await server.shutdown(0);
  }
});

/** A WAL database with a table `t (x)`, at `synchronous = FULL` as the store opens it. */
function walTable(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (x)");
  return db;
}

/** The connection's `PRAGMA synchronous`: 1 NORMAL, 2 FULL. */
function syncLevel(db: DatabaseSync): number {
  return (db.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
}

Deno.test("group commit: a group whose writes all may sync later commits at NORMAL; one other write makes it FULL; then FULL again", async () => {
  await using dir = await tempDir("cdfs-group-");
  const db = walTable(`${dir.path}/t.db`);
  try {
    const groups = new GroupCommit(db, true);
    // Each write notes whether it was told it is synced and the level it ran at.
    const seen: string[] = [];
    const insert = (x: number) => (synced: boolean) => {
      db.exec(`INSERT INTO t VALUES (${x})`);
      seen.push(`${x}:${synced ? "synced" : "later"}:${syncLevel(db)}`);
    };
    await Promise.all([
      groups.write("insert", insert(1), { syncLater: true }),
      groups.write("insert", insert(2), { syncLater: true }),
    ]);
    assert.equal(syncLevel(db), 2);
    await Promise.all([
      groups.write("insert", insert(3), { syncLater: true }),
      groups.write("insert", insert(4)),
    ]);
    await groups.write("insert", insert(5));
    assert.deepEqual(seen, ["1:later:1", "2:later:1", "3:synced:2", "4:synced:2", "5:synced:2"]);
    assert.equal(syncLevel(db), 2);
    assert.deepEqual(groups.stats, { writes: 5, commits: 3, largest: 2 });
  } finally {
    db.close();
  }
});

Deno.test("group commit: a write that needs the sync rolls its group back and runs it again synced; each write applied once", async () => {
  await using dir = await tempDir("cdfs-group-");
  const db = walTable(`${dir.path}/t.db`);
  try {
    const groups = new GroupCommit(db, true);
    const runs: string[] = [];
    const insert = (x: number, needsSync = false) => (synced: boolean) => {
      runs.push(`${x}:${synced ? "synced" : "later"}`);
      db.exec(`INSERT INTO t VALUES (${x})`);
      if (needsSync && !synced) throw new SyncRequired("test");
      return x;
    };
    const settled = await Promise.allSettled([
      groups.write("insert", insert(1), { syncLater: true }),
      groups.write("insert", insert(2, true), { syncLater: true }),
      groups.write("insert", insert(3), { syncLater: true }),
      // Fails alone in the synced run, as any failing write does.
      groups.write("fail", () => {
        throw new Error("refused");
      }, { syncLater: true }),
    ]);
    assert.deepEqual(settled.map((s) => s.status === "fulfilled" ? s.value : "failed"), [
      1,
      2,
      3,
      "failed",
    ]);
    assert.deepEqual(runs, ["1:later", "2:later", "1:synced", "2:synced", "3:synced"]);
    const rows = db.prepare("SELECT x FROM t ORDER BY x").all().map((r) => r.x);
    assert.deepEqual(rows, [1, 2, 3]);
    assert.equal(syncLevel(db), 2);
    assert.deepEqual(groups.stats, { writes: 4, commits: 2, largest: 4 });
  } finally {
    db.close();
  }
});
