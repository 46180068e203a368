/**
 * One `cdfs datanode serve` child process of a local cluster: how to start cdfs again from
 * inside cdfs, the start itself (in a session of its own), and the wait until it answers PING.
 *
 * Finding the command ({@linkcode selfLauncher}): under `deno run`, `Deno.execPath()` is the
 * Deno binary, so a node is `deno run -A <main.ts beside src/>`; in a `deno compile`d binary,
 * `Deno.execPath()` is cdfs itself and a node is `cdfs datanode serve`. A compiled binary is
 * recognised by where its modules live: Deno 2 serves them from a virtual directory named
 * `deno-compile-<binary name>` under the temp directory, which `import.meta.url` shows.
 * `$CDFS_NODE_COMMAND` (a JSON array: program and leading arguments) overrides both, for
 * setups neither fits (a wrapper script, a different Deno).
 *
 * Why a session of its own (`detached`): Ctrl-C in a terminal signals the whole foreground
 * process group. The nodes must not take it themselves: the launcher stops them, each with
 * SIGTERM and a grace period, and only then removes their data. For the same reason the
 * nodes outlive a launcher killed with SIGKILL; `cdfs cluster clean` finds and stops them.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { DataNodeClient } from "../client/datanode_client.ts";
import { CdfsError } from "../errors.ts";
import { processInfo } from "./processes.ts";

/**
 * A program and the arguments that come before `datanode serve ...`.
 *
 * @example
 * ```ts
 * import type { NodeLauncher } from "./node_process.ts";
 * const launcher: NodeLauncher = { command: "/usr/local/bin/cdfs", args: [] };
 * ```
 */
export interface NodeLauncher {
  /** The program. */
  readonly command: string;
  /** Arguments before the sub-command. */
  readonly args: readonly string[];
}

/** How many stderr lines of a node are kept for error messages. */
const STDERR_TAIL_LINES = 40;

/**
 * Whether this code runs inside a `deno compile`d binary (see the module notes).
 *
 * @example
 * ```ts
 * import { isCompiledBinary } from "./node_process.ts";
 * console.log(isCompiledBinary("file:///tmp/deno-compile-cdfs/src/cluster/node_process.ts")); // true
 * console.log(isCompiledBinary("file:///home/me/cdfs/src/cluster/node_process.ts")); // false
 * ```
 *
 * @param moduleUrl The URL of a module of cdfs (default: this one's).
 * @returns Whether it is in a compiled binary's virtual file system.
 */
export function isCompiledBinary(moduleUrl: string = import.meta.url): boolean {
  return /\/deno-compile-[^/]+\//.test(moduleUrl);
}

/**
 * How to run this same cdfs again: `$CDFS_NODE_COMMAND`, else the compiled binary itself,
 * else `deno run -A main.ts` with the running Deno.
 *
 * @example
 * ```ts
 * import { selfLauncher } from "./node_process.ts";
 * const { command, args } = selfLauncher((name) => Deno.env.get(name));
 * console.log(command, args);
 * ```
 *
 * @param env Reads an environment variable.
 * @returns The launcher.
 * @throws {CdfsError} USAGE when `$CDFS_NODE_COMMAND` is not a JSON array of strings.
 */
export function selfLauncher(env: (name: string) => string | undefined): NodeLauncher {
  const override = env("CDFS_NODE_COMMAND");
  if (override !== undefined && override !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(override);
    } catch {
      parsed = undefined;
    }
    if (
      !Array.isArray(parsed) || parsed.length === 0 ||
      !parsed.every((word) => typeof word === "string" && word !== "")
    ) {
      throw new CdfsError(
        "USAGE",
        'CDFS_NODE_COMMAND must be a JSON array of words, e.g. ["/usr/local/bin/cdfs"]',
      );
    }
    return { command: parsed[0], args: parsed.slice(1) };
  }
  if (isCompiledBinary()) return { command: Deno.execPath(), args: [] };
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  return { command: Deno.execPath(), args: ["run", "-A", "--no-prompt", main] };
}

/**
 * What a node is started with.
 *
 * @example
 * ```ts
 * import type { NodeSpawnOptions } from "./node_process.ts";
 * const options: NodeSpawnOptions = {
 *   launcher: { command: "cdfs", args: [] },
 *   dataDir: "/tmp/d/n0",
 *   listen: "127.0.0.1:0",
 *   id: "local-n0",
 *   log: "/tmp/d/n0.log",
 * };
 * ```
 */
export interface NodeSpawnOptions {
  /** How to run cdfs. */
  readonly launcher: NodeLauncher;
  /** `--data`. */
  readonly dataDir: string;
  /** `--listen`, e.g. `127.0.0.1:0`. */
  readonly listen: string;
  /** `--id`. */
  readonly id: string;
  /** `--log`: the node's JSON log goes to this file (appended). */
  readonly log: string;
  /** More `datanode serve` options, e.g. `["--chunk-size", "64K"]`. */
  readonly nodeArgs?: readonly string[];
}

/**
 * The arguments of `datanode serve` for a node.
 *
 * @example
 * ```ts
 * import { datanodeArguments } from "./node_process.ts";
 * const args = datanodeArguments({
 *   launcher: { command: "cdfs", args: [] },
 *   dataDir: "/d/n0", listen: "127.0.0.1:0", id: "c-n0", log: "/d/n0.log",
 * });
 * console.log(args.slice(0, 4)); // [ "datanode", "serve", "--data", "/d/n0" ]
 * ```
 *
 * @param options The node's settings.
 * @returns The words after the launcher's.
 */
export function datanodeArguments(options: NodeSpawnOptions): string[] {
  return [
    "datanode",
    "serve",
    "--data",
    options.dataDir,
    "--listen",
    options.listen,
    "--id",
    options.id,
    "--log",
    options.log,
    ...(options.nodeArgs ?? []),
  ];
}

/**
 * Whether a command line is that of a datanode serving `dataDir` (how a recorded pid is
 * checked before it is signalled).
 *
 * @example
 * ```ts
 * import { isDatanodeOf } from "./node_process.ts";
 * const argv = ["deno", "run", "-A", "main.ts", "datanode", "serve", "--data", "/d/n0"];
 * console.log(isDatanodeOf(argv, "/d/n0"), isDatanodeOf(argv, "/d/n1")); // true false
 * ```
 *
 * @param argv A process's command line.
 * @param dataDir The data directory.
 * @returns Whether it is such a datanode.
 */
export function isDatanodeOf(argv: readonly string[], dataDir: string): boolean {
  const serve = argv.findIndex((word, i) => word === "datanode" && argv[i + 1] === "serve");
  if (serve < 0) return false;
  const data = argv.indexOf("--data", serve);
  return data > 0 && argv[data + 1] === dataDir;
}

/**
 * A started datanode child process.
 *
 * @example
 * ```ts ignore
 * import { NodeChild, selfLauncher } from "./node_process.ts";
 * const node = NodeChild.spawn({
 *   launcher: selfLauncher((n) => Deno.env.get(n)),
 *   dataDir: "/tmp/d/n0", listen: "127.0.0.1:0", id: "c-n0", log: "/tmp/d/n0.log",
 * });
 * const address = await node.ready(30_000);
 * node.release(); // let this process exit while the node runs on
 * ```
 */
export class NodeChild {
  /** The child. */
  readonly child: Deno.ChildProcess;
  /** Its process id. */
  readonly pid: number;
  /** Its node id. */
  readonly id: string;
  /** Settles with its exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  readonly #stderrTail: string[] = [];
  readonly #listening: Promise<string | null>;
  readonly #readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  #exited = false;

  private constructor(child: Deno.ChildProcess, id: string) {
    this.child = child;
    this.pid = child.pid;
    this.id = id;
    this.status = child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    let announce: (address: string | null) => void = () => {};
    this.#listening = new Promise((resolve) => announce = resolve);
    const stdout = this.#lines(child.stdout, (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match) announce(match[1]!);
    });
    stdout.finally(() => announce(null));
    this.#lines(child.stderr, (line) => {
      this.#stderrTail.push(line);
      if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
    });
  }

  /**
   * Starts `datanode serve` in a session of its own, with stdout and stderr piped here (the
   * node's log goes to its `--log` file; stderr says why a start failed).
   *
   * @param options The node's settings.
   * @param env More environment for the child.
   * @returns The child; {@linkcode NodeChild.ready} waits until it serves.
   */
  static spawn(options: NodeSpawnOptions, env: Record<string, string> = {}): NodeChild {
    const child = new Deno.Command(options.launcher.command, {
      args: [...options.launcher.args, ...datanodeArguments(options)],
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    return new NodeChild(child, options.id);
  }

  /** Whether this process has seen the child exit. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The last lines the child wrote on stderr. */
  get stderrTail(): readonly string[] {
    return this.#stderrTail;
  }

  /** The child's start time from `/proc` (null if it is already gone). */
  get startTime(): string | null {
    return processInfo(this.pid)?.startTime ?? null;
  }

  /**
   * Waits until the node prints its `listening` line and answers PING with its id.
   *
   * @param timeoutMs How long the start may take.
   * @param ping Whether to PING it too (false when this process cannot reach it, e.g. a node
   * in another network namespace: then the `listening` line is all).
   * @returns The address it listens on, `HOST:PORT`.
   * @throws {CdfsError} UNAVAILABLE when it exits first, stays silent too long or answers with
   * another id (another node on that port); the message carries its stderr.
   */
  async ready(timeoutMs: number, ping = true): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const address = await Promise.race([this.#listening, timeout]);
      if (address === "timeout") {
        throw await this.#failure(`no 'listening' line in ${timeoutMs} ms`);
      }
      if (address === null) throw await this.#failure("it exited before it listened");
      if (!ping) return address;
      let lastError: unknown;
      while (performance.now() < deadline) {
        try {
          using client = await DataNodeClient.connect(address, {
            connectTimeoutMs: Math.max(100, Math.min(5000, deadline - performance.now())),
          });
          const { node } = await client.ping();
          if (node !== this.id) {
            throw await this.#failure(`${address} answered as node '${node}', not '${this.id}'`);
          }
          return address;
        } catch (error) {
          if (error instanceof CdfsError && error.message.startsWith(`node ${this.id} `)) {
            throw error;
          }
          if (this.#exited) throw await this.#failure("it exited before it answered PING");
          lastError = error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      throw await this.#failure(
        `no answer to PING in ${timeoutMs} ms (${(lastError as Error)?.message ?? "timeout"})`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops reading the child's output and lets this process exit while it runs on (after
   * `cluster up --detach` and `cluster start-node`).
   */
  release(): void {
    for (const reader of this.#readers) reader.cancel().catch(() => {});
    this.child.unref();
  }

  async #failure(reason: string): Promise<CdfsError> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }
    const status = await this.status;
    // Let the last stderr lines arrive before quoting them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const said = this.#stderrTail.filter((line) => line.trim() !== "").slice(-5).join(" | ");
    return new CdfsError(
      "UNAVAILABLE",
      `node ${this.id} did not start: ${reason} (exit code ${status.code}` +
        `${status.signal ? `, ${status.signal}` : ""})${said === "" ? "" : `: ${said}`}`,
    );
  }

  #lines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    const reader = stream.getReader();
    this.#readers.push(reader);
    return (async () => {
      const decoder = new TextDecoder();
      let pending = "";
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          pending += decoder.decode(value, { stream: true });
          let newline: number;
          while ((newline = pending.indexOf("\n")) >= 0) {
            onLine(pending.slice(0, newline));
            pending = pending.slice(newline + 1);
          }
          if (pending.length > 65536) pending = pending.slice(-65536);
        }
      } catch {
        // Cancelled by release(), or the pipe broke: either way there is no more to read.
      }
      if (pending !== "") onLine(pending);
    })();
  }
}
