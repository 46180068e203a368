/**
 * What every `cluster` command shares: the options that name the cluster (`--cluster FILE|NAME`,
 * `--state-dir`), the grace and start timeouts, and how a command finds the cluster file they
 * name (also for the client commands that take `--cluster`).
 *
 * @module
 */
import { clusterNodeAddresses } from "../cluster/cluster_file.ts";
import { readClusterFile } from "../cluster/cluster_file_io.ts";
import { DEFAULT_STOP_GRACE_MS } from "../cluster/cluster_stop.ts";
import { DEFAULT_START_TIMEOUT_MS } from "../cluster/local.ts";
import { defaultStateRoot, resolveClusterPath } from "../cluster/state_root.ts";
import { CdfsError } from "../core/errors.ts";
import { type CliContext, type OptionSpec, type ParsedArgs, stringOption } from "./command.ts";
import { clusterOption, STATE_DIR_OPTION } from "./options.ts";

/**
 * The cluster a command works on, and where its file is looked for.
 *
 * @example
 * ```ts
 * import { CLUSTER_OPTIONS } from "./cluster_options.ts";
 * console.log(Object.keys(CLUSTER_OPTIONS)); // [ "cluster", "state-dir" ]
 * ```
 */
export const CLUSTER_OPTIONS: OptionSpec = {
  ...clusterOption("the cluster: the file 'cluster up' printed, or the cluster's name"),
  ...STATE_DIR_OPTION,
};

/**
 * `--grace MS`: how long each node may take to stop before SIGKILL.
 *
 * @example
 * ```ts
 * import { GRACE_OPTION } from "./cluster_options.ts";
 * console.log(GRACE_OPTION.grace?.default); // 15000
 * ```
 */
export const GRACE_OPTION: OptionSpec = {
  grace: {
    type: "string",
    value: "MS",
    description: "how long each node may take to stop",
    default: DEFAULT_STOP_GRACE_MS,
  },
};

/**
 * `--start-timeout MS`: how long started nodes may take to answer.
 *
 * @example
 * ```ts
 * import { START_TIMEOUT_OPTION } from "./cluster_options.ts";
 * console.log(START_TIMEOUT_OPTION["start-timeout"]?.default); // 60000
 * ```
 */
export const START_TIMEOUT_OPTION: OptionSpec = {
  "start-timeout": {
    type: "string",
    value: "MS",
    description: "how long the nodes may take to answer",
    default: DEFAULT_START_TIMEOUT_MS,
  },
};

/**
 * The cluster file a command names: `--cluster FILE|NAME`, else `$CDFS_CLUSTER`. For the node
 * list of client commands, `clusterNodeAddresses(await readClusterFile(path))`.
 *
 * @example
 * ```ts
 * import { clusterPath } from "./cluster_options.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(clusterPath(ctx, { values: { cluster: "/tmp/c.json" }, positionals: [] })); // "/tmp/c.json"
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments, with `--cluster` and `--state-dir`.
 * @returns The cluster file's absolute path.
 * @throws {CdfsError} USAGE when neither is given.
 */
export function clusterPath(ctx: CliContext, args: ParsedArgs): string {
  const path = optionalClusterPath(ctx, args);
  if (path === undefined) {
    throw new CdfsError(
      "USAGE",
      "--cluster FILE is required (or set CDFS_CLUSTER); 'cdfs cluster up' prints the file",
    );
  }
  return path;
}

/**
 * Like {@linkcode clusterPath}, but `undefined` when no cluster is named; with
 * `fromEnv: false` only the `--cluster` option counts.
 *
 * @example
 * ```ts
 * import { optionalClusterPath } from "./cluster_options.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(optionalClusterPath(ctx, { values: {}, positionals: [] })); // undefined
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments.
 * @param options Whether `$CDFS_CLUSTER` counts (default true).
 * @returns The cluster file's absolute path, or undefined.
 */
export function optionalClusterPath(
  ctx: CliContext,
  args: ParsedArgs,
  options: { fromEnv?: boolean } = {},
): string | undefined {
  const value = stringOption(args, "cluster") ??
    (options.fromEnv === false ? undefined : ctx.env("CDFS_CLUSTER"));
  return value === undefined ? undefined : resolveClusterPath(value, clusterStateRoot(ctx, args));
}

/**
 * The node addresses of the cluster a command names (see {@linkcode clusterPath}), in index
 * order.
 *
 * @example
 * Not run by `deno test --doc`: it needs a CLI context and a running cluster.
 * ```ts ignore
 * import { clusterAddresses } from "./cluster_options.ts";
 * const nodes = await clusterAddresses(ctx, args);
 * ```
 *
 * @param ctx The command's context.
 * @param args The parsed arguments.
 * @returns The addresses.
 */
export async function clusterAddresses(ctx: CliContext, args: ParsedArgs): Promise<string[]> {
  return clusterNodeAddresses(await readClusterFile(clusterPath(ctx, args)));
}

/**
 * The state root a command works under: `--state-dir`, else the default of the environment
 * (`defaultStateRoot`).
 *
 * @example
 * ```ts
 * import { clusterStateRoot } from "./cluster_options.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(clusterStateRoot(ctx, { values: { "state-dir": "/tmp/s" }, positionals: [] })); // "/tmp/s"
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments, with `--state-dir`.
 * @returns The state root's absolute path.
 */
export function clusterStateRoot(ctx: CliContext, args: ParsedArgs): string {
  const explicit = stringOption(args, "state-dir");
  return explicit !== undefined && explicit !== ""
    ? defaultStateRoot((name) => name === "CDFS_STATE_DIR" ? explicit : undefined)
    : defaultStateRoot(ctx.env);
}

/**
 * Refuses positional arguments, for the commands that take none.
 *
 * @example
 * ```ts
 * import { noPositionals } from "./cluster_options.ts";
 * noPositionals({ values: {}, positionals: [] });
 * ```
 *
 * @param args The parsed arguments.
 * @throws {CdfsError} USAGE naming the first one.
 */
export function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
}
