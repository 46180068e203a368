/**
 * One line of JSON on a command's standard output: what `--json` prints.
 *
 * @module
 */
import type { CliContext } from "./command.ts";

/**
 * Prints a value as one line of JSON.
 *
 * @example
 * ```ts
 * import { printJson } from "./json_line.ts";
 * printJson({ out: (t) => console.log(t), err() {}, isTerminal: false, env: () => undefined }, { a: 1 });
 * ```
 *
 * @param ctx The command's context.
 * @param value The value.
 */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(`${JSON.stringify(value)}\n`);
}
