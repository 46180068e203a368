/**
 * `cdfs`: the one binary — DataNode server, client commands and the coding interpreter.
 * The only module that touches the terminal: commands write through the context given here.
 *
 * @example
 * ```sh
 * deno run -A main.ts --help
 * ```
 *
 * @module
 */
import { runCli } from "./src/cli/app.ts";
import { COMMANDS, GROUPS } from "./src/cli/commands.ts";
import type { CliContext } from "./src/cli/command.ts";

const encoder = new TextEncoder();

/**
 * The context of the real process: stdout, stderr, stdin, whether stderr and stdin are
 * terminals, and the environment.
 *
 * @example
 * ```ts
 * import { processContext } from "./main.ts";
 * processContext().out("hello\n");
 * ```
 *
 * @returns The context.
 */
export function processContext(): CliContext {
  return {
    out: (text) => writeAll(Deno.stdout, text),
    err: (text) => writeAll(Deno.stderr, text),
    isTerminal: Deno.stderr.isTerminal(),
    env: (name) => Deno.env.get(name),
    stdin: Deno.stdin,
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stdout: Deno.stdout,
  };
}

function writeAll(target: typeof Deno.stdout, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  Deno.exit(await runCli(COMMANDS, processContext(), Deno.args, GROUPS));
}
