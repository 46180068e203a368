/**
 * Local clusters: N `cdfs datanode serve` processes on one machine, optionally with a
 * `cdfs namenode serve` they register with (and an etcd for it: `cluster_namenode.ts`),
 * described by a cluster file ({@linkcode ClusterFile}) under a state root
 * (`$XDG_RUNTIME_DIR/cdfs/<name>/` by default). This module starts them ({@linkcode LocalCluster.start}), stops them
 * ({@linkcode stopCluster}), stops and restarts single nodes ({@linkcode stopNodes},
 * {@linkcode startNodes}), asks them how they are ({@linkcode clusterStatus}) and cleans up
 * after launchers that died ({@linkcode cleanClusters}).
 *
 * Lifetimes:
 * - Each node runs in a session of its own (`node_process.ts`), so it takes signals only from
 *   whoever stops the cluster: SIGTERM, a grace period for requests under way, then SIGKILL.
 * - A launcher killed with SIGKILL leaves its nodes running, and its cluster file says who
 *   they are. `cluster down --cluster FILE` or `cluster clean` stops them and removes the
 *   temporary data; `clean` does it for every cluster whose launcher died without detaching.
 * - A recorded pid is signalled only after `/proc` shows it is still that node: a datanode
 *   whose `--data` is the node's data directory (pids are reused). `clean` also stops
 *   datanodes serving `<dataDir>/n<i>` that the file does not list (a launcher that died
 *   between starting a node and recording it).
 * - The cluster file is written before any node or data directory exists and removed last,
 *   so every crash leaves a file that leads to what is left.
 *
 * @module
 */
import { join } from "node:path";
import { DataNodeClient } from "../client/datanode_client.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { pluralNoun } from "../format/count.ts";
import {
  CLUSTER_FILE_NAME,
  type ClusterFile,
  type ClusterNode,
  readClusterFile,
  validateClusterName,
  writeClusterFile,
} from "./cluster_file.ts";
import {
  type ClusterNameNodeOptions,
  type ServiceChild,
  serviceProcesses,
  startClusterNameNode,
  waitForRegistrations,
} from "./cluster_namenode.ts";
import { isDatanodeOf, NodeChild, type NodeLauncher } from "./node_process.ts";
import {
  findProcesses,
  isProcessRunning,
  processInfo,
  sendSignal,
  terminateProcesses,
  waitForExit,
} from "./processes.ts";

/**
 * The default cluster name.
 */
export const DEFAULT_CLUSTER_NAME = "local";

/**
 * How long nodes may take to answer PING after they are started (default): 16 Deno processes
 * starting at once on a busy 2-core machine take several seconds.
 */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/**
 * How long stopped nodes may take after SIGTERM before they get SIGKILL (default): longer
 * than a node's own shutdown grace (10 s), so a node that finishes its requests in time is
 * never killed.
 */
export const DEFAULT_STOP_GRACE_MS = 15_000;

/** The most nodes of one local cluster. */
const MAX_LOCAL_NODES = 1000;
/** A state directory without a cluster file younger than this may be a start under way. */
const ORPHAN_DIR_AGE_MS = 30_000;

/**
 * Options of {@linkcode LocalCluster.start}.
 *
 * @example
 * ```ts
 * import type { StartClusterOptions } from "./local.ts";
 * const options: StartClusterOptions = {
 *   nodes: 4,
 *   stateRoot: "/tmp/cdfs-1000",
 *   launcher: { command: "cdfs", args: [] },
 * };
 * ```
 */
export interface StartClusterOptions {
  /** How many nodes, 1..1000. */
  readonly nodes: number;
  /** The state root (`defaultStateRoot()`); the cluster's state goes to `<root>/<name>/`. */
  readonly stateRoot: string;
  /** How to run cdfs (`selfLauncher()`). */
  readonly launcher: NodeLauncher;
  /** The cluster name (default {@linkcode DEFAULT_CLUSTER_NAME}). */
  readonly name?: string;
  /**
   * The directory of the nodes' data directories (`<dataDir>/n<i>`) and logs
   * (`<dataDir>/n<i>.log`); created if missing, never removed. Default: a fresh temporary
   * directory, removed when the cluster stops unless `keepData`.
   */
  readonly dataDir?: string;
  /** Keep the temporary data directory when the cluster stops. */
  readonly keepData?: boolean;
  /** The host to listen on (default `127.0.0.1`). */
  readonly host?: string;
  /** Node i listens on `basePort + i`; default 0: each node gets a free port. */
  readonly basePort?: number;
  /** More `datanode serve` options for every node. */
  readonly nodeArgs?: readonly string[];
  /** How long the nodes may take to answer PING (default {@linkcode DEFAULT_START_TIMEOUT_MS}). */
  readonly startTimeoutMs?: number;
  /** Aborts the start (Ctrl-C): started nodes are stopped and everything is removed. */
  readonly signal?: AbortSignal;
  /** The temp directory for the default data directory (default `$TMPDIR` or `/tmp`). */
  readonly tempDir?: string;
  /** Node i's launcher instead of `launcher` (e.g. wrapped in `ip netns exec`). */
  readonly launcherFor?: (index: number) => NodeLauncher;
  /** Whether to PING every node before it counts as up (default true; false when this
   * process cannot reach the nodes, e.g. in network namespaces: `beforeUp` may check). */
  readonly pingNodes?: boolean;
  /**
   * Called once every node answers, before the file says `up`; returns the file to write
   * (e.g. with the addresses of relays in front of the nodes). A throw stops the cluster.
   */
  readonly beforeUp?: (file: ClusterFile) => Promise<ClusterFile>;
  /**
   * Start a namenode first (and an etcd for it, if asked); every node registers with it, and
   * the cluster is up once the namenode has them all. Default: no namenode.
   */
  readonly namenode?: ClusterNameNodeOptions;
}

/**
 * What stopping a cluster did.
 *
 * @example
 * ```ts
 * import type { StopReport } from "./local.ts";
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
 * Checks the options of {@linkcode LocalCluster.start} that need nothing started: the node
 * count, the port range, the name, and that no datanode serves the data directory already.
 * `start` checks them first too; `cluster up` calls it before it says it is starting nodes.
 *
 * @example
 * ```ts
 * import { checkClusterOptions } from "./local.ts";
 * try {
 *   checkClusterOptions({ nodes: 0 });
 * } catch (e) {
 *   console.log((e as Error).message); // "--nodes must be 1..1000, got 0"
 * }
 * ```
 *
 * @param options The node count, base port, name and data directory of the cluster.
 * @throws {CdfsError} USAGE for a bad count, port range or name; EXISTS when datanodes serve
 * the data directory.
 */
export function checkClusterOptions(
  options: Pick<StartClusterOptions, "nodes" | "basePort" | "name" | "dataDir">,
): void {
  const count = options.nodes;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_LOCAL_NODES) {
    throw new CdfsError("USAGE", `--nodes must be 1..${MAX_LOCAL_NODES}, got ${count}`);
  }
  const basePort = options.basePort ?? 0;
  if (!Number.isSafeInteger(basePort) || basePort < 0 || basePort + count - 1 > 65535) {
    throw new CdfsError(
      "USAGE",
      `--base-port ${basePort} with ${count} nodes needs ports up to ${basePort + count - 1}; ` +
        "ports end at 65535",
    );
  }
  validateClusterName(options.name ?? DEFAULT_CLUSTER_NAME, "--name");
  if (options.dataDir !== undefined) {
    // Two clusters on one data directory would serve (and break) the same blocks twice.
    const dataDir = absolutePath(options.dataDir);
    const nodeDir = new RegExp(`^${escapeRegExp(dataDir)}/n\\d+$`);
    const busy = findProcesses((argv) => isDatanodeOfAny(argv, nodeDir));
    if (busy.length > 0) {
      throw new CdfsError(
        "EXISTS",
        `--data ${dataDir}: ${pluralNoun(busy.length, "datanode")} ` +
          `${busy.map((p) => p.pid).join(", ")} already ` +
          `${pluralNoun(busy.length, "serves", "serve")} it`,
      );
    }
  }
}

/**
 * A cluster this process started: its file, and the node children it is watching.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { LocalCluster } from "./local.ts";
 * import { selfLauncher } from "./node_process.ts";
 * await using cluster = await LocalCluster.start({
 *   nodes: 4,
 *   stateRoot: "/tmp/cdfs-test",
 *   launcher: selfLauncher((name) => Deno.env.get(name)),
 * });
 * console.log(cluster.path, cluster.file.nodes.map((n) => n.address));
 * ```
 */
export class LocalCluster {
  /** The cluster file's path. */
  readonly path: string;
  readonly #children: readonly NodeChild[];
  readonly #services: readonly ServiceChild[];
  #file: ClusterFile;
  #stopped = false;

  private constructor(
    path: string,
    file: ClusterFile,
    children: readonly NodeChild[],
    services: readonly ServiceChild[],
  ) {
    this.path = path;
    this.#file = file;
    this.#children = children;
    this.#services = services;
  }

  /** The cluster file as this process last wrote it. */
  get file(): ClusterFile {
    return this.#file;
  }

  /**
   * Starts the nodes, waits until every one answers PING with its id, and writes the cluster
   * file (`<stateRoot>/<name>/cluster.json`). On any failure, whatever was started is
   * stopped and removed before the error is thrown.
   *
   * @param options Node count, state root, launcher, name, data, ports, timeouts.
   * @returns The running cluster.
   * @throws {CdfsError} USAGE for bad options; EXISTS when a cluster of that name is there
   * already; UNAVAILABLE naming the node that did not start and why; TIMEOUT when aborted.
   */
  static async start(options: StartClusterOptions): Promise<LocalCluster> {
    checkClusterOptions(options);
    const count = options.nodes;
    const basePort = options.basePort ?? 0;
    const name = validateClusterName(options.name ?? DEFAULT_CLUSTER_NAME, "--name");
    const host = options.host ?? "127.0.0.1";
    await ensureStateRoot(options.stateRoot);
    const stateDir = join(options.stateRoot, name);
    const path = join(stateDir, CLUSTER_FILE_NAME);
    await claimStateDir(stateDir, path, name);

    const removeData = options.dataDir === undefined && options.keepData !== true;
    const dataDir = options.dataDir !== undefined
      ? absolutePath(options.dataDir)
      : join(options.tempDir ?? tempDirectory(), `cdfs-${name}-${randomHex(6)}`);
    const launcherInfo = processInfo(Deno.pid);
    let file: ClusterFile = {
      version: 1,
      name,
      state: "starting",
      created: new Date().toISOString(),
      stateDir,
      dataDir,
      removeData,
      nodeArgs: [...(options.nodeArgs ?? [])],
      launcher: { pid: Deno.pid, startTime: launcherInfo?.startTime ?? null, detached: false },
      nodes: [],
    };
    const children: NodeChild[] = [];
    const services: ServiceChild[] = [];
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    try {
      await writeClusterFile(path, file);
      if (options.dataDir === undefined) await Deno.mkdir(dataDir, { mode: 0o700 });
      else await Deno.mkdir(dataDir, { recursive: true });
      options.signal?.throwIfAborted();
      let namenode: string | undefined;
      if (options.namenode !== undefined) {
        const started = await abortable(
          startClusterNameNode({
            file,
            namenode: options.namenode,
            launcher: options.launcher,
            host,
            timeoutMs,
            record: async (fields) => {
              file = { ...file, ...fields };
              await writeClusterFile(path, file);
            },
            started: (service) => services.push(service),
          }),
          options.signal,
        );
        namenode = started.namenode.address;
      }
      const nodes = Array.from({ length: count }, (_, index) => ({
        index,
        id: `${name}-n${index}`,
        dataDir: join(dataDir, `n${index}`),
        log: join(dataDir, `n${index}.log`),
        listen: formatListen(host, basePort === 0 ? 0 : basePort + index),
      }));
      for (const node of nodes) {
        children.push(
          NodeChild.spawn({
            launcher: options.launcherFor?.(node.index) ?? options.launcher,
            nodeArgs: file.nodeArgs,
            ...(namenode === undefined ? {} : { namenode }),
            ...node,
          }),
        );
      }
      const addresses = await abortable(
        Promise.all(children.map((child) => child.ready(timeoutMs, options.pingNodes ?? true))),
        options.signal,
      );
      if (namenode !== undefined) {
        await abortable(
          waitForRegistrations(namenode, nodes.map((node) => node.id), timeoutMs),
          options.signal,
        );
      }
      file = {
        ...file,
        state: "up",
        nodes: nodes.map((node, i): ClusterNode => ({
          index: node.index,
          address: addresses[i]!,
          id: node.id,
          dataDir: node.dataDir,
          log: node.log,
          pid: children[i]!.pid,
          startTime: children[i]!.startTime,
        })),
      };
      if (options.beforeUp !== undefined) file = await options.beforeUp(file);
      await writeClusterFile(path, file);
      return new LocalCluster(path, file, children, services);
    } catch (error) {
      const all = [...children, ...services];
      await terminateProcesses(all.filter((c) => !c.exited).map((c) => c.pid), 2000);
      await Promise.all(all.map((child) => child.status));
      for (const child of all) child.release();
      // An etcd's data is the namenode's, which goes with it even from a kept directory.
      if (file.etcd !== undefined) {
        await Deno.remove(file.etcd.dataDir, { recursive: true }).catch(() => {});
      }
      if (removeData) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /**
   * Calls `onExit` when a node this process started exits (a crash, `cluster stop-node`)
   * while the cluster is up.
   *
   * @param onExit Receives the node and its exit status.
   */
  watchNodes(onExit: (node: ClusterNode, status: Deno.CommandStatus) => void): void {
    this.#children.forEach((child, i) => {
      child.status.then((status) => {
        if (!this.#stopped) onExit(this.#file.nodes[i]!, status);
      });
    });
  }

  /**
   * Calls `onExit` when the namenode or the etcd this process started exits while the
   * cluster is up.
   *
   * @param onExit Receives the service's name and its exit status.
   */
  watchServices(onExit: (name: string, status: Deno.CommandStatus) => void): void {
    for (const service of this.#services) {
      service.status.then((status) => {
        if (!this.#stopped) onExit(service.name, status);
      });
    }
  }

  /**
   * Leaves the nodes running and lets this process exit (`cluster up --detach`): records in
   * the cluster file that the launcher's exit is not a crash, and stops watching the nodes.
   */
  async detach(): Promise<void> {
    this.#file = { ...this.#file, launcher: { ...this.#file.launcher, detached: true } };
    await writeClusterFile(this.path, this.#file);
    this.#stopped = true;
    for (const child of [...this.#children, ...this.#services]) child.release();
  }

  /**
   * Stops every node of the cluster file (also those restarted by `cluster start-node`) and
   * removes the cluster's state and, if it is temporary, its data.
   *
   * @param graceMs How long SIGTERM may take before SIGKILL.
   * @returns What was done.
   */
  async stop(graceMs: number = DEFAULT_STOP_GRACE_MS): Promise<StopReport> {
    this.#stopped = true;
    let report: StopReport;
    try {
      report = await stopCluster(this.path, { graceMs });
    } catch (error) {
      // Someone else took the cluster down already: only our own children may remain.
      if (!isCdfsError(error, "NOT_FOUND")) throw error;
      const nodes = this.#children.filter((c) => !c.exited).map((c) => c.pid);
      const left = await terminateProcesses(
        [...nodes, ...this.#services.filter((c) => !c.exited).map((c) => c.pid)],
        graceMs,
      );
      report = {
        name: this.#file.name,
        viaLauncher: false,
        terminated: left.terminated.filter((pid) => nodes.includes(pid)).length,
        killed: left.killed.filter((pid) => nodes.includes(pid)).length,
        removedData: null,
      };
    }
    const all = [...this.#children, ...this.#services];
    await Promise.all(all.map((child) => child.status));
    for (const child of all) child.release();
    return report;
  }

  /** Stops the cluster unless it was detached or stopped already. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#stopped) await this.stop();
  }
}

/**
 * Options of {@linkcode stopCluster}.
 *
 * @example
 * ```ts
 * import type { StopClusterOptions } from "./local.ts";
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
 * import { stopCluster } from "./local.ts";
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
    if (left.length === 0 && !(await exists(path))) {
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
 * Options of {@linkcode stopNodes}.
 *
 * @example
 * ```ts
 * import type { StopNodeOptions } from "./local.ts";
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
 * import { stopNodes } from "./local.ts";
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
 * import { readClusterFile } from "./cluster_file.ts";
 * import { runningNodes } from "./local.ts";
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
 * import type { StartNodeOptions } from "./local.ts";
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
 * import { startNodes } from "./local.ts";
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

/**
 * How one node is doing.
 *
 * @example
 * ```ts
 * import type { NodeStatus } from "./local.ts";
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
 * import { clusterStatus } from "./local.ts";
 * import { readClusterFile } from "./cluster_file.ts";
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

/**
 * Options of {@linkcode cleanClusters}.
 *
 * @example
 * ```ts
 * import type { CleanClustersOptions } from "./local.ts";
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
 * import type { CleanedCluster } from "./local.ts";
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
 * import { cleanClusters } from "./local.ts";
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

/**
 * Creates the state root if needed and checks that it is private: a directory (not a
 * symbolic link) owned by this user and writable by no one else, since the cluster files in
 * it name processes that `down` and `clean` signal.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { ensureStateRoot } from "./local.ts";
 * await ensureStateRoot("/tmp/cdfs-1000");
 * ```
 *
 * @param stateRoot The state root.
 * @throws {CdfsError} USAGE when it exists but is not private.
 */
export async function ensureStateRoot(stateRoot: string): Promise<void> {
  await Deno.mkdir(stateRoot, { recursive: true, mode: 0o700 });
  const info = await Deno.lstat(stateRoot);
  const uid = Deno.uid();
  const problem = !info.isDirectory
    ? "is not a directory"
    : uid !== null && info.uid !== null && info.uid !== uid
    ? `belongs to uid ${info.uid}, not ${uid}`
    : info.mode !== null && (info.mode & 0o022) !== 0
    ? `is writable by others (mode ${(info.mode & 0o777).toString(8)})`
    : undefined;
  if (problem !== undefined) {
    throw new CdfsError(
      "USAGE",
      `cluster state directory ${stateRoot} ${problem}; set CDFS_STATE_DIR or --state-dir to a ` +
        "private directory",
    );
  }
}

/**
 * The pids of a cluster's node processes that run: the recorded ones that `/proc` confirms,
 * plus unrecorded datanodes serving one of its node directories.
 */
function clusterProcesses(file: ClusterFile): number[] {
  const pids = new Set<number>();
  for (const node of file.nodes) {
    const pid = verifiedNodePid(node);
    if (pid !== undefined) pids.add(pid);
  }
  const nodeDir = new RegExp(`^${escapeRegExp(file.dataDir)}/n\\d+$`);
  for (const stray of findProcesses((argv) => isDatanodeOfAny(argv, nodeDir))) {
    pids.add(stray.pid);
  }
  return [...pids];
}

function isDatanodeOfAny(argv: readonly string[], nodeDir: RegExp): boolean {
  const data = argv.indexOf("--data");
  return data > 0 && nodeDir.test(argv[data + 1] ?? "") && isDatanodeOf(argv, argv[data + 1]!);
}

/** The node's recorded pid when `/proc` shows it is still that node, else undefined. */
function verifiedNodePid(node: ClusterNode): number | undefined {
  if (node.pid === null) return undefined;
  const info = processInfo(node.pid);
  if (info === undefined) return undefined;
  if (node.startTime !== null && info.startTime !== node.startTime) return undefined;
  return isDatanodeOf(info.argv, node.dataDir) ? node.pid : undefined;
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

/** Makes the state directory of a new cluster, or says why the name is taken. */
async function claimStateDir(stateDir: string, path: string, name: string): Promise<void> {
  try {
    await Deno.mkdir(stateDir, { mode: 0o700 });
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  let leftover = true;
  try {
    const { launcher } = await readClusterFile(path);
    leftover = !launcher.detached &&
      !isProcessRunning(launcher.pid, launcher.startTime ?? undefined);
  } catch {
    // No file or a broken one: a leftover all the same.
  }
  throw new CdfsError(
    "EXISTS",
    leftover
      ? `cluster '${name}' was left behind by a launcher that died (${path}); ` +
        "'cdfs cluster clean' stops and removes it"
      : `cluster '${name}' is up (${path}); stop it with 'cdfs cluster down --cluster ${path}' ` +
        "or pick another --name",
  );
}

async function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await work;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CdfsError("TIMEOUT", "the start was interrupted"));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
  work.catch(() => {}); // settled after an abort: the caller stops the nodes anyway
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function formatListen(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function absolutePath(path: string): string {
  return path.startsWith("/") ? path : join(Deno.cwd(), path);
}

function tempDirectory(): string {
  const temp = Deno.env.get("TMPDIR");
  return temp !== undefined && temp.startsWith("/") ? temp : "/tmp";
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16))
    .map((h) => h.padStart(2, "0")).join("");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
