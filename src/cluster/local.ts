/**
 * Local clusters: N `cdfs datanode serve` processes on one machine, optionally with a
 * `cdfs namenode serve` they register with (and an etcd for it: `cluster_namenode.ts`),
 * described by a cluster file (`cluster_file.ts`) under a state root (`state_root.ts`,
 * `$XDG_RUNTIME_DIR/cdfs/<name>/` by default). This module starts them
 * ({@linkcode LocalCluster.start}); `cluster_stop.ts` stops them (`stopCluster`) and cleans up
 * after launchers that died (`cleanClusters`), `node_control.ts` stops and restarts single
 * nodes (`stopNodes`, `startNodes`), `node_status.ts` asks them how they are
 * (`clusterStatus`), and `node_pids.ts` tells which processes are the nodes.
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
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { validateClusterName } from "../core/cluster_name.ts";
import { isProcessRunning, processInfo, terminateProcesses } from "../core/processes.ts";
import { randomHex } from "../core/random.ts";
import { abortable } from "../core/abortable.ts";
import { RequestSigner, setDefaultSigner } from "../protocol/auth.ts";
import { setDefaultTls } from "../protocol/tls.ts";
import { DEFAULT_DEV_CERT_HOSTS, writeDevCerts } from "./dev_certs.ts";
import { pluralNoun } from "../format/count.ts";
import { CLUSTER_FILE_NAME, type ClusterFile, type ClusterNode } from "./cluster_file.ts";
import { readClusterFile, writeClusterFile } from "./cluster_file_io.ts";
import {
  type ClusterNameNodeOptions,
  type ServiceChild,
  startClusterNameNode,
  waitForRegistrations,
} from "./cluster_namenode.ts";
import { DEFAULT_STOP_GRACE_MS, stopCluster, type StopReport } from "./cluster_stop.ts";
import { datanodesServing } from "./node_pids.ts";
import { NodeChild, type NodeLauncher } from "./node_process.ts";
import { ensureStateRoot } from "./state_root.ts";

/**
 * The default cluster name.
 */
export const DEFAULT_CLUSTER_NAME = "local";

/**
 * How long nodes may take to answer PING after they are started (default): 16 Deno processes
 * starting at once on a busy 2-core machine take several seconds.
 */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/** The most nodes of one local cluster. */
const MAX_LOCAL_NODES = 1000;

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
  /**
   * Generate a cluster secret into the state directory (`secret`, mode 0600), record it in the
   * cluster file (`secretFile`, where client commands find it), start every node with
   * `--secret-file` and sign this process's requests with it from then on
   * (`setDefaultSigner`). Default false: the nodes take any request (they are on loopback).
   */
  readonly secret?: boolean;
  /**
   * Serve TLS: write throwaway certificates (`cdfs cert dev`, `dev_certs.ts`) into the state
   * directory (`tls/`), record the CA in the cluster file (`tlsCaFile`, which client commands
   * trust), start every node with `--tls-cert`, `--tls-key` and `--tls-ca`, and connect from
   * this process with TLS from then on (`setDefaultTls`). Default false: plain TCP.
   */
  readonly tls?: boolean;
  /**
   * More addresses the nodes' certificate names, besides `host` and loopback: where clients
   * reach the nodes when that is elsewhere (the relays of an emulated network, `--netns`).
   */
  readonly tlsHosts?: readonly string[];
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
    const busy = datanodesServing(dataDir);
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
    const secretFile = options.secret === true ? join(stateDir, "secret") : undefined;
    const securityArgs = secretFile === undefined ? [] : ["--secret-file", secretFile];
    const tlsDir = options.tls === true ? join(stateDir, "tls") : undefined;
    const tlsFiles = tlsDir === undefined ? undefined : {
      ca: join(tlsDir, "ca.pem"),
      cert: join(tlsDir, "node.pem"),
      key: join(tlsDir, "node.key"),
    };
    if (tlsFiles !== undefined) {
      securityArgs.push(
        "--tls-cert",
        tlsFiles.cert,
        "--tls-key",
        tlsFiles.key,
        "--tls-ca",
        tlsFiles.ca,
      );
    }
    let file: ClusterFile = {
      version: 1,
      name,
      state: "starting",
      created: new Date().toISOString(),
      stateDir,
      dataDir,
      removeData,
      nodeArgs: [...(options.nodeArgs ?? []), ...securityArgs],
      ...(secretFile === undefined ? {} : { secretFile }),
      ...(tlsFiles === undefined ? {} : { tlsCaFile: tlsFiles.ca }),
      launcher: { pid: Deno.pid, startTime: launcherInfo?.startTime ?? null, detached: false },
      nodes: [],
    };
    const children: NodeChild[] = [];
    const services: ServiceChild[] = [];
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    try {
      await writeClusterFile(path, file);
      if (secretFile !== undefined) {
        const secret = randomHex(32);
        await Deno.writeTextFile(secretFile, `${secret}\n`, { mode: 0o600, createNew: true });
        setDefaultSigner(new RequestSigner(secret));
      }
      if (tlsDir !== undefined) {
        const hosts = [host, ...(options.tlsHosts ?? []), ...DEFAULT_DEV_CERT_HOSTS];
        const files = await writeDevCerts(tlsDir, [...new Set(hosts)]);
        setDefaultTls({ caCerts: [await Deno.readTextFile(files.ca)], source: `cluster ${name}` });
      }
      if (options.dataDir === undefined) await Deno.mkdir(dataDir, { mode: 0o700 });
      else await Deno.mkdir(dataDir, { recursive: true });
      options.signal?.throwIfAborted();
      let namenode: string | undefined;
      if (options.namenode !== undefined) {
        const started = await abortable(
          startClusterNameNode({
            file,
            namenode: securityArgs.length === 0 ? options.namenode : {
              ...options.namenode,
              args: [...(options.namenode.args ?? []), ...securityArgs],
            },
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
          interrupted,
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
            // The nodes learn each other's addresses from the cluster file once it is up.
            peersFile: absolutePath(path),
            ...(namenode === undefined ? {} : { namenode }),
            ...node,
          }),
        );
      }
      const addresses = await abortable(
        Promise.all(children.map((child) => child.ready(timeoutMs, options.pingNodes ?? true))),
        options.signal,
        interrupted,
      );
      if (namenode !== undefined) {
        await abortable(
          waitForRegistrations(namenode, nodes.map((node) => node.id), timeoutMs),
          options.signal,
          interrupted,
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

/** The error of a start aborted by its signal (Ctrl-C). */
function interrupted(): CdfsError {
  return new CdfsError("TIMEOUT", "the start was interrupted");
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
