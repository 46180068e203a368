/**
 * The names and addresses of the emulated networks (`netns.ts`): every namespace of cluster C is
 * `cdfs-C-hub` or `cdfs-C-n<i>`, node i has 10.213.0.(10+i) on its cluster's bridge. The names
 * are the tag by which a crashed run's leftovers are found again (`netns_clean.ts`).
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { isClusterName, validateClusterName } from "../core/cluster_name.ts";

/**
 * The private subnet of every emulated network (each lives on its own bridge in its own hub
 * namespace, so clusters do not collide).
 */
export const NETNS_SUBNET = "10.213.0.0/24";

/**
 * The address of the hub namespace on the bridge.
 */
export const HUB_ADDRESS = "10.213.0.1";

/**
 * The most nodes one emulated network holds (addresses .10 to .249 of the subnet).
 */
export const MAX_NETNS_NODES = 240;

/**
 * The name of the interface of a node inside its namespace.
 */
export const NODE_INTERFACE = "eth0";

const NAMESPACE_PREFIX = "cdfs-";
const FIRST_NODE_HOST = 10;
const NAMESPACE_NAME = /^cdfs-(.+)-(hub|n(0|[1-9][0-9]{0,2}))$/;

/**
 * The hub namespace of a cluster.
 *
 * @example
 * ```ts
 * import { hubNamespace } from "./netns_names.ts";
 * console.log(hubNamespace("demo")); // "cdfs-demo-hub"
 * ```
 *
 * @param cluster The cluster name.
 * @returns The namespace name.
 */
export function hubNamespace(cluster: string): string {
  validateClusterName(cluster);
  return `${NAMESPACE_PREFIX}${cluster}-hub`;
}

/**
 * The namespace of node `index` (0-based) of a cluster.
 *
 * @example
 * ```ts
 * import { nodeNamespace } from "./netns_names.ts";
 * console.log(nodeNamespace("demo", 3)); // "cdfs-demo-n3"
 * ```
 *
 * @param cluster The cluster name.
 * @param index The node index, 0..239.
 * @returns The namespace name.
 */
export function nodeNamespace(cluster: string, index: number): string {
  validateClusterName(cluster);
  checkIndex(index);
  return `${NAMESPACE_PREFIX}${cluster}-n${index}`;
}

/**
 * The address of node `index` (0-based) on the bridge.
 *
 * @example
 * ```ts
 * import { nodeAddress } from "./netns_names.ts";
 * console.log(nodeAddress(0), nodeAddress(15)); // "10.213.0.10" "10.213.0.25"
 * ```
 *
 * @param index The node index, 0..239.
 * @returns The IPv4 address.
 */
export function nodeAddress(index: number): string {
  checkIndex(index);
  return `10.213.0.${FIRST_NODE_HOST + index}`;
}

/**
 * What a namespace name says, if it is one of ours.
 *
 * @example
 * ```ts
 * import { parseNamespaceName } from "./netns_names.ts";
 * console.log(parseNamespaceName("cdfs-a-b-n2")); // { name: "cdfs-a-b-n2", cluster: "a-b", index: 2 }
 * console.log(parseNamespaceName("docker0")); // undefined
 * ```
 */
export interface OwnNamespace {
  /** The namespace name. */
  readonly name: string;
  /** The cluster it belongs to. */
  readonly cluster: string;
  /** The node index, or undefined for the hub. */
  readonly index?: number;
}

/**
 * Reads a namespace name of ours (`cdfs-C-hub`, `cdfs-C-n<i>`); other names give undefined.
 *
 * @example
 * ```ts
 * import { parseNamespaceName } from "./netns_names.ts";
 * console.log(parseNamespaceName("cdfs-demo-hub")); // { name: "cdfs-demo-hub", cluster: "demo" }
 * ```
 *
 * @param name A namespace name.
 * @returns Its cluster and node index, or undefined when it is not ours.
 */
export function parseNamespaceName(name: string): OwnNamespace | undefined {
  const match = NAMESPACE_NAME.exec(name);
  if (match === null || !isClusterName(match[1]!)) return undefined;
  if (match[2] === "hub") return { name, cluster: match[1]! };
  const index = Number(match[3]);
  if (index >= MAX_NETNS_NODES) return undefined;
  return { name, cluster: match[1]!, index };
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NETNS_NODES) {
    throw new CdfsError("USAGE", `node index ${index} is outside 0..${MAX_NETNS_NODES - 1}`);
  }
}
