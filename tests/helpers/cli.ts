/**
 * Runs the `cdfs` command line in this process, capturing what it prints.
 *
 * @module
 */
import { runCli } from "../../src/cli/app.ts";
import type { CliContext } from "../../src/cli/command.ts";
import { COMMANDS } from "../../src/cli/commands.ts";

/** What a command printed and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `cdfs ARGS` with standard output and error captured.
 *
 * @example
 * ```ts ignore
 * import { runCdfs } from "./cli.ts";
 * const { code, out } = await runCdfs(["code", "list"]);
 * ```
 *
 * @param args The arguments after `cdfs`.
 * @param options The environment, standard input and output, and whether stderr is a terminal.
 * @returns The exit code and the text printed.
 */
export async function runCdfs(
  args: string[],
  options: {
    env?: Record<string, string>;
    stdin?: CliContext["stdin"];
    stdout?: CliContext["stdout"];
    isTerminal?: boolean;
  } = {},
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    isTerminal: options.isTerminal ?? false,
    env: (name) => options.env?.[name],
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    ...(options.stdout === undefined ? {} : { stdout: options.stdout }),
  };
  const code = await runCli(COMMANDS, ctx, args);
  return { code, out: out.join(""), err: err.join("") };
}
