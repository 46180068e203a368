/**
 * What the cluster benchmarks (`bench rapidraid`, `bench repair`) share on the command line:
 * their cluster options (`--netns` and its links, `--cluster`, `--state-dir`, `--json-to`),
 * the flow from the options to the results (or to the raw JSON of `--json-to`), the run until
 * Ctrl-C, and the emulated links of `--netns`.
 *
 * @module
 */
import type { NodeLink } from "../emulation/link_spec.ts";
import { BENCH_NODES, type SettingPlan } from "../../bench/common/cluster_session.ts";
import { defaultOutDir, shortPath } from "../../bench/common/out_dir.ts";
import { planSettings } from "../../bench/rapidraid/rapidraid_settings.ts";
import { type NodeLauncher, selfLauncher } from "../cluster/node_process.ts";
import { CdfsError } from "../core/errors.ts";
import { clusterStateRoot, optionalClusterPath } from "./cluster_options.ts";
import {
  type CliContext,
  type OptionDef,
  type OptionSpec,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { NETNS_OPTIONS, netnsLinks } from "./netns_options.ts";
import { clusterOption, STATE_DIR_OPTION } from "./options.ts";

/**
 * The options every cluster bench has after its own: `cluster up --netns`'s (here describing
 * the measured settings), `--cluster`, `--state-dir` and the internal `--json-to`.
 *
 * @example
 * ```ts
 * import { clusterBenchOptions } from "./bench_options.ts";
 * const options = clusterBenchOptions("--netns: also measure the congested variant", "measure on it");
 * console.log(options["json-to"]?.value, options.cluster?.description); // FILE measure on it
 * ```
 *
 * @param congest What `--congest` does in this bench.
 * @param cluster What `--cluster` does in this bench.
 * @returns The options, in the order `--help` lists them.
 */
export function clusterBenchOptions(congest: string, cluster: string): OptionSpec {
  const jsonTo: OptionDef = {
    type: "string",
    value: "FILE",
    description: "internal: measure on --cluster only, write the raw JSON there",
  };
  return {
    ...NETNS_OPTIONS,
    netns: {
      ...NETNS_OPTIONS.netns!,
      description: "16 nodes in network namespaces behind emulated links (root; see " +
        "'cdfs cluster up --help'); the client runs in the hub",
    },
    congest: { ...NETNS_OPTIONS.congest!, value: "[P%:]RATE:DELAY[:JITTER]", description: congest },
    ...clusterOption(cluster, { env: false }),
    ...STATE_DIR_OPTION,
    "json-to": jsonTo,
  };
}

/**
 * One cluster bench as {@linkcode runClusterBench} drives it: its choices, its measuring child,
 * its session over the settings and its report.
 */
export interface ClusterBench<M, R> {
  /** The default output directory's name (`bench/out/<name>`, else `./cdfs-bench-<name>`). */
  readonly outName: string;
  /** The measurement's choices from the options; throws USAGE for a bad one. */
  readonly parse: (args: ParsedArgs) => M | Promise<M>;
  /** `--json-to`: measures on the cluster `--cluster` names and writes the raw JSON. */
  readonly toJsonFile: (options: {
    readonly clusterPath: string;
    readonly measure: M;
    readonly jsonTo: string;
    readonly onProgress: (line: string) => void;
  }) => Promise<void>;
  /** Measures every setting in turn. */
  readonly run: (options: {
    readonly settings: readonly SettingPlan[];
    readonly measure: M;
    readonly launcher: NodeLauncher;
    readonly stateRoot: string;
    readonly onProgress: (line: string) => void;
    readonly signal: AbortSignal;
  }) => Promise<R>;
  /** Writes the result files into the directory; returns their paths. */
  readonly write: (out: string, results: R) => Promise<string[]>;
  /** The table printed on standard output. */
  readonly table: (results: R) => string;
}

/**
 * Runs a cluster bench from its options: its measuring child when `--json-to` is given (which
 * needs `--cluster`), else every setting the options ask for, then the result files in `--out`
 * and the table on standard output; progress goes to standard error.
 *
 * @example
 * ```ts
 * import { runClusterBench } from "./bench_options.ts";
 * const ctx = { out: () => {}, err: () => {}, isTerminal: false, env: () => undefined };
 * const never = () => Promise.reject(new Error("not reached"));
 * const bench = {
 *   outName: "demo", parse: () => ({}), toJsonFile: never, run: never,
 *   write: never, table: () => "",
 * };
 * const args = { values: { "json-to": "/tmp/x.json" }, positionals: [] };
 * await runClusterBench(ctx, args, bench).catch((e) => console.log(e.message)); // --json-to needs --cluster
 * ```
 *
 * @param ctx The command's context.
 * @param args The parsed arguments.
 * @param bench The bench.
 * @returns The exit code (130 after Ctrl-C).
 * @throws {CdfsError} USAGE for a positional argument or a bad option.
 */
export async function runClusterBench<M, R>(
  ctx: CliContext,
  args: ParsedArgs,
  bench: ClusterBench<M, R>,
): Promise<number> {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  const measure = await bench.parse(args);
  const say = (line: string) => ctx.err(`${line}\n`);
  const clusterPath = optionalClusterPath(ctx, args, { fromEnv: false });
  const jsonTo = stringOption(args, "json-to");
  if (jsonTo !== undefined) {
    // The measuring child of an emulated setting: measure, write the raw JSON, nothing else.
    if (clusterPath === undefined) throw new CdfsError("USAGE", "--json-to needs --cluster");
    await bench.toJsonFile({ clusterPath, measure, jsonTo, onProgress: say });
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
  const out = stringOption(args, "out") ?? defaultOutDir(Deno.cwd(), bench.outName);
  return await untilInterrupted(say, "the clusters the bench started are down", async (signal) => {
    const results = await bench.run({
      settings,
      measure,
      launcher: selfLauncher(ctx.env),
      stateRoot: clusterStateRoot(ctx, args),
      onProgress: say,
      signal,
    });
    const files = await bench.write(out, results);
    ctx.out(bench.table(results));
    say(`wrote ${files.map((f) => shortPath(f, Deno.cwd())).join(", ")}`);
  });
}

/**
 * Runs a bench until it ends (exit 0) or SIGINT or SIGTERM aborts `signal` (exit 130, after
 * `interrupted: <stopped>`); any other error is thrown.
 *
 * @example
 * ```ts
 * import { untilInterrupted } from "./bench_options.ts";
 * const code = await untilInterrupted(console.error, "nothing to stop", async () => {});
 * console.log(code); // 0
 * ```
 *
 * @param say Prints a progress line.
 * @param stopped What the interruption line says was stopped.
 * @param run The bench, given the signal.
 * @returns The exit code.
 */
export async function untilInterrupted(
  say: (line: string) => void,
  stopped: string,
  run: (signal: AbortSignal) => Promise<void>,
): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort(new CdfsError("UNAVAILABLE", "interrupted"));
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    await run(abort.signal);
    return 0;
  } catch (error) {
    if (abort.signal.aborted) {
      say(`interrupted: ${stopped}`);
      return 130;
    }
    throw error;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

/**
 * The link options as given (`--rate`, `--delay`, `--jitter`, `--congest`, `--seed`).
 *
 * @example
 * ```ts
 * import { linkChoices } from "./bench_options.ts";
 * console.log(linkChoices({ values: { rate: "1gbit" }, positionals: [] })); // { rate: "1gbit" }
 * ```
 *
 * @param args The parsed arguments.
 * @returns The link options given.
 */
export function linkChoices(
  args: ParsedArgs,
): { rate?: string; delay?: string; jitter?: string; congest?: string; seed?: string } {
  const choices: {
    rate?: string;
    delay?: string;
    jitter?: string;
    congest?: string;
    seed?: string;
  } = {};
  for (const name of ["rate", "delay", "jitter", "congest", "seed"] as const) {
    const value = stringOption(args, name);
    if (value !== undefined) choices[name] = value;
  }
  return choices;
}

/**
 * `cluster up --netns`'s links for these options for the bench's 16 nodes (and its check that
 * this machine can emulate them, unless `support` says otherwise).
 *
 * @example
 * ```ts
 * import { describedLinks } from "./bench_options.ts";
 * const links = await describedLinks(
 *   { values: { rate: "100mbit" }, positionals: [] },
 *   undefined,
 *   () => Promise.resolve({ ok: true as const }),
 * );
 * console.log(links?.length); // 16
 * ```
 *
 * @param args The parsed arguments.
 * @param congest The `--congest` of this setting (undefined: none).
 * @param support The check of this machine (default `cluster up`'s).
 * @returns The links.
 */
export async function describedLinks(
  args: ParsedArgs,
  congest: string | undefined,
  support?: Parameters<typeof netnsLinks>[2],
): Promise<NodeLink[] | undefined> {
  const { congest: _, ...values } = args.values;
  return await netnsLinks(
    {
      values: { ...values, netns: true, ...(congest === undefined ? {} : { congest }) },
      positionals: [],
    },
    BENCH_NODES,
    support,
  );
}
