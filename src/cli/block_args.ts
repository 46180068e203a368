/**
 * The arguments of the block commands: the datanode (`--node HOST:PORT`, `$CDFS_NODE`, or an
 * index into the cluster of `--cluster`) and the block id, both checked as usage errors.
 *
 * @module
 */
import { parseNodeAddress } from "../core/address.ts";
import { validateBlockId } from "../core/block_id.ts";
import { clusterNodeAddresses } from "../cluster/cluster_file.ts";
import { readClusterFileSync } from "../cluster/cluster_file_io.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { optionalClusterPath } from "./cluster_options.ts";
import {
  type ArgumentDef,
  type CliContext,
  type OptionSpec,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { clusterOption } from "./options.ts";

/**
 * The node a block command talks to: an address, or an index into a cluster.
 *
 * @example
 * ```ts
 * import { NODE_OPTIONS } from "./block_args.ts";
 * console.log(Object.keys(NODE_OPTIONS)); // [ "node", "cluster" ]
 * ```
 */
export const NODE_OPTIONS: OptionSpec = {
  node: {
    type: "string",
    short: "n",
    value: "HOST:PORT",
    description: "the datanode (IPv6 as [::1]:13100), or with --cluster its INDEX there",
    env: "CDFS_NODE",
  },
  ...clusterOption("with --node INDEX: the cluster whose node INDEX is meant"),
};

/** The block id argument of the commands on one block. */
/**
 * The block id argument of the commands on one block.
 *
 * @example
 * ```ts
 * import { BLOCK_ID_ARGUMENT } from "./block_args.ts";
 * console.log(BLOCK_ID_ARGUMENT.name); // "ID"
 * ```
 */
export const BLOCK_ID_ARGUMENT: ArgumentDef = {
  name: "ID",
  description: "the block id: 1 to 200 of A-Z a-z 0-9 . _ - (not '.', nothing with '..')",
};
/**
 * The datanode a block command names: `--node HOST:PORT`, `--node INDEX` of `--cluster`, or
 * `$CDFS_NODE`.
 *
 * @example
 * ```ts
 * import { nodeArgument } from "./block_args.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(nodeArgument(ctx, { values: { node: "127.0.0.1:13100" }, positionals: [] })); // "127.0.0.1:13100"
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments.
 * @returns The node's address.
 * @throws {CdfsError} USAGE when no node, or a bad one, is named.
 */
export function nodeArgument(ctx: CliContext, args: ParsedArgs): string {
  const fromOption = stringOption(args, "node");
  const cluster = optionalClusterPath(ctx, args);
  if (fromOption !== undefined && /^[0-9]+$/.test(fromOption)) {
    if (cluster === undefined) {
      throw new CdfsError(
        "USAGE",
        `--node ${fromOption} is an index: name the cluster (--cluster)`,
      );
    }
    const addresses = clusterNodeAddresses(readClusterFileSync(cluster));
    const address = addresses[Number(fromOption)];
    if (address === undefined) {
      throw new CdfsError(
        "USAGE",
        `--node ${fromOption}: the cluster has nodes 0..${addresses.length - 1}`,
      );
    }
    return address;
  }
  if (fromOption !== undefined) {
    // Checked here so that a typo is a usage error, not a failed connection.
    parseNodeAddress(fromOption, { what: "--node" });
    return fromOption;
  }
  // No --node: the environment names the node, unless --cluster picked a cluster (then the
  // option wins, and its node is an index) or the environment names both a node and a cluster.
  const fromEnv = ctx.env("CDFS_NODE");
  if (fromEnv === undefined || stringOption(args, "cluster") !== undefined) {
    throw new CdfsError(
      "USAGE",
      cluster === undefined
        ? "--node HOST:PORT is required (or set CDFS_NODE)"
        : "name the node of the cluster: --node INDEX",
    );
  }
  if (ctx.env("CDFS_CLUSTER") !== undefined) {
    throw new CdfsError(
      "USAGE",
      "CDFS_NODE and CDFS_CLUSTER are both set: pick the node with --node HOST:PORT or " +
        "--node INDEX (of CDFS_CLUSTER), or unset one of them",
    );
  }
  parseNodeAddress(fromEnv, { what: "CDFS_NODE" });
  return fromEnv;
}
/**
 * Checks a block id as a usage error.
 *
 * @example
 * ```ts
 * import { blockIdArgument } from "./block_args.ts";
 * console.log(blockIdArgument("photo.jpg.0")); // "photo.jpg.0"
 * ```
 *
 * @param id The block id.
 * @returns It.
 * @throws {CdfsError} USAGE when it is not a valid block id.
 */
export function blockIdArgument(id: string): string {
  try {
    return validateBlockId(id);
  } catch (e) {
    throw asUsage(e);
  }
}
/**
 * A cdfs error as a usage error with the same message (anything else as it is).
 *
 * @example
 * ```ts
 * import { asUsage } from "./block_args.ts";
 * import { CdfsError } from "../core/errors.ts";
 * console.log((asUsage(new CdfsError("BAD_REQUEST", "bad id")) as CdfsError).code); // "USAGE"
 * ```
 *
 * @param error What was thrown.
 * @returns The error to throw.
 */
export function asUsage(error: unknown): unknown {
  return isCdfsError(error) ? new CdfsError("USAGE", error.message, { cause: error }) : error;
}
/**
 * A number rounded to three decimals (seconds to the millisecond, milliseconds to the
 * microsecond), for JSON summaries.
 *
 * @example
 * ```ts
 * import { round3 } from "./block_args.ts";
 * console.log(round3(1.23456)); // 1.235
 * ```
 *
 * @param value The number.
 * @returns It, rounded.
 */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
