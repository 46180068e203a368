/**
 * The whole `cdfs bench rapidraid` session: for every network setting, a cluster to measure on
 * (`measureOnSetting` of bench/common/cluster_session.ts: loopback, an emulated network whose
 * measuring child runs `cdfs bench rapidraid --cluster FILE --json-to FILE` in the hub, or a
 * given cluster), the measurement ({@linkcode measureOnCluster}), and the results summarized.
 *
 * @module
 */
import { clusterNodeAddresses } from "../../src/cluster/cluster_file.ts";
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import type { NodeLauncher } from "../../src/cluster/node_process.ts";
import {
  type BenchSetting,
  measureOnSetting,
  type SettingPlan,
} from "../common/cluster_session.ts";
import { machine } from "../common/machine.ts";
import { type ClusterMeasurement, type MeasureChoices, measureOnCluster } from "./rapidraid.ts";
import {
  type RapidraidBenchResults,
  type SettingResult,
  summarizeSettings,
} from "./rapidraid_report.ts";

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

function measureSetting(
  plan: SettingPlan,
  index: number,
  options: RapidraidBenchOptions & { tempDir: string },
): Promise<ClusterMeasurement> {
  return measureOnSetting(
    plan,
    index,
    options,
    (nodes, signal) =>
      measureOnCluster({
        ...options.measure,
        nodes,
        tempDir: options.tempDir,
        onProgress: (line) => (options.onProgress ?? (() => {}))(`  ${line}`),
        ...(signal === undefined ? {} : { signal }),
      }),
    (clusterFile, jsonTo) => measureArguments(clusterFile, jsonTo, options.measure),
  );
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
