/**
 * The text of `cdfs cluster stats`: one table of every node's traffic and, for a run, one table
 * of that run on every node, each with a totals row. Byte counts read like those of
 * `cdfs stats` (`formatBytes` of `progress.ts`).
 *
 * @module
 */
import {
  clusterTotal,
  type NodeTraffic,
  recentRuns,
  type RunOnNode,
  type RunSummary,
  type RunWindow,
} from "../cluster/cluster_stats.ts";
import type { OpTraffic } from "../protocol/responses.ts";
import { formatColumns } from "../format/columns.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatCount } from "../format/count.ts";

/** How many run ids the text lists without `--run` (the JSON has them all). */
const LISTED_RUNS = 5;

/**
 * The text of `cluster stats`: every node's traffic since it started, the totals, and the runs
 * seen (without a run) or the run's table (with one).
 *
 * @example
 * ```ts
 * import { formatClusterStats } from "./cluster_stats.ts";
 * const text = formatClusterStats("c", [
 *   { index: 0, address: "127.0.0.1:1", id: "c-n0", ok: false, error: "Connection refused" },
 * ]);
 * console.log(text.includes("unreachable: Connection refused")); // true
 * ```
 *
 * @param name The cluster's name.
 * @param nodes The answers of `gatherClusterStats`.
 * @param run The summary of the run asked for, if one was.
 * @returns The text, ending with a newline.
 */
export function formatClusterStats(
  name: string,
  nodes: readonly NodeTraffic[],
  run?: RunSummary,
): string {
  const answered = nodes.filter((node) => node.ok).length;
  const rows: string[][] = [["node", "address", "requests", "errors", "in", "out", "op seconds"]];
  for (const node of nodes) {
    rows.push(
      node.ok
        ? [String(node.index), node.address, ...trafficCells(node.stats.total, 1000, 3)]
        : [String(node.index), node.address, `unreachable: ${node.error}`],
    );
  }
  rows.push(["total", "", ...trafficCells(clusterTotal(nodes), 1000, 3)]);
  const lines = [
    `cluster '${name}': ${answered} of ${formatCount(nodes.length, "node")} answered ` +
    "(counts since each node started)",
    ...formatColumns(rows, 2).map((line) => `  ${line}`),
  ];
  if (run === undefined) {
    const runs = recentRuns(nodes);
    if (runs.length > 0) {
      const shown = runs.slice(-LISTED_RUNS).map((r) =>
        `${r.run} (${formatCount(r.nodes, "node")})`
      );
      lines.push(
        `recent runs${runs.length > LISTED_RUNS ? ` (the last ${LISTED_RUNS})` : ""}: ` +
          `${shown.join(", ")}; one in detail: --run RUN`,
      );
    }
  } else {
    lines.push("", ...runLines(nodes, run));
  }
  return lines.join("\n") + "\n";
}

/** The run's table (served traffic, upstream, busy window per node), totals, peers. */
function runLines(nodes: readonly NodeTraffic[], summary: RunSummary): string[] {
  const parts = new Map(summary.nodes.map((part) => [part.index, part]));
  if (parts.size === 0) {
    return [
      `run ${summary.run}: no node that answered has traffic of it ` +
      "(each node keeps its most recent runs only)",
    ];
  }
  const timed = summary.origin !== undefined;
  const header = ["node", "address", "requests", "errors", "in", "out", "ms"];
  header.push("upstream in", "upstream out");
  if (timed) header.push("start", "first step", "last step", "end");
  const rows: string[][] = [header];
  for (const node of nodes) {
    const part = parts.get(node.index);
    const head = [String(node.index), node.address];
    if (!node.ok) rows.push([...head, "unreachable"]);
    else if (part === undefined) rows.push([...head, "no traffic of this run"]);
    else rows.push([...head, ...runCells(part, timed)]);
  }
  rows.push([
    "total",
    "",
    ...trafficCells(summary.total.served, 1, 1),
    formatBytes(summary.total.upstream.bytesIn),
    formatBytes(summary.total.upstream.bytesOut),
    ...(timed ? windowCells(summary.total.window) : []),
  ]);
  const end = summary.total.window?.endMs;
  const lines = [
    `run ${summary.run} on ${formatCount(parts.size, "node")}` +
    (timed && end !== undefined
      ? `: busy ${end} ms from its first start to its last end (times in ms after the first start)`
      : ""),
    ...formatColumns(rows, 2).map((line) => `  ${line}`),
  ];
  const peers = summary.nodes.flatMap((part) =>
    part.peers.map((peer) =>
      `  node ${part.index} -> ${
        peer.node === undefined ? peer.address : `node ${peer.node} (${peer.address})`
      }: in ${formatBytes(peer.bytesIn)}, out ${formatBytes(peer.bytesOut)} ` +
      `(${formatCount(peer.connections, "connection")})`
    )
  );
  if (peers.length > 0) lines.push("upstream (connections a node opened to another):", ...peers);
  return lines;
}

function runCells(part: RunOnNode, timed: boolean): string[] {
  return [
    ...trafficCells(part.served, 1, 1),
    formatBytes(part.upstream.bytesIn),
    formatBytes(part.upstream.bytesOut),
    ...(timed ? windowCells(part.window) : []),
  ];
}

/** Requests, errors, bytes in and out, and time (ms divided by `unit`, with `digits`). */
function trafficCells(traffic: OpTraffic, unit: number, digits: number): string[] {
  return [
    String(traffic.requests),
    String(traffic.errors),
    formatBytes(traffic.bytesIn),
    formatBytes(traffic.bytesOut),
    (traffic.ms / unit).toFixed(digits),
  ];
}

function windowCells(window: RunWindow | undefined): string[] {
  const cell = (ms: number | undefined) => ms === undefined ? "-" : String(ms);
  return [
    cell(window?.startMs),
    cell(window?.firstStepMs),
    cell(window?.lastStepMs),
    cell(window?.endMs),
  ];
}
