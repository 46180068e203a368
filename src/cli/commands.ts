/**
 * The list of every cdfs sub-command, in the order `cdfs --help` shows them.
 *
 * @module
 */
import type { Command } from "./command.ts";
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
export const COMMANDS: readonly Command[] = [demoCommand];
