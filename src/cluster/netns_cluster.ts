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
 * @module
 */
import { existsSync } from "node:fs";
import { CdfsError } from "../errors.ts";
import { formatNodeAddress, parseNodeAddress } from "../address.ts";
import type { ClusterFile, ClusterNetwork } from "./cluster_file.ts";
import { type EmulatedNetwork, runInNamespace } from "./netns.ts";
import {
  defaultRelayLauncher,
  nodeRelaySettings,
  readListeningLine,
  type RelayLauncher,
} from "./node_relay.ts";
import type { NodeLauncher } from "./node_process.ts";
import { relayArguments } from "./relay_main.ts";

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
      return await startRelay(network, node.index, port, launcher);
    }));
    const record: ClusterNetwork = {
      netns: true,
      hub: network.hub,
      hubAddress: network.hubAddress,
      nodes: network.nodes.map((n) => ({ namespace: n.namespace, address: n.address })),
    };
    return {
      ...file,
      nodes: file.nodes.map((node, i) => ({ ...node, address: addresses[i]! })),
      network: record,
    };
  };
}

async function startRelay(
  network: EmulatedNetwork,
  index: number,
  port: number,
  launcher: RelayLauncher,
): Promise<string> {
  const settings = { ...nodeRelaySettings(network.nodes, index, { port }), exitWithStdin: false };
  const child = runInNamespace(
    network.nodes[index]!.namespace,
    launcher.command,
    [...launcher.args, ...relayArguments(settings)],
    {
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" },
      detached: true,
    },
  );
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
