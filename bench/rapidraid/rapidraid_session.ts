/**
 * The whole `cdfs bench rapidraid` session: for every network setting, a cluster to measure on,
 * the measurement ({@linkcode measureOnCluster}), and the cluster gone again, whatever happens.
 *
 * - Loopback: 16 DataNodes started from this process ({@linkcode LocalCluster}), measured from
 *   this process, stopped in a `finally`.
 * - Emulated network: the nodes live in network namespaces that only the cluster's hub
 *   namespace reaches, so the measuring client must run there. This process starts the
 *   cluster as a child (`cdfs cluster up --netns ... --detach --json`), runs the measurement as
 *   a second child inside the hub (`ip netns exec HUB cdfs bench rapidraid --cluster FILE
 *   --json-to FILE`), reads the JSON that child wrote, and always takes the cluster down
 *   (`cdfs cluster down`, which also removes the namespaces and relays). An abort (Ctrl-C)
 *   ends the children it started, by pid, before the cluster goes down.
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
import { machine } from "../common/machine.ts";
import { type ClusterMeasurement, type MeasureChoices, measureOnCluster } from "./rapidraid.ts";
import {
  type BenchSetting,
  type RapidraidBenchResults,
  type SettingResult,
  summarizeSettings,
} from "./rapidraid_report.ts";

/**
 * How many nodes every scheme of the bench uses (RapidRAID and RS(16,11)).
 */
export const BENCH_NODES = 16;

/**
 * Where to measure, and how to get a cluster there.
 *
 * @example
 * ```ts
 * import type { SettingPlan } from "./rapidraid_session.ts";
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
 * Options of {@linkcode runRapidraidBench}.
 *
 * @example
 * ```ts
 * import type { RapidraidBenchOptions } from "./rapidraid_session.ts";
 * const options: RapidraidBenchOptions = {
 *   settings: [{ kind: "loopback", label: "loopback" }],
 *   measure: { schemes: ["pull", "rs"], objectBytes: 2 << 20, chunkBytes: 1 << 16, runs: 1, concurrent: 2, warmUps: 0 },
 *   launcher: { command: "cdfs", args: [] },
 *   stateRoot: "/tmp/cdfs-0",
 * };
 * ```
 */
export interface RapidraidBenchOptions {
  /** The settings, measured in this order. */
  readonly settings: readonly SettingPlan[];
  /** The measurement's choices. */
  readonly measure: MeasureChoices;
  /** How to run cdfs again (nodes, `cluster up/down`, the measuring child). */
  readonly launcher: NodeLauncher;
  /** The state root of the clusters the bench starts. */
  readonly stateRoot: string;
  /** Where temporary files and the loopback nodes' data go (default the system's). */
  readonly tempDir?: string;
  /** Told a line of progress now and then. */
  readonly onProgress?: (line: string) => void;
  /** Stops the session; what it started is stopped and removed. */
  readonly signal?: AbortSignal;
}

/**
 * Runs every setting in turn and summarizes them.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { runRapidraidBench } from "./rapidraid_session.ts";
 * import { selfLauncher } from "../../src/cluster/node_process.ts";
 * const results = await runRapidraidBench({
 *   settings: [{ kind: "loopback", label: "loopback" }],
 *   measure: { schemes: ["pull", "rs"], objectBytes: 2 << 20, chunkBytes: 1 << 16, runs: 1, concurrent: 2, warmUps: 0 },
 *   launcher: selfLauncher((name) => Deno.env.get(name)),
 *   stateRoot: "/tmp/cdfs-0",
 * });
 * console.log(results.summary.length);
 * ```
 *
 * @param options The settings, the choices, how to run cdfs, progress and abort.
 * @returns The results, ready for `writeResults`.
 * @throws {CdfsError} The first failure: a cluster that does not start (with `cluster up`'s
 * message), an encode that fails (naming the scheme); an AbortError on abort.
 */
export async function runRapidraidBench(
  options: RapidraidBenchOptions,
): Promise<RapidraidBenchResults> {
  const started = new Date().toISOString();
  const say = options.onProgress ?? (() => {});
  const tempDir = await Deno.makeTempDir({
    prefix: "cdfs-bench-session-",
    ...(options.tempDir === undefined ? {} : { dir: options.tempDir }),
  });
  try {
    const settings: SettingResult[] = [];
    for (const [index, plan] of options.settings.entries()) {
      options.signal?.throwIfAborted();
      say(`setting ${index + 1}/${options.settings.length}: ${plan.label}`);
      const measurement = await measureSetting(plan, index, { ...options, tempDir });
      const setting: BenchSetting = {
        label: plan.label,
        kind: plan.kind,
        ...("links" in plan && plan.links !== undefined ? { links: plan.links } : {}),
      };
      settings.push({ setting, measurement });
    }
    return {
      version: 1,
      started,
      finished: new Date().toISOString(),
      machine: await machine(null),
      options: { ...options.measure, schemes: [...options.measure.schemes] },
      settings,
      summary: summarizeSettings(settings),
    };
  } finally {
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  }
}

async function measureSetting(
  plan: SettingPlan,
  index: number,
  options: RapidraidBenchOptions & { tempDir: string },
): Promise<ClusterMeasurement> {
  const say = options.onProgress ?? (() => {});
  const measure = (nodes: readonly string[]) =>
    untilAborted(
      measureOnCluster({
        ...options.measure,
        nodes,
        tempDir: options.tempDir,
        onProgress: (line) => say(`  ${line}`),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      }),
      options.signal,
    );
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
      return await measure(clusterNodeAddresses(cluster.file));
    } finally {
      say("  stopping the datanodes");
      await cluster.stop();
    }
  }
  if (plan.kind === "cluster") {
    const file = await readClusterFile(plan.path);
    const hub = file.network?.hub;
    if (hub === undefined || await currentNamespace() === hub) {
      return await measure(clusterNodeAddresses(file));
    }
    return await measureInHub(file, plan.path, hub, join(options.tempDir, `${name}.json`), options);
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
    return await measureInHub(
      file,
      clusterFile,
      file.network.hub,
      join(options.tempDir, `${name}.json`),
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
async function measureInHub(
  file: ClusterFile,
  path: string,
  hub: string,
  jsonTo: string,
  options: RapidraidBenchOptions,
): Promise<ClusterMeasurement> {
  (options.onProgress ?? (() => {}))(`  measuring from the hub namespace ${hub}`);
  const args = [...options.launcher.args, ...measureArguments(path, jsonTo, options.measure)];
  await waitForChild(
    runInNamespace(hub, options.launcher.command, args, childStreams()),
    `the measurement in ${hub} (cluster '${file.name}')`,
    options,
  );
  return JSON.parse(await Deno.readTextFile(jsonTo)) as ClusterMeasurement;
}

/**
 * The arguments of the measuring child: `bench rapidraid --cluster FILE --json-to FILE` and
 * the measurement's choices.
 *
 * @example
 * ```ts
 * import { measureArguments } from "./rapidraid_session.ts";
 * const args = measureArguments("/run/c.json", "/tmp/m.json", {
 *   schemes: ["pull", "rs"], objectBytes: 2 << 20, chunkBytes: 65536, runs: 1, concurrent: 2, warmUps: 0,
 * });
 * console.log(args.slice(0, 6)); // [ "bench", "rapidraid", "--cluster", "/run/c.json", "--json-to", "/tmp/m.json" ]
 * ```
 *
 * @param clusterFile The cluster file.
 * @param jsonTo Where the child writes its measurement.
 * @param measure The choices.
 * @returns The arguments after the cdfs command.
 */
export function measureArguments(
  clusterFile: string,
  jsonTo: string,
  measure: MeasureChoices,
): string[] {
  return [
    "bench",
    "rapidraid",
    "--cluster",
    clusterFile,
    "--json-to",
    jsonTo,
    "--schemes",
    measure.schemes.join(","),
    "--size",
    String(measure.objectBytes),
    "--chunk-size",
    String(measure.chunkBytes),
    "--runs",
    String(measure.runs),
    "--concurrent",
    String(measure.concurrent),
    "--warm-ups",
    String(measure.warmUps),
  ];
}

/** Runs `cdfs ARGS` to its end and returns its standard output. */
async function runCdfs(
  options: Omit<RapidraidBenchOptions, "signal"> & { signal?: AbortSignal },
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
 * The measuring child of an emulated setting (`bench rapidraid --cluster FILE --json-to OUT`,
 * run in the cluster's hub): measures on the cluster and writes the raw measurement as JSON,
 * nothing else; the session reads it back.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { measureToJsonFile } from "./rapidraid_session.ts";
 * await measureToJsonFile({
 *   clusterPath: "/run/user/0/cdfs/bench/cluster.json",
 *   measure: { schemes: ["pull"], objectBytes: 2 << 20, chunkBytes: 1 << 16, runs: 1, concurrent: 0, warmUps: 0 },
 *   jsonTo: "/tmp/measurement.json",
 * });
 * ```
 *
 * @param options The cluster file, the measurement's choices, where the JSON goes, progress.
 */
export async function measureToJsonFile(options: {
  readonly clusterPath: string;
  readonly measure: MeasureChoices;
  readonly jsonTo: string;
  readonly onProgress?: (line: string) => void;
}): Promise<void> {
  const file = await readClusterFile(options.clusterPath);
  const measurement = await measureOnCluster({
    ...options.measure,
    nodes: clusterNodeAddresses(file),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  await Deno.writeTextFile(options.jsonTo, JSON.stringify(measurement) + "\n");
}
