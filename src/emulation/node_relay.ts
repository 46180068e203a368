/**
 * Where the delay relays go in an emulated network, and how a path's delay adds up.
 *
 * Topology: node j's DataNode listens on `127.0.0.1:P` inside node j's namespace (each
 * namespace has its own loopback, so every node can use the same port). A relay in the same
 * namespace listens on node j's bridge address `10.213.0.(10+j):P` and forwards to the
 * DataNode. The cluster file names the relay's address as node j's address, and since the
 * DataNode is reachable only through loopback, nothing can bypass the delay.
 *
 * ```
 *  cdfs-C-n<i>                              cdfs-C-n<j>
 *  DataNode i ──► eth0 ══ bridge ══► eth0 ──► relay j ──(hold d_i)──► 127.0.0.1:P DataNode j
 *             ◄── eth0 ══ bridge ══◄ eth0 ◄── relay j ◄─(hold d_j)───
 *                (tbf i, tbf at j's port: the rates)
 * ```
 *
 * Composition: each node's delay `d` (± jitter) is the one-way delay of everything that node
 * sends, as `netem` on its interface would be. Relay j holds what a peer sends for that
 * peer's delay (it knows the peer by its source address) and what DataNode j answers for
 * d_j. So the one-way delay i→j is d_i, j→i is d_j, and a round trip between them is
 * d_i + d_j plus the shaping and the relay's own overhead. A connection from the hub
 * (10.213.0.1, e.g. a client run there) gets no hold toward the node (the hub's link is
 * ideal) and d_j back. A node's connection to itself gets no hold at all. Rates are not the
 * relay's job: the `tbf` on i's `eth0` limits what i sends, the one on j's bridge port what j
 * receives, and the slower of the two rules a path.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { CdfsError } from "../core/errors.ts";
import type { NetworkNode } from "./netns.ts";
import { runInNamespace } from "./netns_tools.ts";
import type { HoldSettings, RelayStats } from "./relay.ts";
import { relayArguments, type RelayProcessSettings } from "./relay_main.ts";

/**
 * How to start a relay process: a program and the arguments that come before the relay's own
 * (those of {@linkcode relayArguments}).
 *
 * @example
 * ```ts
 * import type { RelayLauncher } from "./node_relay.ts";
 * // A compiled cdfs whose CLI runs runRelayProcess as `cdfs cluster relay`:
 * const launcher: RelayLauncher = { command: "/usr/local/bin/cdfs", args: ["cluster", "relay"] };
 * ```
 */
export interface RelayLauncher {
  /** The program. */
  readonly command: string;
  /** The arguments before the relay's. */
  readonly args: readonly string[];
}

/**
 * The launcher for a source checkout: `deno run --allow-net src/emulation/relay_main.ts` with
 * the running Deno.
 *
 * @example
 * ```ts
 * import { sourceRelayLauncher } from "./node_relay.ts";
 * console.log(sourceRelayLauncher().args.at(-1)?.endsWith("relay_main.ts")); // true
 * ```
 *
 * @returns The launcher.
 */
export function sourceRelayLauncher(): RelayLauncher {
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "--allow-net",
      "--no-prompt",
      fileURLToPath(new URL("./relay_main.ts", import.meta.url)),
    ],
  };
}

/**
 * The launcher that fits how this process runs: {@linkcode sourceRelayLauncher} under
 * `deno run`; in a `deno compile`d cdfs (its modules live in a virtual `deno-compile-*`
 * directory, where no relay_main.ts can be run), the binary itself as `cdfs cluster relay`,
 * a CLI sub-command that calls `runRelayProcess`.
 *
 * @example
 * ```ts
 * import { defaultRelayLauncher } from "./node_relay.ts";
 * console.log(defaultRelayLauncher().command === Deno.execPath()); // true
 * ```
 *
 * @returns The launcher.
 */
export function defaultRelayLauncher(): RelayLauncher {
  if (import.meta.url.includes("/deno-compile-")) {
    return { command: Deno.execPath(), args: ["cluster", "relay"] };
  }
  return sourceRelayLauncher();
}

/**
 * The ports of one node relay.
 *
 * @example
 * ```ts
 * import type { RelayPorts } from "./node_relay.ts";
 * const ports: RelayPorts = { port: 13100 };
 * ```
 */
export interface RelayPorts {
  /** The port the relay listens on, on the node's bridge address. */
  readonly port: number;
  /** The DataNode's port on the node's loopback (default: the same as `port`). */
  readonly targetPort?: number;
  /** The bound of bytes held per direction of each connection (the relay's default if absent). */
  readonly maxBufferedBytes?: number;
}

/**
 * The settings of node `index`'s relay, following the topology of this module: its own delay
 * back to peers, each other node's delay toward its DataNode, none for itself.
 *
 * @example
 * ```ts
 * import { nodeRelaySettings } from "./node_relay.ts";
 * const nodes = [10, 100].map((delayMs, index) => ({
 *   index,
 *   namespace: `cdfs-demo-n${index}`,
 *   address: `10.213.0.${10 + index}`,
 *   link: { delayMs, jitterMs: 0 },
 *   congested: false,
 * }));
 * const settings = nodeRelaySettings(nodes, 0, { port: 13100 });
 * console.log(settings.relay.toPeer.delayMs); // 10
 * console.log(settings.relay.toTargetByPeer?.get("10.213.0.11")?.delayMs); // 100
 * ```
 *
 * @param nodes Every node of the network (`EmulatedNetwork.nodes`).
 * @param index The node whose relay this is.
 * @param ports Its ports.
 * @returns Settings for {@linkcode relayArguments}, with `exitWithStdin` set.
 * @throws {CdfsError} USAGE for an index that is not a node.
 */
export function nodeRelaySettings(
  nodes: readonly NetworkNode[],
  index: number,
  ports: RelayPorts,
): RelayProcessSettings {
  const self = nodes[index];
  if (self === undefined) throw new CdfsError("USAGE", `there is no node ${index}`);
  const toTargetByPeer = new Map<string, HoldSettings>();
  for (const node of nodes) {
    if (node.index === index || node.link.delayMs === 0) continue;
    toTargetByPeer.set(node.address, hold(node));
  }
  return {
    relay: {
      listen: { hostname: self.address, port: ports.port },
      target: { hostname: "127.0.0.1", port: ports.targetPort ?? ports.port },
      toPeer: hold(self),
      ...(toTargetByPeer.size > 0 ? { toTargetByPeer } : {}),
      localAddresses: [self.address, "127.0.0.1"],
      ...(ports.maxBufferedBytes !== undefined ? { maxBufferedBytes: ports.maxBufferedBytes } : {}),
    },
    exitWithStdin: true,
  };
}

/**
 * Options of {@linkcode NodeRelay.start}.
 *
 * @example
 * ```ts
 * import type { NodeRelayOptions } from "./node_relay.ts";
 * const options: NodeRelayOptions = { port: 13100, startTimeoutMs: 30_000 };
 * ```
 */
export interface NodeRelayOptions extends RelayPorts {
  /** How to start the process (default {@linkcode defaultRelayLauncher}). */
  readonly launcher?: RelayLauncher;
  /** How long to wait for its `listening` line (default 30 s: the machine may be busy). */
  readonly startTimeoutMs?: number;
}

/**
 * Spawns a relay process in a namespace with its standard output and error piped (it prints
 * its `listening` line there), in a session of its own: Ctrl-C at the launcher's terminal must
 * not end the relays before the launcher has stopped the DataNodes behind them.
 *
 * @example
 * Not run by `deno test --doc`: it needs root and a network namespace.
 * ```ts ignore
 * import { defaultRelayLauncher, spawnRelay } from "./node_relay.ts";
 * const child = spawnRelay("cdfs-n0", defaultRelayLauncher(), settings, "null");
 * ```
 *
 * @param namespace The node's network namespace.
 * @param launcher How to run the relay.
 * @param settings The relay's settings (its command-line arguments).
 * @param stdin `piped` for a relay that exits when its standard input closes, else `null`.
 * @returns The child process.
 */
export function spawnRelay(
  namespace: string,
  launcher: RelayLauncher,
  settings: RelayProcessSettings,
  stdin: "piped" | "null",
): Deno.ChildProcess {
  return runInNamespace(namespace, launcher.command, [
    ...launcher.args,
    ...relayArguments(settings),
  ], {
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" },
    detached: true,
  });
}

/**
 * A relay process running in a node's namespace, in a session of its own. It exits when
 * {@linkcode NodeRelay.stop} is called, when its namespace is cleaned, or when the process that
 * started it dies (its standard input, which this object holds open, then ends).
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { EmulatedNetwork } from "./netns.ts";
 * import { NodeRelay } from "./node_relay.ts";
 * declare const network: EmulatedNetwork;
 * await using relay = await NodeRelay.start(network.nodes, 0, { port: 13100 });
 * console.log(relay.address); // "10.213.0.10:13100"
 * ```
 */
export class NodeRelay {
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Its process id. */
  readonly pid: number;
  /** The address peers connect to, `HOST:PORT`. */
  readonly address: string;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stderr: Promise<string>;
  readonly #stdout: Promise<string>;
  #stopped: Promise<Deno.CommandStatus> | undefined;
  #stats: RelayStats | undefined;

  private constructor(
    child: Deno.ChildProcess,
    address: string,
    stdin: WritableStreamDefaultWriter<Uint8Array>,
    stderr: Promise<string>,
    stdout: Promise<string>,
  ) {
    this.child = child;
    this.pid = child.pid;
    this.address = address;
    this.#stdin = stdin;
    this.#stderr = stderr;
    this.#stdout = stdout;
  }

  /**
   * The relay's counters, from the `stats` line it prints when it stops: undefined before
   * {@linkcode NodeRelay.stop} has finished or when the relay was killed.
   */
  get stats(): RelayStats | undefined {
    return this.#stats;
  }

  /**
   * What the relay wrote on standard error (the end of it), once it has exited: why it ended
   * without its `stats` line, when it did.
   */
  get errorOutput(): Promise<string> {
    return this.#stderr;
  }

  /**
   * Starts node `index`'s relay in its namespace and waits until it listens.
   *
   * @param nodes Every node of the network.
   * @param index The node.
   * @param options Ports, launcher, start timeout.
   * @returns The running relay.
   * @throws {CdfsError} UNAVAILABLE when it exits or stays silent instead of listening (the
   * message includes its standard error).
   */
  static async start(
    nodes: readonly NetworkNode[],
    index: number,
    options: NodeRelayOptions,
  ): Promise<NodeRelay> {
    const settings = nodeRelaySettings(nodes, index, options);
    const launcher = options.launcher ?? defaultRelayLauncher();
    const child = spawnRelay(nodes[index]!.namespace, launcher, settings, "piped");
    const stdin = child.stdin.getWriter();
    const stderr = collect(child.stderr);
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    let { text, address } = await readListeningLine(lines, timeoutMs);
    // Keep reading standard output: the `stats` line comes when the relay stops.
    const draining = (async () => {
      for (;;) {
        const next = await lines.read().catch(() => ({ done: true as const, value: undefined }));
        if (next.done) return text;
        text = (text + next.value).slice(-65536);
      }
    })();
    if (address === undefined) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
      await draining;
      await stdin.close().catch(() => {});
      throw new CdfsError(
        "UNAVAILABLE",
        `the relay of node ${index} did not start: ${(await stderr).trim() || "no output"}`,
      );
    }
    return new NodeRelay(child, address, stdin, stderr, draining);
  }

  /**
   * Stops the relay (SIGTERM; SIGKILL if it is still there after `graceMs`) and waits for it
   * to exit.
   *
   * @param graceMs How long it gets to exit after SIGTERM (default 5000).
   * @returns Its exit status.
   */
  stop(graceMs = 5000): Promise<Deno.CommandStatus> {
    this.#stopped ??= (async () => {
      try {
        this.child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await this.#stdin.close().catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          try {
            this.child.kill("SIGKILL");
          } catch {
            // It exited meanwhile.
          }
          resolve();
        }, graceMs);
      });
      const status = await Promise.race([this.child.status, killed.then(() => this.child.status)]);
      clearTimeout(timer);
      await this.#stderr;
      const line = /^stats (\{.*\})$/m.exec(await this.#stdout)?.[1];
      if (line !== undefined) this.#stats = JSON.parse(line) as RelayStats;
      return status;
    })();
    return this.#stopped;
  }

  /** Stops the relay (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function hold(node: NetworkNode): HoldSettings {
  return { delayMs: node.link.delayMs, jitterMs: node.link.jitterMs };
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text = (text + chunk).slice(-8192);
  }
  return text;
}

/**
 * Reads a child's standard output until its `listening ADDRESS` line (what `datanode serve` and
 * the relay print when ready), the end of the output, or `timeoutMs`.
 *
 * @example
 * ```ts
 * import { readListeningLine } from "./node_relay.ts";
 * const out = ReadableStream.from(["starting\n", "listening 10.0.0.1:7000\n"]).getReader();
 * console.log((await readListeningLine(out, 1000)).address); // "10.0.0.1:7000"
 * ```
 *
 * @param lines A reader of the child's decoded standard output; it stays locked to the caller.
 * @param timeoutMs How long to wait.
 * @returns What was read, and the address (undefined when none came in time).
 */
export async function readListeningLine(
  lines: ReadableStreamDefaultReader<string>,
  timeoutMs: number,
): Promise<{ text: string; address: string | undefined }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  let text = "";
  let address: string | undefined;
  try {
    while (address === undefined) {
      const next = await Promise.race([lines.read(), timeout]);
      if (next === "timeout" || next.done) break;
      text += next.value;
      address = /^listening (\S+)\n/m.exec(text)?.[1];
    }
  } finally {
    clearTimeout(timer);
  }
  return { text, address };
}
