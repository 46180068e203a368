/**
 * The `cdfs datanode serve` child processes of a local cluster (and, through
 * {@linkcode ServerChild}, any cdfs server a cluster starts): how to start cdfs again from
 * inside cdfs, the start itself (in a session of its own), and the wait until it answers.
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
import { CdfsError, ERROR_CODES, type ErrorCode } from "../core/errors.ts";
import { processInfo } from "../core/processes.ts";

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
  /** `--namenode`: the namenode the node registers with and reports to (default none). */
  readonly namenode?: string;
  /**
   * `--peers-file`: the cluster file, whose nodes are the only addresses the node's CODING
   * runs may connect to (default none; left out when `nodeArgs` give one).
   */
  readonly peersFile?: string;
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
    ...(options.namenode === undefined ? [] : ["--namenode", options.namenode]),
    ...(options.peersFile === undefined ||
        (options.nodeArgs ?? []).some((word) => /^--peers-file(=|$)/.test(word))
      ? []
      : ["--peers-file", options.peersFile]),
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
  return isServerOf(argv, "datanode", "--data", dataDir);
}

/**
 * Whether a command line is `ROLE serve` with `option value` after it: the option that tells
 * one server of that role from another (a datanode's `--data`, a namenode's `--log`).
 *
 * @example
 * ```ts
 * import { isServerOf } from "./node_process.ts";
 * const argv = ["cdfs", "namenode", "serve", "--log", "/d/namenode.log"];
 * console.log(isServerOf(argv, "namenode", "--log", "/d/namenode.log")); // true
 * console.log(isServerOf(argv, "datanode", "--log", "/d/namenode.log")); // false
 * ```
 *
 * @param argv A process's command line.
 * @param role The sub-command before `serve` (`datanode`, `namenode`).
 * @param option The option that names the server's own directory or file.
 * @param value What that option must be.
 * @returns Whether it is that server.
 */
export function isServerOf(
  argv: readonly string[],
  role: string,
  option: string,
  value: string,
): boolean {
  const serve = argv.findIndex((word, i) => word === role && argv[i + 1] === "serve");
  if (serve < 0) return false;
  const at = argv.indexOf(option, serve);
  return at > 0 && argv[at + 1] === value;
}

/**
 * What a started server must prove before it counts as up, beyond its `listening` line: that
 * it answers on that address as the server it should be. It throws
 * {@linkcode NotThisServer} when another server answered (no use waiting), anything else
 * while it is not answering yet (tried again until the start timeout).
 *
 * @example
 * ```ts
 * import type { ServerProbe } from "./node_process.ts";
 * const accept: ServerProbe = () => Promise.resolve();
 * ```
 */
export type ServerProbe = (address: string, timeoutMs: number) => Promise<void>;

/**
 * Thrown by a {@linkcode ServerProbe} when the address answers as another server.
 *
 * @example
 * ```ts
 * import { NotThisServer } from "./node_process.ts";
 * const error = new NotThisServer("127.0.0.1:13100 answered as node 'x', not 'y'");
 * console.log(error.message);
 * ```
 */
export class NotThisServer extends Error {}

/**
 * Options of {@linkcode ServerChild.spawnServer}.
 *
 * @example
 * ```ts
 * import type { ServerSpawnOptions } from "./node_process.ts";
 * const options: ServerSpawnOptions = {
 *   launcher: { command: "cdfs", args: [] },
 *   args: ["namenode", "serve", "--listen", "127.0.0.1:0"],
 *   label: "namenode",
 * };
 * ```
 */
export interface ServerSpawnOptions {
  /** How to run cdfs. */
  readonly launcher: NodeLauncher;
  /** The words after the launcher's, e.g. `datanode serve --data ...`. */
  readonly args: readonly string[];
  /** What the server is called in messages, e.g. `node local-n0`. */
  readonly label: string;
  /** More environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A started cdfs server child process (`datanode serve`, `namenode serve`): started in a
 * session of its own, its `listening HOST:PORT` line read from its stdout, its last stderr
 * lines kept for the message of a failed start.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { selfLauncher, ServerChild } from "./node_process.ts";
 * const child = ServerChild.spawnServer({
 *   launcher: selfLauncher((n) => Deno.env.get(n)),
 *   args: ["namenode", "serve", "--listen", "127.0.0.1:0", "--meta", "sqlite:/tmp/nn.db"],
 *   label: "namenode",
 * });
 * const address = await child.ready(30_000);
 * child.release();
 * ```
 */
export class ServerChild {
  /** The child. */
  readonly child: Deno.ChildProcess;
  /** Its process id. */
  readonly pid: number;
  /** What it is called in messages. */
  readonly label: string;
  /** Settles with its exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  readonly #stderrTail: string[] = [];
  readonly #listening: Promise<string | null>;
  readonly #readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  #exited = false;

  /**
   * Takes over a spawned child. Use {@linkcode ServerChild.spawnServer} (or a subclass's
   * `spawn`).
   *
   * @param child The child, with stdout and stderr piped.
   * @param label What it is called in messages.
   */
  protected constructor(child: Deno.ChildProcess, label: string) {
    this.child = child;
    this.pid = child.pid;
    this.label = label;
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
   * Starts a cdfs server in a session of its own, with stdout and stderr piped here (its log
   * goes to its `--log` file; stderr says why a start failed).
   *
   * @param options Launcher, arguments, label, environment.
   * @returns The child; {@linkcode ServerChild.ready} waits until it serves.
   */
  static spawnServer(options: ServerSpawnOptions): ServerChild {
    return new ServerChild(ServerChild.launch(options), options.label);
  }

  /**
   * Starts the process (in a session of its own, stdout and stderr piped), for the `spawn` of
   * a subclass, which then hands it to its constructor.
   *
   * @param options Launcher, arguments, environment.
   * @returns The child process.
   */
  protected static launch(options: ServerSpawnOptions): Deno.ChildProcess {
    return new Deno.Command(options.launcher.command, {
      args: [...options.launcher.args, ...options.args],
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
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
   * Waits until the server prints its `listening` line and, with a probe, answers on it as
   * the server it should be.
   *
   * @param timeoutMs How long the start may take.
   * @param probe The check of the answer (none: the `listening` line is all, e.g. for a
   * server in another network namespace).
   * @returns The address it listens on, `HOST:PORT`.
   * @throws {CdfsError} UNAVAILABLE when it exits first, stays silent too long or another
   * server answers; the message carries its stderr. The child is killed then.
   */
  async serving(timeoutMs: number, probe?: ServerProbe): Promise<string> {
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
      if (probe === undefined) return address;
      let lastError: unknown;
      while (performance.now() < deadline) {
        try {
          await probe(address, Math.max(100, Math.min(5000, deadline - performance.now())));
          return address;
        } catch (error) {
          if (error instanceof NotThisServer) throw await this.#failure(error.message);
          if (this.#exited) throw await this.#failure("it exited before it answered");
          lastError = error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      throw await this.#failure(
        `no answer in ${timeoutMs} ms (${(lastError as Error)?.message ?? "timeout"})`,
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
    const lines = this.#stderrTail.filter((line) => line.trim() !== "").slice(-5)
      .map(childError);
    const said = lines.map((line) => line.message).join(" | ");
    // The server's own error code, when it said one (a busy port is UNAVAILABLE), is this
    // error's code: quoted with its "(CODE)", it would be printed twice.
    return new CdfsError(
      lines.find((line) => line.code !== undefined)?.code ?? "UNAVAILABLE",
      `${this.label} did not start: ${reason} (exit code ${status.code}` +
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

/**
 * A started datanode child process.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
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
export class NodeChild extends ServerChild {
  /** Its node id. */
  readonly id: string;

  private constructor(child: Deno.ChildProcess, id: string) {
    super(child, `node ${id}`);
    this.id = id;
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
    const child = ServerChild.launch({
      launcher: options.launcher,
      args: datanodeArguments(options),
      label: `node ${options.id}`,
      // A namenode of the caller's environment is not this node's unless given.
      env: { CDFS_NAMENODE: "", ...env },
    });
    return new NodeChild(child, options.id);
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
  ready(timeoutMs: number, ping = true): Promise<string> {
    return this.serving(timeoutMs, ping ? (address, ms) => this.#ping(address, ms) : undefined);
  }

  async #ping(address: string, timeoutMs: number): Promise<void> {
    using client = await DataNodeClient.connect(address, { connectTimeoutMs: timeoutMs });
    const { node } = await client.ping();
    if (node !== this.id) {
      throw new NotThisServer(`${address} answered as node '${node}', not '${this.id}'`);
    }
  }
}

/**
 * A line of a server's standard error: its error line (`cdfs: error: MESSAGE (CODE)`, as the
 * command line prints one) as the message and the code, any other line as it is.
 */
function childError(line: string): { message: string; code?: ErrorCode } {
  const match = /^cdfs: error: (.*?)(?: \(([A-Z_]+)\))?$/.exec(line.trim());
  if (match === null) return { message: line };
  const code = ERROR_CODES.find((known) => known === match[2]);
  if (code === undefined) return { message: line.trim().slice("cdfs: error: ".length) };
  return { message: match[1]!, code };
}
