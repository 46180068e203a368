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
 * - `secretFile` (absent when the nodes take unsigned requests) is the cluster secret that
 *   `cluster up` generated in the state directory; client commands sign with it.
 * - `tlsCaFile` (absent when the nodes serve plain TCP) is the CA certificate of the
 *   certificates `cluster up --tls` generated; client commands connect with TLS and trust it.
 * - Unknown fields are kept out of the typed view but do not fail validation, so a newer
 *   cdfs may add fields without breaking older readers of version 1.
 *
 * The file is written atomically (a temporary file in the same directory, renamed over it),
 * so a reader never sees half a file (`cluster_file_io.ts`); every field is checked when it is
 * read (`cluster_file_parse.ts`). Where the files of named clusters live is
 * `state_root.ts`.
 *
 * @module
 */
import type { LinkSettings } from "../emulation/link_spec.ts";

/**
 * The format version this module reads and writes.
 */
export const CLUSTER_FILE_VERSION = 1;

/**
 * The name of the cluster file inside a cluster's state directory.
 */
export const CLUSTER_FILE_NAME = "cluster.json";

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
  /**
   * The cluster secret's file (absolute), when the nodes require signed requests: client
   * commands naming the cluster sign with it (`src/cli/secrets.ts`).
   */
  readonly secretFile?: string;
  /**
   * The CA certificate's file (absolute), when the nodes serve TLS (`cluster up --tls`):
   * client commands naming the cluster trust it (`src/cli/tls_options.ts`).
   */
  readonly tlsCaFile?: string;
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
