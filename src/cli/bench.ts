/**
 * `cdfs bench rapidraid`: the experiment of the RapidRAID paper on a cluster this command starts
 * (16 DataNodes on loopback, or in an emulated network with `--netns`) or on a given one
 * (`--cluster FILE`): single and concurrent encodes of RapidRAID pull, RapidRAID push and
 * classical RS(16,11), timed over several runs; `results.md`, `results.json` and two SVG charts
 * in the output directory, the table on standard output, progress on standard error.
 *
 * `cdfs bench namenode`: the namenode's metadata operations per second next to its raw
 * backend, and reads by name next to the block client's retrieve, healthy and degraded.
 *
 * The benchmarks live in `bench/` (`bench/rapidraid`, `bench/namenode`, `bench/common`): their
 * drivers decide the settings, measure and write the results; this module reads the options
 * and hands them over.
 *
 * @module
 */
import { selfLauncher } from "../cluster/node_process.ts";
import { defaultOutDir, shortPath } from "../../bench/common/out_dir.ts";
import {
  checkMeasureCounts,
  type MeasureChoices,
  parseSchemes,
} from "../../bench/rapidraid/rapidraid.ts";
import { formatSummaryTable, writeResults } from "../../bench/rapidraid/rapidraid_report.ts";
import { measureToJsonFile, runRapidraidBench } from "../../bench/rapidraid/rapidraid_session.ts";
import { DEFAULT_CONGEST_SHARE } from "../../bench/rapidraid/rapidraid_settings.ts";
import type { NamenodeBenchOptions } from "../../bench/namenode/namenode.ts";
import { CdfsError } from "../core/errors.ts";
import { clusterStateRoot } from "./cluster_options.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  parseSize,
  stringOption,
} from "./command.ts";
import { clusterBenchOptions, runClusterBench, untilInterrupted } from "./bench_options.ts";
import { benchRepairCommand } from "./bench_repair.ts";
import { chunkSizeOptionDef, STATE_DIR_OPTION } from "./options.ts";

/** The step size by default: small enough that the 16-hop pipeline fill stays a small part of
 * a 64 MiB encode at 200 Mbit/s (16 × 256 KiB / rate = 0.17 s next to 0.24 s of transfer). */
const DEFAULT_CHUNK_SIZE = "256K";

/**
 * `bench rapidraid`.
 */
export const benchRapidraidCommand: Command = {
  name: "bench rapidraid",
  summary: "Time RapidRAID pull and push encodes next to classical RS(16,11), with charts",
  usage: "cdfs bench rapidraid [--netns --rate R --delay D [--congest [P%:]RATE:DELAY[:JITTER]]] " +
    "[--cluster FILE] [--size 64M] [--runs 5] [--concurrent 16] [--out DIR]",
  description: [
    "Starts 16 datanodes (on 127.0.0.1; with --netns in an emulated network), puts the",
    "objects once, then times single encodes and --concurrent encodes started at once of",
    "every scheme, --runs times, and writes results.md, results.json, encode_time.svg and",
    "timeline.svg to --out. Prints the table; progress goes to standard error. The clusters",
    "it starts are removed at the end, also on failure and Ctrl-C.",
    "",
    "Schemes: pull (RapidRAID, the last node pulls the pipeline), push (RapidRAID, the first",
    "node pushes down the chain), rs (classical RS(16,11): node 11 pulls the 11 parts).",
  ].join("\n"),
  options: {
    schemes: {
      type: "string",
      value: "LIST",
      description: "comma-separated, in this order",
      default: "pull,push,rs",
    },
    size: {
      type: "string",
      value: "N",
      description: "bytes of each object, e.g. 64M (11 parts)",
      default: "64M",
    },
    ...chunkSizeOptionDef("the coding runs' step", DEFAULT_CHUNK_SIZE),
    runs: {
      type: "string",
      value: "N",
      description: "timed runs: medians and min-max",
      default: 5,
    },
    concurrent: {
      type: "string",
      value: "N",
      description: "encodes at once in the concurrent runs (0: none)",
      default: 16,
    },
    "warm-ups": {
      type: "string",
      value: "N",
      description: "untimed encodes of each scheme first",
      default: 1,
    },
    out: {
      type: "string",
      value: "DIR",
      description: "where the results go",
      default: "bench/out/rapidraid in the source tree, else ./cdfs-bench-rapidraid",
    },
    // The same options as cluster up's, but here they describe the measured settings.
    ...clusterBenchOptions(
      "--netns: also measure the congested variant, these settings on P% of the " +
        `nodes (default ${DEFAULT_CONGEST_SHARE}); the paper: 500mbit:100ms:10ms`,
      "measure on this running cluster instead (an emulated one from its hub); " +
        "--rate/--delay/--jitter/--congest then describe its links, for the link-limited ideals",
    ),
  },
  arguments: [],
  examples: [
    "cdfs bench rapidraid --size 16M --runs 3",
    "cdfs bench rapidraid --netns --rate 200mbit --delay 1ms --congest 500mbit:100ms:10ms",
  ],
  run: runBenchRapidraid,
};

/**
 * `bench namenode`.
 */
export const benchNamenodeCommand: Command = {
  name: "bench namenode",
  summary: "Time namenode metadata ops next to the raw store, and get next to block retrieve",
  usage: "cdfs bench namenode [--measure meta,reads] [--backends sqlite,etcd] " +
    "[--clients 1,16,64] [--ops 500] [--rounds 3] [--size 1G] [--runs 3] [--out DIR]",
  description: [
    "meta: starts 'namenode serve' on SQLite and on a one-member etcd (Debian's etcd-server,",
    "or $CDFS_ETCD; skipped with the reason when there is none) and times CREATE_FILE (22",
    "copies placed on 16 registered datanodes) + COMMIT_FILE from --clients concurrent",
    "connections, next to the same writes by the store in this process and by the raw",
    "backend (SQLite statements, etcd transactions), alternating, median of --rounds.",
    "Target: server >= 0.5x raw.",
    "",
    "reads: starts 16 datanodes and a namenode on 127.0.0.1, puts a --size RapidRAID file",
    "and times get (from its parts) next to the block client retrieving the same 11 copies;",
    "then archives it, times get (a decode), stops the datanodes of coded blocks 0..4 and",
    "times the degraded get. Targets: get >= 0.8x block retrieve, degraded >= 0.5x healthy.",
    "",
    "Writes results.md and results.json to --out and prints the tables; progress goes to",
    "standard error. Everything it starts is stopped at the end, also on failure and Ctrl-C.",
  ].join("\n"),
  options: {
    measure: {
      type: "string",
      value: "LIST",
      description: "which halves, comma-separated: meta, reads",
      default: "meta,reads",
    },
    backends: {
      type: "string",
      value: "LIST",
      description: "meta: the metadata stores, comma-separated: sqlite, etcd",
      default: "sqlite,etcd",
    },
    clients: {
      type: "string",
      value: "LIST",
      description: "meta: concurrent clients of each measurement, comma-separated",
      default: "1,16,64",
    },
    ops: {
      type: "string",
      value: "N",
      description: "meta: files created and committed per measurement",
      default: 500,
    },
    rounds: {
      type: "string",
      value: "N",
      description: "meta: rounds per concurrency (medians)",
      default: 3,
    },
    size: {
      type: "string",
      value: "N",
      description: "reads: bytes of the file, e.g. 256M",
      default: "1G",
    },
    runs: {
      type: "string",
      value: "N",
      description: "reads: timed runs of each read, after one untimed (medians)",
      default: 3,
    },
    out: {
      type: "string",
      value: "DIR",
      description: "where the results go",
      default: "bench/out/namenode in the source tree, else ./cdfs-bench-namenode",
    },
    ...STATE_DIR_OPTION,
  },
  arguments: [],
  examples: [
    "cdfs bench namenode --size 256M",
    "cdfs bench namenode --measure meta --backends sqlite --clients 1,16 --ops 200",
  ],
  run: runBenchNamenode,
};

/**
 * Every `bench` sub-command.
 *
 * @example
 * ```ts
 * import { BENCH_COMMANDS } from "./bench.ts";
 * console.log(BENCH_COMMANDS.map((c) => c.name)); // [ "bench rapidraid", "bench namenode", "bench repair" ]
 * ```
 */
export const BENCH_COMMANDS: readonly Command[] = [
  benchRapidraidCommand,
  benchNamenodeCommand,
  benchRepairCommand,
];

async function runBenchNamenode(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  const options = parseNamenodeChoices(args);
  const out = stringOption(args, "out") ?? defaultOutDir(Deno.cwd(), "namenode");
  const say = (line: string) => ctx.err(`${line}\n`);
  // Loaded here, not at start: it brings the etcd client (etcd3 and gRPC, ~95 ms to load),
  // which no other command needs.
  const { formatNamenodeTables, runNamenodeBench, writeNamenodeResults } = await import(
    "../../bench/namenode/namenode.ts"
  );
  return await untilInterrupted(say, "what the bench started is stopped", async (signal) => {
    const results = await runNamenodeBench({
      ...options,
      launcher: selfLauncher(ctx.env),
      stateRoot: clusterStateRoot(ctx, args),
      env: ctx.env,
      onProgress: say,
      signal,
    });
    const files = await writeNamenodeResults(out, results);
    ctx.out(formatNamenodeTables(results));
    say(`wrote ${files.map((f) => shortPath(f, Deno.cwd())).join(", ")}`);
  });
}

/**
 * The choices of `bench namenode` from its options, with their defaults.
 *
 * @example
 * ```ts
 * import { parseNamenodeChoices } from "./bench.ts";
 * const choices = parseNamenodeChoices({
 *   values: { measure: "meta", backends: "etcd", clients: "4,8" }, positionals: [],
 * });
 * console.log(choices.measure, choices.backends, choices.clients, choices.ops); // [ "meta" ] [ "etcd" ] [ 4, 8 ] 500
 * ```
 *
 * @param args The parsed arguments of `bench namenode`.
 * @returns The choices.
 * @throws {CdfsError} USAGE for an unknown half or backend, or a count out of range.
 */
export function parseNamenodeChoices(
  args: ParsedArgs,
): Pick<
  NamenodeBenchOptions,
  "measure" | "backends" | "clients" | "ops" | "rounds" | "bytes" | "runs"
> {
  const list = <T extends string>(name: string, fallback: string, allowed: readonly T[]): T[] => {
    const words = (stringOption(args, name) ?? fallback).split(",").map((w) => w.trim());
    for (const word of words) {
      if (!(allowed as readonly string[]).includes(word)) {
        throw new CdfsError(
          "USAGE",
          `--${name}: '${word}' is not one of ${allowed.join(", ")}`,
        );
      }
    }
    return [...new Set(words)] as T[];
  };
  const atLeast = (name: string, fallback: number, min: number, max: number): number => {
    const value = integerOption(args, name, fallback);
    if (value < min || value > max) {
      throw new CdfsError("USAGE", `--${name} must be ${min}..${max}, got ${value}`);
    }
    return value;
  };
  const clients = (stringOption(args, "clients") ?? "1,16,64").split(",").map((word) => {
    const value = parseSize(word.trim(), "--clients");
    if (value < 1 || value > 1000) {
      throw new CdfsError("USAGE", `--clients: each must be 1..1000, got ${value}`);
    }
    return value;
  });
  return {
    measure: list("measure", "meta,reads", ["meta", "reads"] as const),
    backends: list("backends", "sqlite,etcd", ["sqlite", "etcd"] as const),
    clients,
    ops: atLeast("ops", 500, 1, 1_000_000),
    rounds: atLeast("rounds", 3, 1, 100),
    // RapidRAID's 11 parts each need a byte.
    bytes: atLeast("size", 1 << 30, 11, Number.MAX_SAFE_INTEGER),
    runs: atLeast("runs", 3, 1, 100),
  };
}

async function runBenchRapidraid(ctx: CliContext, args: ParsedArgs): Promise<number> {
  return await runClusterBench(ctx, args, {
    outName: "rapidraid",
    parse: parseMeasureChoices,
    toJsonFile: measureToJsonFile,
    run: runRapidraidBench,
    write: writeResults,
    table: (results) => formatSummaryTable(results.summary),
  });
}

/**
 * The measurement's choices from the options, with their defaults.
 *
 * @example
 * ```ts
 * import { parseMeasureChoices } from "./bench.ts";
 * const choices = parseMeasureChoices({ values: { size: "2M", schemes: "rs" }, positionals: [] });
 * console.log(choices.objectBytes, choices.schemes, choices.runs); // 2097152 [ "rs" ] 5
 * ```
 *
 * @param args The parsed arguments of `bench rapidraid`.
 * @returns The choices.
 * @throws {CdfsError} USAGE for a malformed value.
 */
export function parseMeasureChoices(args: ParsedArgs): MeasureChoices {
  const choices: MeasureChoices = {
    schemes: parseSchemes(stringOption(args, "schemes") ?? "pull,push,rs"),
    objectBytes: integerOption(args, "size", 64 << 20),
    chunkBytes: integerOption(args, "chunk-size", parseSize(DEFAULT_CHUNK_SIZE, "--chunk-size")),
    runs: integerOption(args, "runs", 5),
    concurrent: integerOption(args, "concurrent", 16),
    warmUps: integerOption(args, "warm-ups", 1),
  };
  checkMeasureCounts(choices);
  return choices;
}
