/**
 * Finding and removing the emulated networks of clusters from their names alone
 * (`ip netns list`), also what a crashed run left: the processes still running inside end,
 * then the namespaces go, and with them everything in them.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { validateClusterName } from "../core/cluster_name.ts";
import { sendSignal, waitForExit } from "../core/processes.ts";
import { MAX_NETNS_NODES, type OwnNamespace, parseNamespaceName } from "./netns_names.ts";
import { runTool } from "./netns_tools.ts";

/**
 * How long processes in a namespace get to exit after SIGTERM before SIGKILL, by default.
 */
export const DEFAULT_KILL_GRACE_MS = 2000;
const KILL_WAIT_MS = 3000;
/** How often the namespaces' processes are listed again while waiting for them to end. */
const POLL_MS = 50;

/**
 * What {@linkcode cleanNetworks} (or a teardown) removed.
 *
 * @example
 * ```ts
 * import type { CleanReport } from "./netns_clean.ts";
 * const report: CleanReport = { namespaces: ["cdfs-demo-hub"], killedPids: [] };
 * ```
 */
export interface CleanReport {
  /** The namespaces deleted. */
  readonly namespaces: string[];
  /** The processes that were still running inside them and were ended. */
  readonly killedPids: number[];
}

/**
 * Our namespaces that exist now, of one cluster or of all.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { listNamespaces } from "./netns_clean.ts";
 * for (const ns of await listNamespaces()) console.log(ns.cluster, ns.name);
 * ```
 *
 * @param cluster Only this cluster's (default: every cluster's).
 * @returns The namespaces, nodes in index order, each cluster's hub last.
 * @throws {CdfsError} UNAVAILABLE when `ip netns list` fails.
 */
export async function listNamespaces(cluster?: string): Promise<OwnNamespace[]> {
  if (cluster !== undefined) validateClusterName(cluster);
  const output = await runTool("ip", ["netns", "list"]);
  const found: OwnNamespace[] = [];
  for (const line of output.split("\n")) {
    const name = line.trim().split(/\s+/)[0];
    if (name === undefined || name === "") continue;
    const own = parseNamespaceName(name);
    if (own !== undefined && (cluster === undefined || own.cluster === cluster)) found.push(own);
  }
  const rank = (ns: OwnNamespace) => ns.index ?? MAX_NETNS_NODES;
  return found.sort((a, b) => a.cluster.localeCompare(b.cluster) || rank(a) - rank(b));
}

/**
 * The ids of the processes running in a namespace (`ip netns pids`).
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { namespacePids } from "./netns_clean.ts";
 * console.log(await namespacePids("cdfs-demo-n0"));
 * ```
 *
 * @param namespace The namespace.
 * @returns The process ids (empty when the namespace is gone).
 */
export async function namespacePids(namespace: string): Promise<number[]> {
  let output: string;
  try {
    output = await runTool("ip", ["netns", "pids", namespace]);
  } catch {
    return []; // The namespace is gone, and with it every process in it.
  }
  return output.split(/\s+/).filter((text) => /^[0-9]+$/.test(text)).map(Number);
}

/**
 * Options of {@linkcode cleanNetworks}.
 *
 * @example
 * ```ts
 * import type { CleanOptions } from "./netns_clean.ts";
 * const options: CleanOptions = { graceMs: 500 };
 * ```
 */
export interface CleanOptions {
  /** How long processes get to exit after SIGTERM before SIGKILL (default 2000). */
  readonly graceMs?: number;
}

/**
 * Removes the emulated networks of one cluster (or of all clusters) — what `cdfs cluster
 * clean` does after a crash: ends the processes still running in their namespaces (SIGTERM,
 * SIGKILL after the grace period; they can only be ours, as only our launcher starts
 * processes there), then deletes the namespaces, which removes their veths, addresses and
 * qdiscs with them. Nodes go first, the hub last.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { cleanNetworks } from "./netns_clean.ts";
 * const report = await cleanNetworks("demo");
 * console.log(`removed ${report.namespaces.length} namespaces`);
 * ```
 *
 * @param cluster The cluster (default: every `cdfs-*` cluster on this machine).
 * @param options The grace period.
 * @returns What was removed.
 * @throws {CdfsError} UNAVAILABLE when a namespace cannot be deleted or a process cannot be
 * ended.
 */
export async function cleanNetworks(
  cluster?: string,
  options: CleanOptions = {},
): Promise<CleanReport> {
  const namespaces = await listNamespaces(cluster);
  const names = namespaces.map((ns) => ns.name);
  const killedPids = await endProcesses(names, options.graceMs ?? DEFAULT_KILL_GRACE_MS);
  const failures: string[] = [];
  for (const name of names) {
    try {
      await runTool("ip", ["netns", "del", name]);
    } catch (e) {
      // Deleted meanwhile (a second clean) is fine; anything else is reported.
      if ((await listNamespaces(cluster)).some((ns) => ns.name === name)) {
        failures.push((e as Error).message);
      }
    }
  }
  if (failures.length > 0) {
    throw new CdfsError("UNAVAILABLE", `could not remove every namespace: ${failures.join("; ")}`);
  }
  return { namespaces: names, killedPids };
}

async function endProcesses(namespaces: readonly string[], graceMs: number): Promise<number[]> {
  const running = async () => (await Promise.all(namespaces.map(namespacePids))).flat();
  const first = await running();
  if (first.length === 0) return [];
  signalAll(first, "SIGTERM");
  let left = await waitForExit(running, graceMs, POLL_MS);
  if (left.length > 0) {
    signalAll(left, "SIGKILL");
    left = await waitForExit(running, KILL_WAIT_MS, POLL_MS);
    if (left.length > 0) {
      throw new CdfsError(
        "UNAVAILABLE",
        `processes ${left.join(", ")} in the emulated network did not end after SIGKILL`,
      );
    }
  }
  return first;
}

function signalAll(pids: readonly number[], signal: Deno.Signal): void {
  for (const pid of pids) sendSignal(pid, signal);
}
