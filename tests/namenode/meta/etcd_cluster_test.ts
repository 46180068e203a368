import assert from "node:assert/strict";
import { EtcdCluster, findEtcd } from "../_etcd.ts";
import { etcdFactory } from "./_etcd_factory.ts";
import { runSharedSuite, SUITE } from "./_suite.ts";

const etcd = await findEtcd();
const skip = etcd.found ? "" : ` (skipped: ${etcd.reason})`;

Deno.test({
  name: `etcd backend: the shared suite on a 3-member cluster whose leader is killed midway${skip}`,
  ignore: !etcd.found,
  async fn(t) {
    await using cluster = await EtcdCluster.start({ members: 3 });
    let killed: string | undefined;
    const middle = Math.floor(SUITE.length / 2);
    await runSharedSuite(t, etcdFactory(cluster.clientUrls, "trio"), async (index) => {
      if (index !== middle) return;
      const leader = await cluster.leader();
      assert.ok(leader !== undefined, "the cluster has a leader");
      killed = leader.name;
      await leader.kill();
    });
    assert.ok(killed !== undefined);
    assert.equal(cluster.members.filter((m) => m.running).length, 2);
  },
});
