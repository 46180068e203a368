/**
 * Runs tests/emulation/net_probe.ts inside a network namespace and reads the JSON lines it prints:
 * shared by the namespace tests and the emulation measurements (netem_measure.ts).
 *
 * @module
 */
import { runInNamespace } from "../../src/emulation/netns_tools.ts";

const PROBE = new URL("./net_probe.ts", import.meta.url).pathname;

/**
 * A probe tool (net_probe.ts) in a namespace, and the JSON lines it prints.
 *
 * @example
 * ```ts ignore
 * import { Probe } from "./net_probe_process.ts";
 * const echo = new Probe("cdfs-t-n1", ["echo", "127.0.0.1:5000"]);
 * await echo.next(); // its "listening" line
 * await echo.stop();
 * ```
 */
export class Probe {
  readonly child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  #buffered = "";

  constructor(namespace: string, args: string[]) {
    this.child = runInNamespace(
      namespace,
      Deno.execPath(),
      ["run", "--allow-net", PROBE, ...args],
      { stdout: "piped", stderr: "inherit", stdin: "null" },
    );
    this.#lines = this.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line of JSON it prints. */
  async next<T>(): Promise<T> {
    while (!this.#buffered.includes("\n")) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error(`the probe exited early`);
      this.#buffered += value;
    }
    const newline = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, newline);
    this.#buffered = this.#buffered.slice(newline + 1);
    return JSON.parse(line) as T;
  }

  /** Ends the probe and waits for it. */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await this.#lines.cancel().catch(() => {});
    await this.child.status;
  }
}

/**
 * Runs a probe to its end and returns its last line.
 *
 * @example
 * ```ts ignore
 * import { probeResult } from "./net_probe_process.ts";
 * const { connected } = await probeResult<{ connected: boolean }>("cdfs-t-hub", ["connect", "10.0.0.2:5000", "500"]);
 * ```
 */
export async function probeResult<T>(namespace: string, args: string[]): Promise<T> {
  const probe = new Probe(namespace, args);
  try {
    return await probe.next<T>();
  } finally {
    await probe.stop();
  }
}
