/**
 * The namenode of a local cluster (`cluster up`): started before the datanodes, which then
 * register with it; its metadata in a SQLite file in the cluster's state directory, in an
 * existing etcd (`--meta etcd:URL`), or in a one-member etcd the cluster starts for it
 * (`--etcd`, data in the cluster's data directory). This module starts them, waits until
 * every datanode has registered, finds their processes again from the cluster file (to stop
 * them), and asks the namenode how it is (`cluster status`).
 *
 * Like the datanodes, the namenode and etcd run in sessions of their own, and a recorded pid
 * is signalled only when `/proc` shows it is still that process: a namenode is recognised by
 * its `--log` (`<dataDir>/namenode.log`), an etcd by its `--data-dir` (`<dataDir>/etcd`).
 *
 * @module
 */
import { join } from "node:path";
import { CdfsError } from "../core/errors.ts";
import { NameNodeClient } from "../namenode/client.ts";
import { namenodeNodeId } from "../datanode/namenode_reporter.ts";
import type { ClusterEtcd, ClusterFile, ClusterNameNode } from "./cluster_file.ts";
import {
  type EtcdMemberSpec,
  freeLoopbackPorts,
  isEtcdOf,
  logTail,
  spawnEtcd,
  waitEtcdHealthy,
} from "./etcd.ts";
import { isNameNodeOf, NameNodeChild } from "./namenode_process.ts";
import type { NodeLauncher } from "./node_process.ts";
import { findProcesses, processInfo } from "../core/processes.ts";

/**
 * The namenode a cluster gets (`LocalCluster.start`'s `namenode` option).
 *
 * @example
 * ```ts
 * import type { ClusterNameNodeOptions } from "./cluster_namenode.ts";
 * const onEtcd: ClusterNameNodeOptions = { etcd: { binary: "/usr/bin/etcd" } };
 * const shared: ClusterNameNodeOptions = { meta: "etcd:http://10.0.0.7:2379" };
 * ```
 */
export interface ClusterNameNodeOptions {
  /**
   * Its store (`namenode serve --meta`): an existing etcd, or a SQLite file. Default: the
   * etcd of `etcd`, else `sqlite:<stateDir>/namenode.db`.
   */
  readonly meta?: string;
  /** Start a one-member etcd for it, with this binary. */
  readonly etcd?: { readonly binary: string };
  /** More `namenode serve` options, e.g. `["--dead-after", "10s"]`. */
  readonly args?: readonly string[];
}

/**
 * A process the cluster started besides its datanodes (the namenode, its etcd).
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * for (const service of started.services) await service.status;
 * ```
 */
export interface ServiceChild {
  /** `namenode` or `etcd`. */
  readonly name: string;
  /** Its process id. */
  readonly pid: number;
  /** Settles with its exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Whether this process has seen it exit. */
  readonly exited: boolean;
  /** Lets this process exit while it runs on. */
  release(): void;
}

/**
 * What {@linkcode startClusterNameNode} needs.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * const started = await startClusterNameNode({ file, launcher, host: "127.0.0.1", timeoutMs, record });
 * ```
 */
export interface StartNameNodeOptions {
  /** The cluster file as written so far (its `stateDir`, `dataDir`, `name`). */
  readonly file: ClusterFile;
  /** The namenode's settings. */
  readonly namenode: ClusterNameNodeOptions;
  /** How to run cdfs. */
  readonly launcher: NodeLauncher;
  /** The host to listen on. */
  readonly host: string;
  /** How long each start may take. */
  readonly timeoutMs: number;
  /** Writes what was started into the cluster file, as soon as it is known (crash safety). */
  readonly record: (fields: Pick<ClusterFile, "namenode" | "etcd">) => Promise<void>;
  /** Receives every process as soon as it is started (to be stopped on failure). */
  readonly started: (service: ServiceChild) => void;
}

/**
 * Starts the cluster's etcd (when asked) and namenode, and waits until the namenode answers.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { startClusterNameNode } from "./cluster_namenode.ts";
 * const { namenode } = await startClusterNameNode(options);
 * console.log(namenode.address);
 * ```
 *
 * @param options The cluster, the namenode's settings, the launcher, the timeout.
 * @returns The namenode's and the etcd's records for the cluster file.
 * @throws {CdfsError} UNAVAILABLE when one does not start (with its own words).
 */
export async function startClusterNameNode(
  options: StartNameNodeOptions,
): Promise<{ namenode: ClusterNameNode; etcd?: ClusterEtcd }> {
  const { file } = options;
  let etcd: ClusterEtcd | undefined;
  if (options.namenode.etcd !== undefined) {
    etcd = await startEtcd(file, options.namenode.etcd.binary, options);
  }
  const meta = options.namenode.meta ??
    (etcd !== undefined
      ? `etcd:${etcd.clientUrl}`
      : `sqlite:${join(file.stateDir, "namenode.db")}`);
  const log = join(file.dataDir, "namenode.log");
  const child = NameNodeChild.spawn({
    launcher: options.launcher,
    listen: formatListen(options.host),
    meta,
    log,
    ...(options.namenode.args === undefined ? {} : { args: options.namenode.args }),
  });
  options.started({
    name: "namenode",
    pid: child.pid,
    status: child.status,
    get exited() {
      return child.exited;
    },
    release: () => child.release(),
  });
  const startTime = child.startTime;
  // Recorded once it tells its address; a launcher that dies before leaves a namenode that
  // `clean` finds all the same, by its log file in the cluster's data directory.
  const address = await child.ready(options.timeoutMs);
  const namenode: ClusterNameNode = {
    address,
    meta,
    log,
    pid: child.pid,
    ...(startTime === null ? {} : { startTime }),
  };
  await options.record({ namenode });
  return { namenode, ...(etcd === undefined ? {} : { etcd }) };
}

async function startEtcd(
  file: ClusterFile,
  binary: string,
  options: StartNameNodeOptions,
): Promise<ClusterEtcd> {
  const [clientPort, peerPort] = freeLoopbackPorts(2);
  const spec: EtcdMemberSpec = {
    name: "cdfs",
    dataDir: join(file.dataDir, "etcd"),
    clientUrl: `http://127.0.0.1:${clientPort}`,
    peerUrl: `http://127.0.0.1:${peerPort}`,
    initialCluster: `cdfs=http://127.0.0.1:${peerPort}`,
    token: `cdfs-${file.name}-${crypto.randomUUID()}`,
    log: join(file.dataDir, "etcd.log"),
  };
  const child = spawnEtcd(binary, spec);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  options.started({
    name: "etcd",
    pid: child.pid,
    status,
    get exited() {
      return exited;
    },
    release: () => child.unref(),
  });
  const etcd: ClusterEtcd = {
    clientUrl: spec.clientUrl,
    dataDir: spec.dataDir,
    log: spec.log,
    pid: child.pid,
    startTime: processInfo(child.pid)?.startTime ?? null,
  };
  await options.record({ etcd });
  try {
    await waitEtcdHealthy(spec.clientUrl, options.timeoutMs, () => exited);
  } catch (error) {
    const tail = await logTail(spec.log, 3);
    throw new CdfsError(
      "UNAVAILABLE",
      `etcd did not start: ${(error as Error).message}` +
        (tail === "" ? "" : ` (its log ${spec.log} ends: ${tail.replaceAll("\n", " | ")})`),
    );
  }
  return etcd;
}

/**
 * Waits until the namenode lists every datanode of the cluster as alive (each registers as
 * soon as it serves; client commands need them registered to place blocks).
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * import { waitForRegistrations } from "./cluster_namenode.ts";
 * await waitForRegistrations("127.0.0.1:13000", ["local-n0", "local-n1"], 30_000);
 * ```
 *
 * @param address The namenode.
 * @param nodeIds The datanodes' ids (as PING reports them).
 * @param timeoutMs How long to wait.
 * @throws {CdfsError} UNAVAILABLE naming the datanodes that did not register in time.
 */
export async function waitForRegistrations(
  address: string,
  nodeIds: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const wanted = new Set(nodeIds.map((id) => namenodeNodeId(id) ?? id));
  const deadline = performance.now() + timeoutMs;
  using client = await NameNodeClient.connect(address);
  let missing = [...wanted];
  while (performance.now() < deadline) {
    const alive = new Set<string>();
    for await (const node of client.datanodes()) if (node.state === "alive") alive.add(node.node);
    missing = [...wanted].filter((id) => !alive.has(id));
    if (missing.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new CdfsError(
    "UNAVAILABLE",
    `the namenode at ${address} has no registration of ${missing.slice(0, 5).join(", ")}` +
      `${missing.length > 5 ? ` and ${missing.length - 5} more` : ""} after ${timeoutMs} ms ` +
      "(their logs say why)",
  );
}

/**
 * The pids of a cluster's namenode and etcd that run: the recorded ones `/proc` confirms,
 * plus unrecorded ones of this cluster (a launcher that died between starting and recording).
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { serviceProcesses } from "./cluster_namenode.ts";
 * const { namenode, etcd } = serviceProcesses(file);
 * ```
 *
 * @param file The cluster file.
 * @returns The pids, by service.
 */
export function serviceProcesses(file: ClusterFile): { namenode: number[]; etcd: number[] } {
  const namenodeLog = join(file.dataDir, "namenode.log");
  const etcdDir = join(file.dataDir, "etcd");
  const namenode = new Set<number>();
  const etcd = new Set<number>();
  const recorded = file.namenode;
  if (recorded?.pid !== undefined && recorded.log !== undefined) {
    const info = processInfo(recorded.pid);
    if (
      info !== undefined && (recorded.startTime === undefined ||
        info.startTime === recorded.startTime) &&
      isNameNodeOf(info.argv, recorded.log)
    ) {
      namenode.add(recorded.pid);
    }
  }
  if (file.etcd !== undefined) {
    const info = processInfo(file.etcd.pid);
    if (
      info !== undefined && (file.etcd.startTime === null ||
        info.startTime === file.etcd.startTime) &&
      isEtcdOf(info.argv, file.etcd.dataDir)
    ) {
      etcd.add(file.etcd.pid);
    }
  }
  for (const stray of findProcesses((argv) => isNameNodeOf(argv, namenodeLog))) {
    namenode.add(stray.pid);
  }
  for (const stray of findProcesses((argv) => isEtcdOf(argv, etcdDir))) etcd.add(stray.pid);
  return { namenode: [...namenode], etcd: [...etcd] };
}

/**
 * How a cluster's namenode is doing (`cluster status`).
 *
 * @example
 * ```ts
 * import type { NameNodeStatus } from "./cluster_namenode.ts";
 * const status: NameNodeStatus = {
 *   address: "127.0.0.1:13000", pid: 4244, running: true, up: true, id: "nn@127.0.0.1:13000",
 *   meta: "sqlite:/run/user/1000/cdfs/local/namenode.db", alive: 4, dead: 0,
 * };
 * ```
 */
export interface NameNodeStatus {
  /** Its address. */
  readonly address: string;
  /** The recorded pid (null when the cluster does not own it). */
  readonly pid: number | null;
  /** Whether that process runs (null when the cluster does not own one). */
  readonly running: boolean | null;
  /** Whether it answered. */
  readonly up: boolean;
  /** Its id, when up. */
  readonly id?: string;
  /** Its metadata store. */
  readonly meta: string;
  /** Datanodes it counts alive, when up. */
  readonly alive?: number;
  /** Datanodes it counts dead, when up. */
  readonly dead?: number;
  /** Why it is not up. */
  readonly error?: string;
}

/**
 * Asks a cluster's namenode who it is and how many datanodes it counts alive and dead.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { nameNodeStatus } from "./cluster_namenode.ts";
 * const status = await nameNodeStatus(file.namenode!, 2000);
 * ```
 *
 * @param file The cluster file.
 * @param timeoutMs How long it may take to answer.
 * @returns Its status, or undefined when the cluster has no namenode.
 */
export async function nameNodeStatus(
  file: ClusterFile,
  timeoutMs = 2000,
): Promise<NameNodeStatus | undefined> {
  const namenode = file.namenode;
  if (namenode === undefined) return undefined;
  const owned = namenode.pid !== undefined;
  const base = {
    address: namenode.address,
    meta: namenode.meta,
    pid: namenode.pid ?? null,
    running: owned ? serviceProcesses(file).namenode.includes(namenode.pid!) : null,
  };
  try {
    using client = await NameNodeClient.connect(namenode.address, {
      connectTimeoutMs: timeoutMs,
      idleTimeoutMs: timeoutMs,
      frameTimeoutMs: timeoutMs,
    });
    const { id } = await client.ping();
    let alive = 0;
    let dead = 0;
    for await (const node of client.datanodes()) {
      if (node.state === "alive") alive++;
      else dead++;
    }
    return { ...base, up: true, id, alive, dead };
  } catch (error) {
    return { ...base, up: false, error: (error as Error).message };
  }
}

function formatListen(host: string): string {
  return host.includes(":") ? `[${host}]:0` : `${host}:0`;
}
