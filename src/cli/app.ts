/**
 * The command-line application: finds the sub-command named by the first words of argv, parses
 * its options, runs it, and turns failures into one clear line and an exit code.
 *
 * @module
 */
import { CdfsError, isCdfsError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { type CliContext, type Command, parseCommandArgs } from "./command.ts";

/** Exit code of a failed command. */
export const EXIT_FAILURE = 1;
/** Exit code of a usage error (unknown command or option, missing argument). */
export const EXIT_USAGE = 2;

/**
 * Finds the command whose name matches the most leading words of `argv`.
 *
 * @example
 * ```ts
 * import { resolveCommand } from "./app.ts";
 * const found = resolveCommand([], ["x"]);
 * console.log(found); // undefined
 * ```
 *
 * @param commands The known commands.
 * @param argv The arguments after the program name.
 * @returns The command and the remaining arguments, or undefined.
 */
export function resolveCommand(
  commands: readonly Command[],
  argv: readonly string[],
): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  let bestWords = 0;
  for (const command of commands) {
    const words = command.name.split(" ");
    if (words.length > bestWords && words.every((w, i) => argv[i] === w)) {
      best = command;
      bestWords = words.length;
    }
  }
  return best ? { command: best, rest: argv.slice(bestWords) } : undefined;
}

/**
 * The top-level help: what cdfs is and the list of commands (hidden ones left out).
 *
 * @example
 * ```ts
 * import { formatMainHelp } from "./app.ts";
 * console.log(formatMainHelp([]).startsWith("cdfs")); // true
 * ```
 *
 * @param commands The known commands.
 * @returns The help text.
 */
export function formatMainHelp(commands: readonly Command[]): string {
  const listed = commands.filter((c) => c.hidden !== true);
  const width = Math.max(0, ...listed.map((c) => c.name.length));
  const rows = listed.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    `cdfs ${VERSION}: a distributed storage system for prototyping network (erasure) codes`,
    "",
    "Usage: cdfs <command> [options]    (cdfs <command> --help for a command's options)",
    "",
    "Commands:",
    ...rows,
    "",
    "Global options:",
    "  --version   print the version",
    "  --debug     print stack traces of errors",
    "  -h, --help  this help",
    "",
  ].join("\n");
}

/**
 * The help of one command, from its synopsis, description and option table.
 *
 * @example
 * ```ts
 * import { formatCommandHelp } from "./app.ts";
 * const text = formatCommandHelp({
 *   name: "x",
 *   summary: "does x",
 *   usage: "cdfs x",
 *   options: {},
 *   run: () => Promise.resolve(0),
 * });
 * console.log(text.includes("cdfs x")); // true
 * ```
 *
 * @param command The command.
 * @returns The help text.
 */
export function formatCommandHelp(command: Command): string {
  const lines = [`Usage: ${command.usage}`, "", command.summary];
  if (command.description) lines.push("", command.description.trimEnd());
  return lines.join("\n") + "\n";
}

/**
 * Runs cdfs with the given arguments; resolves to the exit code. Errors become one line on
 * stderr (`cdfs: error: …`), with the stack trace only under `--debug`.
 *
 * @example
 * ```ts
 * import { runCli } from "./app.ts";
 * const out: string[] = [];
 * const ctx = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), isTerminal: false, env: () => undefined };
 * const code = await runCli([], ctx, ["--version"]);
 * console.log(code, out.join("")); // 0 "cdfs 0.1.0\n"
 * ```
 *
 * @param commands The known commands.
 * @param ctx Where output goes.
 * @param argv The arguments after the program name.
 * @returns The exit code.
 */
export async function runCli(
  commands: readonly Command[],
  ctx: CliContext,
  argv: readonly string[],
): Promise<number> {
  const debug = argv.includes("--debug");
  const words = argv.filter((a) => a !== "--debug");
  try {
    if (words[0] === "--version" || words[0] === "version") {
      ctx.out(`cdfs ${VERSION}\n`);
      return 0;
    }
    if (words.length === 0 || words[0] === "--help" || words[0] === "-h" || words[0] === "help") {
      const topic = words[0] === "help" ? resolveCommand(commands, words.slice(1)) : undefined;
      ctx.out(topic ? formatCommandHelp(topic.command) : formatMainHelp(commands));
      return 0;
    }
    const found = resolveCommand(commands, words);
    if (!found) {
      const group = commands.filter((c) => c.hidden !== true && c.name.startsWith(`${words[0]} `));
      const hint = group.length > 0
        ? `; '${words[0]}' takes one of: ${group.map((c) => c.name.split(" ")[1]).join(", ")}`
        : "; see 'cdfs --help'";
      throw new CdfsError("USAGE", `unknown command '${words.join(" ")}'${hint}`);
    }
    const args = parseCommandArgs(found.command.options, found.rest);
    if (args.values.help === true) {
      ctx.out(formatCommandHelp(found.command));
      return 0;
    }
    return await found.command.run(ctx, args);
  } catch (e) {
    ctx.err(`cdfs: error: ${describeError(e)}\n`);
    if (debug && e instanceof Error && e.stack) ctx.err(`${e.stack}\n`);
    if (isCdfsError(e, "USAGE")) return EXIT_USAGE;
    return EXIT_FAILURE;
  }
}

/**
 * One line describing any thrown value, with the code of a {@linkcode CdfsError}.
 *
 * @example
 * ```ts
 * import { describeError } from "./app.ts";
 * console.log(describeError(new Error("boom"))); // "boom"
 * ```
 *
 * @param error What was thrown.
 * @returns One line.
 */
export function describeError(error: unknown): string {
  if (isCdfsError(error)) {
    return error.code === "USAGE" ? error.message : `${error.message} (${error.code})`;
  }
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.name;
  return String(error);
}
