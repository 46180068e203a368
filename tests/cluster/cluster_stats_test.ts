/**
 * The cluster-wide STATS: gathering (with a stand-in for the network: nodes that answer, fail
 * or answer as someone else), totals, the runs seen, and one run summed up with its busy
 * windows relative to the earliest start.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ClusterFile } from "../../src/cluster/cluster_file.ts";
import {
  clusterTotal,
  gatherClusterStats,
  type NodeTraffic,
  recentRuns,
  type StatsFetcher,
  summarizeRun,
  sumTraffic,
} from "../../src/cluster/cluster_stats.ts";
import type { OpTraffic, RunTraffic, StatsResponse } from "../../src/protocol/responses.ts";

const RUN = "0123456789abcdef0123456789abcdef";
const OTHER_RUN = "fedcba9876543210fedcba9876543210";

function cluster(count: number): ClusterFile {
  return {
    version: 1,
    name: "st",
    state: "up",
    created: "2026-01-01T00:00:00.000Z",
    stateDir: "/tmp/state/st",
    dataDir: "/tmp/data",
    removeData: true,
    nodeArgs: [],
    launcher: { pid: 4242, startTime: null, detached: true },
    nodes: Array.from({ length: count }, (_, index) => ({
      index,
      address: `127.0.0.1:${13100 + index}`,
      id: `st-n${index}`,
      dataDir: `/tmp/data/n${index}`,
      log: `/tmp/data/n${index}.log`,
      pid: null,
      startTime: null,
    })),
  };
}

function traffic(requests: number, bytesIn: number, bytesOut: number, ms: number): OpTraffic {
  return { requests, errors: requests > 2 ? 1 : 0, bytesIn, bytesOut, ms };
}

function stats(id: string, total: OpTraffic, runs: Record<string, RunTraffic> = {}): StatsResponse {
  return { node: id, since: "2026-01-01T00:00:00.000Z", total, ops: {}, runs };
}

function answered(index: number, response: StatsResponse): NodeTraffic {
  return {
    index,
    address: `127.0.0.1:${13100 + index}`,
    id: `st-n${index}`,
    ok: true,
    stats: response,
  };
}

Deno.test("gatherClusterStats: one entry per node, failures and impostors named", async () => {
  const asked: { address: string; run: string | undefined; timeoutMs: number }[] = [];
  const fetchStats: StatsFetcher = (address, run, timeoutMs) => {
    asked.push({ address, run, timeoutMs });
    const port = Number(address.split(":")[1]);
    if (port === 13101) return Promise.reject(new Error("connection refused\nsecond line"));
    const id = port === 13102 ? "someone-else" : `st-n${port - 13100}`;
    return Promise.resolve(stats(id, traffic(1, 10, 20, 0.5)));
  };
  const nodes = await gatherClusterStats(cluster(3), { run: RUN, timeoutMs: 700, fetchStats });
  assert.deepEqual(asked.map((a) => a.address).sort(), [
    "127.0.0.1:13100",
    "127.0.0.1:13101",
    "127.0.0.1:13102",
  ]);
  assert.ok(asked.every((a) => a.run === RUN && a.timeoutMs === 700));
  assert.deepEqual(nodes.map((n) => [n.index, n.ok]), [[0, true], [1, false], [2, false]]);
  assert.equal(nodes[1]!.ok ? "" : nodes[1]!.error, "connection refused");
  assert.equal(nodes[2]!.ok ? "" : nodes[2]!.error, "answered as 'someone-else', not 'st-n2'");
});

Deno.test("sumTraffic and clusterTotal add up the nodes that answered", () => {
  const a = traffic(3, 1000, 20, 0.1);
  const b = traffic(2, 24, 4000, 0.2);
  assert.deepEqual(sumTraffic([a, b]), {
    requests: 5,
    errors: 1,
    bytesIn: 1024,
    bytesOut: 4020,
    ms: 0.3, // not 0.30000000000000004
  });
  assert.deepEqual(sumTraffic([]), { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, ms: 0 });
  const nodes: NodeTraffic[] = [
    answered(0, stats("st-n0", a)),
    { index: 1, address: "127.0.0.1:13101", id: "st-n1", ok: false, error: "refused" },
    answered(2, stats("st-n2", b)),
  ];
  assert.deepEqual(clusterTotal(nodes), sumTraffic([a, b]));
});

Deno.test("recentRuns lists each run once with its node count, the latest start last", () => {
  const run = (startedAt?: number): RunTraffic => ({
    served: traffic(1, 1, 1, 1),
    upstream: {},
    ...(startedAt === undefined ? {} : { times: { startedAt } }),
  });
  const nodes: NodeTraffic[] = [
    answered(0, stats("st-n0", traffic(1, 1, 1, 1), { [OTHER_RUN]: run(2000), [RUN]: run(1000) })),
    answered(1, stats("st-n1", traffic(1, 1, 1, 1), { [RUN]: run(1005) })),
  ];
  assert.deepEqual(recentRuns(nodes), [{ run: RUN, nodes: 2 }, { run: OTHER_RUN, nodes: 1 }]);
});

Deno.test("summarizeRun: served and upstream per node and in total, windows from the first start", () => {
  const nodes: NodeTraffic[] = [
    answered(
      0,
      stats("st-n0", traffic(5, 1, 1, 1), {
        [RUN]: {
          served: traffic(1, 300, 262_000, 40),
          upstream: {},
          times: { startedAt: 10_010, firstStepAt: 10_015, lastStepAt: 10_040, endedAt: 10_045 },
        },
      }),
    ),
    answered(
      1,
      stats("st-n1", traffic(5, 1, 1, 1), {
        [RUN]: {
          served: traffic(1, 400, 262_500, 50),
          upstream: {
            "127.0.0.1:13100": { connections: 1, bytesIn: 262_000, bytesOut: 300 },
            "10.9.9.9:1": { connections: 2, bytesIn: 7, bytesOut: 8 },
          },
          times: { startedAt: 10_000, firstStepAt: 10_020, lastStepAt: 10_050, endedAt: 10_052 },
        },
      }),
    ),
    answered(2, stats("st-n2", traffic(1, 1, 1, 1))), // no traffic of the run
    { index: 3, address: "127.0.0.1:13103", id: "st-n3", ok: false, error: "refused" },
  ];
  const summary = summarizeRun(nodes, RUN);
  assert.equal(summary.origin, 10_000);
  assert.deepEqual(summary.nodes.map((n) => n.index), [0, 1]);
  assert.deepEqual(summary.nodes[0]!.window, {
    startMs: 10,
    firstStepMs: 15,
    lastStepMs: 40,
    endMs: 45,
  });
  assert.deepEqual(summary.nodes[1]!.window, {
    startMs: 0,
    firstStepMs: 20,
    lastStepMs: 50,
    endMs: 52,
  });
  // The peer at a cluster address is named by its index; a stranger only by its address.
  assert.deepEqual(summary.nodes[1]!.peers, [
    { address: "127.0.0.1:13100", node: 0, connections: 1, bytesIn: 262_000, bytesOut: 300 },
    { address: "10.9.9.9:1", connections: 2, bytesIn: 7, bytesOut: 8 },
  ]);
  assert.deepEqual(summary.nodes[1]!.upstream, {
    connections: 3,
    bytesIn: 262_007,
    bytesOut: 308,
  });
  assert.deepEqual(
    summary.total.served,
    sumTraffic([traffic(1, 300, 262_000, 40), traffic(1, 400, 262_500, 50)]),
  );
  assert.deepEqual(summary.total.upstream, { connections: 3, bytesIn: 262_007, bytesOut: 308 });
  assert.deepEqual(summary.total.window, {
    startMs: 0,
    firstStepMs: 15,
    lastStepMs: 50,
    endMs: 52,
  });
});

Deno.test("summarizeRun: a run without times, and a run no node knows", () => {
  const untimed = summarizeRun([
    answered(
      0,
      stats("st-n0", traffic(1, 1, 1, 1), { [RUN]: { served: traffic(1, 5, 6, 7), upstream: {} } }),
    ),
  ], RUN);
  assert.equal(untimed.origin, undefined);
  assert.equal(untimed.nodes[0]!.window, undefined);
  assert.equal(untimed.total.window, undefined);
  const unknown = summarizeRun([answered(0, stats("st-n0", traffic(1, 1, 1, 1)))], OTHER_RUN);
  assert.deepEqual(unknown.nodes, []);
  assert.equal(unknown.total.served.requests, 0);
});
