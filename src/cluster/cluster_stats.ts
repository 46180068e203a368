/**
 * The traffic of a whole cluster (`cdfs cluster stats`): every node's STATS, asked at once, and
 * what they add up to — in total, and for one CODING run (served bytes, the connections each
 * node opened to the others, and when the run was busy on each node).
 *
 * Times: a run's `times` are milliseconds since the epoch by each node's clock. The nodes of a
 * local or emulated cluster share this machine's clock, so their times compare directly; they
 * are shown relative to the earliest start among the nodes.
 *
 * @module
 */
import { DataNodeClient } from "../client/datanode_client.ts";
import type { OpTraffic, PeerTraffic, StatsResponse } from "../protocol/responses.ts";
import type { ClusterFile } from "./cluster_file.ts";

/**
 * How long a node may take to answer STATS, by default (as `cluster status` waits for PING).
 */
export const DEFAULT_STATS_TIMEOUT_MS = 2000;

/**
 * One node's answer to STATS, or why there is none.
 *
 * @example
 * ```ts
 * import type { NodeTraffic } from "./cluster_stats.ts";
 * const down: NodeTraffic = {
 *   index: 3, address: "127.0.0.1:13103", id: "local-n3", ok: false,
 *   error: "cannot reach node 127.0.0.1:13103: Connection refused",
 * };
 * ```
 */
export type NodeTraffic =
  & {
    /** The node's index. */
    readonly index: number;
    /** Its address. */
    readonly address: string;
    /** Its id. */
    readonly id: string;
  }
  & (
    | { readonly ok: true; readonly stats: StatsResponse }
    | { readonly ok: false; readonly error: string }
  );

/**
 * Asks one node for its STATS (the default of {@linkcode GatherStatsOptions.fetchStats}).
 *
 * @example
 * ```ts
 * import type { StatsFetcher } from "./cluster_stats.ts";
 * const never: StatsFetcher = () => Promise.reject(new Error("unreachable"));
 * ```
 */
export type StatsFetcher = (
  address: string,
  run: string | undefined,
  timeoutMs: number,
) => Promise<StatsResponse>;

/**
 * Options of {@linkcode gatherClusterStats}.
 *
 * @example
 * ```ts
 * import type { GatherStatsOptions } from "./cluster_stats.ts";
 * const options: GatherStatsOptions = { run: "0123456789abcdef0123456789abcdef", timeoutMs: 500 };
 * ```
 */
export interface GatherStatsOptions {
  /** Only this run (32 lower-case hex digits) in each node's `runs`. */
  readonly run?: string;
  /** How long each node may take (default {@linkcode DEFAULT_STATS_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** How a node is asked (default: a `DataNodeClient` connection of its own). */
  readonly fetchStats?: StatsFetcher;
}

/**
 * Asks every node of a cluster for its STATS at once. A node that does not answer, or answers
 * with another node's id (another process on its port), is an entry with the reason.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { gatherClusterStats } from "./cluster_stats.ts";
 * import { readClusterFile } from "./cluster_file_io.ts";
 * const nodes = await gatherClusterStats(await readClusterFile(path), { run });
 * console.log(nodes.filter((n) => !n.ok).length, "unreachable");
 * ```
 *
 * @param cluster The cluster file.
 * @param options The run, the timeout, how to ask.
 * @returns One entry per node, in index order.
 */
export function gatherClusterStats(
  cluster: ClusterFile,
  options: GatherStatsOptions = {},
): Promise<NodeTraffic[]> {
  const fetchStats = options.fetchStats ?? fetchNodeStats;
  const timeoutMs = options.timeoutMs ?? DEFAULT_STATS_TIMEOUT_MS;
  return Promise.all(cluster.nodes.map(async (node): Promise<NodeTraffic> => {
    const base = { index: node.index, address: node.address, id: node.id };
    try {
      const stats = await fetchStats(node.address, options.run, timeoutMs);
      if (stats.node !== node.id) {
        return { ...base, ok: false, error: `answered as '${stats.node}', not '${node.id}'` };
      }
      return { ...base, ok: true, stats };
    } catch (error) {
      return { ...base, ok: false, error: (error as Error).message.split("\n")[0] ?? "" };
    }
  }));
}

async function fetchNodeStats(
  address: string,
  run: string | undefined,
  timeoutMs: number,
): Promise<StatsResponse> {
  using client = await DataNodeClient.connect(address, {
    connectTimeoutMs: timeoutMs,
    idleTimeoutMs: timeoutMs,
    frameTimeoutMs: timeoutMs,
  });
  return await client.stats(run);
}

/**
 * Adds traffic counters up (times rounded to the microsecond: sums of float milliseconds carry
 * noise digits).
 *
 * @example
 * ```ts
 * import { sumTraffic } from "./cluster_stats.ts";
 * const a = { requests: 1, errors: 0, bytesIn: 10, bytesOut: 20, ms: 0.1 };
 * console.log(sumTraffic([a, a]).ms); // 0.2
 * ```
 *
 * @param counters The counters.
 * @returns Their sum (zeros for none).
 */
export function sumTraffic(counters: Iterable<OpTraffic>): OpTraffic {
  const total = { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, ms: 0 };
  for (const c of counters) {
    total.requests += c.requests;
    total.errors += c.errors;
    total.bytesIn += c.bytesIn;
    total.bytesOut += c.bytesOut;
    total.ms += c.ms;
  }
  total.ms = Math.round(total.ms * 1000) / 1000;
  return total;
}

/**
 * Every node's counters added up: the `total` of each node that answered.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { clusterTotal } from "./cluster_stats.ts";
 * console.log(clusterTotal(nodes).bytesIn);
 * ```
 *
 * @param nodes The answers of {@linkcode gatherClusterStats}.
 * @returns The sum.
 */
export function clusterTotal(nodes: readonly NodeTraffic[]): OpTraffic {
  return sumTraffic(nodes.flatMap((node) => node.ok ? [node.stats.total] : []));
}

/**
 * The runs the nodes reported (without `--run`, each node's most recent ones), once each:
 * the run id and how many nodes know it, the most recently started last.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { recentRuns } from "./cluster_stats.ts";
 * for (const { run, nodes: count } of recentRuns(nodes)) console.log(run, count);
 * ```
 *
 * @param nodes The answers of {@linkcode gatherClusterStats}.
 * @returns The runs.
 */
export function recentRuns(nodes: readonly NodeTraffic[]): { run: string; nodes: number }[] {
  const seen = new Map<string, { nodes: number; startedAt: number }>();
  for (const node of nodes) {
    if (!node.ok) continue;
    for (const [run, traffic] of Object.entries(node.stats.runs)) {
      const entry = seen.get(run) ?? { nodes: 0, startedAt: Infinity };
      entry.nodes++;
      entry.startedAt = Math.min(entry.startedAt, traffic.times?.startedAt ?? Infinity);
      seen.set(run, entry);
    }
  }
  // A stable sort: runs without times keep the order the nodes listed them in.
  return [...seen].sort(([, a], [, b]) =>
    a.startedAt === b.startedAt ? 0 : a.startedAt === Infinity ? -1 : a.startedAt - b.startedAt
  ).map(([run, entry]) => ({ run, nodes: entry.nodes }));
}

/**
 * When a run was busy on one node, in milliseconds after the run's origin (the earliest
 * `startedAt` among the nodes): its first request began, its first and last step were
 * computed, its last request ended. A field is absent when the node did not report it.
 *
 * @example
 * ```ts
 * import type { RunWindow } from "./cluster_stats.ts";
 * const window: RunWindow = { startMs: 2, firstStepMs: 5, lastStepMs: 40, endMs: 41 };
 * ```
 */
export interface RunWindow {
  /** The first request began. */
  readonly startMs: number;
  /** The first step was computed. */
  readonly firstStepMs?: number;
  /** The last step was computed. */
  readonly lastStepMs?: number;
  /** The last request ended. */
  readonly endMs?: number;
}

/**
 * The connections one node opened to one other node for a run.
 *
 * @example
 * ```ts
 * import type { RunPeer } from "./cluster_stats.ts";
 * const peer: RunPeer = {
 *   address: "127.0.0.1:13100", node: 0, connections: 1, bytesIn: 262_300, bytesOut: 420,
 * };
 * ```
 */
export interface RunPeer extends PeerTraffic {
  /** The other node's address, as this node dialed it. */
  readonly address: string;
  /** Its index in the cluster, when the address is one of the cluster's. */
  readonly node?: number;
}

/**
 * One node's part in a run.
 *
 * @example
 * ```ts
 * import type { RunOnNode } from "./cluster_stats.ts";
 * const part: RunOnNode = {
 *   index: 1,
 *   address: "127.0.0.1:13101",
 *   served: { requests: 1, errors: 0, bytesIn: 900, bytesOut: 262_300, ms: 35 },
 *   upstream: { connections: 0, bytesIn: 0, bytesOut: 0 },
 *   peers: [],
 * };
 * ```
 */
export interface RunOnNode {
  /** The node's index. */
  readonly index: number;
  /** Its address. */
  readonly address: string;
  /** The run's requests it served. */
  readonly served: OpTraffic;
  /** The connections it opened to other nodes for the run, added up. */
  readonly upstream: PeerTraffic;
  /** The same, by other node. */
  readonly peers: readonly RunPeer[];
  /** When it was busy with the run, when the node reported times. */
  readonly window?: RunWindow;
}

/**
 * One run across a cluster.
 *
 * @example
 * ```ts
 * import type { RunSummary } from "./cluster_stats.ts";
 * const none: RunSummary = {
 *   run: "0123456789abcdef0123456789abcdef",
 *   nodes: [],
 *   total: {
 *     served: { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, ms: 0 },
 *     upstream: { connections: 0, bytesIn: 0, bytesOut: 0 },
 *   },
 * };
 * ```
 */
export interface RunSummary {
  /** The run id. */
  readonly run: string;
  /** The earliest `startedAt` among the nodes (ms since the epoch), when any reported times. */
  readonly origin?: number;
  /** The nodes that answered and know the run, in index order. */
  readonly nodes: readonly RunOnNode[];
  /** Everything added up; `window` from the origin (0) to the latest end reported, with the
   * earliest first step and the latest last step of any node. */
  readonly total: {
    readonly served: OpTraffic;
    readonly upstream: PeerTraffic;
    readonly window?: RunWindow;
  };
}

/**
 * Sums one run up across the nodes that answered.
 *
 * @example
 * ```ts
 * import { summarizeRun } from "./cluster_stats.ts";
 * const run = "0123456789abcdef0123456789abcdef";
 * const zero = { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, ms: 0 };
 * const summary = summarizeRun([{
 *   index: 0, address: "127.0.0.1:1", id: "c-n0", ok: true,
 *   stats: {
 *     node: "c-n0", since: "2026-01-01T00:00:00.000Z", total: zero, ops: {},
 *     runs: { [run]: { served: { ...zero, requests: 1 }, upstream: {}, times: { startedAt: 1000, endedAt: 1040 } } },
 *   },
 * }], run);
 * console.log(summary.total.served.requests, summary.nodes[0]?.window?.endMs); // 1 40
 * ```
 *
 * @param nodes The answers of {@linkcode gatherClusterStats}.
 * @param run The run id.
 * @returns The summary.
 */
export function summarizeRun(nodes: readonly NodeTraffic[], run: string): RunSummary {
  const indexOf = new Map(nodes.map((node) => [node.address, node.index]));
  const found = nodes.flatMap((node) => {
    const traffic = node.ok ? node.stats.runs[run] : undefined;
    return traffic === undefined ? [] : [{ node, traffic }];
  });
  const starts = found.flatMap(({ traffic }) =>
    traffic.times === undefined ? [] : [traffic.times.startedAt]
  );
  const origin = starts.length === 0 ? undefined : Math.min(...starts);
  const parts = found.map(({ node, traffic }): RunOnNode => {
    const peers = Object.entries(traffic.upstream).map(([address, peer]): RunPeer => {
      const index = indexOf.get(address);
      return { address, ...(index === undefined ? {} : { node: index }), ...peer };
    });
    const times = traffic.times;
    return {
      index: node.index,
      address: node.address,
      served: traffic.served,
      upstream: sumPeers(peers),
      peers,
      ...(times === undefined || origin === undefined ? {} : {
        window: {
          startMs: times.startedAt - origin,
          ...(times.firstStepAt === undefined ? {} : { firstStepMs: times.firstStepAt - origin }),
          ...(times.lastStepAt === undefined ? {} : { lastStepMs: times.lastStepAt - origin }),
          ...(times.endedAt === undefined ? {} : { endMs: times.endedAt - origin }),
        },
      }),
    };
  });
  const windows = parts.flatMap((part) => part.window ?? []);
  const earliest = (values: number[]) => values.length === 0 ? undefined : Math.min(...values);
  const latest = (values: number[]) => values.length === 0 ? undefined : Math.max(...values);
  const firstStepMs = earliest(windows.flatMap((w) => w.firstStepMs ?? []));
  const lastStepMs = latest(windows.flatMap((w) => w.lastStepMs ?? []));
  const endMs = latest(windows.flatMap((w) => w.endMs ?? []));
  return {
    run,
    ...(origin === undefined ? {} : { origin }),
    nodes: parts,
    total: {
      served: sumTraffic(parts.map((part) => part.served)),
      upstream: sumPeers(parts.map((part) => part.upstream)),
      ...(origin === undefined ? {} : {
        window: {
          startMs: 0,
          ...(firstStepMs === undefined ? {} : { firstStepMs }),
          ...(lastStepMs === undefined ? {} : { lastStepMs }),
          ...(endMs === undefined ? {} : { endMs }),
        },
      }),
    },
  };
}

function sumPeers(peers: Iterable<PeerTraffic>): PeerTraffic {
  const total = { connections: 0, bytesIn: 0, bytesOut: 0 };
  for (const peer of peers) {
    total.connections += peer.connections;
    total.bytesIn += peer.bytesIn;
    total.bytesOut += peer.bytesOut;
  }
  return total;
}
