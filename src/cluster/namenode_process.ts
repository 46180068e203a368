/**
 * The `cdfs namenode serve` child process of a local cluster: its arguments, how a recorded
 * pid is recognised as it, and the start (in a session of its own, like the datanodes of
 * `node_process.ts`) until it answers PING as a namenode.
 *
 * @module
 */
import { NameNodeClient } from "../namenode/client.ts";
import { isServerOf, type NodeLauncher, NotThisServer, ServerChild } from "./node_process.ts";

/**
 * What a namenode is started with.
 *
 * @example
 * ```ts
 * import type { NameNodeSpawnOptions } from "./namenode_process.ts";
 * const options: NameNodeSpawnOptions = {
 *   launcher: { command: "cdfs", args: [] },
 *   listen: "127.0.0.1:0",
 *   meta: "sqlite:/tmp/s/local/namenode.db",
 *   log: "/tmp/d/namenode.log",
 * };
 * ```
 */
export interface NameNodeSpawnOptions {
  /** How to run cdfs. */
  readonly launcher: NodeLauncher;
  /** `--listen`, e.g. `127.0.0.1:0`. */
  readonly listen: string;
  /** `--meta`: `sqlite:PATH` or `etcd:URL[,URL...]`. */
  readonly meta: string;
  /** `--log`: its JSON log goes to this file (appended); also how it is recognised. */
  readonly log: string;
  /** More `namenode serve` options, e.g. `["--dead-after", "10s"]`. */
  readonly args?: readonly string[];
}

/**
 * The arguments of `namenode serve`.
 *
 * @example
 * ```ts
 * import { namenodeArguments } from "./namenode_process.ts";
 * const args = namenodeArguments({
 *   launcher: { command: "cdfs", args: [] },
 *   listen: "127.0.0.1:0", meta: "sqlite:/s/nn.db", log: "/d/namenode.log",
 * });
 * console.log(args.slice(0, 4)); // [ "namenode", "serve", "--listen", "127.0.0.1:0" ]
 * ```
 *
 * @param options The namenode's settings.
 * @returns The words after the launcher's.
 */
export function namenodeArguments(options: NameNodeSpawnOptions): string[] {
  return [
    "namenode",
    "serve",
    "--listen",
    options.listen,
    "--meta",
    options.meta,
    "--log",
    options.log,
    ...(options.args ?? []),
  ];
}

/**
 * Whether a command line is that of a namenode logging to `log` (each cluster's namenode has
 * a log file of its own, in the cluster's data directory, as each datanode has its `--data`).
 *
 * @example
 * ```ts
 * import { isNameNodeOf } from "./namenode_process.ts";
 * const argv = ["cdfs", "namenode", "serve", "--meta", "sqlite:/s/nn.db", "--log", "/d/namenode.log"];
 * console.log(isNameNodeOf(argv, "/d/namenode.log"), isNameNodeOf(argv, "/e/namenode.log")); // true false
 * ```
 *
 * @param argv A process's command line.
 * @param log The log file.
 * @returns Whether it is that namenode.
 */
export function isNameNodeOf(argv: readonly string[], log: string): boolean {
  return isServerOf(argv, "namenode", "--log", log);
}

/**
 * A started namenode child process.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { NameNodeChild } from "./namenode_process.ts";
 * import { selfLauncher } from "./node_process.ts";
 * const namenode = NameNodeChild.spawn({
 *   launcher: selfLauncher((n) => Deno.env.get(n)),
 *   listen: "127.0.0.1:0", meta: "sqlite:/tmp/nn.db", log: "/tmp/namenode.log",
 * });
 * const address = await namenode.ready(30_000);
 * namenode.release();
 * ```
 */
export class NameNodeChild extends ServerChild {
  private constructor(child: Deno.ChildProcess) {
    super(child, "namenode");
  }

  /**
   * Starts `namenode serve` in a session of its own.
   *
   * @param options The namenode's settings.
   * @returns The child; {@linkcode NameNodeChild.ready} waits until it serves.
   */
  static spawn(options: NameNodeSpawnOptions): NameNodeChild {
    return new NameNodeChild(
      ServerChild.launch({
        launcher: options.launcher,
        args: namenodeArguments(options),
        label: "namenode",
      }),
    );
  }

  /**
   * Waits until the namenode prints its `listening` line and answers PING as a namenode.
   *
   * @param timeoutMs How long the start may take.
   * @returns The address it listens on.
   * @throws {CdfsError} UNAVAILABLE when it exits first (its own error quoted: a store that
   * cannot be opened, a busy port), stays silent, or something else answers there.
   */
  ready(timeoutMs: number): Promise<string> {
    return this.serving(timeoutMs, async (address, ms) => {
      using client = await NameNodeClient.connect(address, { connectTimeoutMs: ms });
      const { service } = await client.ping();
      if (service !== "namenode") {
        throw new NotThisServer(`${address} answered as a ${service}, not a namenode`);
      }
    });
  }
}
