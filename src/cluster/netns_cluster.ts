/**
 * Local clusters inside an emulated network (`cdfs cluster up --netns`): the glue between
 * `local.ts` (the nodes), `netns.ts` (the namespaces) and `node_relay.ts` (the delays).
 *
 * Node i's DataNode runs in namespace `cdfs-C-n<i>` on its loopback `127.0.0.1:P`; a relay in
 * the same namespace listens on the node's bridge address `10.213.0.(10+i):P` and the cluster
 * file names the relay. The relays do not exit with their launcher (a detached cluster
 * outlives it): they end with the namespaces, which `cleanNetworks(name)` removes together
 * with every process still inside.
 *
 * Stopping and starting single nodes ({@linkcode stopNetnsNodes}, {@linkcode startNetnsNodes}):
 * a relay does not die with its DataNode (it runs in a session of its own and only forwards
 * connections), and while it runs, a connection to a stopped node is accepted and then closed.
 * So `stop-node` stops the relay too: the node's address then refuses connections, as a
 * stopped node of a loopback cluster does. `start-node` starts the DataNode in its namespace on
 * `127.0.0.1:P` again (P: the port of its address in the cluster file) and then a relay with
 * the node's link settings, which the cluster file records for this (a file without them, from
 * an older cdfs, keeps its relays running through stop-node).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { CdfsError } from "../core/errors.ts";
import { formatNodeAddress, parseNodeAddress } from "../core/address.ts";
import type { ClusterFile, ClusterNetwork, ClusterNode } from "./cluster_file.ts";
import { readClusterFile } from "./cluster_file_io.ts";
import { DEFAULT_STOP_GRACE_MS } from "./cluster_stop.ts";
import {
  type StartNodeOptions,
  startNodes,
  type StopNodeOptions,
  stopNodes,
} from "./node_control.ts";
import { type EmulatedNetwork, type NetworkNode } from "../emulation/netns.ts";
import { namespacePids } from "../emulation/netns_clean.ts";
import {
  defaultRelayLauncher,
  nodeRelaySettings,
  readListeningLine,
  type RelayLauncher,
  spawnRelay,
} from "../emulation/node_relay.ts";
import type { NodeLauncher } from "./node_process.ts";
import { processInfo, sendSignal, terminateProcesses, waitForExit } from "../core/processes.ts";

/** How long a relay may take to print its `listening` line. */
const RELAY_START_TIMEOUT_MS = 30_000;

/**
 * A launcher that runs `launcher` inside a network namespace (`ip netns exec NS ...`; `ip`
 * execs the program, so the node's pid is the one spawned).
 *
 * @example
 * ```ts
 * import { namespaceLauncher } from "./netns_cluster.ts";
 * const launcher = namespaceLauncher({ command: "cdfs", args: [] }, "cdfs-local-n0");
 * console.log(launcher.args.slice(0, 3)); // [ "netns", "exec", "cdfs-local-n0" ]
 * ```
 *
 * @param launcher How to run cdfs.
 * @param namespace The namespace.
 * @returns The wrapped launcher.
 */
export function namespaceLauncher(launcher: NodeLauncher, namespace: string): NodeLauncher {
  const ip = ["/usr/sbin/ip", "/sbin/ip"].find((path) => existsSync(path)) ?? "ip";
  return { command: ip, args: ["netns", "exec", namespace, launcher.command, ...launcher.args] };
}

/**
 * The `beforeUp` hook of `LocalCluster.start` for a cluster in `network`: starts every
 * node's relay (in front of the DataNode's loopback port), and returns the cluster file with
 * the relays' addresses and the `network` record clients need.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { relaysBeforeUp } from "./netns_cluster.ts";
 * const cluster = await LocalCluster.start({ ...options, beforeUp: relaysBeforeUp(network) });
 * ```
 *
 * @param network The emulated network the nodes run in.
 * @param launcher How to start a relay (default `defaultRelayLauncher()`).
 * @returns The hook.
 */
export function relaysBeforeUp(
  network: EmulatedNetwork,
  launcher: RelayLauncher = defaultRelayLauncher(),
): (file: ClusterFile) => Promise<ClusterFile> {
  return async (file) => {
    const addresses = await Promise.all(file.nodes.map(async (node) => {
      const port = parseNodeAddress(node.address).port;
      return await startRelay(network.nodes, node.index, port, launcher);
    }));
    const record: ClusterNetwork = {
      netns: true,
      hub: network.hub,
      hubAddress: network.hubAddress,
      nodes: network.nodes.map((n) => ({
        namespace: n.namespace,
        address: n.address,
        link: n.link,
        congested: n.congested,
      })),
    };
    return {
      ...file,
      nodes: file.nodes.map((node, i) => ({ ...node, address: addresses[i]! })),
      network: record,
    };
  };
}

async function startRelay(
  nodes: readonly NetworkNode[],
  index: number,
  port: number,
  launcher: RelayLauncher,
): Promise<string> {
  const settings = { ...nodeRelaySettings(nodes, index, { port }), exitWithStdin: false };
  const child = spawnRelay(nodes[index]!.namespace, launcher, settings, "null");
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { address } = await readListeningLine(lines, RELAY_START_TIMEOUT_MS);
  if (address === undefined) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    throw new CdfsError(
      "UNAVAILABLE",
      `the relay of node ${index} did not start: ${(await stderr).trim() || "no output"}`,
    );
  }
  // The relay outlives this process (a detached cluster): let go of it and its pipes.
  lines.releaseLock();
  child.unref();
  stderr.catch(() => {});
  return formatNodeAddress(parseNodeAddress(address));
}

/**
 * Options of {@linkcode startNetnsNodes}: those of `startNodes`, and how to start relays.
 *
 * @example
 * ```ts
 * import type { StartNetnsNodeOptions } from "./netns_cluster.ts";
 * const options: StartNetnsNodeOptions = { launcher: { command: "cdfs", args: [] } };
 * ```
 */
export interface StartNetnsNodeOptions
  extends Omit<StartNodeOptions, "launcherFor" | "listenFor" | "pingNodes"> {
  /** How to start a relay (default `defaultRelayLauncher()`). */
  readonly relayLauncher?: RelayLauncher;
}

/**
 * Starts stopped nodes of a cluster in an emulated network again (`cluster start-node`): each
 * DataNode inside its namespace on its loopback port, then its relay on its bridge address
 * unless one still runs there. Clients reach it on the same address as before. On a failure
 * the nodes started are stopped again.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { startNetnsNodes } from "./netns_cluster.ts";
 * import { selfLauncher } from "./node_process.ts";
 * await startNetnsNodes(path, [3], { launcher: selfLauncher((n) => Deno.env.get(n)) });
 * ```
 *
 * @param path The cluster file (of a cluster with a `network`).
 * @param indices The nodes' indices.
 * @param options The launchers and the start timeout.
 * @returns The nodes as recorded.
 * @throws {CdfsError} USAGE for a cluster without an emulated network or a bad index; EXISTS
 * when one of them runs; UNAVAILABLE when a node or relay does not start, or a relay is gone
 * and the file lacks the link settings to start it.
 */
export async function startNetnsNodes(
  path: string,
  indices: readonly number[],
  options: StartNetnsNodeOptions,
): Promise<ClusterNode[]> {
  const file = await readClusterFile(path);
  const network = requireNetwork(file);
  const { relayLauncher, ...nodeOptions } = options;
  // Known before anything starts: a relay that is gone must be one we can start again.
  const relaysNeeded: number[] = [];
  for (const index of new Set(indices)) {
    const at = networkNode(file, network, index);
    if (at === undefined) continue; // startNodes names the bad index
    if ((await relayPids(at.namespace, file.nodes[index]!.address)).length === 0) {
      relaysNeeded.push(index);
    }
  }
  const links = networkNodes(network);
  if (relaysNeeded.length > 0 && links === undefined) {
    throw new CdfsError(
      "UNAVAILABLE",
      `the relays of nodes ${relaysNeeded.join(", ")} are gone and the cluster file has no ` +
        "link settings to start them again (a cluster of an older cdfs); take it down and up",
    );
  }
  const started = await startNodes(path, indices, {
    ...nodeOptions,
    launcherFor: (node) =>
      namespaceLauncher(options.launcher, network.nodes[node.index]!.namespace),
    listenFor: (node) => `127.0.0.1:${parseNodeAddress(node.address).port}`,
    pingNodes: false,
  });
  try {
    await Promise.all(relaysNeeded.map((index) =>
      startRelay(
        links!,
        index,
        parseNodeAddress(file.nodes[index]!.address).port,
        relayLauncher ?? defaultRelayLauncher(),
      )
    ));
  } catch (error) {
    await stopNodes(path, started.map((node) => node.index), { kill: true }).catch(() => {});
    throw error;
  }
  return started;
}

/**
 * Stops nodes of a cluster in an emulated network (`cluster stop-node`): the DataNodes as
 * `stopNodes` does, then their relays, so their addresses refuse connections (see the module
 * notes; a file without link settings keeps the relays, which could not be started again).
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { stopNetnsNodes } from "./netns_cluster.ts";
 * const wereRunning = await stopNetnsNodes(path, [3, 7], { kill: true });
 * ```
 *
 * @param path The cluster file (of a cluster with a `network`).
 * @param indices The nodes' indices.
 * @param options SIGKILL or graceful, the grace period.
 * @returns The indices of the nodes whose DataNode was running.
 * @throws {CdfsError} USAGE for a cluster without an emulated network or a bad index.
 */
export async function stopNetnsNodes(
  path: string,
  indices: readonly number[],
  options: StopNodeOptions = {},
): Promise<number[]> {
  const file = await readClusterFile(path);
  const network = requireNetwork(file);
  // The DataNodes first: a graceful stop lets them finish requests that come through the relay.
  const wereRunning = await stopNodes(path, indices, options);
  if (networkNodes(network) === undefined) return wereRunning;
  const relays: number[] = [];
  for (const index of new Set(indices)) {
    const at = networkNode(file, network, index);
    if (at !== undefined) relays.push(...await relayPids(at.namespace, file.nodes[index]!.address));
  }
  if (options.kill === true) {
    for (const pid of relays) sendSignal(pid, "SIGKILL");
    await waitForExit(relays, 5000);
  } else {
    await terminateProcesses(relays, options.graceMs ?? DEFAULT_STOP_GRACE_MS);
  }
  return wereRunning;
}

/**
 * Whether a command line is that of a relay listening on `address` (`HOST:PORT`): the relay
 * script or `cdfs cluster relay`, with `--listen ADDRESS` (or `--listen=ADDRESS`) and
 * `--target`.
 *
 * @example
 * ```ts
 * import { isRelayOf } from "./netns_cluster.ts";
 * const argv = ["deno", "run", "relay_main.ts", "--listen", "10.213.0.10:7000", "--target", "127.0.0.1:7000"];
 * console.log(isRelayOf(argv, "10.213.0.10:7000"), isRelayOf(argv, "127.0.0.1:7000")); // true false
 * ```
 *
 * @param argv A process's command line.
 * @param address The relay's listening address.
 * @returns Whether it is that relay.
 */
export function isRelayOf(argv: readonly string[], address: string): boolean {
  const has = (option: string, value?: string) =>
    argv.some((word, i) =>
      value === undefined
        ? word === option || word.startsWith(`${option}=`)
        : word === `${option}=${value}` || (word === option && argv[i + 1] === value)
    );
  return has("--listen", address) && has("--target");
}

/**
 * The nodes of a cluster file's network as `EmulatedNetwork.nodes` has them (for
 * `nodeRelaySettings`), or undefined when the file lacks the link settings.
 *
 * @example
 * ```ts
 * import { networkNodes } from "./netns_cluster.ts";
 * const nodes = networkNodes({
 *   netns: true, hub: "cdfs-c-hub", hubAddress: "10.213.0.1",
 *   nodes: [{ namespace: "cdfs-c-n0", address: "10.213.0.10", link: { delayMs: 1, jitterMs: 0 } }],
 * });
 * console.log(nodes?.[0]?.index, nodes?.[0]?.congested); // 0 false
 * ```
 *
 * @param network The `network` of a cluster file.
 * @returns The nodes, in index order.
 */
export function networkNodes(network: ClusterNetwork): NetworkNode[] | undefined {
  if (network.nodes.some((node) => node.link === undefined)) return undefined;
  return network.nodes.map((node, index) => ({
    index,
    namespace: node.namespace,
    address: node.address,
    link: node.link!,
    congested: node.congested ?? false,
  }));
}

function requireNetwork(file: ClusterFile): ClusterNetwork {
  if (file.network === undefined) {
    throw new CdfsError("USAGE", `cluster '${file.name}' does not run in an emulated network`);
  }
  return file.network;
}

function networkNode(file: ClusterFile, network: ClusterNetwork, index: number) {
  return file.nodes[index] === undefined ? undefined : network.nodes[index];
}

/** The relays listening on `address` in `namespace`. */
async function relayPids(namespace: string, address: string): Promise<number[]> {
  return (await namespacePids(namespace)).filter((pid) => {
    const info = processInfo(pid);
    return info !== undefined && isRelayOf(info.argv, address);
  });
}
