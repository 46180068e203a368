/**
 * The cluster file: what `cdfs cluster up` started and where, in one JSON document that every
 * client command takes as `--cluster FILE` (or `$CDFS_CLUSTER`) and that `cluster down`,
 * `status`, `stop-node`, `start-node` and `clean` work from.
 *
 * ```json
 * {
 *   "version": 1,
 *   "name": "local",
 *   "state": "up",
 *   "created": "2025-06-01T12:00:00.000Z",
 *   "stateDir": "/run/user/1000/cdfs/local",
 *   "dataDir": "/tmp/cdfs-local-k3f9a2",
 *   "removeData": true,
 *   "nodeArgs": [],
 *   "namenode": { "address": "127.0.0.1:13000", "meta": "sqlite:/run/user/1000/cdfs/local/namenode.db",
 *     "log": "/tmp/cdfs-local-k3f9a2/namenode.log", "pid": 4244, "startTime": "9123460" },
 *   "launcher": { "pid": 4242, "startTime": "9123456", "detached": false },
 *   "nodes": [
 *     { "index": 0, "address": "127.0.0.1:13100", "id": "local-n0",
 *       "dataDir": "/tmp/cdfs-local-k3f9a2/n0", "log": "/tmp/cdfs-local-k3f9a2/n0.log",
 *       "pid": 4250, "startTime": "9123470" }
 *   ]
 * }
 * ```
 *
 * - Node `index` is the logical node of the coding modules: the node list is the addresses in
 *   index order, stopped nodes included ({@linkcode clusterNodeAddresses}).
 * - `pid` is null while a node is stopped (`cluster stop-node`); `startTime` (clock ticks since
 *   boot, from `/proc`) makes a recorded pid safe against reuse.
 * - `launcher.detached` is true once the launcher has returned and left the nodes running
 *   (`cluster up --detach`); `cluster clean` leaves such clusters alone (unless `--all`) but
 *   cleans up after a launcher that died without detaching.
 * - `state` is `starting` until every node answers PING, `up` after, `stopping` while `down`
 *   runs. A file left in `starting` or `stopping` is a crash's leftover.
 * - `namenode` (absent in the files of older writers and of clusters without one) is where
 *   client commands find the cluster's namenode; `pid` is set when the cluster started it
 *   (and stops it). `etcd` is the etcd member `cluster up --etcd` started for it.
 * - Unknown fields are kept out of the typed view but do not fail validation, so a newer
 *   cdfs may add fields without breaking older readers of version 1.
 *
 * The file is written atomically (a temporary file in the same directory, renamed over it),
 * so a reader never sees half a file.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { formatNodeAddress, parseNodeAddress } from "../core/address.ts";
import { CdfsError } from "../core/errors.ts";
import { type LinkSettings, validateLink } from "../emulation/link_spec.ts";

/**
 * The format version this module reads and writes.
 */
export const CLUSTER_FILE_VERSION = 1;

/**
 * The name of the cluster file inside a cluster's state directory.
 */
export const CLUSTER_FILE_NAME = "cluster.json";

/** The largest cluster file read (a 10 000-node file is about 3 MB). */
const MAX_CLUSTER_FILE_BYTES = 16 * 1024 * 1024;
/** The most nodes a local cluster may have (ports and processes of one machine). */
const MAX_NODES = 10_000;
const CLUSTER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,30}[A-Za-z0-9])?$/;
const NODE_ID = /^[A-Za-z0-9._:@-]{1,200}$/;
const START_TIME = /^\d{1,20}$/;

/**
 * The lifecycle state of a cluster.
 *
 * @example
 * ```ts
 * import type { ClusterState } from "./cluster_file.ts";
 * const state: ClusterState = "up";
 * ```
 */
export type ClusterState = "starting" | "up" | "stopping";

/**
 * One datanode of a cluster.
 *
 * @example
 * ```ts
 * import type { ClusterNode } from "./cluster_file.ts";
 * const node: ClusterNode = {
 *   index: 0,
 *   address: "127.0.0.1:13100",
 *   id: "local-n0",
 *   dataDir: "/tmp/cdfs-local-x/n0",
 *   log: "/tmp/cdfs-local-x/n0.log",
 *   pid: 4250,
 *   startTime: "9123470",
 * };
 * ```
 */
export interface ClusterNode {
  /** The logical node index, 0..n-1 (its position in the node list). */
  readonly index: number;
  /** `HOST:PORT` (brackets around IPv6), in canonical form. */
  readonly address: string;
  /** The node id it reports in PING. */
  readonly id: string;
  /** Its data directory (absolute). */
  readonly dataDir: string;
  /** Its JSON log file (absolute). */
  readonly log: string;
  /** Its process id, or null while it is stopped. */
  readonly pid: number | null;
  /** Its start time from `/proc/PID/stat`, or null when unknown or stopped. */
  readonly startTime: string | null;
}

/**
 * The process that ran `cluster up`.
 *
 * @example
 * ```ts
 * import type { ClusterLauncher } from "./cluster_file.ts";
 * const launcher: ClusterLauncher = { pid: 4242, startTime: "9123456", detached: false };
 * ```
 */
export interface ClusterLauncher {
  /** Its process id. */
  readonly pid: number;
  /** Its start time from `/proc/PID/stat`, or null when unknown. */
  readonly startTime: string | null;
  /** Whether it has returned and left the nodes running on purpose. */
  readonly detached: boolean;
}

/**
 * A parsed, validated cluster file.
 *
 * @example
 * ```ts
 * import type { ClusterFile } from "./cluster_file.ts";
 * const file: ClusterFile = {
 *   version: 1,
 *   name: "local",
 *   state: "up",
 *   created: "2025-06-01T12:00:00.000Z",
 *   stateDir: "/tmp/cdfs-0/local",
 *   dataDir: "/tmp/cdfs-local-x",
 *   removeData: true,
 *   nodeArgs: [],
 *   launcher: { pid: 4242, startTime: null, detached: false },
 *   nodes: [],
 * };
 * ```
 */
export interface ClusterFile {
  /** The format version, {@linkcode CLUSTER_FILE_VERSION}. */
  readonly version: typeof CLUSTER_FILE_VERSION;
  /** The cluster's name (its state directory's name). */
  readonly name: string;
  /** Where its life is. */
  readonly state: ClusterState;
  /** When `cluster up` started, ISO-8601. */
  readonly created: string;
  /** The cluster's state directory, which holds this file (absolute). */
  readonly stateDir: string;
  /** The directory holding every node's data directory and log (absolute). */
  readonly dataDir: string;
  /** Whether `down` removes `dataDir` (a temporary directory without `--keep-data`). */
  readonly removeData: boolean;
  /** More `datanode serve` options every node runs with (`start-node` reuses them). */
  readonly nodeArgs: readonly string[];
  /** The process that started the cluster. */
  readonly launcher: ClusterLauncher;
  /** The nodes, in index order (`nodes[i].index === i`). */
  readonly nodes: readonly ClusterNode[];
  /** Present when the nodes run in an emulated network (`cluster up --netns`). */
  readonly network?: ClusterNetwork;
  /** The cluster's namenode, when it has one: client commands ask it where files are. */
  readonly namenode?: ClusterNameNode;
  /** The etcd member the cluster started as its namenode's store (`cluster up --etcd`). */
  readonly etcd?: ClusterEtcd;
}

/**
 * The namenode of a cluster.
 *
 * @example
 * ```ts
 * import type { ClusterNameNode } from "./cluster_file.ts";
 * const namenode: ClusterNameNode = {
 *   address: "127.0.0.1:13000",
 *   meta: "sqlite:/run/user/1000/cdfs/local/namenode.db",
 *   log: "/tmp/cdfs-local-x/namenode.log",
 *   pid: 4244,
 *   startTime: "9123460",
 * };
 * ```
 */
export interface ClusterNameNode {
  /** `HOST:PORT` where datanodes and clients reach it, in canonical form. */
  readonly address: string;
  /** Its metadata store, as `namenode serve --meta` takes it. */
  readonly meta: string;
  /** Its JSON log file (absolute), when the cluster started it. */
  readonly log?: string;
  /** Its process id, when the cluster started it (and stops it). */
  readonly pid?: number;
  /** Its start time from `/proc/PID/stat`. */
  readonly startTime?: string;
}

/**
 * The etcd member a cluster started for its namenode (`cluster up --etcd`).
 *
 * @example
 * ```ts
 * import type { ClusterEtcd } from "./cluster_file.ts";
 * const etcd: ClusterEtcd = {
 *   clientUrl: "http://127.0.0.1:2379",
 *   dataDir: "/tmp/cdfs-local-x/etcd",
 *   log: "/tmp/cdfs-local-x/etcd.log",
 *   pid: 4243,
 *   startTime: "9123458",
 * };
 * ```
 */
export interface ClusterEtcd {
  /** `http://127.0.0.1:PORT`, its client URL. */
  readonly clientUrl: string;
  /** Its data directory (absolute). */
  readonly dataDir: string;
  /** Its log file (absolute). */
  readonly log: string;
  /** Its process id. */
  readonly pid: number;
  /** Its start time from `/proc/PID/stat`, or null when unknown. */
  readonly startTime: string | null;
}

/**
 * The emulated network of a cluster (`cluster up --netns`, see `netns.ts`): clients reach the
 * nodes only from inside the hub namespace (`ip netns exec <hub> cdfs ...`).
 *
 * @example
 * ```ts
 * import type { ClusterNetwork } from "./cluster_file.ts";
 * const network: ClusterNetwork = {
 *   netns: true,
 *   hub: "cdfs-local-hub",
 *   hubAddress: "10.213.0.1",
 *   nodes: [{
 *     namespace: "cdfs-local-n0",
 *     address: "10.213.0.10",
 *     link: { rateBitsPerSecond: 1e9, delayMs: 1, jitterMs: 0 },
 *     congested: false,
 *   }],
 * };
 * ```
 */
export interface ClusterNetwork {
  /** Always true: the nodes live in network namespaces. */
  readonly netns: true;
  /** The hub namespace, where clients must run. */
  readonly hub: string;
  /** The hub's address on the bridge. */
  readonly hubAddress: string;
  /** Node i's namespace, bridge address and link, in index order. */
  readonly nodes: readonly ClusterNetworkNode[];
}

/**
 * One node of a cluster's emulated network ({@linkcode ClusterNetwork}).
 *
 * @example
 * ```ts
 * import type { ClusterNetworkNode } from "./cluster_file.ts";
 * const node: ClusterNetworkNode = { namespace: "cdfs-local-n0", address: "10.213.0.10" };
 * ```
 */
export interface ClusterNetworkNode {
  /** The node's namespace. */
  readonly namespace: string;
  /** Its address on the bridge. */
  readonly address: string;
  /**
   * Its link (what `start-node` needs to start the node's delay relay again); absent in the
   * files of older writers.
   */
  readonly link?: LinkSettings;
  /** Whether the link is one of `--congest`'s. */
  readonly congested?: boolean;
}

/**
 * Checks a cluster name: 1-32 letters, digits, `-` and `_`, starting and ending with a letter
 * or digit (the same rule as the names of emulated networks, so one name fits both).
 *
 * @example
 * ```ts
 * import { validateClusterName } from "./cluster_file.ts";
 * validateClusterName("bench-16");
 * ```
 *
 * @param name The name.
 * @param what How to call it in the message.
 * @returns The name.
 * @throws {CdfsError} USAGE when it is not allowed.
 */
export function validateClusterName(name: string, what = "cluster name"): string {
  if (!CLUSTER_NAME.test(name)) {
    throw new CdfsError(
      "USAGE",
      `${what} ${JSON.stringify(name)}: use 1-32 letters, digits, '-' or '_', starting and ` +
        "ending with a letter or digit",
    );
  }
  return name;
}

/**
 * Checks parsed JSON and returns it as a cluster file; every problem is named by its field
 * path.
 *
 * @example
 * ```ts
 * import { parseClusterFile } from "./cluster_file.ts";
 * try {
 *   parseClusterFile('{"version": 2}', "c.json");
 * } catch (e) {
 *   console.log((e as Error).message); // "cluster file c.json: version 2 is not supported (this cdfs reads version 1)"
 * }
 * ```
 *
 * @param text The file's text.
 * @param where The file's path, for messages.
 * @returns The cluster file.
 * @throws {CdfsError} USAGE naming the file and the field that is wrong.
 */
export function parseClusterFile(text: string, where: string): ClusterFile {
  const fail = (reason: string): never => {
    throw new CdfsError("USAGE", `cluster file ${where}: ${reason}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(`not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const root = record(value, "the file", fail);
  if (root.version !== CLUSTER_FILE_VERSION) {
    fail(
      typeof root.version === "number"
        ? `version ${root.version} is not supported (this cdfs reads version ${CLUSTER_FILE_VERSION})`
        : 'not a cdfs cluster file (no "version": 1)',
    );
  }
  const name = string(root.name, "name", fail);
  if (!CLUSTER_NAME.test(name)) fail(`name ${JSON.stringify(name)} is not a valid cluster name`);
  const state = string(root.state, "state", fail);
  if (state !== "starting" && state !== "up" && state !== "stopping") {
    fail(`state ${JSON.stringify(state)} is not one of starting, up, stopping`);
  }
  const created = string(root.created, "created", fail);
  if (Number.isNaN(Date.parse(created))) fail(`created ${JSON.stringify(created)} is not a date`);
  const stateDir = absolutePath(root.stateDir, "stateDir", fail);
  const dataDir = absolutePath(root.dataDir, "dataDir", fail);
  if (typeof root.removeData !== "boolean") fail("removeData must be true or false");
  const nodeArgs = root.nodeArgs ?? [];
  if (!Array.isArray(nodeArgs) || !nodeArgs.every((word) => typeof word === "string")) {
    fail("nodeArgs must be an array of strings");
  }
  const launcherRecord = record(root.launcher, "launcher", fail);
  const launcher: ClusterLauncher = {
    pid: pid(launcherRecord.pid, "launcher.pid", fail) ?? fail("launcher.pid must be a pid"),
    startTime: startTime(launcherRecord.startTime, "launcher.startTime", fail),
    detached: launcherRecord.detached === true,
  };
  if (launcherRecord.detached !== undefined && typeof launcherRecord.detached !== "boolean") {
    fail("launcher.detached must be true or false");
  }
  if (!Array.isArray(root.nodes)) fail("nodes must be an array");
  const list = root.nodes as unknown[];
  if (list.length > MAX_NODES) fail(`${list.length} nodes, the limit is ${MAX_NODES}`);
  const seenAddresses = new Map<string, number>();
  const seenDirs = new Map<string, number>();
  const nodes = list.map((entry, i): ClusterNode => {
    const at = `nodes[${i}]`;
    const node = record(entry, at, fail);
    if (node.index !== i) fail(`${at}.index is ${JSON.stringify(node.index)}, expected ${i}`);
    const addressText = string(node.address, `${at}.address`, fail);
    let address: string;
    try {
      address = formatNodeAddress(parseNodeAddress(addressText, { what: `${at}.address` }));
    } catch (e) {
      return fail((e as Error).message);
    }
    const id = string(node.id, `${at}.id`, fail);
    if (!NODE_ID.test(id)) fail(`${at}.id ${JSON.stringify(id)} is not a valid node id`);
    const nodeDir = absolutePath(node.dataDir, `${at}.dataDir`, fail);
    const log = absolutePath(node.log, `${at}.log`, fail);
    const twice = (kind: string, before: number) =>
      fail(`${at}.${kind} is the same as nodes[${before}]'s: each node needs its own`);
    const addressBefore = seenAddresses.get(address.toLowerCase());
    if (addressBefore !== undefined) twice("address", addressBefore);
    const dirBefore = seenDirs.get(nodeDir);
    if (dirBefore !== undefined) twice("dataDir", dirBefore);
    seenAddresses.set(address.toLowerCase(), i);
    seenDirs.set(nodeDir, i);
    const nodePid = pid(node.pid, `${at}.pid`, fail);
    return {
      index: i,
      address,
      id,
      dataDir: nodeDir,
      log,
      pid: nodePid,
      startTime: nodePid === null ? null : startTime(node.startTime, `${at}.startTime`, fail),
    };
  });
  return {
    version: CLUSTER_FILE_VERSION,
    name,
    state: state as ClusterState,
    created,
    stateDir,
    dataDir,
    removeData: root.removeData as boolean,
    nodeArgs: nodeArgs as string[],
    launcher,
    nodes,
    ...withNetwork(root.network, fail),
    ...withNameNode(root.namenode, fail),
    ...withEtcd(root.etcd, fail),
  };
}

/** The `namenode` field, when present. */
function withNameNode(value: unknown, fail: Fail): { namenode?: ClusterNameNode } {
  if (value === undefined) return {};
  const namenode = record(value, "namenode", fail);
  const text = string(namenode.address, "namenode.address", fail);
  let address: string;
  try {
    address = formatNodeAddress(parseNodeAddress(text, { what: "namenode.address" }));
  } catch (e) {
    return fail((e as Error).message);
  }
  const meta = string(namenode.meta, "namenode.meta", fail);
  if (!/^(sqlite|etcd):./.test(meta)) {
    fail(`namenode.meta ${JSON.stringify(meta)} is not sqlite:PATH or etcd:URL[,URL...]`);
  }
  const namenodePid = namenode.pid === undefined ? null : pid(namenode.pid, "namenode.pid", fail);
  const started = startTime(namenode.startTime, "namenode.startTime", fail);
  return {
    namenode: {
      address,
      meta,
      ...(namenode.log === undefined
        ? {}
        : { log: absolutePath(namenode.log, "namenode.log", fail) }),
      ...(namenodePid === null ? {} : { pid: namenodePid }),
      ...(started === null ? {} : { startTime: started }),
    },
  };
}

/** The `etcd` field, when present. */
function withEtcd(value: unknown, fail: Fail): { etcd?: ClusterEtcd } {
  if (value === undefined) return {};
  const etcd = record(value, "etcd", fail);
  const clientUrl = string(etcd.clientUrl, "etcd.clientUrl", fail);
  if (!/^http:\/\/[^/\s]+:\d+$/.test(clientUrl)) {
    fail(`etcd.clientUrl ${JSON.stringify(clientUrl)} is not http://HOST:PORT`);
  }
  return {
    etcd: {
      clientUrl,
      dataDir: absolutePath(etcd.dataDir, "etcd.dataDir", fail),
      log: absolutePath(etcd.log, "etcd.log", fail),
      pid: pid(etcd.pid, "etcd.pid", fail) ?? fail("etcd.pid must be a pid"),
      startTime: startTime(etcd.startTime, "etcd.startTime", fail),
    },
  };
}

/** The `network` field when it is the emulated network of `--netns`; other kinds (of newer
 * writers) are ignored like any unknown field. */
function withNetwork(value: unknown, fail: Fail): { network?: ClusterNetwork } {
  if (typeof value !== "object" || value === null || !("netns" in value)) return {};
  const network = record(value, "network", fail);
  if (network.netns !== true) fail("network.netns must be true");
  if (!Array.isArray(network.nodes)) fail("network.nodes must be an array");
  return {
    network: {
      netns: true,
      hub: string(network.hub, "network.hub", fail),
      hubAddress: string(network.hubAddress, "network.hubAddress", fail),
      nodes: (network.nodes as unknown[]).map((entry, i): ClusterNetworkNode => {
        const at = `network.nodes[${i}]`;
        const node = record(entry, at, fail);
        if (node.congested !== undefined && typeof node.congested !== "boolean") {
          fail(`${at}.congested must be true or false`);
        }
        return {
          namespace: string(node.namespace, `${at}.namespace`, fail),
          address: string(node.address, `${at}.address`, fail),
          ...(node.link === undefined ? {} : { link: linkSettings(node.link, `${at}.link`, fail) }),
          ...(node.congested === undefined ? {} : { congested: node.congested as boolean }),
        };
      }),
    },
  };
}

function linkSettings(value: unknown, what: string, fail: Fail): LinkSettings {
  const link = record(value, what, fail);
  const number = (field: string) => {
    const v = link[field];
    if (typeof v !== "number") fail(`${what}.${field} must be a number`);
    return v as number;
  };
  const settings: LinkSettings = {
    ...(link.rateBitsPerSecond === undefined
      ? {}
      : { rateBitsPerSecond: number("rateBitsPerSecond") }),
    delayMs: number("delayMs"),
    jitterMs: number("jitterMs"),
  };
  try {
    validateLink(settings, what);
  } catch (e) {
    fail((e as Error).message);
  }
  return settings;
}

/**
 * Reads and validates a cluster file.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { readClusterFile } from "./cluster_file.ts";
 * const cluster = await readClusterFile("/run/user/1000/cdfs/local/cluster.json");
 * console.log(cluster.nodes.length);
 * ```
 *
 * @param path The file.
 * @returns The cluster file.
 * @throws {CdfsError} NOT_FOUND when there is no such file (the cluster is down or the path
 * is wrong); USAGE when it is not a valid cluster file.
 */
export async function readClusterFile(path: string): Promise<ClusterFile> {
  let bytes: Uint8Array;
  try {
    checkFileInfo(await Deno.stat(path), path);
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw readError(e, path);
  }
  return decodeClusterFile(bytes, path);
}

/**
 * Reads and validates a cluster file, synchronously (for option parsing that is not async).
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { readClusterFileSync } from "./cluster_file.ts";
 * const cluster = readClusterFileSync("/run/user/1000/cdfs/local/cluster.json");
 * console.log(cluster.nodes.length);
 * ```
 *
 * @param path The file.
 * @returns The cluster file.
 * @throws {CdfsError} As {@linkcode readClusterFile}.
 */
export function readClusterFileSync(path: string): ClusterFile {
  let bytes: Uint8Array;
  try {
    checkFileInfo(Deno.statSync(path), path);
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw readError(e, path);
  }
  return decodeClusterFile(bytes, path);
}

function checkFileInfo(info: Deno.FileInfo, path: string): void {
  if (!info.isFile) throw new CdfsError("USAGE", `cluster file ${path}: not a regular file`);
  if (info.size > MAX_CLUSTER_FILE_BYTES) {
    throw new CdfsError(
      "USAGE",
      `cluster file ${path}: ${info.size} bytes, larger than any cluster file ` +
        `(${MAX_CLUSTER_FILE_BYTES})`,
    );
  }
}

function readError(e: unknown, path: string): CdfsError {
  if (e instanceof CdfsError) return e;
  if (e instanceof Deno.errors.NotFound) {
    return new CdfsError(
      "NOT_FOUND",
      `cluster file ${path} does not exist (is the cluster up? 'cdfs cluster up' prints its path)`,
    );
  }
  return new CdfsError("USAGE", `cluster file ${path}: ${(e as Error).message}`);
}

function decodeClusterFile(bytes: Uint8Array, path: string): ClusterFile {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CdfsError("USAGE", `cluster file ${path}: not UTF-8 text`);
  }
  return parseClusterFile(text, path);
}

/**
 * Writes a cluster file atomically: a temporary file beside it, flushed, then renamed over
 * it. The file is readable by its owner only (it names processes to signal).
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { writeClusterFile } from "./cluster_file.ts";
 * await writeClusterFile("/tmp/cdfs-0/local/cluster.json", cluster);
 * ```
 *
 * @param path Where it goes.
 * @param cluster The content (validated before it is written).
 */
export async function writeClusterFile(path: string, cluster: ClusterFile): Promise<void> {
  const text = formatClusterFile(cluster);
  parseClusterFile(text, path); // never write what could not be read back
  const temp = join(dirname(path), `.${CLUSTER_FILE_NAME}.${crypto.randomUUID()}.tmp`);
  try {
    using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/**
 * Formats a cluster file as its JSON text: one line per node, so it reads well and diffs
 * well.
 *
 * @example
 * ```ts
 * import { formatClusterFile } from "./cluster_file.ts";
 * const text = formatClusterFile({
 *   version: 1, name: "c", state: "up", created: "2025-06-01T12:00:00.000Z",
 *   stateDir: "/tmp/s/c", dataDir: "/tmp/d", removeData: true, nodeArgs: [],
 *   launcher: { pid: 1, startTime: null, detached: true }, nodes: [],
 * });
 * console.log(text.startsWith("{\n")); // true
 * ```
 *
 * @param cluster The cluster.
 * @returns The text, ending with a newline.
 */
export function formatClusterFile(cluster: ClusterFile): string {
  const { nodes, launcher, ...rest } = cluster;
  const head = Object.entries(rest).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  head.push(`  "launcher": ${JSON.stringify(launcher)}`);
  const nodeLines = nodes.map((n) => `    ${JSON.stringify(n)}`).join(",\n");
  head.push(nodes.length === 0 ? `  "nodes": []` : `  "nodes": [\n${nodeLines}\n  ]`);
  return `{\n${head.join(",\n")}\n}\n`;
}

/**
 * The node list of a cluster: every node's address in index order (stopped nodes included:
 * position i is logical node i of the coding modules).
 *
 * @example
 * ```ts
 * import { clusterNodeAddresses } from "./cluster_file.ts";
 * const nodes = [0, 1].map((index) => ({
 *   index, address: `127.0.0.1:${13100 + index}`, id: `c-n${index}`,
 *   dataDir: `/tmp/d/n${index}`, log: `/tmp/d/n${index}.log`, pid: null, startTime: null,
 * }));
 * console.log(clusterNodeAddresses({
 *   version: 1, name: "c", state: "up", created: "2025-06-01T12:00:00.000Z",
 *   stateDir: "/tmp/s/c", dataDir: "/tmp/d", removeData: true, nodeArgs: [],
 *   launcher: { pid: 1, startTime: null, detached: true }, nodes,
 * })); // [ "127.0.0.1:13100", "127.0.0.1:13101" ]
 * ```
 *
 * @param cluster The cluster file.
 * @returns The addresses.
 */
export function clusterNodeAddresses(cluster: ClusterFile): string[] {
  return cluster.nodes.map((node) => node.address);
}

/**
 * The directory where clusters keep their state by default: `$CDFS_STATE_DIR`, else
 * `$XDG_RUNTIME_DIR/cdfs` (private to the user and emptied at logout or reboot, which is
 * when local clusters end anyway), else `<temp dir>/cdfs-<uid>`.
 *
 * @example
 * ```ts
 * import { defaultStateRoot } from "./cluster_file.ts";
 * const env = (name: string) => ({ XDG_RUNTIME_DIR: "/run/user/1000" } as Record<string, string>)[name];
 * console.log(defaultStateRoot(env)); // "/run/user/1000/cdfs"
 * ```
 *
 * @param env Reads an environment variable.
 * @returns The absolute path.
 */
export function defaultStateRoot(env: (name: string) => string | undefined): string {
  const explicit = env("CDFS_STATE_DIR");
  if (explicit !== undefined && explicit !== "") return absolute(explicit);
  const runtime = env("XDG_RUNTIME_DIR");
  if (runtime !== undefined && isAbsolute(runtime)) return join(runtime, "cdfs");
  const temp = env("TMPDIR");
  const uid = Deno.uid() ?? "user";
  return join(temp !== undefined && isAbsolute(temp) ? temp : "/tmp", `cdfs-${uid}`);
}

/**
 * The cluster file of a named cluster under a state root.
 *
 * @example
 * ```ts
 * import { clusterFilePath } from "./cluster_file.ts";
 * console.log(clusterFilePath("/tmp/cdfs-0", "local")); // "/tmp/cdfs-0/local/cluster.json"
 * ```
 *
 * @param stateRoot The state root.
 * @param name The cluster name.
 * @returns The path.
 */
export function clusterFilePath(stateRoot: string, name: string): string {
  return join(stateRoot, validateClusterName(name), CLUSTER_FILE_NAME);
}

/**
 * Turns what a person passed as `--cluster` into a cluster file path: a path (anything with a
 * `/` or ending in `.json`) is taken as it is; a bare cluster name means that cluster's file
 * under the state root.
 *
 * @example
 * ```ts
 * import { resolveClusterPath } from "./cluster_file.ts";
 * console.log(resolveClusterPath("local", "/tmp/cdfs-0")); // "/tmp/cdfs-0/local/cluster.json"
 * console.log(resolveClusterPath("./c.json", "/tmp/cdfs-0").endsWith("/c.json")); // true
 * ```
 *
 * @param value The `--cluster` value.
 * @param stateRoot The state root for names.
 * @returns An absolute path.
 * @throws {CdfsError} USAGE for an empty value or a name that is not a valid cluster name.
 */
export function resolveClusterPath(value: string, stateRoot: string): string {
  if (value === "") throw new CdfsError("USAGE", "--cluster: empty; give a cluster file or name");
  if (value.includes("/") || value.endsWith(".json")) return absolute(value);
  return clusterFilePath(stateRoot, validateClusterName(value, "--cluster"));
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : join(Deno.cwd(), path);
}

type Fail = (reason: string) => never;

function record(value: unknown, what: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, what: string, fail: Fail): string {
  if (typeof value !== "string") fail(`${what} must be a string`);
  return value as string;
}

function absolutePath(value: unknown, what: string, fail: Fail): string {
  const path = string(value, what, fail);
  if (!isAbsolute(path) || path.includes("\0")) fail(`${what} must be an absolute path`);
  return path;
}

function pid(value: unknown, what: string, fail: Fail): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 1) {
    fail(`${what} must be a process id (an integer > 1) or null`);
  }
  return value as number;
}

function startTime(value: unknown, what: string, fail: Fail): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string" || !START_TIME.test(value)) {
    fail(`${what} must be a decimal string or null`);
  }
  return value as string;
}
