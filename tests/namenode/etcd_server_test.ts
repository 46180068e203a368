/**
 * Namenodes on etcd (the harness of tests/namenode/_etcd.ts starts a real one): two
 * NameNodeServers sharing one etcd serve 16 concurrent clients without allocating an id twice;
 * a namenode started again on the same etcd has lost nothing.
 */
import assert from "node:assert/strict";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { nodesOfFile } from "../../src/namenode/nodes_of_file.ts";
import type { FileView } from "../../src/namenode/responses.ts";
import { cdfsError } from "../helpers/assert_error.ts";
import { EtcdCluster, findEtcd } from "./_etcd.ts";
import { commitNewFile, RAPIDRAID_PARTS, registerNodes, startNameNode } from "./_namenode.ts";

const etcd = await findEtcd();
const skip = etcd.found ? "" : ` (skipped: ${etcd.reason})`;

Deno.test({
  name:
    `two namenodes on one etcd: 16 concurrent create/commit, no id twice, every file consistent; a restart loses nothing${skip}`,
  ignore: !etcd.found,
  async fn() {
    await using cluster = await EtcdCluster.start();
    const meta = `etcd:${cluster.clientUrls.join(",")}`;
    const a = await startNameNode({ meta });
    const b = await startNameNode({ meta });
    const servers = [a.server, b.server];
    let files: FileView[];
    try {
      {
        using setup = await NameNodeClient.connect(a.server.address);
        await registerNodes(setup, 16);
      }
      // 16 clients, alternately on each namenode, each creating and committing a file.
      files = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
        using client = await NameNodeClient.connect(servers[i % 2]!.address);
        const spec = { name: `race/${i}`, code: "rapidraid", length: 11 * 1000 };
        return (await commitNewFile(client, { ...spec, layout: RAPIDRAID_PARTS })).committed;
      }));
      // One name, four creators on both namenodes: exactly one wins.
      const contenders = await Promise.allSettled(Array.from({ length: 4 }, async (_, i) => {
        using client = await NameNodeClient.connect(servers[i % 2]!.address);
        return await client.createFile({
          name: "same",
          code: "rapidraid",
          length: 11,
          layout: RAPIDRAID_PARTS,
        });
      }));
      assert.equal(contenders.filter((c) => c.status === "fulfilled").length, 1);
      for (const c of contenders) {
        if (c.status === "rejected") cdfsError("EXISTS", /file "same" is being created/)(c.reason);
      }

      const ids = files.map((f) => f.fileId);
      assert.equal(new Set(ids).size, 16, "no file id allocated twice");
      const blockIds = files.flatMap((f) => [...new Set(f.blocks.map((b) => b.block))]);
      assert.equal(blockIds.length, 16 * 11);
      assert.equal(new Set(blockIds).size, 16 * 11, "no block id allocated twice");
      using viaA = await NameNodeClient.connect(a.server.address);
      using viaB = await NameNodeClient.connect(b.server.address);
      for (const file of files) {
        assert.equal(file.blocks.length, 22);
        assert.ok(
          file.blocks.every((bl) =>
            bl.state === "stored" && bl.block.startsWith(`${file.objectId}.`)
          ),
        );
        assert.equal(new Set(file.blocks.map((bl) => bl.node)).size, 16);
        assert.equal(nodesOfFile(file, RAPIDRAID_PARTS).filter((n) => n !== null).length, 16);
        assert.deepEqual(await viaA.getFile(file.name), file);
        assert.deepEqual(await viaB.getFile(file.name), file);
      }
      const names = (await viaB.listFiles({ prefix: "race/" })).files.map((f) => f.name);
      assert.deepEqual(names, files.map((f) => f.name).sort());
    } finally {
      await Promise.all(servers.map((s) => s.shutdown(0)));
    }

    const again = await startNameNode({ meta });
    await using _again = again.server;
    using client = await NameNodeClient.connect(again.server.address);
    for (const file of files) assert.deepEqual(await client.getFile(file.name), file);
    assert.equal((await client.listDatanodes()).datanodes.length, 16);
    const next = await client.createFile({
      name: "after",
      code: "rapidraid",
      length: 11,
      layout: RAPIDRAID_PARTS,
    });
    assert.ok(next.file.fileId > Math.max(...files.map((f) => f.fileId)));
  },
});
