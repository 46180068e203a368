/**
 * Emulated networks for local clusters: every node in its own Linux network namespace, all of
 * them on one bridge, each node's link rate-shaped with `tc`.
 *
 * ```
 *  namespace cdfs-C-n0            namespace cdfs-C-hub               namespace cdfs-C-n1
 * ┌──────────────────────┐       ┌────────────────────────────┐     ┌──────────────────────┐
 * │ eth0 10.213.0.10/24  │ veth  │ n0 ─┐                      │     │ eth0 10.213.0.11/24  │
 * │ (tbf: what n0 sends) ├───────┤(tbf: what n0 receives)     │     │                      │
 * │ lo                   │       │     br0 10.213.0.1/24 ── n1├─────┤ lo                   │
 * └──────────────────────┘       └────────────────────────────┘     └──────────────────────┘
 * ```
 *
 * - The hub namespace holds the bridge `br0`, with the hub's own address 10.213.0.1 (a seat for
 *   a client or a tool inside the emulated network). Node i's namespace `cdfs-C-n<i>` has
 *   `eth0` with 10.213.0.(10+i)/24, one end of a veth pair whose other end, `n<i>`, is a port
 *   of the bridge. Nothing is created in the host's namespace: no interface, route or address,
 *   so the host has no path into the emulated network and nothing in it can reach the outside
 *   (every cluster may use the same private range, each on its own bridge).
 * - Shaping: a `tbf` (or `htb`) qdisc on the node's `eth0` limits what the node sends; with
 *   `shapeIngress` (the default) a second one on the bridge port `n<i>` limits what it
 *   receives, as a full-duplex NIC of that rate would. The token bucket holds 2 ms of traffic,
 *   and at least 128 KiB: the veth hands the qdisc 64 KiB GSO packets, which a smaller bucket
 *   splits into 1.5 KB segments. Measured here: 1 Gbit/s with a 64 KiB bucket gave only ~820
 *   Mbit/s, with 256 KiB ~957; at 200 Mbit/s the 50 kB bucket gave the full rate but a
 *   16-node RapidRAID encode cost 3-4x the CPU (every segment crossing veth, bridge and TCP
 *   alone). See docs/netem.md.
 * - Delay and jitter are not done here (this kernel has no `netem`): see `relay.ts` and
 *   `node_relay.ts`.
 * - The names are the tag: every namespace of cluster C is `cdfs-C-hub` or `cdfs-C-n<i>`, and
 *   everything else (veths, qdiscs, addresses) lives inside them. So {@linkcode cleanNetworks}
 *   finds all that a crashed run left from `ip netns list` alone, ends the processes still
 *   running inside (`ip netns pids`), and deletes the namespaces, which deletes the rest.
 *
 * Every function needs root (and `--allow-run`); {@linkcode netnsSupport} says whether this
 * machine can do it and why not.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { validateClusterName } from "../cluster/cluster_file.ts";
import { type LinkSettings, type NodeLink, validateLink } from "./link_spec.ts";

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
const BRIDGE = "br0";
const PREFIX_LENGTH = 24;
const FIRST_NODE_HOST = 10;
const NAMESPACE_NAME = /^cdfs-(.+)-(hub|n(0|[1-9][0-9]{0,2}))$/;
/** Time the token bucket holds: enough for the 64 KiB GSO packets of a veth at 1 Gbit/s. */
const BUCKET_MS = 2;
const MIN_BUCKET_BYTES = 128 * 1024;
/** How much a shaper queues before dropping, as time at its rate. */
const QUEUE_LATENCY = "20ms";
/** How many nodes are set up at a time (each needs about ten `ip`/`tc` runs). */
const SETUP_CONCURRENCY = 4;
const DEFAULT_KILL_GRACE_MS = 2000;
const KILL_WAIT_MS = 3000;
const POLL_MS = 50;

/** Whether a name passes {@linkcode validateClusterName}, without throwing. */
function isClusterName(name: string): boolean {
  try {
    validateClusterName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The hub namespace of a cluster.
 *
 * @example
 * ```ts
 * import { hubNamespace } from "./netns.ts";
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
 * import { nodeNamespace } from "./netns.ts";
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
 * import { nodeAddress } from "./netns.ts";
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
 * import { parseNamespaceName } from "./netns.ts";
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
 * import { parseNamespaceName } from "./netns.ts";
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

/**
 * Whether this machine can run emulated networks, and if not, why.
 *
 * @example
 * ```ts
 * import type { NetnsSupport } from "./netns.ts";
 * const support: NetnsSupport = { ok: false, reason: "not root" };
 * ```
 */
export type NetnsSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

let supportProbe: Promise<NetnsSupport> | undefined;

/**
 * Finds out (once per process) whether emulated networks work here: Linux, root, iproute2
 * installed, and a real trial — a throwaway namespace with a veth pair, a `tbf` qdisc and an
 * `ip netns exec` — succeeds (a container may run as root without the right to do that).
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { netnsSupport } from "./netns.ts";
 * const support = await netnsSupport();
 * Deno.test({ name: `netns${support.ok ? "" : ` (skipped: ${support.reason})`}`, ignore: !support.ok, fn() {} });
 * ```
 *
 * @returns `{ ok: true }` or `{ ok: false, reason }` with a reason a person can act on.
 */
export function netnsSupport(): Promise<NetnsSupport> {
  supportProbe ??= probeNetnsSupport();
  return supportProbe;
}

/**
 * Throws unless {@linkcode netnsSupport} says yes: the refusal of `cluster up --netns`.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { requireNetnsSupport } from "./netns.ts";
 * await requireNetnsSupport();
 * ```
 *
 * @throws {CdfsError} UNAVAILABLE with the reason.
 */
export async function requireNetnsSupport(): Promise<void> {
  const support = await netnsSupport();
  if (!support.ok) {
    throw new CdfsError("UNAVAILABLE", `network emulation is not available: ${support.reason}`);
  }
}

/**
 * The probe behind {@linkcode netnsSupport}, uncached, with the user id injectable: the
 * refusal of a non-root user can then be checked without starting a process as another user
 * (which would need the checkout and the Deno binary to be readable by that user).
 *
 * @example
 * ```ts
 * import { probeNetnsSupport } from "./netns.ts";
 * const support = await probeNetnsSupport({ uid: () => 65534 });
 * console.log(support.ok); // false
 * ```
 *
 * @param options `uid` returns the user id to judge by (default `Deno.uid`).
 * @returns `{ ok: true }` or `{ ok: false, reason }` with a reason a person can act on.
 */
export async function probeNetnsSupport(
  options: { readonly uid?: () => number | null } = {},
): Promise<NetnsSupport> {
  if (Deno.build.os !== "linux") {
    return { ok: false, reason: "network namespaces need Linux" };
  }
  let uid: number | null;
  try {
    uid = (options.uid ?? Deno.uid)();
  } catch {
    return { ok: false, reason: "cannot tell whether this is root (run with --allow-sys)" };
  }
  if (uid !== 0) {
    return {
      ok: false,
      reason: "it needs root (it creates network namespaces and tc qdiscs); run it as root, " +
        "e.g. with sudo",
    };
  }
  for (const tool of ["ip", "tc"] as const) {
    try {
      await runTool(tool, ["-V"]);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }
  const probe = hubNamespace(`probe${Deno.pid}`);
  try {
    await runTool("ip", ["netns", "add", probe]);
    await runTool("ip", [
      "-n",
      probe,
      "link",
      "add",
      "probe0",
      "type",
      "veth",
      "peer",
      "name",
      "probe1",
    ]);
    await runTool("tc", shaperArgs(probe, "probe0", 100_000_000, "tbf"));
    await runTool("ip", ["netns", "exec", probe, "true"]);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `a trial namespace failed: ${(e as Error).message}` };
  } finally {
    await runTool("ip", ["netns", "del", probe]).catch(() => {});
  }
}

/**
 * Options of {@linkcode EmulatedNetwork.create}.
 *
 * @example
 * ```ts
 * import type { NetworkOptions } from "./netns.ts";
 * const options: NetworkOptions = {
 *   cluster: "demo",
 *   links: [0, 1, 2].map(() => ({
 *     link: { rateBitsPerSecond: 1e9, delayMs: 1, jitterMs: 0 },
 *     congested: false,
 *   })),
 * };
 * ```
 */
export interface NetworkOptions {
  /** The cluster name (`validateClusterName` of `cluster_file.ts`). */
  readonly cluster: string;
  /** One entry per node, in node order (`assignLinks` of link_spec.ts makes them). */
  readonly links: readonly NodeLink[];
  /** Shape what each node receives too, on its bridge port (default true). */
  readonly shapeIngress?: boolean;
  /** The qdisc that shapes (default `tbf`). */
  readonly shaper?: "tbf" | "htb";
}

/**
 * One node of an emulated network.
 *
 * @example
 * ```ts
 * import type { NetworkNode } from "./netns.ts";
 * const node: NetworkNode = {
 *   index: 0,
 *   namespace: "cdfs-demo-n0",
 *   address: "10.213.0.10",
 *   link: { delayMs: 1, jitterMs: 0 },
 *   congested: false,
 * };
 * ```
 */
export interface NetworkNode {
  /** The node index, from 0. */
  readonly index: number;
  /** Its namespace (for {@linkcode runInNamespace}). */
  readonly namespace: string;
  /** Its address on the bridge. */
  readonly address: string;
  /** Its link settings (the rate is in place; delays are the relay's job). */
  readonly link: LinkSettings;
  /** Whether it got the congested settings. */
  readonly congested: boolean;
}

/**
 * What {@linkcode cleanNetworks} (or a teardown) removed.
 *
 * @example
 * ```ts
 * import type { CleanReport } from "./netns.ts";
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
 * A created emulated network. Tear it down with {@linkcode EmulatedNetwork.destroy} (or
 * `await using`); after a crash, {@linkcode cleanNetworks} does the same from the names alone.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { EmulatedNetwork } from "./netns.ts";
 * import { assignLinks } from "./link_spec.ts";
 * await using network = await EmulatedNetwork.create({
 *   cluster: "demo",
 *   links: assignLinks({ nodes: 3, base: { rateBitsPerSecond: 1e9, delayMs: 1, jitterMs: 0 } }),
 * });
 * console.log(network.nodes.map((node) => node.address));
 * ```
 */
export class EmulatedNetwork {
  /** The cluster name. */
  readonly cluster: string;
  /** The hub namespace (it holds the bridge). */
  readonly hub: string;
  /** The hub's address on the bridge. */
  readonly hubAddress: string = HUB_ADDRESS;
  /** The nodes, in order. */
  readonly nodes: readonly NetworkNode[];
  #destroyed: Promise<CleanReport> | undefined;

  private constructor(cluster: string, nodes: readonly NetworkNode[]) {
    this.cluster = cluster;
    this.hub = hubNamespace(cluster);
    this.nodes = nodes;
  }

  /**
   * Creates the namespaces, the bridge, the veth pairs, the addresses and the shapers. On any
   * failure it removes what it made before throwing.
   *
   * @param options The cluster name, the per-node links, the shaping choices.
   * @returns The network.
   * @throws {CdfsError} UNAVAILABLE when emulation is not possible here (not root, ...) or an
   * `ip`/`tc` command fails (the message names the command and its error); EXISTS when
   * namespaces of this cluster already exist; USAGE for a bad name, node count or link.
   */
  static async create(options: NetworkOptions): Promise<EmulatedNetwork> {
    const { cluster, links } = options;
    validateClusterName(cluster);
    if (links.length < 1 || links.length > MAX_NETNS_NODES) {
      throw new CdfsError(
        "USAGE",
        `an emulated network has 1..${MAX_NETNS_NODES} nodes, not ${links.length}`,
      );
    }
    links.forEach((node, i) => validateLink(node.link, `node ${i}`));
    await requireNetnsSupport();
    const leftovers = await listNamespaces(cluster);
    if (leftovers.length > 0) {
      throw new CdfsError(
        "EXISTS",
        `cluster ${JSON.stringify(cluster)} already has network namespaces ` +
          `(${leftovers.map((ns) => ns.name).join(", ")}); stop it, or remove what a crashed ` +
          `run left with 'cdfs cluster clean ${cluster}'`,
      );
    }
    const network = new EmulatedNetwork(
      cluster,
      links.map((node, index) => ({
        index,
        namespace: nodeNamespace(cluster, index),
        address: nodeAddress(index),
        link: node.link,
        congested: node.congested,
      })),
    );
    try {
      await network.#createHub();
      const queue = [...network.nodes];
      const worker = async () => {
        for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
          await network.#createNode(node, options);
        }
      };
      await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, worker));
    } catch (e) {
      await cleanNetworks(cluster).catch(() => {});
      throw e;
    }
    return network;
  }

  /**
   * Ends every process still running in the network's namespaces (SIGTERM, then SIGKILL after
   * `graceMs`) and deletes the namespaces, with everything in them. Safe to call twice.
   *
   * @param graceMs How long processes get to exit after SIGTERM (default 2000).
   * @returns What was removed.
   * @throws {CdfsError} UNAVAILABLE when a namespace cannot be removed.
   */
  destroy(graceMs = DEFAULT_KILL_GRACE_MS): Promise<CleanReport> {
    this.#destroyed ??= cleanNetworks(this.cluster, { graceMs });
    return this.#destroyed;
  }

  /** Destroys the network (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  async #createHub(): Promise<void> {
    const hub = this.hub;
    await runTool("ip", ["netns", "add", hub]);
    await runTool("ip", ["-n", hub, "link", "set", "lo", "up"]);
    await runTool("ip", ["-n", hub, "link", "add", BRIDGE, "type", "bridge"]);
    await runTool("ip", [
      "-n",
      hub,
      "addr",
      "add",
      `${HUB_ADDRESS}/${PREFIX_LENGTH}`,
      "dev",
      BRIDGE,
    ]);
    await runTool("ip", ["-n", hub, "link", "set", BRIDGE, "up"]);
  }

  async #createNode(node: NetworkNode, options: NetworkOptions): Promise<void> {
    const { namespace, index } = node;
    const port = `n${index}`;
    await runTool("ip", ["netns", "add", namespace]);
    await runTool("ip", ["-n", namespace, "link", "set", "lo", "up"]);
    // Both ends are created directly inside the namespaces: the host's never sees them.
    await runTool("ip", [
      "link",
      "add",
      NODE_INTERFACE,
      "netns",
      namespace,
      "type",
      "veth",
      "peer",
      "name",
      port,
      "netns",
      this.hub,
    ]);
    await runTool("ip", [
      "-n",
      namespace,
      "addr",
      "add",
      `${node.address}/${PREFIX_LENGTH}`,
      "dev",
      NODE_INTERFACE,
    ]);
    await runTool("ip", ["-n", namespace, "link", "set", NODE_INTERFACE, "up"]);
    await runTool("ip", ["-n", this.hub, "link", "set", port, "master", BRIDGE, "up"]);
    const rate = node.link.rateBitsPerSecond;
    if (rate !== undefined) {
      const shaper = options.shaper ?? "tbf";
      await runTool("tc", shaperArgs(namespace, NODE_INTERFACE, rate, shaper));
      if (shaper === "htb") await runTool("tc", htbClassArgs(namespace, NODE_INTERFACE, rate));
      if (options.shapeIngress ?? true) {
        await runTool("tc", shaperArgs(this.hub, port, rate, shaper));
        if (shaper === "htb") await runTool("tc", htbClassArgs(this.hub, port, rate));
      }
    }
  }
}

/**
 * The `tc` arguments of the root shaper of a device (for `htb`, its qdisc; the class comes from
 * the same sizes).
 *
 * @example
 * ```ts
 * import { shaperArgs } from "./netns.ts";
 * console.log(shaperArgs("cdfs-demo-n0", "eth0", 1e9, "tbf").join(" "));
 * // "-n cdfs-demo-n0 qdisc add dev eth0 root tbf rate 1000000000bit burst 250000b latency 20ms"
 * ```
 *
 * @param namespace The namespace of the device.
 * @param device The device.
 * @param rateBitsPerSecond The rate.
 * @param shaper `tbf` or `htb`.
 * @returns The arguments of `tc`.
 */
export function shaperArgs(
  namespace: string,
  device: string,
  rateBitsPerSecond: number,
  shaper: "tbf" | "htb",
): string[] {
  const base = ["-n", namespace, "qdisc", "add", "dev", device, "root"];
  if (shaper === "htb") return [...base, "handle", "1:", "htb", "default", "1"];
  return [
    ...base,
    "tbf",
    "rate",
    `${rateBitsPerSecond}bit`,
    "burst",
    `${bucketBytes(rateBitsPerSecond)}b`,
    "latency",
    QUEUE_LATENCY,
  ];
}

function htbClassArgs(namespace: string, device: string, rateBitsPerSecond: number): string[] {
  const burst = `${bucketBytes(rateBitsPerSecond)}b`;
  return [
    "-n",
    namespace,
    "class",
    "add",
    "dev",
    device,
    "parent",
    "1:",
    "classid",
    "1:1",
    "htb",
    "rate",
    `${rateBitsPerSecond}bit`,
    "ceil",
    `${rateBitsPerSecond}bit`,
    "burst",
    burst,
    "cburst",
    burst,
    // One class: the quantum only silences htb's warning about a large default.
    "quantum",
    "60000",
  ];
}

function bucketBytes(rateBitsPerSecond: number): number {
  return Math.max(MIN_BUCKET_BYTES, Math.ceil(rateBitsPerSecond / 8 * BUCKET_MS / 1000));
}

/**
 * Our namespaces that exist now, of one cluster or of all.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { listNamespaces } from "./netns.ts";
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
 * import { namespacePids } from "./netns.ts";
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
 * import type { CleanOptions } from "./netns.ts";
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
 * import { cleanNetworks } from "./netns.ts";
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
  let left = await waitForExit(running, graceMs);
  if (left.length > 0) {
    signalAll(left, "SIGKILL");
    left = await waitForExit(running, KILL_WAIT_MS);
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
  for (const pid of pids) {
    try {
      Deno.kill(pid, signal);
    } catch {
      // It has exited meanwhile.
    }
  }
}

async function waitForExit(running: () => Promise<number[]>, ms: number): Promise<number[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const left = await running();
    if (left.length === 0 || performance.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Options of {@linkcode runInNamespace}: those of `Deno.Command` that make sense here.
 *
 * @example
 * ```ts
 * import type { NamespaceCommandOptions } from "./netns.ts";
 * const options: NamespaceCommandOptions = { stdout: "piped", stderr: "inherit" };
 * ```
 */
export type NamespaceCommandOptions = Pick<
  Deno.CommandOptions,
  "cwd" | "env" | "clearEnv" | "stdin" | "stdout" | "stderr" | "signal" | "detached"
>;

/**
 * Starts a command inside one of our namespaces (`ip netns exec NAME COMMAND ARGS`), e.g. a
 * DataNode or a relay. `ip` replaces itself with the command, so the child's pid is the
 * command's, and {@linkcode cleanNetworks} finds it through the namespace even when the
 * process that started it is gone.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { runInNamespace } from "./netns.ts";
 * const child = runInNamespace("cdfs-demo-n0", Deno.execPath(), ["run", "-A", "main.ts", "datanode", "serve"], {
 *   stdout: "piped",
 * });
 * ```
 *
 * @param namespace One of our namespace names ({@linkcode parseNamespaceName}).
 * @param command The program.
 * @param args Its arguments.
 * @param options Standard streams, environment, working directory, abort signal.
 * @returns The child process.
 * @throws {CdfsError} USAGE when `namespace` is not one of ours; UNAVAILABLE when `ip` is
 * missing.
 */
export function runInNamespace(
  namespace: string,
  command: string,
  args: readonly string[],
  options: NamespaceCommandOptions = {},
): Deno.ChildProcess {
  if (parseNamespaceName(namespace) === undefined) {
    throw new CdfsError("USAGE", `${JSON.stringify(namespace)} is not a cdfs namespace`);
  }
  return spawnTool("ip", ["netns", "exec", namespace, command, ...args], options);
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NETNS_NODES) {
    throw new CdfsError("USAGE", `node index ${index} is outside 0..${MAX_NETNS_NODES - 1}`);
  }
}

/** Where the iproute2 tools may be when `PATH` lacks the sbin directories (not root's shell). */
const TOOL_DIRECTORIES = ["", "/usr/sbin/", "/sbin/"];

function spawnTool(
  tool: "ip" | "tc",
  args: readonly string[],
  options: Deno.CommandOptions,
): Deno.ChildProcess {
  for (const directory of TOOL_DIRECTORIES) {
    try {
      return new Deno.Command(directory + tool, { ...options, args: [...args] }).spawn();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new CdfsError("UNAVAILABLE", `running '${tool}' needs --allow-run: ${e.message}`);
      }
      throw e;
    }
  }
  throw new CdfsError(
    "UNAVAILABLE",
    `'${tool}' was not found: install iproute2 (apt-get install -y iproute2)`,
  );
}

async function runTool(tool: "ip" | "tc", args: readonly string[]): Promise<string> {
  const child = spawnTool(tool, args, { stdin: "null", stdout: "piped", stderr: "piped" });
  const output = await child.output();
  const decoder = new TextDecoder();
  if (!output.success) {
    const stderr = decoder.decode(output.stderr).trim().replaceAll("\n", " / ");
    throw new CdfsError(
      "UNAVAILABLE",
      `'${tool} ${args.join(" ")}' failed: ${stderr || `exit code ${output.code}`}`,
    );
  }
  return decoder.decode(output.stdout);
}
