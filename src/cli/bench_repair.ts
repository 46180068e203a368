/**
 * `cdfs bench repair`: repair time and bytes moved per repaired block, single and double loss,
 * of RS, LRC and RapidRAID with the same k, next to the analyzer's cheapest repairs, on a
 * cluster this command starts (16 DataNodes on loopback, or in an emulated network with
 * `--netns`) or on a given one (`--cluster FILE`). The bench lives in `bench/repair/`.
 *
 * @module
 */
import { defaultOutDir, shortPath } from "../../bench/common/out_dir.ts";
import {
  checkRepairCounts,
  DEFAULT_REPAIR_CODES,
  parseRepairCodes,
  type RepairChoices,
} from "../../bench/repair/repair_bench.ts";
import { formatRepairTable, writeRepairResults } from "../../bench/repair/repair_report.ts";
import { repairsToJsonFile, runRepairBench } from "../../bench/repair/repair_session.ts";
import { BENCH_NODES } from "../../bench/common/cluster_session.ts";
import { planSettings } from "../../bench/rapidraid/rapidraid_settings.ts";
import { selfLauncher } from "../cluster/node_process.ts";
import { CdfsError } from "../core/errors.ts";
import { describedLinks, linkChoices, untilInterrupted } from "./bench_options.ts";
import { clusterStateRoot, optionalClusterPath } from "./cluster_options.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { NETNS_OPTIONS } from "./netns_options.ts";
import { clusterOption, STATE_DIR_OPTION } from "./options.ts";

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
    ...NETNS_OPTIONS,
    netns: {
      ...NETNS_OPTIONS.netns!,
      description: "16 nodes in network namespaces behind emulated links (root; see " +
        "'cdfs cluster up --help'); the client runs in the hub",
    },
    congest: {
      ...NETNS_OPTIONS.congest!,
      value: "[P%:]RATE:DELAY[:JITTER]",
      description: "--netns: also measure the congested variant, as in 'bench rapidraid'",
    },
    ...clusterOption("measure on this running cluster instead (an emulated one from its hub)", {
      env: false,
    }),
    ...STATE_DIR_OPTION,
    "json-to": {
      type: "string",
      value: "FILE",
      description: "internal: measure on --cluster only, write the raw JSON there",
    },
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
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  const measure = await parseRepairChoices(args);
  const say = (line: string) => ctx.err(`${line}\n`);
  const clusterPath = optionalClusterPath(ctx, args, { fromEnv: false });
  const jsonTo = stringOption(args, "json-to");
  if (jsonTo !== undefined) {
    if (clusterPath === undefined) throw new CdfsError("USAGE", "--json-to needs --cluster");
    await repairsToJsonFile({ clusterPath, measure, jsonTo, onProgress: say });
    return 0;
  }
  const settings = await planSettings(
    {
      netns: args.values.netns === true,
      ...linkChoices(args),
      ...(clusterPath === undefined ? {} : { clusterPath }),
    },
    (congest, checkSupport) =>
      describedLinks(
        args,
        congest,
        checkSupport ? undefined : () => Promise.resolve({ ok: true as const }),
      ),
  );
  const out = stringOption(args, "out") ?? defaultOutDir(Deno.cwd(), "repair");
  return await untilInterrupted(say, "the clusters the bench started are down", async (signal) => {
    const results = await runRepairBench({
      settings,
      measure,
      launcher: selfLauncher(ctx.env),
      stateRoot: clusterStateRoot(ctx, args),
      onProgress: say,
      signal,
    });
    const files = await writeRepairResults(out, results);
    ctx.out(formatRepairTable(results.summary));
    say(`wrote ${files.map((f) => shortPath(f, Deno.cwd())).join(", ")}`);
  });
}
