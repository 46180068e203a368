/**
 * The ordered node list of the coding commands: logical node i of a coding module is the i-th
 * address. Today it comes from `--nodes HOST:PORT,HOST:PORT,...` (or `$CDFS_NODES`);
 * {@linkcode nodeListArgument} is the one place that decides where the list comes from, so a
 * cluster file (`--cluster FILE`) is added there, next to {@linkcode NODE_LIST_OPTIONS} (which
 * also carry the options' help), without touching the commands.
 *
 * Parsing is strict: every entry must be a `HOST:PORT` of `src/core/address.ts`, with no empty
 * entries, no spaces and no address listed twice (two logical nodes on one datanode would
 * silently lose the fault tolerance the code is for).
 *
 * @module
 */
import { formatNodeAddress, parseNodeAddress } from "../core/address.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { moduleNodeCount } from "../client/objects/target.ts";
import { clusterNodeAddresses } from "../cluster/cluster_file.ts";
import { readClusterFileSync } from "../cluster/cluster_file_io.ts";
import { CdfsError } from "../core/errors.ts";
import { optionalClusterPath } from "./cluster_options.ts";
import { type CliContext, type OptionSpec, type ParsedArgs, stringOption } from "./command.ts";
import { clusterOption } from "./options.ts";

/**
 * The options that give the node list (`--nodes`, `--cluster`), with their help, for a
 * command's `options`.
 *
 * @example
 * ```ts
 * import { NODE_LIST_OPTIONS } from "./node_list.ts";
 * import { jsonOption } from "./options.ts";
 * const options = { ...NODE_LIST_OPTIONS, ...jsonOption() };
 * ```
 */
export const NODE_LIST_OPTIONS: OptionSpec = {
  nodes: {
    type: "string",
    value: "LIST",
    description: "the datanodes, comma separated HOST:PORT in logical node order (node 0 " +
      "first; IPv6 as [::1]:13100)",
    env: "CDFS_NODES",
  },
  ...clusterOption("the nodes of a cluster started by 'cdfs cluster up', in index order"),
};

/**
 * Parses a comma separated list of node addresses, keeping the order.
 *
 * @example
 * ```ts
 * import { parseNodeList } from "./node_list.ts";
 * console.log(parseNodeList("10.0.0.1:13100,[::1]:13101")); // [ "10.0.0.1:13100", "[::1]:13101" ]
 * ```
 *
 * @param text The list, e.g. `a:13100,b:13100`.
 * @param what What the list is called in messages (default `--nodes`).
 * @returns The addresses in canonical `HOST:PORT` form (brackets around IPv6).
 * @throws {CdfsError} USAGE naming the entry (by position) that is empty, malformed or a
 * repetition.
 */
export function parseNodeList(text: string, what = "--nodes"): string[] {
  if (text.trim() === "") throw new CdfsError("USAGE", `${what} is empty: expected HOST:PORT,...`);
  const addresses: string[] = [];
  const seen = new Map<string, number>();
  text.split(",").forEach((entry, i) => {
    if (entry === "") {
      throw new CdfsError(
        "USAGE",
        `${what}: entry ${i} is empty (a doubled, leading or trailing comma)`,
      );
    }
    if (entry.trim() !== entry) {
      throw new CdfsError(
        "USAGE",
        `${what}: entry ${i} ${JSON.stringify(entry)} has spaces; separate with commas only`,
      );
    }
    const address = formatNodeAddress(parseNodeAddress(entry, { what: `${what} entry ${i}` }));
    const before = seen.get(address.toLowerCase());
    if (before !== undefined) {
      throw new CdfsError(
        "USAGE",
        `${what}: ${address} is listed twice (logical nodes ${before} and ${i}); ` +
          "each logical node needs its own datanode",
      );
    }
    seen.set(address.toLowerCase(), i);
    addresses.push(address);
  });
  return addresses;
}

/**
 * Where a command's node list came from, and the list.
 *
 * @example
 * ```ts
 * import type { NodeList } from "./node_list.ts";
 * const list: NodeList = { addresses: ["127.0.0.1:13100"], source: "--nodes" };
 * ```
 */
export interface NodeList {
  /** The addresses, logical node i = `addresses[i]`. */
  readonly addresses: readonly string[];
  /** Where they came from, for messages (`--nodes`, `CDFS_NODES`). */
  readonly source: string;
}

/**
 * The node list of a command: `--nodes`, else `--cluster`, else `$CDFS_NODES` or
 * `$CDFS_CLUSTER` (not both).
 *
 * @example
 * ```ts
 * import { nodeListArgument } from "./node_list.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * const list = nodeListArgument(ctx, { values: { nodes: "h1:1,h2:2" }, positionals: [] });
 * console.log(list.addresses.length); // 2
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments, with the options of {@linkcode NODE_LIST_OPTIONS}.
 * @returns The list.
 * @throws {CdfsError} USAGE when no list is given, it does not parse, or the environment has
 * both `CDFS_NODES` and `CDFS_CLUSTER` and no option picks one.
 */
export function nodeListArgument(ctx: CliContext, args: ParsedArgs): NodeList {
  return addressesFrom(ctx, args, {
    option: "nodes",
    variable: "CDFS_NODES",
    value: "HOST:PORT,...",
    fromCluster: clusterNodes,
  });
}

/**
 * Where a command's addresses may come from: an option, a variable, and what a cluster file
 * gives ({@linkcode addressesFrom}).
 *
 * @example
 * ```ts
 * import type { AddressSources } from "./node_list.ts";
 * const sources: AddressSources = {
 *   option: "nodes",
 *   variable: "CDFS_NODES",
 *   value: "HOST:PORT,...",
 *   fromCluster: (path) => ({ addresses: ["127.0.0.1:13100"], source: path }),
 * };
 * ```
 */
export interface AddressSources {
  /** The option's name, without `--` (`nodes`, `namenode`). */
  readonly option: string;
  /** The environment variable (`CDFS_NODES`, `CDFS_NAMENODE`). */
  readonly variable: string;
  /** The option's value as the usage error shows it (`HOST:PORT,...`). */
  readonly value: string;
  /** The addresses a cluster file gives. */
  readonly fromCluster: (path: string) => { addresses: string[]; source: string };
}

/**
 * A command's addresses: the option, else `--cluster`, else the variable or `$CDFS_CLUSTER`
 * (not both): the precedence of {@linkcode nodeListArgument} and of the namenode option.
 *
 * @example
 * ```ts
 * import { addressesFrom } from "./node_list.ts";
 * const env = (name: string) => name === "CDFS_NODES" ? "h1:1,h2:2" : undefined;
 * const ctx = { out() {}, err() {}, isTerminal: false, env };
 * const found = addressesFrom(ctx, { values: {}, positionals: [] }, {
 *   option: "nodes",
 *   variable: "CDFS_NODES",
 *   value: "HOST:PORT,...",
 *   fromCluster: (path) => ({ addresses: [], source: path }),
 * });
 * console.log(found.addresses.length, found.source); // 2 "CDFS_NODES"
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments.
 * @param sources The option, the variable and how a cluster file is read.
 * @returns The addresses in canonical form, and the option, variable or file they came from.
 * @throws {CdfsError} USAGE when none are named, they do not parse, or the environment has both
 * the variable and `CDFS_CLUSTER` and no option picks one.
 */
export function addressesFrom(
  ctx: CliContext,
  args: ParsedArgs,
  sources: AddressSources,
): { addresses: string[]; source: string } {
  const { option, variable } = sources;
  const fromOption = stringOption(args, option);
  if (fromOption !== undefined) {
    return { addresses: parseNodeList(fromOption, `--${option}`), source: `--${option}` };
  }
  // Precedence: the option, --cluster, then the variable or $CDFS_CLUSTER (options before
  // environment). Both variables set is refused: they may well name different nodes, and a
  // silent pick would fail later and elsewhere ("no manifest on any of the nodes").
  const clusterOption = optionalClusterPath(ctx, args, { fromEnv: false });
  if (clusterOption !== undefined) return sources.fromCluster(clusterOption);
  const fromEnv = ctx.env(variable);
  if (fromEnv !== undefined && ctx.env("CDFS_CLUSTER") !== undefined) {
    throw new CdfsError(
      "USAGE",
      `${variable} and CDFS_CLUSTER are both set: pick one with --${option} or --cluster, or ` +
        "unset one of them",
    );
  }
  if (fromEnv !== undefined) {
    return { addresses: parseNodeList(fromEnv, variable), source: variable };
  }
  const clusterEnv = optionalClusterPath(ctx, args);
  if (clusterEnv !== undefined) return sources.fromCluster(clusterEnv);
  throw new CdfsError(
    "USAGE",
    `--${option} ${sources.value} or --cluster FILE is required (or set ${variable} or ` +
      "CDFS_CLUSTER)",
  );
}

function clusterNodes(path: string): { addresses: string[]; source: string } {
  return { addresses: clusterNodeAddresses(readClusterFileSync(path)), source: path };
}

/**
 * Checks that a node list fits a module exactly.
 *
 * @example
 * ```ts
 * import { checkNodeCount } from "./node_list.ts";
 * import { codingModule } from "../../coding/replication.ts";
 * checkNodeCount(codingModule, { addresses: ["a:1", "b:1", "c:1"], source: "--nodes" });
 * ```
 *
 * @param module The coding module.
 * @param list The node list.
 * @throws {CdfsError} USAGE: "rapidraid needs 16 nodes, got 3".
 */
export function checkNodeCount(module: CodingModule, list: NodeList): void {
  const needed = moduleNodeCount(module);
  if (list.addresses.length !== needed) {
    throw new CdfsError(
      "USAGE",
      `${module.name} needs ${needed} nodes, got ${list.addresses.length}` +
        (list.source === "--nodes" ? "" : ` in ${list.source}`),
    );
  }
}
