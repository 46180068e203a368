/**
 * Which namenode the file commands talk to: `--namenode ADDR[,ADDR]`, else the namenode of the
 * cluster `--cluster` names (its file's `namenode.address`), else `$CDFS_NAMENODE`, else the
 * cluster of `$CDFS_CLUSTER`: options before the environment, as for the node list
 * (`node_list.ts`). Several addresses are namenodes sharing one metadata store; the client uses
 * the first that answers.
 *
 * @module
 */
import { readClusterFileSync } from "../cluster/cluster_file_io.ts";
import { CdfsError } from "../core/errors.ts";
import { NameNodeClient } from "../namenode/client.ts";
import type { CliContext, OptionSpec, ParsedArgs } from "./command.ts";
import { addressesFrom } from "./node_list.ts";
import { clusterOption } from "./options.ts";

/**
 * The options that name the namenode, with their help, for a command's `options`.
 */
export const NAMENODE_OPTIONS: OptionSpec = {
  namenode: {
    type: "string",
    value: "ADDR[,ADDR]",
    description: "the namenode, HOST:PORT; several (sharing one metadata store) comma " +
      "separated, the first that answers is used",
    env: "CDFS_NAMENODE",
  },
  ...clusterOption(
    "the namenode of a cluster started by 'cdfs cluster up' (its file's " +
      "namenode.address)",
  ),
};

/**
 * The namenode addresses a command names, and where they came from.
 *
 * @example
 * ```ts
 * import { namenodeAddresses } from "./namenode_option.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * const found = namenodeAddresses(ctx, { values: { namenode: "10.0.0.1:13000" }, positionals: [] });
 * console.log(found.addresses, found.source); // [ "10.0.0.1:13000" ] "--namenode"
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments, with {@linkcode NAMENODE_OPTIONS}.
 * @returns The addresses in canonical form, and the option, variable or file they came from.
 * @throws {CdfsError} USAGE when none is named, one does not parse, a cluster file has no
 * namenode, or both `CDFS_NAMENODE` and `CDFS_CLUSTER` are set and no option picks one.
 */
export function namenodeAddresses(
  ctx: CliContext,
  args: ParsedArgs,
): { addresses: string[]; source: string } {
  return addressesFrom(ctx, args, {
    option: "namenode",
    variable: "CDFS_NAMENODE",
    value: "HOST:PORT",
    fromCluster: clusterNamenode,
  });
}

/**
 * Connects to the namenode a command names (the first of its addresses that answers).
 *
 * @example
 * Not run by `deno test --doc`: it needs a CLI context and a running cluster.
 * ```ts ignore
 * import { connectNamenode } from "./namenode_option.ts";
 * using namenode = await connectNamenode(ctx, args);
 * ```
 *
 * @param ctx The command's context.
 * @param args The parsed arguments.
 * @returns The client; close it (`using`).
 * @throws {CdfsError} As {@linkcode namenodeAddresses}; `UNAVAILABLE` naming why each
 * namenode could not be reached.
 */
export async function connectNamenode(ctx: CliContext, args: ParsedArgs): Promise<NameNodeClient> {
  return await NameNodeClient.connect(namenodeAddresses(ctx, args).addresses);
}

/** The namenode of a cluster file (`cluster up` records it; older clusters have none). */
function clusterNamenode(path: string): { addresses: string[]; source: string } {
  const address = readClusterFileSync(path).namenode?.address;
  if (address === undefined) {
    throw new CdfsError(
      "USAGE",
      `cluster file ${path} names no namenode (a cluster started without one); name one ` +
        "with --namenode HOST:PORT",
    );
  }
  return { addresses: [address], source: path };
}
