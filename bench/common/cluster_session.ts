/**
 * A cluster for one setting of a cluster benchmark (`bench rapidraid`, `bench repair`), the
 * measurement run on it, and the cluster gone again, whatever happens
 * ({@linkcode measureOnSetting}).
 *
 * - Loopback: 16 DataNodes started from this process ({@linkcode LocalCluster}), measured from
 *   this process, stopped in a `finally`.
 * - Emulated network: the nodes live in network namespaces that only the cluster's hub
 *   namespace reaches, so the measuring client must run there. This process starts the
 *   cluster as a child (`cdfs cluster up --netns ... --detach --json`), runs the measurement as
 *   a second child inside the hub (`ip netns exec HUB cdfs bench ... --cluster FILE --json-to
 *   FILE`), reads the JSON that child wrote, and always takes the cluster down (`cdfs cluster
 *   down`, which also removes the namespaces and relays). An abort (Ctrl-C) ends the children
 *   it started, by pid, before the cluster goes down.
 * - A given cluster (`--cluster FILE`): measured from this process, or, when its nodes are in
 *   an emulated network and this process is not in its hub, from a child in the hub.
 *
 * @module
 */
import { join } from "node:path";
import { type ClusterFile, clusterNodeAddresses } from "../../src/cluster/cluster_file.ts";
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import type { NodeLink } from "../../src/emulation/link_spec.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { runInNamespace } from "../../src/emulation/netns_tools.ts";
import type { NodeLauncher } from "../../src/cluster/node_process.ts";
import { CdfsError, ERROR_CODES, type ErrorCode } from "../../src/core/errors.ts";
import { pluralNoun } from "../../src/format/count.ts";

/**
 * How many nodes the clusters a benchmark starts have (RapidRAID and RS(16,11) use 16).
 */
export const BENCH_NODES = 16;

/**
 * Where to measure, and how to get a cluster there.
 *
 * @example
 * ```ts
 * import type { SettingPlan } from "./cluster_session.ts";
 * const plan: SettingPlan = { kind: "loopback", label: "loopback" };
 * ```
 */
export type SettingPlan =
  | { readonly kind: "loopback"; readonly label: string }
  | {
    readonly kind: "netns";
    readonly label: string;
    /** Every node's link (for the ideals). */
    readonly links: readonly NodeLink[];
    /** The `cluster up` options that make this network (`--netns --rate ...`). */
    readonly clusterUpArgs: readonly string[];
  }
  | {
    readonly kind: "cluster";
    readonly label: string;
    /** The cluster file. */
    readonly path: string;
    /** Every node's link, when the user described them. */
    readonly links?: readonly NodeLink[];
  };

/**
 * How {@linkcode measureOnSetting} gets a cluster and runs cdfs again.
 *
 * @example
 * ```ts
 * import type { SettingRunOptions } from "./cluster_session.ts";
 * const options: SettingRunOptions = {
 *   launcher: { command: "cdfs", args: [] }, stateRoot: "/tmp/cdfs-0", tempDir: "/tmp",
 * };
 * ```
 */
export interface SettingRunOptions {
  /** How to run cdfs again (nodes, `cluster up/down`, the measuring child). */
  readonly launcher: NodeLauncher;
  /** The state root of the clusters the bench starts. */
  readonly stateRoot: string;
  /** Where temporary files and the loopback nodes' data go. */
  readonly tempDir: string;
  /** Told a line of progress now and then. */
  readonly onProgress?: (line: string) => void;
  /** Stops the measurement; what it started is stopped and removed. */
  readonly signal?: AbortSignal;
}

/**
 * One setting of any cluster benchmark (`bench rapidraid`, `bench repair`): a cluster for the
 * plan ({@linkcode BENCH_NODES} datanodes on loopback, `cluster up --netns`, or the given
 * one), `measure` run on its node addresses (in this process, or for an emulated network as a
 * child in its hub: `childArguments` is that child's command line after `cdfs`, which writes
 * its measurement as JSON to `jsonTo`), and the cluster it started gone again, whatever
 * happens.
 *
 * @example
 * Not run by `deno test --doc`: it starts 16 datanodes.
 * ```ts ignore
 * import { measureOnSetting } from "./cluster_session.ts";
 * import { selfLauncher } from "../../src/cluster/node_process.ts";
 * const count = await measureOnSetting(
 *   { kind: "loopback", label: "loopback" },
 *   0,
 *   { launcher: selfLauncher((name) => Deno.env.get(name)), stateRoot: "/tmp/s", tempDir: "/tmp" },
 *   (nodes) => Promise.resolve(nodes.length),
 *   (cluster, jsonTo) => ["bench", "x", "--cluster", cluster, "--json-to", jsonTo],
 * );
 * console.log(count); // 16
 * ```
 *
 * @param plan Where to measure.
 * @param index The setting's index (names the cluster).
 * @param options How to start clusters and run cdfs, progress, abort.
 * @param measure Measures on the node addresses (stopped by the signal it is given).
 * @param childArguments The hub child's arguments, for a cluster in an emulated network.
 * @returns The measurement.
 * @throws {CdfsError} A cluster that does not start, the measurement's error; an AbortError
 * on abort.
 */
export async function measureOnSetting<T>(
  plan: SettingPlan,
  index: number,
  options: SettingRunOptions,
  measure: (nodes: readonly string[], signal?: AbortSignal) => Promise<T>,
  childArguments: (clusterFile: string, jsonTo: string) => string[],
): Promise<T> {
  const say = options.onProgress ?? (() => {});
  const measureNodes = (nodes: readonly string[]) =>
    untilAborted(measure(nodes, options.signal), options.signal);
  const name = `bench-${Deno.pid}-${index}`;
  if (plan.kind === "loopback") {
    say(`  starting ${BENCH_NODES} datanodes on 127.0.0.1`);
    const cluster = await LocalCluster.start({
      nodes: BENCH_NODES,
      name,
      stateRoot: options.stateRoot,
      launcher: options.launcher,
      tempDir: options.tempDir,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    try {
      return await measureNodes(clusterNodeAddresses(cluster.file));
    } finally {
      say("  stopping the datanodes");
      await cluster.stop();
    }
  }
  if (plan.kind === "cluster") {
    const file = await readClusterFile(plan.path);
    const hub = file.network?.hub;
    if (hub === undefined || await currentNamespace() === hub) {
      return await measureNodes(clusterNodeAddresses(file));
    }
    return await measureInHub<T>(
      file,
      hub,
      childArguments(plan.path, join(options.tempDir, `${name}.json`)),
      join(options.tempDir, `${name}.json`),
      options,
    );
  }
  say(`  starting ${BENCH_NODES} datanodes in an emulated network (cluster '${name}')`);
  const up = await runCdfs(options, [
    "cluster",
    "up",
    "--nodes",
    String(BENCH_NODES),
    "--name",
    name,
    "--state-dir",
    options.stateRoot,
    "--detach",
    "--json",
    ...plan.clusterUpArgs,
  ], "cluster up");
  const { clusterFile } = JSON.parse(up.split("\n", 1)[0]!) as { clusterFile: string };
  try {
    const file = await readClusterFile(clusterFile);
    if (file.network === undefined) {
      throw new CdfsError("INTERNAL", `cluster up --netns wrote a cluster without a network`);
    }
    const jsonTo = join(options.tempDir, `${name}.json`);
    return await measureInHub<T>(
      file,
      file.network.hub,
      childArguments(clusterFile, jsonTo),
      jsonTo,
      options,
    );
  } finally {
    say(`  taking cluster '${name}' down`);
    // Not abortable: whatever happened, the cluster goes.
    const { signal: _, ...unabortable } = options;
    await runCdfs(unabortable, [
      "cluster",
      "down",
      "--cluster",
      clusterFile,
      "--state-dir",
      options.stateRoot,
    ], "cluster down");
  }
}

/** Runs the measurement in a child inside the cluster's hub namespace and reads its JSON. */
async function measureInHub<T>(
  file: ClusterFile,
  hub: string,
  childArgs: readonly string[],
  jsonTo: string,
  options: SettingRunOptions,
): Promise<T> {
  (options.onProgress ?? (() => {}))(`  measuring from the hub namespace ${hub}`);
  const args = [...options.launcher.args, ...childArgs];
  await waitForChild(
    runInNamespace(hub, options.launcher.command, args, childStreams()),
    `the measurement in ${hub} (cluster '${file.name}')`,
    options,
  );
  return JSON.parse(await Deno.readTextFile(jsonTo)) as T;
}

/** Runs `cdfs ARGS` to its end and returns its standard output. */
async function runCdfs(
  options: Omit<SettingRunOptions, "signal"> & { signal?: AbortSignal },
  args: readonly string[],
  what: string,
): Promise<string> {
  const child = new Deno.Command(options.launcher.command, {
    args: [...options.launcher.args, ...args],
    ...childStreams(),
  }).spawn();
  return await waitForChild(child, what, options);
}

function childStreams(): Pick<Deno.CommandOptions, "stdin" | "stdout" | "stderr"> {
  return { stdin: "null", stdout: "piped", stderr: "piped" };
}

/**
 * Waits for a child, forwarding its standard error as progress lines and ending it (SIGTERM)
 * on abort; a failure is re-thrown with the child's own error line.
 */
async function waitForChild(
  child: Deno.ChildProcess,
  what: string,
  options: { onProgress?: (line: string) => void; signal?: AbortSignal },
): Promise<string> {
  const say = options.onProgress ?? (() => {});
  const stop = () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // It has exited already.
    }
  };
  options.signal?.addEventListener("abort", stop);
  const lastError: string[] = [];
  try {
    const [stdout] = await Promise.all([
      new Response(child.stdout).text(),
      (async () => {
        let rest = "";
        for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
          const lines = (rest + text).split("\n");
          rest = lines.pop()!;
          for (const line of lines) {
            if (line.startsWith("cdfs: error: ")) lastError.push(line);
            else if (line.trim() !== "") say(`  ${line}`);
          }
        }
        if (rest.startsWith("cdfs: error: ")) lastError.push(rest);
      })(),
    ]);
    const status = await child.status;
    if (!status.success) {
      // Ended by the abort: that, not the child's exit, is the error.
      options.signal?.throwIfAborted();
      throw childError(what, lastError.at(-1), status);
    }
    // A child that succeeded counts even after an abort: a cluster it started must be taken
    // down by the caller.
    return stdout;
  } finally {
    options.signal?.removeEventListener("abort", stop);
  }
}

/** A child's `cdfs: error: MESSAGE (CODE)` line as an error of that code. */
function childError(what: string, line: string | undefined, status: Deno.CommandStatus): CdfsError {
  if (line === undefined) {
    return new CdfsError(
      "UNAVAILABLE",
      `${what} failed (${status.signal === null ? `exit ${status.code}` : status.signal})`,
    );
  }
  const text = line.slice("cdfs: error: ".length);
  const match = /^(.*) \(([A-Z_]+)\)$/.exec(text);
  const code = match !== null && (ERROR_CODES as readonly string[]).includes(match[2]!)
    ? match[2] as ErrorCode
    : status.code === 2
    ? "USAGE"
    : "UNAVAILABLE";
  return new CdfsError(code, match?.[1] ?? text);
}

/** This process's network namespace by name (`ip netns identify`), if it has one. */
async function currentNamespace(): Promise<string | undefined> {
  for (const ip of ["ip", "/usr/sbin/ip", "/sbin/ip"]) {
    try {
      const result = await new Deno.Command(ip, {
        args: ["netns", "identify", String(Deno.pid)],
        stdout: "piped",
        stderr: "null",
      }).output();
      const name = new TextDecoder().decode(result.stdout).trim();
      return result.success && name !== "" ? name : undefined;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return undefined;
}

/**
 * A promise that rejects as soon as the signal fires (the work may go on until what it runs on
 * is stopped; its own failure is then ignored).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  work.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * A network setting the encodes were measured in.
 *
 * @example
 * ```ts
 * import type { BenchSetting } from "./cluster_session.ts";
 * const setting: BenchSetting = { label: "loopback", kind: "loopback" };
 * ```
 */
export interface BenchSetting {
  /** Its name in tables and charts. */
  readonly label: string;
  /** Loopback nodes started by the bench, an emulated network it started, or a given cluster. */
  readonly kind: "loopback" | "netns" | "cluster";
  /** Every node's link, when known (for the link-limited ideals). */
  readonly links?: readonly NodeLink[];
}

/**
 * A setting in words: where the nodes ran and, when known, their links.
 *
 * @example
 * ```ts
 * import { describeSetting } from "./cluster_session.ts";
 * console.log(describeSetting({ label: "loopback", kind: "loopback" }));
 * // "16 DataNodes on 127.0.0.1, no link emulation (the CPUs are the limit)"
 * ```
 *
 * @param setting The setting.
 * @returns One line.
 */
export function describeSetting(setting: BenchSetting): string {
  const where = {
    loopback: "16 DataNodes on 127.0.0.1, no link emulation (the CPUs are the limit)",
    netns: "16 DataNodes in network namespaces behind emulated links",
    cluster: "a given cluster",
  }[setting.kind];
  if (setting.links === undefined) return where;
  const kinds = new Map<string, number[]>();
  setting.links.forEach((l, i) => {
    const rate = l.link.rateBitsPerSecond === undefined
      ? "unshaped"
      : `${l.link.rateBitsPerSecond / 1e6} Mbit/s`;
    const text = `${rate}, ${l.link.delayMs} ms` +
      (l.link.jitterMs > 0 ? ` ± ${l.link.jitterMs} ms` : "");
    kinds.set(text, [...(kinds.get(text) ?? []), i]);
  });
  const links = [...kinds].map(([text, nodes]) =>
    kinds.size === 1
      ? `every node ${text}`
      : `${pluralNoun(nodes.length, "node")} ${nodes.join(", ")}: ${text}`
  );
  return `${where}; ${links.join("; ")}`;
}
