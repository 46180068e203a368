/**
 * Which processes are a local cluster's nodes. A recorded pid counts only after `/proc` shows
 * it is still that node (pids are reused): a datanode whose `--data` is the node's data
 * directory, started when recorded. Datanodes serving `<dataDir>/n<i>` that the cluster file
 * does not list (a launcher that died between starting a node and recording it) are found by
 * their command line.
 *
 * @module
 */
import type { ClusterFile, ClusterNode } from "./cluster_file.ts";
import { isDatanodeOf } from "./node_process.ts";
import { findProcesses, type ProcessInfo, processInfo } from "../core/processes.ts";

/**
 * The datanodes that serve one of the node directories `<dataDir>/n<i>` of a data directory,
 * whether a cluster file lists them or not.
 *
 * @example
 * ```ts
 * import { datanodesServing } from "./node_pids.ts";
 * console.log(datanodesServing("/nonexistent/cdfs-data").length); // 0
 * ```
 *
 * @param dataDir The cluster's data directory (absolute).
 * @returns The processes, this one excepted.
 */
export function datanodesServing(dataDir: string): ProcessInfo[] {
  const nodeDir = new RegExp(`^${escapeRegExp(dataDir)}/n\\d+$`);
  return findProcesses((argv) => isDatanodeOfAny(argv, nodeDir));
}

/**
 * The pids of a cluster's node processes that run: the recorded ones that `/proc` confirms,
 * plus unrecorded datanodes serving one of its node directories.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { clusterProcesses } from "./node_pids.ts";
 * import { readClusterFile } from "./cluster_file_io.ts";
 * console.log(clusterProcesses(await readClusterFile(path)));
 * ```
 *
 * @param file The cluster file.
 * @returns The pids.
 */
export function clusterProcesses(file: ClusterFile): number[] {
  const pids = new Set<number>();
  for (const node of file.nodes) {
    const pid = verifiedNodePid(node);
    if (pid !== undefined) pids.add(pid);
  }
  for (const stray of datanodesServing(file.dataDir)) pids.add(stray.pid);
  return [...pids];
}

/**
 * The node's recorded pid when `/proc` shows it is still that node, else undefined.
 *
 * @example
 * ```ts
 * import { verifiedNodePid } from "./node_pids.ts";
 * const node = {
 *   index: 0, address: "127.0.0.1:13100", id: "c-n0", dataDir: "/tmp/d/n0",
 *   log: "/tmp/d/n0.log", pid: Deno.pid, startTime: null,
 * };
 * console.log(verifiedNodePid(node)); // undefined: this process is no datanode
 * ```
 *
 * @param node The node as the cluster file records it.
 * @returns Its pid, or undefined when it is stopped or the pid is another process now.
 */
export function verifiedNodePid(node: ClusterNode): number | undefined {
  if (node.pid === null) return undefined;
  const info = processInfo(node.pid);
  if (info === undefined) return undefined;
  if (node.startTime !== null && info.startTime !== node.startTime) return undefined;
  return isDatanodeOf(info.argv, node.dataDir) ? node.pid : undefined;
}

function isDatanodeOfAny(argv: readonly string[], nodeDir: RegExp): boolean {
  const data = argv.indexOf("--data");
  return data > 0 && nodeDir.test(argv[data + 1] ?? "") && isDatanodeOf(argv, argv[data + 1]!);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
