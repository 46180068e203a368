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
 *   everything else (veths, qdiscs, addresses) lives inside them (`netns_names.ts`). So
 *   `cleanNetworks` (`netns_clean.ts`) finds all that a crashed run left from `ip netns list` alone, ends the processes still
 *   running inside (`ip netns pids`), and deletes the namespaces, which deletes the rest.
 *
 * The shapers' `tc` arguments are in `netns_shaping.ts`, the runs of `ip` and `tc` (and of
 * commands inside a namespace) in `netns_tools.ts`. Every function needs root (and
 * `--allow-run`); `netnsSupport` (`netns_support.ts`) says whether this machine can do it and
 * why not.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { validateClusterName } from "../core/cluster_name.ts";
import { type LinkSettings, type NodeLink, validateLink } from "./link_spec.ts";
import {
  cleanNetworks,
  type CleanReport,
  DEFAULT_KILL_GRACE_MS,
  listNamespaces,
} from "./netns_clean.ts";
import {
  HUB_ADDRESS,
  hubNamespace,
  MAX_NETNS_NODES,
  NODE_INTERFACE,
  nodeAddress,
  nodeNamespace,
} from "./netns_names.ts";
import { htbClassArgs, shaperArgs } from "./netns_shaping.ts";
import { requireNetnsSupport } from "./netns_support.ts";
import { runTool } from "./netns_tools.ts";

const BRIDGE = "br0";
const PREFIX_LENGTH = 24;
/** How many nodes are set up at a time (each needs about ten `ip`/`tc` runs). */
const SETUP_CONCURRENCY = 4;

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
  /** The cluster name (`validateClusterName` of `src/core/cluster_name.ts`). */
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
  /** Its namespace (for `runInNamespace` of `netns_tools.ts`). */
  readonly namespace: string;
  /** Its address on the bridge. */
  readonly address: string;
  /** Its link settings (the rate is in place; delays are the relay's job). */
  readonly link: LinkSettings;
  /** Whether it got the congested settings. */
  readonly congested: boolean;
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
