/**
 * The STATS probe of the status (`src/namenode/status_traffic.ts`) against real in-process
 * datanodes: it reports each node's traffic and keeps the scrub progress the same STATS
 * carried, so the status page shows scrub passes and corrupt blocks without asking twice.
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { scrubNode } from "../../src/client/scrub.ts";
import type { DatanodeRecord } from "../../src/namenode/meta/model.ts";
import { StatsProbe } from "../../src/namenode/status_traffic.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { startCluster } from "../helpers/in_process_cluster.ts";

function record(id: string, address: string): DatanodeRecord {
  return {
    id,
    address,
    capacity: 1 << 30,
    free: 1 << 29,
    registered: 0,
    lastHeartbeat: 0,
    state: "alive",
  };
}

Deno.test("StatsProbe: traffic of every datanode, and the scrub progress its STATS carried", async () => {
  await using cluster = await startCluster(2);
  const [a, b] = cluster.nodes as [string, string];
  {
    using client = await DataNodeClient.connect(a);
    await client.store("s.0", [randomBytes(10_000)], { chunkSize: 4096 });
    await client.store("s.1", [randomBytes(20_000)], { chunkSize: 4096 });
    const summary = await scrubNode(client);
    assert.equal(summary.blocks, 2);
  }
  const probe = new StatsProbe();
  assert.equal(probe.progressOf("dn0"), null, "nothing before the first STATS");
  const answers = await probe.traffic([record("dn0", a), record("dn1", b)]);
  const dn0 = answers.get("dn0")!;
  assert.ok(!("error" in dn0) && dn0.requests >= 3, JSON.stringify(dn0));
  assert.deepEqual(probe.progressOf("dn0"), {
    checkedBytes: 30_000,
    totalBytes: null,
    corrupt: 0,
    passes: 1,
    lastPassEnded: probe.progressOf("dn0")!.lastPassEnded,
  });
  assert.match(probe.progressOf("dn0")!.lastPassEnded ?? "", /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(probe.progressOf("dn1")?.passes, 0);
  assert.equal(probe.progressOf("dn9"), null);
});
