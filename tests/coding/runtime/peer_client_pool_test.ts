/**
 * Connections kept between coding runs: a pipeline's second run, pulled or pushed, sends its
 * requests on the connections the first one committed on (no new connection between any two
 * nodes), counts their bytes as its own, and gives the same blocks; a kept connection its node closed, or
 * one of a run that failed, is never used again.
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../../src/client/datanode_client.ts";
import { encodeObject } from "../../../src/client/objects/encode.ts";
import { putParts } from "../../../src/client/objects/put_parts.ts";
import { PeerClientPool } from "../../../src/coding/runtime/peer_client_pool.ts";
import { loadCodingModule } from "../../../src/coding/lang/loader.ts";
import { startCluster } from "../../helpers/in_process_cluster.ts";
import { randomBytes } from "../../helpers/bytes.ts";
import { waitFor } from "../../helpers/wait.ts";

for (const mode of ["pull", "push"] as const) {
  Deno.test(`${mode} runs: the second sends its requests on the connections the first kept`, async () => {
    await using cluster = await startCluster(6);
    const work = await Deno.makeTempDir({ prefix: "cdfs-kept-" });
    try {
      const module = await loadCodingModule("rapidraid:n=6,k=4");
      const bytes = randomBytes(300_001);
      await Deno.writeFile(`${work}/object`, bytes);
      const blocks: Uint8Array[][] = [];
      const runs: string[] = [];
      // Pull: node i + 1 connects to node i; push: node i connects to node i + 1. The client's
      // own connection (to node 5 pulling, node 0 pushing) closes after the run.
      const kept = mode === "pull" ? [1, 1, 1, 1, 1, 0] : [0, 1, 1, 1, 1, 1];
      for (const id of ["first", "second"]) {
        const target = { module, nodes: cluster.nodes, objectId: id };
        await putParts({ ...target, file: `${work}/object`, chunkSize: 65536 });
        const runId = crypto.randomUUID().replaceAll("-", "");
        runs.push(runId);
        await encodeObject({ ...target, chunkSize: 65536, runId, mode });
        await waitFor(
          "one connection between each two neighbours",
          () => cluster.servers.every((s, i) => s.connections === kept[i]),
        );
        blocks.push(
          await Promise.all(module.coded.map(async ({ node }, i) => {
            using client = await DataNodeClient.connect(cluster.nodes[node]!);
            const chunks: Uint8Array[] = [];
            await client.retrieve(`${id}.coded${i}`, (c) => void chunks.push(c.slice()));
            return new Uint8Array(chunks.flatMap((c) => [...c]));
          })),
        );
      }
      // The same parts, the same coded blocks: the kept connections carried the right bytes.
      assert.deepEqual(blocks[1], blocks[0]);
      // The second run's bytes between nodes 0 and 1 went on the kept connection, counted as
      // that run's (pulled by node 1, or pushed on by node 0), the first run's did not grow.
      const [counter, peer, way] = mode === "pull"
        ? [1, 0, "bytesIn"] as const
        : [0, 1, "bytesOut"] as const;
      const bytes2 = cluster.servers[counter]!.traffic.run(runs[1]!)!
        .upstream[cluster.nodes[peer]!]!;
      assert.ok(bytes2[way] >= 75_001, `second run's bytes: ${bytes2[way]}`);
      const bytes1 = cluster.servers[counter]!.traffic.run(runs[0]!)!
        .upstream[cluster.nodes[peer]!]!;
      assert.ok(bytes1[way] < 2 * 75_001, `first run's bytes grew: ${bytes1[way]}`);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  });
}

Deno.test("peer client pool: a closed connection is not handed out, and close() empties it", async () => {
  await using cluster = await startCluster(2);
  const pool = new PeerClientPool({ maxPerPeer: 2 });
  try {
    const key = `${cluster.nodes[0]}|default`;
    const a = await DataNodeClient.connect(cluster.nodes[0]!);
    const b = await DataNodeClient.connect(cluster.nodes[0]!);
    const c = await DataNodeClient.connect(cluster.nodes[0]!);
    for (const client of [a, b, c]) await client.ping();
    pool.give(key, a);
    pool.give(key, b);
    pool.give(key, c); // over maxPerPeer: closed
    assert.equal(pool.size, 2);
    assert.equal(c.reusable, false);
    assert.equal(pool.take(`${cluster.nodes[1]}|default`), null);
    const taken = pool.take(key)!;
    assert.ok(taken === a || taken === b);
    assert.equal(pool.size, 1);
    pool.give(key, taken);
    // The node goes away: its kept connections see the close and are never handed out.
    await cluster.stop(0);
    await waitFor("the kept clients to see the close", () => !a.reusable && !b.reusable);
    assert.equal(pool.take(key), null);
    assert.equal(pool.size, 0);
    const d = await DataNodeClient.connect(cluster.nodes[1]!);
    await d.ping();
    pool.close();
    pool.give(`${cluster.nodes[1]}|default`, d); // after close(): closed at once
    assert.equal(pool.size, 0);
    assert.equal(d.reusable, false);
  } finally {
    pool.close();
  }
});

Deno.test("peer client pool: a kept connection is closed after idleMs", async () => {
  await using cluster = await startCluster(1);
  const pool = new PeerClientPool({ idleMs: 50 });
  const client = await DataNodeClient.connect(cluster.nodes[0]!);
  await client.ping();
  pool.give("k", client);
  assert.equal(pool.size, 1);
  await waitFor("the idle expiry", () => pool.size === 0);
  assert.equal(client.reusable, false);
  await waitFor("the node to see the close", () => cluster.servers[0]!.connections === 0);
  pool.close();
});
