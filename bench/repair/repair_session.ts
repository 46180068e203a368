/**
 * The whole `cdfs bench repair` session: for every network setting a cluster (the same
 * machinery as `bench rapidraid`: {@linkcode measureOnSetting}), the repairs measured on it
 * ({@linkcode measureRepairs}), and the results summarized.
 *
 * @module
 */
import { clusterNodeAddresses } from "../../src/cluster/cluster_file.ts";
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import type { NodeLauncher } from "../../src/cluster/node_process.ts";
import { machine } from "../common/machine.ts";
import { measureOnSetting, type SettingPlan } from "../common/cluster_session.ts";
import { measureRepairs, type RepairChoices, type RepairMeasurement } from "./repair_bench.ts";
import {
  type RepairBenchResults,
  type RepairSettingResult,
  summarizeRepairs,
} from "./repair_report.ts";

/**
 * Options of {@linkcode runRepairBench}.
 *
 * @example
 * ```ts
 * import type { RepairBenchOptions } from "./repair_session.ts";
 * const options: RepairBenchOptions = {
 *   settings: [{ kind: "loopback", label: "loopback" }],
 *   measure: { codes: ["rs:k=10,m=4"], objectBytes: 65536, runs: 1 },
 *   launcher: { command: "cdfs", args: [] },
 *   stateRoot: "/tmp/cdfs-0",
 * };
 * ```
 */
export interface RepairBenchOptions {
  /** The settings, measured in this order. */
  readonly settings: readonly SettingPlan[];
  /** The measurement's choices. */
  readonly measure: RepairChoices;
  /** How to run cdfs again (nodes, `cluster up/down`, the measuring child). */
  readonly launcher: NodeLauncher;
  /** The state root of the clusters the bench starts. */
  readonly stateRoot: string;
  /** Told a line of progress now and then. */
  readonly onProgress?: (line: string) => void;
  /** Stops the session; what it started is stopped and removed. */
  readonly signal?: AbortSignal;
}

/**
 * Runs every setting in turn and summarizes them.
 *
 * @example
 * Not run by `deno test --doc`: it starts 16 datanodes.
 * ```ts ignore
 * import { runRepairBench } from "./repair_session.ts";
 * import { selfLauncher } from "../../src/cluster/node_process.ts";
 * const results = await runRepairBench({
 *   settings: [{ kind: "loopback", label: "loopback" }],
 *   measure: { codes: ["rs:k=4,m=2"], objectBytes: 65536, runs: 1 },
 *   launcher: selfLauncher((name) => Deno.env.get(name)),
 *   stateRoot: "/tmp/cdfs-0",
 * });
 * console.log(results.summary.length); // 2
 * ```
 *
 * @param options The settings, the choices, how to run cdfs, progress and abort.
 * @returns The results, ready for `writeRepairResults`.
 * @throws {CdfsError} The first failure (a cluster that does not start, a repair that fails,
 * naming the code); an AbortError on abort.
 */
export async function runRepairBench(options: RepairBenchOptions): Promise<RepairBenchResults> {
  const started = new Date().toISOString();
  const say = options.onProgress ?? (() => {});
  const tempDir = await Deno.makeTempDir({ prefix: "cdfs-bench-repair-session-" });
  try {
    const settings: RepairSettingResult[] = [];
    for (const [index, plan] of options.settings.entries()) {
      options.signal?.throwIfAborted();
      say(`setting ${index + 1}/${options.settings.length}: ${plan.label}`);
      const measurement = await measureOnSetting<RepairMeasurement>(
        plan,
        index,
        { ...options, tempDir },
        (nodes, signal) =>
          measureRepairs({
            ...options.measure,
            nodes,
            tempDir,
            onProgress: (line) => say(`  ${line}`),
            ...(signal === undefined ? {} : { signal }),
          }),
        (clusterFile, jsonTo) => repairChildArguments(clusterFile, jsonTo, options.measure),
      );
      settings.push({
        setting: {
          label: plan.label,
          kind: plan.kind,
          ...("links" in plan && plan.links !== undefined ? { links: plan.links } : {}),
        },
        measurement,
      });
    }
    return {
      version: 1,
      started,
      finished: new Date().toISOString(),
      machine: await machine(null),
      options: { ...options.measure, codes: [...options.measure.codes] },
      settings,
      summary: summarizeRepairs(settings),
    };
  } finally {
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  }
}

/**
 * The arguments of the measuring child in an emulated network's hub: `bench repair --cluster
 * FILE --json-to FILE` and the choices.
 *
 * @example
 * ```ts
 * import { repairChildArguments } from "./repair_session.ts";
 * const args = repairChildArguments("/run/c.json", "/tmp/m.json", {
 *   codes: ["rs:k=10,m=4", "lrc:k=10,l=2,r=2"], objectBytes: 65536, runs: 2,
 * });
 * console.log(args.join(" "));
 * // "bench repair --cluster /run/c.json --json-to /tmp/m.json --codes rs:k=10,m=4,lrc:k=10,l=2,r=2 --size 65536 --runs 2"
 * ```
 *
 * @param clusterFile The cluster file.
 * @param jsonTo Where the child writes its measurement.
 * @param measure The choices.
 * @returns The arguments after the cdfs command.
 */
export function repairChildArguments(
  clusterFile: string,
  jsonTo: string,
  measure: RepairChoices,
): string[] {
  return [
    "bench",
    "repair",
    "--cluster",
    clusterFile,
    "--json-to",
    jsonTo,
    "--codes",
    measure.codes.join(","),
    "--size",
    String(measure.objectBytes),
    "--runs",
    String(measure.runs),
  ];
}

/**
 * The measuring child (`bench repair --cluster FILE --json-to OUT`, run in the cluster's hub):
 * measures on the cluster and writes the raw measurement as JSON, nothing else.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { repairsToJsonFile } from "./repair_session.ts";
 * await repairsToJsonFile({
 *   clusterPath: "/run/user/0/cdfs/bench/cluster.json",
 *   measure: { codes: ["rs:k=10,m=4"], objectBytes: 65536, runs: 1 },
 *   jsonTo: "/tmp/measurement.json",
 * });
 * ```
 *
 * @param options The cluster file, the choices, where the JSON goes, progress.
 */
export async function repairsToJsonFile(options: {
  readonly clusterPath: string;
  readonly measure: RepairChoices;
  readonly jsonTo: string;
  readonly onProgress?: (line: string) => void;
}): Promise<void> {
  const file = await readClusterFile(options.clusterPath);
  const measurement = await measureRepairs({
    ...options.measure,
    nodes: clusterNodeAddresses(file),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  await Deno.writeTextFile(options.jsonTo, JSON.stringify(measurement) + "\n");
}
