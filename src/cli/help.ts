/**
 * The help texts of cdfs, generated from the command declarations: the command list
 * (`cdfs --help`), a group's commands (`cdfs cluster --help`) and one command's help, whose
 * options section is laid out from its option table (flag, short form, value name,
 * description, default, environment variable), so it cannot drift from what is parsed.
 *
 * @module
 */
import { VERSION } from "../core/version.ts";
import { formatColumns } from "../format/columns.ts";
import {
  type ArgumentDef,
  type Command,
  type CommandGroup,
  formatArguments,
  HELP_OPTION,
  type OptionDef,
  type OptionSpec,
} from "./command.ts";

/** The width help text is wrapped to: that of the hand-written help it replaced. */
const HELP_WIDTH = 92;
/** A flag column wider than this puts that option's description on the next line. */
const MAX_FLAG_WIDTH = 30;

/**
 * The top-level help: what cdfs is and the list of commands (hidden ones left out).
 *
 * @example
 * ```ts
 * import { formatMainHelp } from "./help.ts";
 * console.log(formatMainHelp([]).startsWith("cdfs")); // true
 * ```
 *
 * @param commands The known commands.
 * @returns The help text.
 */
export function formatMainHelp(commands: readonly Command[]): string {
  const rows = listed(commands).map((c) => [`  ${c.name}`, c.summary]);
  return [
    `cdfs ${VERSION}: a distributed storage system for prototyping network (erasure) codes`,
    "",
    "Usage: cdfs <command> [options]",
    "       cdfs help <command>       (or cdfs <command> --help: its options and examples)",
    "",
    "Commands:",
    ...formatColumns(rows, 2),
    "",
    "Global options:",
    ...formatColumns([
      ["  --version", "print the version"],
      ["  --debug", "print stack traces of errors"],
      ["  -h, --help", "this help"],
    ], 2),
    "",
  ].join("\n");
}

/**
 * The groups of commands: the first words that several commands share (`cluster`, `code`), or
 * that a single multi-word command starts with (`datanode serve`). Hidden commands count only
 * for groups that have a listed one.
 *
 * @example
 * ```ts
 * import { groupNames } from "./help.ts";
 * import { COMMANDS } from "./commands.ts";
 * console.log(groupNames(COMMANDS).slice(0, 3)); // [ "block", "object", "code" ]
 * ```
 *
 * @param commands The known commands.
 * @returns The group names, in the order of their first command.
 */
export function groupNames(commands: readonly Command[]): string[] {
  const names = listed(commands).filter((c) => c.name.includes(" ")).map((c) => firstWord(c));
  return [...new Set(names)];
}

/**
 * The listed commands of a group, by their second word.
 *
 * @example
 * ```ts
 * import { groupCommands } from "./help.ts";
 * import { COMMANDS } from "./commands.ts";
 * console.log(groupCommands(COMMANDS, "code").map((c) => c.name)); // [ "code list", "code inspect" ]
 * ```
 *
 * @param commands The known commands.
 * @param group The group's name.
 * @returns Its commands that are not hidden.
 */
export function groupCommands(commands: readonly Command[], group: string): Command[] {
  return listed(commands).filter((c) => c.name.startsWith(`${group} `));
}

/**
 * The help of a group: its summary and its commands, each with its own summary.
 *
 * @example
 * ```ts
 * import { formatGroupHelp } from "./help.ts";
 * import { COMMANDS, GROUPS } from "./commands.ts";
 * console.log(formatGroupHelp(COMMANDS, GROUPS, "code"));
 * // Usage: cdfs code <command> [options]
 * // ...
 * //   list     List the coding modules: ...
 * ```
 *
 * @param commands The known commands.
 * @param groups The groups' summaries (a group without one is listed all the same).
 * @param group The group's name.
 * @returns The help text.
 */
export function formatGroupHelp(
  commands: readonly Command[],
  groups: readonly CommandGroup[],
  group: string,
): string {
  const summary = groups.find((g) => g.name === group)?.summary;
  const rows = groupCommands(commands, group).map((c) => [
    `  ${c.name.slice(group.length + 1)}`,
    c.summary,
  ]);
  return [
    `Usage: cdfs ${group} <command> [options]`,
    ...(summary === undefined ? [] : ["", summary]),
    "",
    "Commands:",
    ...formatColumns(rows, 2),
    "",
    `'cdfs ${group} <command> --help' shows a command's options and examples.`,
    "",
  ].join("\n");
}

/**
 * The help of one command: synopsis, summary, description, then its arguments, options and
 * examples, each section generated from the declaration.
 *
 * @example
 * ```ts
 * import { formatCommandHelp } from "./help.ts";
 * const text = formatCommandHelp({
 *   name: "x",
 *   summary: "does x",
 *   usage: "cdfs x [--fast]",
 *   options: { fast: { type: "boolean", description: "quickly" } },
 *   examples: ["cdfs x --fast"],
 *   run: () => Promise.resolve(0),
 * });
 * console.log(text.includes("      --fast  quickly")); // true
 * ```
 *
 * @param command The command.
 * @returns The help text.
 */
export function formatCommandHelp(command: Command): string {
  const lines = [`Usage: ${command.usage}`, "", command.summary];
  if (command.description) lines.push("", command.description.trimEnd());
  const args = command.arguments ?? [];
  if (args.some((a) => a.description !== undefined)) {
    lines.push("", "Arguments:", ...formatArgumentList(args));
  }
  lines.push("", "Options:", ...formatOptionList(command.options));
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push("", command.examples.length === 1 ? "Example:" : "Examples:");
    lines.push(...command.examples.map((e) => `  ${e}`));
  }
  return lines.join("\n") + "\n";
}

/**
 * The flag as the options section shows it: `-n, --node HOST:PORT`, `    --json`.
 *
 * @example
 * ```ts
 * import { formatFlag } from "./help.ts";
 * console.log(formatFlag("node", { type: "string", short: "n", value: "HOST:PORT" }));
 * // "-n, --node HOST:PORT"
 * ```
 *
 * @param name The option's long name.
 * @param def Its definition.
 * @returns The flag text.
 */
export function formatFlag(name: string, def: OptionDef): string {
  const short = def.short === undefined ? "    " : `-${def.short}, `;
  return `${short}--${name}${def.type === "string" ? ` ${def.value ?? "VALUE"}` : ""}`;
}

/** The options section: every option of the table and --help, one entry each. */
function formatOptionList(options: OptionSpec): string[] {
  const entries: [string, string][] = Object.entries({ ...options, help: HELP_OPTION }).map((
    [name, def],
  ) => [formatFlag(name, def), optionText(def)]);
  return formatEntries(entries);
}

/** An option's description with what help adds: repeatable, its default and variable. */
function optionText(def: OptionDef): string {
  const notes: string[] = [];
  if (def.multiple) notes.push("repeatable");
  const defaults = [
    ...(def.env === undefined ? [] : [`$${def.env}`]),
    ...(def.default === undefined ? [] : [String(def.default)]),
  ];
  if (defaults.length > 0) notes.push(`default: ${defaults.join(", else ")}`);
  const text = def.description ?? "";
  if (notes.length === 0) return text;
  // "runs at once (0: none)" and a default read as one aside, not two in a row.
  if (text.endsWith(")")) return `${text.slice(0, -1)}; ${notes.join("; ")})`;
  return `${text} (${notes.join("; ")})`.trimStart();
}

function formatArgumentList(args: readonly ArgumentDef[]): string[] {
  return formatEntries(args.map((a) => [formatArguments([a]), a.description ?? ""]));
}

/** Two columns, the second wrapped; a first cell too wide gets its own line. */
function formatEntries(entries: readonly [string, string][]): string[] {
  const fitting = entries.map(([head]) => head.length).filter((n) => n <= MAX_FLAG_WIDTH);
  const column = 2 + Math.max(0, ...fitting) + 2;
  const lines: string[] = [];
  for (const [head, text] of entries) {
    const wrapped = wrap(text, HELP_WIDTH - column);
    const first = `  ${head}`;
    if (first.length + 2 > column) {
      lines.push(first);
    } else {
      lines.push(`${first.padEnd(column)}${wrapped.shift() ?? ""}`.trimEnd());
    }
    for (const line of wrapped) lines.push(`${" ".repeat(column)}${line}`);
  }
  return lines;
}

/** Greedy word wrap; a word longer than the width stays whole on its own line. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

function listed(commands: readonly Command[]): Command[] {
  return commands.filter((c) => c.hidden !== true);
}

function firstWord(command: Command): string {
  return command.name.split(" ")[0]!;
}
