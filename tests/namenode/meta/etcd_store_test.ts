import assert from "node:assert/strict";
import { EtcdMetadataStore } from "../../../src/namenode/meta/etcd_store.ts";
import { EtcdKv, ops } from "../../../src/namenode/meta/etcd_kv.ts";
import { cdfsError } from "../../helpers/assert_error.ts";
import { EtcdCluster, findEtcd } from "../_etcd.ts";
import { etcdFactory } from "./_etcd_factory.ts";
import { registerNodes, runSharedSuite, testClock } from "./_suite.ts";

const etcd = await findEtcd();
const skip = etcd.found ? "" : ` (skipped: ${etcd.reason})`;

Deno.test({
  name: `etcd backend: the shared metadata suite on one member${skip}`,
  ignore: !etcd.found,
  async fn(t) {
    await using cluster = await EtcdCluster.start();
    await runSharedSuite(t, etcdFactory(cluster.clientUrls, "single"));
  },
});

Deno.test({
  name: `etcd backend: nothing lost when etcd itself restarts; prefixes keep clusters apart${skip}`,
  ignore: !etcd.found,
  async fn() {
    await using cluster = await EtcdCluster.start();
    const clock = testClock();
    const a = await EtcdMetadataStore.open(cluster.clientUrls, { prefix: "/a/", now: clock.now });
    const b = await EtcdMetadataStore.open(cluster.clientUrls, { prefix: "/b", now: clock.now });
    try {
      await registerNodes(a, 2);
      const file = await a.beginFile({
        name: "x",
        code: "rs",
        blocks: [{ role: { kind: "part", index: 0 }, node: "dn1" }],
      });
      assert.deepEqual(await b.listDatanodes(), []);
      await assert.rejects(b.getFileById(file.fileId), cdfsError("NOT_FOUND", /id/));
      await cluster.members[0]!.restart();
      const done = await a.commitFile(file.fileId, { length: 1, digest: "00".repeat(8) });
      assert.deepEqual(await a.getFile("x"), done);
      assert.equal((await a.listDatanodes()).length, 2);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: `etcd backend: a node whose heartbeats stop loses its lease and is marked dead${skip}`,
  ignore: !etcd.found,
  async fn() {
    await using cluster = await EtcdCluster.start();
    // The store's clock stands still: only the lease (1 s TTL) can make dn0 dead.
    const clock = testClock();
    const store = await EtcdMetadataStore.open(cluster.clientUrls, {
      prefix: "/lease/",
      now: clock.now,
      deadAfterMs: 1000,
    });
    try {
      await registerNodes(store, 2);
      assert.deepEqual(await store.markDeadDatanodes(), []);
      const onDn0 = (name: string) =>
        store.beginFile({
          name,
          code: "rs",
          blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
        });
      await onDn0("before");
      // Until the lease expires, blocks may go to dn0; after, they may not, even before any
      // namenode marks it dead.
      const deadline = Date.now() + 6000;
      let refusal: unknown;
      for (let i = 0; refusal === undefined && Date.now() < deadline; i++) {
        await new Promise((r) => setTimeout(r, 200));
        await store.heartbeat("dn1", { free: 1 });
        await onDn0(`try${i}`).catch((error) => refusal = error);
      }
      assert.ok(refusal !== undefined, "dn0's lease expired within 6 s");
      cdfsError("CONFLICT", /dn0 has missed its heartbeats \(its liveness lease expired\)/)(
        refusal,
      );
      assert.deepEqual(await store.markDeadDatanodes(), ["dn0"]);
      await assert.rejects(onDn0("after"), cdfsError("CONFLICT", /datanode dn0 is dead/));
      assert.equal((await store.getDatanode("dn1")).state, "alive");
      // A heartbeat after the lease expired takes a new lease: alive again, and stays so.
      assert.equal((await store.heartbeat("dn0", { free: 1 })).state, "alive");
      assert.deepEqual(await store.markDeadDatanodes(), []);
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name: `etcd backend: a newer schema under the prefix is refused; no etcd is UNAVAILABLE${skip}`,
  ignore: !etcd.found,
  async fn() {
    await using cluster = await EtcdCluster.start();
    const kv = EtcdKv.connect(cluster.clientUrls);
    try {
      await kv.writeIdempotent([ops.put("/newer/schema", JSON.stringify({ version: 2 }))]);
    } finally {
      kv.close();
    }
    await assert.rejects(
      EtcdMetadataStore.open(cluster.clientUrls, { prefix: "/newer/" }),
      cdfsError("UNAVAILABLE", /schema version 2, newer than this cdfs \(1\)/),
    );
    const port = cluster.members[0]!.clientUrl;
    await cluster.members[0]!.kill();
    await assert.rejects(
      EtcdMetadataStore.open([port], { unavailableAfterMs: 500, callTimeoutMs: 200 }),
      cdfsError("UNAVAILABLE", /unreachable/),
    );
  },
});

Deno.test({
  name:
    `etcd backend: a lease is renewed and a key read with one listed member down (its calls go to the others)${skip}`,
  ignore: !etcd.found,
  async fn() {
    await using cluster = await EtcdCluster.start();
    // A listed endpoint nobody listens on: a member killed a moment ago looks like this.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const down = `http://127.0.0.1:${closed.addr.port}`;
    closed.close();
    const kv = EtcdKv.connect([down, ...cluster.clientUrls], { unavailableAfterMs: 10_000 });
    try {
      const lease = await kv.grantLease(30);
      // Each call may land on either endpoint: enough of them that some land on the dead one.
      for (let i = 0; i < 12; i++) {
        assert.equal(await kv.keepAlive(lease), true, `renewal ${i}`);
      }
    } finally {
      kv.close();
    }
  },
});
