/**
 * How the nodes of a local cluster are doing (`cluster status`): each one PINGed, its process
 * checked against `/proc`.
 *
 * @module
 */
import { DataNodeClient } from "../client/datanode_client.ts";
import type { ClusterFile } from "./cluster_file.ts";
import { verifiedNodePid } from "./node_pids.ts";

/**
 * How one node is doing.
 *
 * @example
 * ```ts
 * import type { NodeStatus } from "./node_status.ts";
 * const status: NodeStatus = {
 *   index: 0, address: "127.0.0.1:13100", id: "local-n0", pid: 4250, running: true,
 *   up: true, blocks: 3, freeBytes: 1e9,
 * };
 * ```
 */
export interface NodeStatus {
  /** The node's index. */
  readonly index: number;
  /** Its address. */
  readonly address: string;
  /** Its id. */
  readonly id: string;
  /** The recorded pid (null when stopped). */
  readonly pid: number | null;
  /** Whether that process runs. */
  readonly running: boolean;
  /** Whether it answered PING with its id. */
  readonly up: boolean;
  /** Its block count, when up. */
  readonly blocks?: number;
  /** Its free bytes, when up. */
  readonly freeBytes?: number;
  /** Why it is not up. */
  readonly error?: string;
}

/**
 * PINGs every node of a cluster at once (`cluster status`).
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { clusterStatus } from "./node_status.ts";
 * import { readClusterFile } from "./cluster_file_io.ts";
 * const statuses = await clusterStatus(await readClusterFile(path));
 * console.log(statuses.filter((s) => s.up).length);
 * ```
 *
 * @param cluster The cluster file.
 * @param timeoutMs How long each node may take to answer (default 2 s).
 * @returns One status per node, in index order.
 */
export function clusterStatus(cluster: ClusterFile, timeoutMs = 2000): Promise<NodeStatus[]> {
  return Promise.all(cluster.nodes.map(async (node): Promise<NodeStatus> => {
    const base = {
      index: node.index,
      address: node.address,
      id: node.id,
      pid: node.pid,
      running: verifiedNodePid(node) !== undefined,
    };
    try {
      using client = await DataNodeClient.connect(node.address, {
        connectTimeoutMs: timeoutMs,
        idleTimeoutMs: timeoutMs,
        frameTimeoutMs: timeoutMs,
      });
      const pong = await client.ping();
      if (pong.node !== node.id) {
        return { ...base, up: false, error: `answered as '${pong.node}', not '${node.id}'` };
      }
      return { ...base, up: true, blocks: pong.blocks, freeBytes: pong.freeBytes };
    } catch (error) {
      return { ...base, up: false, error: (error as Error).message };
    }
  }));
}
