/**
 * `cdfs status`: the namenode's STATUS as a readable table and as JSON, with an exit status
 * scripts can test (0 all well, 1 a dead datanode or a file not healthy).
 */
import assert from "node:assert/strict";
import { runCdfs } from "../helpers/cli.ts";
import { Clock, commitNewFile, MIRROR, servingNameNode } from "../namenode/_namenode.ts";

Deno.test("cdfs status: tables and JSON; exit 1 once a datanode is dead and files degraded", async () => {
  const clock = new Clock();
  await using nn = await servingNameNode({
    now: clock.now,
    deadAfterMs: 10_000,
    traffic: { traffic: () => Promise.resolve(new Map()) },
  }, 2);
  await commitNewFile(nn.client, { name: "a b.bin", length: 10, layout: MIRROR });
  const env = { CDFS_NAMENODE: nn.server.address };
  const healthy = await runCdfs(["status"], { env });
  assert.equal(healthy.code, 0, healthy.err);
  assert.match(healthy.out, /: 2 of 2 datanodes alive\n/);
  assert.match(healthy.out, /^files: 1 \(1 healthy, 0 degraded, 0 lost, 0 unknown\)$/m);
  assert.match(healthy.out, /^ {2}dn1 +127\.0\.0\.1:20001 +alive /m);
  assert.match(healthy.out, / file-committed .*name="a b\.bin"/);

  clock.advance(11_000);
  await nn.client.heartbeat("dn0", { free: 1 << 30 });
  const degraded = await runCdfs(["status"], { env });
  assert.equal(degraded.code, 1);
  assert.match(degraded.out, /^ {2}dn1 +127\.0\.0\.1:20001 +dead /m);
  assert.match(degraded.out, /^ {2}degraded +1 of 2 +replication +"a b\.bin"$/m);
  const json = await runCdfs(["status", "--json", "--namenode", nn.server.address]);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.out);
  assert.deepEqual(report.files, { total: 1, healthy: 0, degraded: 1, lost: 0, unknown: 0 });
  assert.deepEqual(report.nodes.map((n: { state: string }) => n.state), ["alive", "dead"]);
});
