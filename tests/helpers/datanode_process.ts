/**
 * Test helper: runs a real datanode, `deno run -A main.ts datanode serve`, as a child process
 * on loopback with a port chosen by the kernel (`--listen 127.0.0.1:0`), and tells the test its
 * address once it is ready (it parses the `listening HOST:PORT` line the command prints on
 * stdout). The child's stderr (the node's JSON log, one line per request) is collected, so a
 * test can inspect the log and a failed start shows why.
 *
 * Typical use; `await using` stops the node (SIGKILL if still running) and removes the temp
 * data directory when the test ends, even when it fails:
 *
 * ```ts
 * import { DataNodeProcess } from "../helpers/datanode_process.ts";
 *
 * Deno.test("my test", async () => {
 *   await using node = await DataNodeProcess.start({ args: ["--idle-timeout", "2000"] });
 *   const socket = await Deno.connect({ hostname: node.hostname, port: node.port });
 *   // ... talk to it (e.g. with src/client's DataNodeClient at node.address) ...
 *   socket.close();
 *   const status = await node.stop(); // SIGTERM, graceful shutdown
 *   console.log(status.code); // 0
 * });
 * ```
 *
 * Other things a test may do: `node.kill("SIGKILL")` to crash it, `DataNodeProcess.start({
 * dataDir: node.dataDir })` to restart on the same data, `node.peakRssBytes()` to read its
 * memory high-water mark, `node.logRecords()` to read its log. The child runs with
 * `NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 RUST_BACKTRACE=0` and the same Deno binary as the test.
 *
 * @module
 */

/** The entry point of cdfs, relative to this file. */
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** How many stderr lines are kept (the latest ones): bounded even for a fuzz test's log. */
const MAX_LOG_LINES = 50_000;

/** Options of {@linkcode DataNodeProcess.start}. */
export interface DataNodeProcessOptions {
  /**
   * The data directory. Default: a fresh temp directory, removed when the process object is
   * disposed. A directory given here is never removed by the helper.
   */
  dataDir?: string;
  /** The `--listen` address (default `127.0.0.1:0`: a free port). */
  listen?: string;
  /**
   * More command-line options of `datanode serve`, e.g.
   * `["--idle-timeout", "300", "--shutdown-grace", "500", "--id", "dn1"]`.
   */
  args?: string[];
  /** How long to wait for the `listening` line (default 60 s: the machine may be busy). */
  startTimeoutMs?: number;
  /** A command that runs the node, e.g. `["prlimit", "--nofile=256:256", "--"]`. */
  wrapper?: string[];
}

/** A running `cdfs datanode serve` child process. */
export class DataNodeProcess {
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Its process id. */
  readonly pid: number;
  /** The host it listens on, from its `listening` line. */
  readonly hostname: string;
  /** The port it listens on, from its `listening` line. */
  readonly port: number;
  /** Its data directory. */
  readonly dataDir: string;
  /** Settles with the exit status when the child has exited. */
  readonly status: Promise<Deno.CommandStatus>;

  readonly #ownsDataDir: boolean;
  readonly #stderrLines: string[];
  readonly #drained: Promise<void>;
  #exited = false;

  private constructor(fields: {
    child: Deno.ChildProcess;
    hostname: string;
    port: number;
    dataDir: string;
    ownsDataDir: boolean;
    stderrLines: string[];
    drained: Promise<void>;
  }) {
    this.child = fields.child;
    this.pid = fields.child.pid;
    this.hostname = fields.hostname;
    this.port = fields.port;
    this.dataDir = fields.dataDir;
    this.#ownsDataDir = fields.ownsDataDir;
    this.#stderrLines = fields.stderrLines;
    this.#drained = fields.drained;
    this.status = fields.child.status.then((status) => {
      this.#exited = true;
      return status;
    });
  }

  /**
   * Starts a datanode and waits until it listens.
   *
   * @param options Data directory, listen address, extra options, start timeout.
   * @returns The running node.
   * @throws {Error} When the child exits or stays silent before printing its `listening`
   * line; the message includes its stderr.
   */
  static async start(options: DataNodeProcessOptions = {}): Promise<DataNodeProcess> {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "cdfs-datanode-" });
    const wrapper = options.wrapper ?? [];
    const child = new Deno.Command(wrapper[0] ?? Deno.execPath(), {
      args: [
        ...(wrapper.length === 0 ? [] : [...wrapper.slice(1), Deno.execPath()]),
        "run",
        "-A",
        MAIN,
        "datanode",
        "serve",
        "--data",
        dataDir,
        "--listen",
        options.listen ?? "127.0.0.1:0",
        ...(options.args ?? []),
      ],
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();

    const stderrLines: string[] = [];
    const stderrDone = collectLines(child.stderr, (line) => {
      stderrLines.push(line);
      if (stderrLines.length > MAX_LOG_LINES) stderrLines.splice(0, stderrLines.length / 2);
    });
    // stdout: the first "listening" line tells the address; the rest is drained (so the child
    // never blocks on a full pipe) and ignored.
    let announce: (address: string | null) => void = () => {};
    const announced = new Promise<string | null>((resolve) => announce = resolve);
    const stdoutDone = collectLines(child.stdout, (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match) announce(match[1]!);
    }).finally(() => announce(null));
    const drained = Promise.all([stderrDone, stdoutDone]).then(() => {});

    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const address = await Promise.race([
      announced,
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (address === null || address === "timeout") {
      if (address === "timeout") {
        try {
          child.kill("SIGKILL");
        } catch {
          // It exited meanwhile.
        }
      }
      const status = await child.status;
      await drained;
      if (ownsDataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw new Error(
        `datanode did not start (${
          address === "timeout" ? `no 'listening' line in ${timeoutMs} ms` : "no 'listening' line"
        }, exit code ${status.code}):\n${stderrLines.slice(-40).join("\n")}`,
      );
    }
    const at = address.lastIndexOf(":");
    const hostname = address.slice(0, at).replace(/^\[(.*)\]$/, "$1");
    const port = Number(address.slice(at + 1));
    return new DataNodeProcess({
      child,
      hostname,
      port,
      dataDir,
      ownsDataDir,
      stderrLines,
      drained,
    });
  }

  /** `host:port` of the node (the form `cdfs` commands and DataNodeClient take). */
  get address(): string {
    const host = this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname;
    return `${host}:${this.port}`;
  }

  /** Whether the child has exited (as far as this process has noticed). */
  get exited(): boolean {
    return this.#exited;
  }

  /** The stderr lines so far (the latest {@linkcode MAX_LOG_LINES}). */
  get stderrLines(): readonly string[] {
    return this.#stderrLines;
  }

  /**
   * The node's JSON log records so far (stderr lines that parse as JSON objects; by default
   * the node logs to stderr).
   *
   * @returns The records, oldest first.
   */
  logRecords(): Record<string, unknown>[] {
    const records: Record<string, unknown>[] = [];
    for (const line of this.#stderrLines) {
      if (!line.startsWith("{")) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        // A line cut by the bound or not a record: skip it.
      }
    }
    return records;
  }

  /**
   * Sends `signal` and waits for the child to exit.
   *
   * @param signal The signal (default SIGKILL: a crash).
   * @returns The exit status.
   */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      try {
        this.child.kill(signal);
      } catch {
        // Exited meanwhile.
      }
    }
    const status = await this.status;
    await this.#drained;
    return status;
  }

  /**
   * Graceful stop: SIGTERM, then waits for the exit; after `timeoutMs` it kills the child with
   * SIGKILL (and the status then shows the signal).
   *
   * @param timeoutMs How long the graceful shutdown may take (default 30 s).
   * @returns The exit status (code 0 after a clean shutdown).
   */
  async stop(timeoutMs = 30_000): Promise<Deno.CommandStatus> {
    if (this.#exited) return await this.kill();
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Exited meanwhile.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      this.status.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
    ]);
    clearTimeout(timer);
    return stopped ? await this.kill() : await this.kill("SIGKILL");
  }

  /**
   * The peak resident set size of the child (`VmHWM` of `/proc/<pid>/status`), while it
   * runs.
   *
   * @returns Bytes, or undefined when the child has exited or /proc is not there.
   */
  peakRssBytes(): number | undefined {
    return this.#procStatusBytes("VmHWM");
  }

  /**
   * The current resident set size of the child (`VmRSS`).
   *
   * @returns Bytes, or undefined when the child has exited or /proc is not there.
   */
  rssBytes(): number | undefined {
    return this.#procStatusBytes("VmRSS");
  }

  /** Kills the child if it still runs and removes the data directory if the helper made it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill("SIGKILL");
    if (this.#ownsDataDir) await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }

  #procStatusBytes(field: string): number | undefined {
    if (this.#exited) return undefined;
    try {
      const text = Deno.readTextFileSync(`/proc/${this.pid}/status`);
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
      return match ? Number(match[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Reads a byte stream to its end, calling `onLine` for each complete line. */
async function collectLines(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const bytes of stream) {
    pending += decoder.decode(bytes, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  }
  pending += decoder.decode();
  if (pending !== "") onLine(pending);
}
