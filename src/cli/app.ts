/**
 * The command-line application: finds the sub-command named by the first words of argv (or
 * shows help: of everything, of a group, of a command), parses its options, runs it, and turns
 * failures into one clear line and an exit code.
 *
 * @module
 */
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { VERSION } from "../core/version.ts";
import {
  type CliContext,
  type Command,
  type CommandGroup,
  parseCommandArgs,
  type ParsedArgs,
} from "./command.ts";
import {
  formatCommandHelp,
  formatGroupHelp,
  formatMainHelp,
  groupCommands,
  groupNames,
} from "./help.ts";
import { closestNames, didYouMean } from "./suggest.ts";
import { setDefaultSigner } from "../protocol/auth.ts";
import { setDefaultTls } from "../protocol/tls.ts";
import { clientTls } from "./tls_options.ts";
import { clientSigner } from "./secrets.ts";

export { formatCommandHelp, formatGroupHelp, formatMainHelp } from "./help.ts";

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
 * Resolves the command `argv` names and parses its arguments, without running it: what
 * {@linkcode runCli} does before it runs a command (and what the tests do to every example of
 * the help).
 *
 * @example
 * ```ts
 * import { parseInvocation } from "./app.ts";
 * import { COMMANDS } from "./commands.ts";
 * const argv = ["block", "ls", "--node", "127.0.0.1:13100"];
 * const { command, args } = parseInvocation(COMMANDS, argv);
 * console.log(command.name, args.values.node); // "block ls" "127.0.0.1:13100"
 * ```
 *
 * @param commands The known commands.
 * @param argv The arguments after the program name.
 * @returns The command and its parsed arguments (`values.help` when help was asked for).
 * @throws {CdfsError} USAGE for an unknown command (with suggestions) or bad arguments.
 */
export function parseInvocation(
  commands: readonly Command[],
  argv: readonly string[],
): { command: Command; args: ParsedArgs } {
  const found = resolveCommand(commands, argv);
  if (!found) throw unknownCommand(commands, argv);
  try {
    return {
      command: found.command,
      args: parseCommandArgs(found.command.options, found.rest, found.command),
    };
  } catch (e) {
    throw withSiblingOption(commands, found.command, e);
  }
}

/**
 * An unknown option that no option of this command is close to may belong to a command of the
 * same last word in another group (`cdfs ls --nod 0`: the file `ls` has no `--node`, the
 * block `ls` has): the error then names that command.
 */
function withSiblingOption(
  commands: readonly Command[],
  command: Command,
  error: unknown,
): unknown {
  if (!isCdfsError(error, "USAGE") || error.message.includes("did you mean")) return error;
  const unknown = /unknown option '--([^'=]+)'/.exec(error.message);
  if (unknown === null) return error;
  const last = command.name.split(" ").at(-1)!;
  for (const sibling of commands) {
    if (sibling === command || sibling.name.split(" ").at(-1) !== last) continue;
    const [close] = closestNames(unknown[1]!, Object.keys(sibling.options));
    if (close === undefined) continue;
    return new CdfsError(
      "USAGE",
      `${command.name}: unknown option '--${unknown[1]}' (did you mean ` +
        `'cdfs ${sibling.name} --${close}'? ${sibling.summary.charAt(0).toLowerCase()}` +
        `${sibling.summary.slice(1)}); see 'cdfs ${command.name} --help'`,
    );
  }
  return error;
}

/**
 * Runs cdfs with the given arguments; resolves to the exit code. Errors become one line on
 * stderr (`cdfs: error: …`), with the stack trace only under `--debug`. Help goes to stdout:
 * `cdfs`, `cdfs --help` (the command list), `cdfs GROUP`, `cdfs GROUP --help`, `cdfs help
 * GROUP` (a group's commands), `cdfs COMMAND --help`, `cdfs help COMMAND`.
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
 * @param groups The summaries of the command groups, for their help.
 * @returns The exit code.
 */
export async function runCli(
  commands: readonly Command[],
  ctx: CliContext,
  argv: readonly string[],
  groups: readonly CommandGroup[] = [],
): Promise<number> {
  const debug = argv.includes("--debug");
  const words = argv.filter((a) => a !== "--debug");
  try {
    if (words[0] === "--version" || words[0] === "version") {
      ctx.out(`cdfs ${VERSION}\n`);
      return 0;
    }
    if (words.length === 0 || isHelpFlag(words[0]!)) {
      ctx.out(formatMainHelp(commands));
      return 0;
    }
    if (words[0] === "help") {
      ctx.out(helpTopic(commands, groups, words.slice(1)));
      return 0;
    }
    const group = groupNames(commands).includes(words[0]!) ? words[0]! : undefined;
    if (group !== undefined && (words.length === 1 || isHelpFlag(words[1]!))) {
      ctx.out(formatGroupHelp(commands, groups, group));
      return 0;
    }
    const { command, args } = parseInvocation(commands, words);
    if (args.values.help === true) {
      ctx.out(formatCommandHelp(command));
      return 0;
    }
    // Requests are signed with the secret the command names, and connections use the TLS it
    // names, for this command only.
    const signer = await clientSigner(ctx, args);
    const tls = await clientTls(ctx, args);
    const before = setDefaultSigner(signer);
    const tlsBefore = setDefaultTls(tls);
    try {
      return await command.run(ctx, args);
    } finally {
      setDefaultSigner(before);
      setDefaultTls(tlsBefore);
    }
  } catch (e) {
    ctx.err(`cdfs: error: ${describeError(e)}\n`);
    if (debug && e instanceof Error && e.stack) ctx.err(`${e.stack}\n`);
    if (isCdfsError(e, "USAGE")) return EXIT_USAGE;
    return EXIT_FAILURE;
  }
}

/** The text of `cdfs help [WORDS...]`: the command list, a group's help or a command's. */
function helpTopic(
  commands: readonly Command[],
  groups: readonly CommandGroup[],
  topic: readonly string[],
): string {
  if (topic.length === 0 || (topic.length === 1 && topic[0] === "help")) {
    return formatMainHelp(commands);
  }
  const found = resolveCommand(commands, topic);
  if (found !== undefined) return formatCommandHelp(found.command);
  if (topic.length === 1 && groupNames(commands).includes(topic[0]!)) {
    return formatGroupHelp(commands, groups, topic[0]!);
  }
  throw unknownCommand(commands, topic);
}

function isHelpFlag(word: string): boolean {
  return word === "--help" || word === "-h";
}

/**
 * The usage error for words that name no command: the closest commands suggested, and for a
 * group the commands it has.
 */
function unknownCommand(commands: readonly Command[], words: readonly string[]): CdfsError {
  const groups = groupNames(commands);
  const [first = "", second] = words;
  const subcommands = (group: string) =>
    groupCommands(commands, group).map((c) => c.name.slice(group.length + 1));
  if (groups.includes(first) && second !== undefined) {
    const takes = `'${first}' takes one of: ${subcommands(first).join(", ")}`;
    if (second.startsWith("-")) {
      return new CdfsError("USAGE", `${first}: name a command before '${second}'; ${takes}`);
    }
    const close = closestNames(second, subcommands(first)).map((s) => `'${first} ${s}'`);
    return new CdfsError(
      "USAGE",
      `unknown command '${first} ${second}'${didYouMean(close)}; ${takes}`,
    );
  }
  if (first.startsWith("-")) {
    return new CdfsError(
      "USAGE",
      `unknown option '${first}': name a command first; see 'cdfs --help'`,
    );
  }
  const topWords = [
    ...new Set(commands.filter((c) => c.hidden !== true).map((c) => c.name.split(" ")[0]!)),
  ];
  // A word that is a command of a group (`stor` for `block store`) is suggested with its group,
  // unless the same word is a command at the top too.
  const inGroups = new Map<string, string>();
  for (const c of commands) {
    const [group, sub] = c.name.split(" ");
    if (c.hidden !== true && sub !== undefined && !topWords.includes(sub) && !inGroups.has(sub)) {
      inGroups.set(sub, `${group} ${sub}`);
    }
  }
  let shown = first;
  const candidates = [...topWords, "help", ...inGroups.keys()];
  const suggestions = closestNames(first, candidates).map((word) => {
    const grouped = inGroups.get(word);
    if (grouped !== undefined && !topWords.includes(word)) return `'${grouped}'`;
    // A mistyped group with a sub-command after it: suggest the whole command.
    if (!groups.includes(word) || second === undefined || second.startsWith("-")) {
      return `'${word}'`;
    }
    const sub = subcommands(word).includes(second)
      ? [second]
      : closestNames(second, subcommands(word));
    if (sub.length === 0) return `'${word}'`;
    shown = `${first} ${second}`;
    return `'${word} ${sub[0]}'`;
  });
  return new CdfsError(
    "USAGE",
    `unknown command '${shown}'${didYouMean(suggestions)}; see 'cdfs --help'`,
  );
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
