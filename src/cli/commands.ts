/**
 * The list of every cdfs sub-command, in the order `cdfs --help` shows them.
 *
 * @module
 */
import { BENCH_COMMANDS } from "./bench.ts";
import { BLOCK_COMMANDS } from "./blocks.ts";
import { CLUSTER_COMMANDS } from "./cluster.ts";
import { CODING_COMMANDS } from "./coding.ts";
import type { Command } from "./command.ts";
import { datanodeServeCommand } from "./datanode.ts";
import { demoCommand } from "./demo.ts";

/**
 * Every sub-command.
 *
 * @example
 * ```ts
 * import { COMMANDS } from "./commands.ts";
 * console.log(COMMANDS.map((c) => c.name));
 * ```
 */
export const COMMANDS: readonly Command[] = [
  ...BLOCK_COMMANDS,
  ...CODING_COMMANDS,
  datanodeServeCommand,
  ...CLUSTER_COMMANDS,
  demoCommand,
  ...BENCH_COMMANDS,
];
