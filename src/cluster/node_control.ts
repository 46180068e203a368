/**
 * Single nodes of a running local cluster: {@linkcode stopNodes} (`cluster stop-node`) stops
 * some and records them as stopped, their data kept; {@linkcode startNodes}
 * (`cluster start-node`) starts them again on their addresses, data and ids;
 * {@linkcode runningNodes} says which run.
 *
 * @module
 */
import { resolve } from "node:path";
import { CdfsError } from "../core/errors.ts";
import { sendSignal, terminateProcesses, waitForExit } from "../core/processes.ts";
import type { ClusterFile, ClusterNode } from "./cluster_file.ts";
import { readClusterFile, writeClusterFile } from "./cluster_file_io.ts";
import { DEFAULT_STOP_GRACE_MS } from "./cluster_stop.ts";
import { DEFAULT_START_TIMEOUT_MS } from "./local.ts";
import { NodeChild, type NodeLauncher } from "./node_process.ts";
import { verifiedNodePid } from "./node_pids.ts";

/**
 * Options of {@linkcode stopNodes}.
 *
 * @example
 * ```ts
 * import type { StopNodeOptions } from "./node_control.ts";
 * const crash: StopNodeOptions = { kill: true };
 * ```
 */
export interface StopNodeOptions {
  /** SIGKILL at once (a crash) instead of SIGTERM and a grace period. */
  readonly kill?: boolean;
  /** How long SIGTERM may take before SIGKILL (default {@linkcode DEFAULT_STOP_GRACE_MS}). */
  readonly graceMs?: number;
}

/**
 * Stops some nodes of a cluster (`cluster stop-node`), all at once, and records them as
 * stopped; their data stays, so {@linkcode startNodes} brings them back with their blocks.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { stopNodes } from "./node_control.ts";
 * const wereRunning = await stopNodes("/run/user/1000/cdfs/local/cluster.json", [3, 7]);
 * ```
 *
 * @param path The cluster file.
 * @param indices The nodes' indices.
 * @param options SIGKILL or graceful, the grace period.
 * @returns The indices of the nodes that were running.
 * @throws {CdfsError} USAGE for an index that is not a node; NOT_FOUND without the file.
 */
export async function stopNodes(
  path: string,
  indices: readonly number[],
  options: StopNodeOptions = {},
): Promise<number[]> {
  const file = await readClusterFile(path);
  const nodes = uniqueNodes(file, indices);
  const running = nodes.flatMap((node) => {
    const pid = verifiedNodePid(node);
    return pid === undefined ? [] : [{ index: node.index, pid }];
  });
  const pids = running.map((r) => r.pid);
  if (options.kill === true) {
    for (const pid of pids) sendSignal(pid, "SIGKILL");
    await waitForExit(pids, 5000);
  } else {
    await terminateProcesses(pids, options.graceMs ?? DEFAULT_STOP_GRACE_MS);
  }
  // Re-read: another command may have changed other nodes meanwhile.
  let latest = await readClusterFile(path);
  for (const node of nodes) latest = replaceNode(latest, { ...node, pid: null, startTime: null });
  await writeClusterFile(path, latest);
  return running.map((r) => r.index);
}

/**
 * Which of the named nodes run now, with their pids: the process the cluster file records is
 * alive, started when recorded, and is that node's datanode (a pid reused by another process
 * does not count). `cluster start-node` leaves these alone instead of failing on them.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { readClusterFile } from "./cluster_file_io.ts";
 * import { runningNodes } from "./node_control.ts";
 * const running = runningNodes(await readClusterFile(path), [0, 3]);
 * console.log(running.get(3)); // its pid, or undefined when node 3 is stopped
 * ```
 *
 * @param file The cluster file.
 * @param indices Node indices (repetitions are ignored).
 * @returns The pid of every running node among them, by index.
 * @throws {CdfsError} USAGE for no index or an index the cluster does not have.
 */
export function runningNodes(file: ClusterFile, indices: readonly number[]): Map<number, number> {
  const running = new Map<number, number>();
  for (const node of uniqueNodes(file, indices)) {
    const pid = verifiedNodePid(node);
    if (pid !== undefined) running.set(node.index, pid);
  }
  return running;
}

/**
 * Options of {@linkcode startNodes}.
 *
 * @example
 * ```ts
 * import type { StartNodeOptions } from "./node_control.ts";
 * const options: StartNodeOptions = { launcher: { command: "cdfs", args: [] } };
 * ```
 */
export interface StartNodeOptions {
  /** How to run cdfs. */
  readonly launcher: NodeLauncher;
  /** How long they may take to answer PING (default {@linkcode DEFAULT_START_TIMEOUT_MS}). */
  readonly startTimeoutMs?: number;
  /** A node's launcher instead of `launcher` (e.g. wrapped in `ip netns exec`). */
  readonly launcherFor?: (node: ClusterNode) => NodeLauncher;
  /** A node's `--listen` (default: its recorded address). */
  readonly listenFor?: (node: ClusterNode) => string;
  /** Whether to PING every node before it counts as started (default true; false when this
   * process cannot reach the nodes, e.g. in network namespaces). */
  readonly pingNodes?: boolean;
}

/**
 * Starts stopped nodes again (`cluster start-node`), each on its address, data directory and
 * id, waits until they answer PING and records their pids. They run on after this process
 * exits.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { startNodes } from "./node_control.ts";
 * import { selfLauncher } from "./node_process.ts";
 * await startNodes(path, [3], { launcher: selfLauncher((n) => Deno.env.get(n)) });
 * ```
 *
 * @param path The cluster file.
 * @param indices The nodes' indices.
 * @param options The launcher and the start timeout.
 * @returns The nodes as recorded.
 * @throws {CdfsError} EXISTS when one of them runs; UNAVAILABLE when one does not start (e.g.
 * its port was taken meanwhile; the others started are stopped again); USAGE for an index
 * that is not a node.
 */
export async function startNodes(
  path: string,
  indices: readonly number[],
  options: StartNodeOptions,
): Promise<ClusterNode[]> {
  const file = await readClusterFile(path);
  if (file.state !== "up") {
    throw new CdfsError("UNAVAILABLE", `cluster '${file.name}' is ${file.state}, not up`);
  }
  const nodes = uniqueNodes(file, indices);
  for (const node of nodes) {
    const running = verifiedNodePid(node);
    if (running !== undefined) {
      throw new CdfsError(
        "EXISTS",
        `node ${node.index} (${node.address}) is running, pid ${running}`,
      );
    }
  }
  const children = nodes.map((node) =>
    NodeChild.spawn({
      launcher: options.launcherFor?.(node) ?? options.launcher,
      dataDir: node.dataDir,
      listen: options.listenFor?.(node) ?? node.address,
      id: node.id,
      log: node.log,
      nodeArgs: file.nodeArgs,
      peersFile: resolve(path),
      ...(file.namenode === undefined ? {} : { namenode: file.namenode.address }),
    })
  );
  try {
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    await Promise.all(children.map((child) => child.ready(timeoutMs, options.pingNodes ?? true)));
    const started = nodes.map((node, i): ClusterNode => ({
      ...node,
      pid: children[i]!.pid,
      startTime: children[i]!.startTime,
    }));
    let latest = await readClusterFile(path);
    for (const node of started) latest = replaceNode(latest, node);
    await writeClusterFile(path, latest);
    return started;
  } catch (error) {
    await terminateProcesses(children.filter((c) => !c.exited).map((c) => c.pid), 2000);
    throw error;
  } finally {
    for (const child of children) child.release();
  }
}

function uniqueNodes(file: ClusterFile, indices: readonly number[]): ClusterNode[] {
  if (indices.length === 0) throw new CdfsError("USAGE", "name at least one node index");
  return [...new Set(indices)].map((index) => {
    const node = file.nodes[index];
    if (!Number.isSafeInteger(index) || node === undefined) {
      throw new CdfsError(
        "USAGE",
        `cluster '${file.name}' has nodes 0..${file.nodes.length - 1}, not ${index}`,
      );
    }
    return node;
  });
}

function replaceNode(file: ClusterFile, node: ClusterNode): ClusterFile {
  return { ...file, nodes: file.nodes.map((n) => n.index === node.index ? node : n) };
}
