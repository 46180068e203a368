/**
 * `cdfs cluster stats`: the text layout (from made-up answers), then the command on a real
 * three-node cluster with a replication run, one node stopped at the end.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { join } from "node:path";
import { formatClusterStats } from "../../src/cli/cluster_stats.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import {
  type NodeTraffic,
  type RunSummary,
  summarizeRun,
} from "../../src/cluster/cluster_stats.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { stopNodes } from "../../src/cluster/node_control.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import type { StatsResponse } from "../../src/protocol/responses.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";

const RUN = "0123456789abcdef0123456789abcdef";

function cdfs(args: string[]): Promise<CliRun> {
  return runCdfs(args);
}

function node(index: number, stats: StatsResponse): NodeTraffic {
  return { index, address: `127.0.0.1:${13100 + index}`, id: stats.node, ok: true, stats };
}

function stats(id: string, bytesIn: number, runs: StatsResponse["runs"] = {}): StatsResponse {
  return {
    node: id,
    since: "2026-01-01T00:00:00.000Z",
    total: { requests: 2, errors: 1, bytesIn, bytesOut: 10, ms: 1500 },
    ops: {},
    runs,
  };
}

Deno.test("formatClusterStats: one row per node, unreachable ones say why, totals add up", () => {
  const text = formatClusterStats("c", [
    node(0, stats("c-n0", 1024)),
    { index: 1, address: "127.0.0.1:13101", id: "c-n1", ok: false, error: "connection refused" },
    node(2, stats("c-n2", 2048)),
  ]);
  const lines = text.split("\n");
  assert.equal(lines[0], "cluster 'c': 2 of 3 nodes answered (counts since each node started)");
  assert.match(lines[1]!, /^ {2}node +address +requests +errors +in +out +op seconds$/);
  assert.match(lines[2]!, /^ {2}0 +127\.0\.0\.1:13100 +2 +1 +1\.0 KiB +10 B +1\.500$/);
  assert.match(lines[3]!, /^ {2}1 +127\.0\.0\.1:13101 +unreachable: connection refused$/);
  assert.match(lines[5]!, /^ {2}total +4 +2 +3\.0 KiB +20 B +3\.000$/);
  assert.equal(text.endsWith("\n"), true);
});

Deno.test("formatClusterStats: a run's table, its busy windows and its upstream by peer", () => {
  const nodes = [
    node(
      0,
      stats("c-n0", 1, {
        [RUN]: {
          served: { requests: 1, errors: 0, bytesIn: 300, bytesOut: 2048, ms: 40 },
          upstream: {},
          times: { startedAt: 5_000, firstStepAt: 5_003, lastStepAt: 5_030, endedAt: 5_031 },
        },
      }),
    ),
    node(
      1,
      stats("c-n1", 1, {
        [RUN]: {
          served: { requests: 1, errors: 0, bytesIn: 300, bytesOut: 1024, ms: 41 },
          upstream: { "127.0.0.1:13100": { connections: 1, bytesIn: 2048, bytesOut: 100 } },
          times: { startedAt: 5_002, firstStepAt: 5_010, lastStepAt: 5_040, endedAt: 5_042 },
        },
      }),
    ),
    node(2, stats("c-n2", 1)),
  ];
  const summary: RunSummary = summarizeRun(nodes, RUN);
  const text = formatClusterStats("c", nodes, summary);
  const at = text.indexOf(`run ${RUN} on 2 nodes: busy 42 ms`);
  assert.ok(at > 0, text);
  const lines = text.slice(at).split("\n");
  assert.match(
    lines[1]!,
    /requests +errors +in +out +ms +upstream in +upstream out +start +first step +last step +end$/,
  );
  assert.match(
    lines[2]!,
    /^ {2}0 +127\.0\.0\.1:13100 +1 +0 +300 B +2\.0 KiB +40\.0 +0 B +0 B +0 +3 +30 +31$/,
  );
  assert.match(
    lines[3]!,
    /^ {2}1 +127\.0\.0\.1:13101 +1 +0 +300 B +1\.0 KiB +41\.0 +2\.0 KiB +100 B +2 +10 +40 +42$/,
  );
  assert.match(lines[4]!, /^ {2}2 +127\.0\.0\.1:13102 +no traffic of this run$/);
  assert.match(
    lines[5]!,
    /^ {2}total +2 +0 +600 B +3\.0 KiB +81\.0 +2\.0 KiB +100 B +0 +3 +40 +42$/,
  );
  assert.equal(lines[6], "upstream (connections a node opened to another):");
  assert.equal(
    lines[7],
    "  node 1 -> node 0 (127.0.0.1:13100): in 2.0 KiB, out 100 B (1 connection)",
  );

  const none = formatClusterStats("c", nodes, summarizeRun(nodes, "f".repeat(32)));
  assert.match(none, /run f{32}: no node that answered has traffic of it/);
});

Deno.test("cluster stats on a running cluster: a replication run, then a node down", async () => {
  const root = await Deno.makeTempDir({ prefix: "cdfs-cli-cluster-stats-" });
  const cluster = await LocalCluster.start({
    nodes: 3,
    name: "stats",
    stateRoot: join(root, "state"),
    tempDir: root,
    launcher: selfLauncher((name) => Deno.env.get(name)),
  });
  try {
    const nodes = cluster.file.nodes.map((n) => n.address);
    const length = 200 * 1024 + 3;
    {
      using client = await DataNodeClient.connect(nodes[0]!);
      const bytes = new Uint8Array(length);
      for (let at = 0; at < length; at += 65536) {
        crypto.getRandomValues(bytes.subarray(at, Math.min(length, at + 65536)));
      }
      await client.store("obj.part0", [bytes], { length, chunkSize: 64 * 1024 });
    }
    // Nodes 1 and 2 each copy node 0's part: each opens a connection to node 0 for the run.
    await Promise.all([1, 2].map(async (i) => {
      using client = await DataNodeClient.connect(nodes[i]!);
      await runCoding(client, {
        op: "CODING",
        module: "replication",
        program: `copy${i}`,
        object: "obj",
        run: RUN,
        nodes,
        chunkSize: 64 * 1024,
      });
    }));

    const json = await cdfs([
      "cluster",
      "stats",
      "--cluster",
      cluster.path,
      "--run",
      RUN,
      "--json",
    ]);
    assert.equal(json.code, 0, json.err);
    const parsed = JSON.parse(json.out);
    assert.equal(parsed.name, "stats");
    assert.equal(parsed.run, RUN);
    assert.deepEqual(parsed.nodes.map((n: NodeTraffic) => n.ok), [true, true, true]);
    const summary = parsed.runSummary as RunSummary;
    for (const i of [1, 2]) {
      const part = summary.nodes.find((n) => n.index === i);
      assert.ok(part !== undefined, `node ${i} has no traffic of the run`);
      assert.equal(part.served.requests, 1);
      assert.equal(part.served.errors, 0);
      assert.deepEqual(part.peers.map((p) => [p.node, p.address]), [[0, nodes[0]]]);
      // The part came over that connection: at least its bytes.
      assert.ok(part.peers[0]!.bytesIn >= length, `node ${i} fetched ${part.peers[0]!.bytesIn}`);
    }
    // The totals are the sums of the node rows (no node counted twice or left out).
    const served = summary.nodes.reduce((n, p) => n + p.served.bytesOut, 0);
    assert.equal(summary.total.served.bytesOut, served);
    const fetched = summary.nodes.reduce((n, p) => n + p.upstream.bytesIn, 0);
    assert.equal(summary.total.upstream.bytesIn, fetched);
    // Node 0 sent at least what the others fetched from it.
    const total0 = parsed.nodes[0].stats.total;
    assert.ok(total0.bytesOut >= fetched, `node 0 sent ${total0.bytesOut}, fetched ${fetched}`);

    const text = await cdfs(["cluster", "stats", "--cluster", cluster.path, "--run", RUN]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^cluster 'stats': 3 of 3 nodes answered/);
    assert.ok(text.out.includes(`  node 1 -> node 0 (${nodes[0]}): in `), text.out);
    assert.ok(text.out.includes(`  node 2 -> node 0 (${nodes[0]}): in `), text.out);
    // Without --run the run is listed among the recent ones.
    const brief = await cdfs(["cluster", "stats", "--cluster", cluster.path]);
    assert.match(brief.out, new RegExp(`recent runs: .*${RUN} \\(\\d nodes?\\)`));

    await stopNodes(cluster.path, [2], { kill: true });
    const down = await cdfs(["cluster", "stats", "--cluster", cluster.path]);
    assert.equal(down.code, 1);
    assert.match(down.out, /^cluster 'stats': 2 of 3 nodes answered/);
    assert.match(
      down.out,
      new RegExp(`\\n {2}2 +${nodes[2]!.replaceAll(".", "\\.")} +unreachable: \\S`),
    );
    const downJson = await cdfs(["cluster", "stats", "--cluster", cluster.path, "--json"]);
    assert.equal(downJson.code, 1);
    const last = JSON.parse(downJson.out).nodes[2];
    assert.equal(last.ok, false);
    assert.equal(typeof last.error, "string");

    const bad = await cdfs(["cluster", "stats", "--cluster", cluster.path, "--run", "xyz"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--run must be 32 lower-case hex digits/);
  } finally {
    await cluster.stop(2000);
    await Deno.remove(root, { recursive: true });
  }
});
