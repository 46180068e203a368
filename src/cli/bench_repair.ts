/**
 * `cdfs bench repair`: repair time and bytes moved per repaired block, single and double loss,
 * of RS, LRC and RapidRAID with the same k, next to the analyzer's cheapest repairs, on a
 * cluster this command starts (16 DataNodes on loopback, or in an emulated network with
 * `--netns`) or on a given one (`--cluster FILE`). The bench lives in `bench/repair/`.
 *
 * @module
 */
import {
  checkRepairCounts,
  DEFAULT_REPAIR_CODES,
  parseRepairCodes,
  type RepairChoices,
} from "../../bench/repair/repair_bench.ts";
import { formatRepairTable, writeRepairResults } from "../../bench/repair/repair_report.ts";
import { repairsToJsonFile, runRepairBench } from "../../bench/repair/repair_session.ts";
import { BENCH_NODES } from "../../bench/common/cluster_session.ts";
import { clusterBenchOptions, runClusterBench } from "./bench_options.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";

/**
 * `bench repair`.
 *
 * @example
 * ```ts
 * import { benchRepairCommand } from "./bench_repair.ts";
 * console.log(benchRepairCommand.name); // "bench repair"
 * ```
 */
export const benchRepairCommand: Command = {
  name: "bench repair",
  summary: "Time repairs of RS, LRC and RapidRAID and count the bytes they move",
  usage: "cdfs bench repair [--codes LIST] [--size 64M] [--runs 3] " +
    "[--netns --rate R --delay D] [--cluster FILE] [--out DIR]",
  description: [
    "Starts 16 datanodes (on 127.0.0.1; with --netns in an emulated network), puts one",
    "object per code (put-parts, encode, replicas dropped), then for every coded block, --runs",
    "times: deletes it and times its repair (single loss), and deletes it and the first block",
    "its cheapest repair reads and times its repair (double loss). Bytes moved are the repair",
    "run's own STATS counters on the rebuilding node; blocks read are set next to the",
    "analyzer's cheapest plan for the same loss (cdfs code inspect). Writes results.md,",
    "results.json and repair_time.svg to --out and prints the table; progress goes to",
    "standard error. The clusters it starts are removed at the end, also on failure and Ctrl-C.",
  ].join("\n"),
  options: {
    codes: {
      type: "string",
      value: "LIST",
      description: "the codes, comma-separated, in this order (ratios are to the rs code)",
      default: DEFAULT_REPAIR_CODES.join(","),
    },
    size: {
      type: "string",
      value: "N",
      description: "bytes of each code's object, e.g. 64M",
      default: "64M",
    },
    runs: {
      type: "string",
      value: "N",
      description: "timed repairs of every block, per kind of loss",
      default: 3,
    },
    out: {
      type: "string",
      value: "DIR",
      description: "where the results go",
      default: "bench/out/repair in the source tree, else ./cdfs-bench-repair",
    },
    ...clusterBenchOptions(
      "--netns: also measure the congested variant, as in 'bench rapidraid'",
      "measure on this running cluster instead (an emulated one from its hub)",
    ),
  },
  arguments: [],
  examples: [
    "cdfs bench repair --size 64K --runs 1 --codes rs:k=4,m=2,lrc:k=4,l=2,r=1",
    "cdfs bench repair --netns --rate 1gbit --delay 1ms",
  ],
  run: runBenchRepair,
};

/**
 * The measurement's choices from the options, with their defaults.
 *
 * @example
 * ```ts
 * import { parseRepairChoices } from "./bench_repair.ts";
 * const choices = await parseRepairChoices({ values: { size: "64K", codes: "rs:k=4,m=2" }, positionals: [] });
 * console.log(choices); // { codes: [ "rs:k=4,m=2" ], objectBytes: 65536, runs: 3 }
 * ```
 *
 * @param args The parsed arguments of `bench repair`.
 * @returns The choices.
 * @throws {CdfsError} USAGE for a code that does not load or repeats, or a bad count.
 */
export async function parseRepairChoices(args: ParsedArgs): Promise<RepairChoices> {
  const choices: RepairChoices = {
    codes: await parseRepairCodes(
      stringOption(args, "codes") ?? DEFAULT_REPAIR_CODES.join(","),
      BENCH_NODES,
    ),
    objectBytes: integerOption(args, "size", 64 << 20),
    runs: integerOption(args, "runs", 3),
  };
  checkRepairCounts(choices);
  return choices;
}

async function runBenchRepair(ctx: CliContext, args: ParsedArgs): Promise<number> {
  return await runClusterBench(ctx, args, {
    outName: "repair",
    parse: parseRepairChoices,
    toJsonFile: repairsToJsonFile,
    run: runRepairBench,
    write: writeRepairResults,
    table: (results) => formatRepairTable(results.summary),
  });
}
