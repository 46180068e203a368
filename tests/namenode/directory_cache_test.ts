/**
 * The namenode's cache of the datanode records (`state.ts`): read once per TTL, kept current
 * by this namenode's own datanode ops, dropped when a node dies; what another namenode on the
 * same store changes is seen once the TTL has passed, and until then a placement on a node that
 * died meanwhile is refused by the store and placed again (or refused cleanly when too few
 * datanodes are left), never recorded. On SQLite (two namenodes on one file) and on etcd.
 *
 * @module
 */
import assert from "node:assert/strict";
import { NameNodeClient } from "../../src/namenode/client.ts";
import type { CodeLayout } from "../../src/namenode/layout.ts";
import { DecisionLog } from "../../src/namenode/log.ts";
import { CodeCatalog } from "../../src/namenode/code_analysis.ts";
import { openMetadataStore } from "../../src/namenode/meta/open.ts";
import { NameNodeState } from "../../src/namenode/state.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { tempDir } from "../helpers/temp_dir.ts";
import { EtcdCluster, findEtcd } from "./_etcd.ts";
import { DIGEST, MIRROR, startNameNode } from "./_namenode.ts";

const node = (i: number) => ({
  id: `dn${i}`,
  address: `127.0.0.1:${13100 + i}`,
  capacity: 1e12,
  free: 1e12,
});

/** One part on four distinct datanodes. */
const FOUR: CodeLayout = {
  n: 4,
  roles: [{ role: { kind: "part", index: 0 }, nodes: [0, 1, 2, 3] }],
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the datanode directory is read once per TTL, follows this namenode's writes, and shares a read under way", async () => {
  const store = await openMetadataStore("sqlite::memory:");
  const state = new NameNodeState({
    id: "nn",
    store,
    timing: {
      deadAfterMs: 30_000,
      heartbeatIntervalMs: 3000,
      blockReportIntervalMs: 3_600_000,
      orphanGraceMs: 3_600_000,
      directoryTtlMs: 1000,
    },
    log: new DecisionLog("nn"),
    catalog: new CodeCatalog(),
  });
  try {
    await store.registerDatanode(node(0));
    const [a, b] = await Promise.all([state.directory(), state.directory()]);
    assert.equal(state.directoryReads, 1);
    assert.equal(a, b);
    assert.deepEqual(a.nodes.map((n) => n.id), ["dn0"]);
    await state.directory();
    assert.equal(state.directoryReads, 1);
    // A record this namenode wrote replaces its entry at once, without a read.
    const dn1 = await store.registerDatanode(node(1));
    state.noteDatanode(dn1);
    assert.deepEqual((await state.directory()).nodes.map((n) => n.id), ["dn0", "dn1"]);
    assert.equal(state.directoryReads, 1);
    // A change behind its back is seen once the TTL has passed.
    await store.markDatanodeDead("dn0");
    assert.equal((await state.directory()).byId.get("dn0")!.state, "alive");
    await sleep(1100);
    assert.equal((await state.directory()).byId.get("dn0")!.state, "dead");
    assert.equal(state.directoryReads, 2);
    // Dropped: read again now.
    state.forgetDirectory();
    await state.directory();
    assert.equal(state.directoryReads, 3);
    // A read that a note overtook is not kept (the note is newer than what it read).
    state.forgetDirectory();
    const reading = state.directory();
    state.noteDatanode({ ...dn1, free: 5 });
    await reading;
    await state.directory();
    assert.equal(state.directoryReads, 5);
  } finally {
    await store.close();
  }
});

/** Two namenodes on one store: A caches for `ttlMs`, B changes what A has cached. */
async function twoNamenodes(meta: string, ttlMs: number): Promise<void> {
  const a = await startNameNode({ meta, directoryTtlMs: ttlMs });
  const b = await startNameNode({ meta });
  const viaA = await NameNodeClient.connect(a.server.address);
  const viaB = await NameNodeClient.connect(b.server.address);
  try {
    for (let i = 0; i < 4; i++) await viaB.register(node(i));
    // A's cache holds the four, alive.
    const first = await viaA.createFile({
      name: "first",
      code: "replication",
      length: 1,
      layout: FOUR,
    });
    await viaA.commitFile(first.file.fileId, { length: 1, digest: DIGEST });

    // B is told dn0 leaves. A still believes it alive: the store refuses A's placement on it,
    // A reads the records again and finds 3 datanodes for a layout of 4: a clean refusal.
    await viaB.leave("dn0");
    await assert.rejects(
      viaA.createFile({ name: "stale", code: "replication", length: 1, layout: FOUR }),
      (e) => isCdfsError(e, "UNAVAILABLE") && /needs 4 distinct live datanodes, 3/.test(e.message),
    );
    await assert.rejects(viaA.getFile("stale"), (e) => isCdfsError(e, "NOT_FOUND"));
    await assert.rejects(
      viaA.getFileById(first.file.fileId + 1),
      (e) => isCdfsError(e, "NOT_FOUND"),
    );

    // B is told dn1 leaves: A's views say dn1 alive until its TTL has passed, then dead, and
    // no placement of A chooses it.
    await viaB.leave("dn1");
    const stale = await viaA.getFile("first");
    assert.equal(stale.blocks.find((b) => b.node === "dn1")!.alive, true);
    await sleep(ttlMs + 50);
    const fresh = await viaA.getFile("first");
    assert.deepEqual(fresh.blocks.map((b) => `${b.node}:${b.alive}`), [
      "dn0:false",
      "dn1:false",
      "dn2:true",
      "dn3:true",
    ]);
    for (let i = 0; i < 6; i++) {
      const { file } = await viaA.createFile({
        name: `m${i}`,
        code: "replication",
        length: 1,
        layout: MIRROR,
      });
      assert.deepEqual(file.blocks.map((b) => b.node).sort(), ["dn2", "dn3"]);
    }
    // Back again through B: A sees it within the TTL, and places on it.
    await viaB.heartbeat("dn0", { free: 1e12 });
    await viaB.heartbeat("dn1", { free: 1e12 });
    await sleep(ttlMs + 50);
    const again = await viaA.createFile({
      name: "again",
      code: "replication",
      length: 1,
      layout: FOUR,
    });
    assert.equal(again.file.blocks.length, 4);
    // A datanode registered through B a moment ago is not in A's cache yet; a placement that
    // needs it reads the store's records once more instead of refusing.
    await viaB.register(node(4));
    const five = await viaA.createFile({
      name: "five",
      code: "replication",
      length: 1,
      layout: { n: 5, roles: [{ role: { kind: "part", index: 0 }, nodes: [0, 1, 2, 3, 4] }] },
    });
    assert.deepEqual(five.file.blocks.map((b) => b.node).sort(), [
      "dn0",
      "dn1",
      "dn2",
      "dn3",
      "dn4",
    ]);
  } finally {
    viaA.close();
    viaB.close();
    await a.server.shutdown(0);
    await b.server.shutdown(0);
  }
}

Deno.test("two namenodes on one SQLite file: a node the other marked dead is not chosen after the TTL; a stale choice fails cleanly", async () => {
  await using dir = await tempDir("cdfs-dircache-");
  await twoNamenodes(`sqlite:${dir.path}/meta.db`, 1500);
});

const etcd = await findEtcd();
const etcdSkip = etcd.found ? "" : ` (skipped: ${etcd.reason})`;

Deno.test({
  name:
    `two namenodes on one etcd: a node the other marked dead is not chosen after the TTL; a stale choice fails cleanly${etcdSkip}`,
  ignore: !etcd.found,
  async fn() {
    await using cluster = await EtcdCluster.start();
    await twoNamenodes(`etcd:${cluster.clientUrls.join(",")}`, 1500);
  },
});
