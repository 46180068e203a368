/**
 * The bytes each datanode of a local cluster moved, from its own JSON log (one record per
 * request, `bytes` = data received for STORE, sent for RETRIEVE, produced for CODING): what the
 * demo reports per step and per node. The namenode moves no block byte, so it has no column.
 *
 * @module
 */
import type { ClusterFile } from "./cluster_file.ts";

/**
 * One datanode's byte totals.
 *
 * @example
 * ```ts
 * import type { NodeTraffic } from "./demo_traffic.ts";
 * const t: NodeTraffic = { stored: 1024, retrieved: 0, coded: 2048 };
 * ```
 */
export interface NodeTraffic {
  /** Bytes it received in STOREs. */
  readonly stored: number;
  /** Bytes it sent in RETRIEVEs. */
  readonly retrieved: number;
  /** Bytes its CODING runs produced (streamed to a peer or the client, or written locally). */
  readonly coded: number;
}

/** Logs count as settled after this many unchanged polls, this far apart, within this bound. */
const LOG_SETTLE_POLLS = 3;
const LOG_SETTLE_POLL_MS = 20;
const LOG_SETTLE_MAX_MS = 2000;

/**
 * The sum of a node's totals.
 *
 * @example
 * ```ts
 * import { trafficSum } from "./demo_traffic.ts";
 * console.log(trafficSum({ stored: 1, retrieved: 2, coded: 3 })); // 6
 * ```
 *
 * @param t The totals.
 * @returns Their sum.
 */
export function trafficSum(t: NodeTraffic): number {
  return t.stored + t.retrieved + t.coded;
}

/**
 * Every node's totals once the logs stop growing: a node logs a request when it has ended,
 * which may be a moment after the client got its last reply.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { settledTraffic } from "./demo_traffic.ts";
 * const after = await settledTraffic(cluster);
 * ```
 *
 * @param cluster The cluster.
 * @returns Each node's totals, by index.
 */
export async function settledTraffic(cluster: ClusterFile): Promise<NodeTraffic[]> {
  const deadline = performance.now() + LOG_SETTLE_MAX_MS;
  let last = await nodeTraffic(cluster);
  let quiet = 0;
  while (quiet < LOG_SETTLE_POLLS && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, LOG_SETTLE_POLL_MS));
    const now = await nodeTraffic(cluster);
    quiet = JSON.stringify(now) === JSON.stringify(last) ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * Each node's byte totals so far, from its log (missing or unreadable logs count zero).
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { nodeTraffic } from "./demo_traffic.ts";
 * const before = await nodeTraffic(cluster);
 * ```
 *
 * @param cluster The cluster.
 * @returns Each node's totals, by index.
 */
export async function nodeTraffic(cluster: ClusterFile): Promise<NodeTraffic[]> {
  return await Promise.all(cluster.nodes.map(async (node) => {
    const traffic = { stored: 0, retrieved: 0, coded: 0 };
    let text: string;
    try {
      text = await Deno.readTextFile(node.log);
    } catch {
      return traffic;
    }
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      let record: { op?: unknown; bytes?: unknown };
      try {
        record = JSON.parse(line);
      } catch {
        continue; // a line being written
      }
      const bytes = typeof record.bytes === "number" ? record.bytes : 0;
      if (record.op === "STORE") traffic.stored += bytes;
      else if (record.op === "RETRIEVE") traffic.retrieved += bytes;
      else if (record.op === "CODING") traffic.coded += bytes;
    }
    return traffic;
  }));
}
