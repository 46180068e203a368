/**
 * Stopping local clusters: {@linkcode stopCluster} (`cluster down`) stops every node (and the
 * namenode and etcd the cluster started) and removes the cluster's state and temporary data;
 * {@linkcode cleanClusters} (`cluster clean`) does it for every cluster whose launcher died
 * without detaching. A cluster whose foreground launcher still runs is asked to stop itself.
 *
 * @module
 */
import { join } from "node:path";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { pathExists } from "../store/file_io.ts";
import {
  isProcessRunning,
  sendSignal,
  terminateProcesses,
  waitForExit,
} from "../core/processes.ts";
import { CLUSTER_FILE_NAME, type ClusterFile } from "./cluster_file.ts";
import { readClusterFile, writeClusterFile } from "./cluster_file_io.ts";
import { serviceProcesses } from "./cluster_namenode.ts";
import { clusterProcesses } from "./node_pids.ts";

/**
 * How long stopped nodes may take after SIGTERM before they get SIGKILL (default): longer
 * than a node's own shutdown grace (10 s), so a node that finishes its requests in time is
 * never killed.
 */
export const DEFAULT_STOP_GRACE_MS = 15_000;

/** A state directory without a cluster file younger than this may be a start under way. */
const ORPHAN_DIR_AGE_MS = 30_000;

/**
 * What stopping a cluster did.
 *
 * @example
 * ```ts
 * import type { StopReport } from "./cluster_stop.ts";
 * const report: StopReport = {
 *   name: "local", viaLauncher: false, terminated: 4, killed: 0, removedData: "/tmp/x",
 * };
 * ```
 */
export interface StopReport {
  /** The cluster's name. */
  readonly name: string;
  /** Whether its launcher (a foreground `cluster up`) did the stopping when asked to. */
  readonly viaLauncher: boolean;
  /** Nodes that exited on SIGTERM. */
  readonly terminated: number;
  /** Nodes that needed SIGKILL. */
  readonly killed: number;
  /** The data directory removed, if any. */
  readonly removedData: string | null;
  /** The other processes of the cluster that were stopped: `namenode`, `etcd`. */
  readonly services?: readonly string[];
}

/**
 * Options of {@linkcode stopCluster}.
 *
 * @example
 * ```ts
 * import type { StopClusterOptions } from "./cluster_stop.ts";
 * const options: StopClusterOptions = { graceMs: 5000 };
 * ```
 */
export interface StopClusterOptions {
  /** How long SIGTERM may take before SIGKILL (default {@linkcode DEFAULT_STOP_GRACE_MS}). */
  readonly graceMs?: number;
}

/**
 * Stops a cluster (`cluster down`). When its launcher is a foreground `cluster up` that still
 * runs, the launcher is asked (SIGTERM) and does the stopping; otherwise (detached, or the
 * launcher died) this stops every node itself and removes the state and temporary data.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { stopCluster } from "./cluster_stop.ts";
 * const report = await stopCluster("/run/user/1000/cdfs/local/cluster.json");
 * console.log(report.terminated);
 * ```
 *
 * @param path The cluster file.
 * @param options The grace period.
 * @returns What was done.
 * @throws {CdfsError} NOT_FOUND when there is no such cluster file; USAGE when it is invalid.
 */
export async function stopCluster(
  path: string,
  options: StopClusterOptions = {},
): Promise<StopReport> {
  const graceMs = options.graceMs ?? DEFAULT_STOP_GRACE_MS;
  let file = await readClusterFile(path);
  const { launcher } = file;
  if (
    !launcher.detached && launcher.pid !== Deno.pid &&
    isProcessRunning(launcher.pid, launcher.startTime ?? undefined)
  ) {
    sendSignal(launcher.pid, "SIGTERM");
    // It stops the nodes (up to the grace each) and removes the file; then it exits.
    const left = await waitForExit([launcher.pid], graceMs + 10_000);
    if (left.length === 0 && !(await pathExists(path))) {
      return {
        name: file.name,
        viaLauncher: true,
        terminated: file.nodes.filter((n) => n.pid !== null).length,
        killed: 0,
        removedData: file.removeData ? file.dataDir : null,
        services: [
          ...(file.namenode?.pid === undefined ? [] : ["namenode"]),
          ...(file.etcd === undefined ? [] : ["etcd"]),
        ],
      };
    }
    // The launcher did not finish the job: finish it here.
    file = await readClusterFile(path);
  }
  if (file.state !== "stopping") {
    file = { ...file, state: "stopping" };
    await writeClusterFile(path, file).catch(() => {});
  }
  const pids = clusterProcesses(file);
  const services = serviceProcesses(file);
  // The datanodes and the namenode together; the namenode's etcd after them, so that the
  // namenode never finds its store gone while it still serves.
  const result = await terminateProcesses([...pids, ...services.namenode], graceMs);
  const etcd = await terminateProcesses(services.etcd, graceMs);
  const survivors = [...result.survivors, ...etcd.survivors];
  if (survivors.length > 0) {
    throw new CdfsError(
      "UNAVAILABLE",
      `cluster '${file.name}': processes ${survivors.join(", ")} survived SIGKILL; ` +
        `the cluster file ${path} is kept`,
    );
  }
  // An etcd's data is the namenode's, which goes with it even from a kept directory.
  if (file.etcd !== undefined) {
    await Deno.remove(file.etcd.dataDir, { recursive: true }).catch(ignoreNotFound);
  }
  if (file.removeData) await Deno.remove(file.dataDir, { recursive: true }).catch(ignoreNotFound);
  await Deno.remove(file.stateDir, { recursive: true }).catch(ignoreNotFound);
  return {
    name: file.name,
    viaLauncher: false,
    terminated: result.terminated.filter((pid) => pids.includes(pid)).length,
    killed: result.killed.filter((pid) => pids.includes(pid)).length,
    removedData: file.removeData ? file.dataDir : null,
    services: [
      ...(services.namenode.length > 0 ? ["namenode"] : []),
      ...(services.etcd.length > 0 ? ["etcd"] : []),
    ],
  };
}

/**
 * Options of {@linkcode cleanClusters}.
 *
 * @example
 * ```ts
 * import type { CleanClustersOptions } from "./cluster_stop.ts";
 * const options: CleanClustersOptions = { all: true, graceMs: 2000 };
 * ```
 */
export interface CleanClustersOptions {
  /** Also stop clusters whose launcher runs or that were detached: everything. */
  readonly all?: boolean;
  /** How long SIGTERM may take before SIGKILL (default {@linkcode DEFAULT_STOP_GRACE_MS}). */
  readonly graceMs?: number;
}

/**
 * What {@linkcode cleanClusters} did about one entry of the state root.
 *
 * @example
 * ```ts
 * import type { CleanedCluster } from "./cluster_stop.ts";
 * const cleaned: CleanedCluster = { name: "local", action: "stopped", detail: "4 nodes stopped" };
 * ```
 */
export interface CleanedCluster {
  /** The entry's name (the cluster's name). */
  readonly name: string;
  /** `stopped` (a leftover cluster was stopped and removed), `removed` (an empty state
   * directory), `kept` (a live cluster, left alone), `skipped` (something unreadable). */
  readonly action: "stopped" | "removed" | "kept" | "skipped";
  /** For a person. */
  readonly detail: string;
}

/**
 * Cleans up after launchers that died (`cluster clean`): every cluster under the state root
 * whose launcher no longer runs and did not detach is stopped like `cluster down` would
 * (nodes stopped, temporary data and state removed). With `all`, every cluster is.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { cleanClusters } from "./cluster_stop.ts";
 * for (const c of await cleanClusters("/run/user/1000/cdfs")) console.log(c.name, c.action);
 * ```
 *
 * @param stateRoot The state root.
 * @param options `all`, the grace period.
 * @returns One entry per cluster directory found.
 */
export async function cleanClusters(
  stateRoot: string,
  options: CleanClustersOptions = {},
): Promise<CleanedCluster[]> {
  const cleaned: CleanedCluster[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(stateRoot));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return cleaned;
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory) continue;
    const dir = join(stateRoot, entry.name);
    const path = join(dir, CLUSTER_FILE_NAME);
    let file: ClusterFile;
    try {
      file = await readClusterFile(path);
    } catch (error) {
      if (!isCdfsError(error, "NOT_FOUND")) {
        cleaned.push({ name: entry.name, action: "skipped", detail: (error as Error).message });
        continue;
      }
      const age = Date.now() - ((await Deno.stat(dir)).mtime?.getTime() ?? 0);
      if (age < ORPHAN_DIR_AGE_MS && options.all !== true) {
        cleaned.push({ name: entry.name, action: "kept", detail: "no cluster file yet" });
      } else {
        await Deno.remove(dir, { recursive: true }).catch(ignoreNotFound);
        cleaned.push({ name: entry.name, action: "removed", detail: "state without a cluster" });
      }
      continue;
    }
    const { launcher } = file;
    const launcherRuns = isProcessRunning(launcher.pid, launcher.startTime ?? undefined);
    if (options.all !== true && (launcher.detached || launcherRuns)) {
      cleaned.push({
        name: file.name,
        action: "kept",
        detail: launcher.detached ? "detached cluster" : `launcher ${launcher.pid} runs`,
      });
      continue;
    }
    const report = await stopCluster(path, options);
    const stopped = report.terminated + report.killed;
    const services = (report.services ?? []).map((service) => ` and the ${service}`).join("");
    cleaned.push({
      name: file.name,
      action: "stopped",
      detail: `${stopped} node process${stopped === 1 ? "" : "es"}${services} stopped` +
        (report.killed > 0 ? ` (${report.killed} killed)` : "") +
        (report.removedData !== null ? `, removed ${report.removedData}` : ""),
    });
  }
  return cleaned;
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
