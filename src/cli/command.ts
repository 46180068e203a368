/**
 * The shape of a cdfs sub-command, declared once as data (its options, arguments and examples
 * with their help texts), and the one place where command-line arguments are parsed (with
 * `node:util` `parseArgs` tokens; every mistake is a one-line usage error in cdfs's words).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { CdfsError } from "../core/errors.ts";
import { closestNames, didYouMean } from "./suggest.ts";

/**
 * What a command may do to the outside world. Commands never print directly (nothing under
 * `src/` does); `main.ts` supplies the real terminal, tests supply buffers.
 *
 * @example
 * ```ts
 * import type { CliContext } from "./command.ts";
 * const lines: string[] = [];
 * const ctx: CliContext = {
 *   out: (t) => lines.push(t),
 *   err: (t) => lines.push(t),
 *   isTerminal: false,
 *   env: (name) => Deno.env.get(name),
 * };
 * ```
 */
export interface CliContext {
  /** Writes text to standard output (the caller adds newlines). */
  out(text: string): void;
  /** Writes text to standard error: progress, warnings. */
  err(text: string): void;
  /** Whether standard error is a terminal (progress bars only then). */
  readonly isTerminal: boolean;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Binary standard input, for commands that read data (`cdfs store ID -`). */
  readonly stdin?: { read(view: Uint8Array): Promise<number | null> };
  /** Whether standard input is a terminal (`cdfs store ID -` then refuses to wait on it). */
  readonly stdinIsTerminal?: boolean;
  /** Binary standard output, for commands that write data (`cdfs retrieve ID`). */
  readonly stdout?: { write(view: Uint8Array): Promise<number> };
}

/**
 * What completion offers for an option's value or an argument: file names, directory names,
 * nothing (a free value such as an address), or a fixed list of words.
 *
 * @example
 * ```ts
 * import type { ValueHint } from "./command.ts";
 * const shells: ValueHint = ["bash", "zsh", "fish"];
 * ```
 */
export type ValueHint = "file" | "dir" | "none" | readonly string[];

/**
 * One option of a command: how it parses (`type`, `short`, `multiple`, as `node:util`
 * `parseArgs` takes them) and how it is documented. The help's options section, the "did you
 * mean" suggestions and the shell completions are all generated from these entries, so an
 * option is described in exactly one place.
 *
 * @example
 * ```ts
 * import type { OptionDef } from "./command.ts";
 * const node: OptionDef = {
 *   type: "string",
 *   short: "n",
 *   value: "HOST:PORT",
 *   description: "the datanode",
 *   env: "CDFS_NODE",
 * };
 * ```
 */
export interface OptionDef {
  /** A flag (`boolean`) or an option with a value (`string`). */
  readonly type: "string" | "boolean";
  /** The one-letter form, without its dash. */
  readonly short?: string;
  /** May be given several times; the values arrive as an array. */
  readonly multiple?: boolean;
  /** The value's placeholder in help, e.g. `HOST:PORT` (default `VALUE`). */
  readonly value?: string;
  /** What it does, one sentence without a trailing period (wrapped by the help). */
  readonly description?: string;
  /**
   * The value used when it is absent, as help shows it. Documentation only: the command
   * applies its default itself, so an absent option stays absent in {@linkcode ParsedArgs}.
   */
  readonly default?: string | number;
  /** The environment variable read when the option is absent. */
  readonly env?: string;
  /** What completion offers for the value (default: from `value`, FILE or DIR, else none). */
  readonly complete?: ValueHint;
}

/**
 * The option table of a command: long name (without dashes) to {@linkcode OptionDef}.
 *
 * @example
 * ```ts
 * import type { OptionSpec } from "./command.ts";
 * const spec: OptionSpec = {
 *   json: { type: "boolean", description: "print as JSON" },
 *   node: { type: "string", short: "n", value: "HOST:PORT", description: "the datanode" },
 * };
 * ```
 */
export type OptionSpec = Readonly<Record<string, OptionDef>>;

/**
 * One positional argument of a command.
 *
 * @example
 * ```ts
 * import type { ArgumentDef } from "./command.ts";
 * const file: ArgumentDef = { name: "FILE", optional: true, description: "the file to read" };
 * ```
 */
export interface ArgumentDef {
  /** Its placeholder in help and messages, e.g. `ID` or `FILE|-`. */
  readonly name: string;
  /** What it is. */
  readonly description?: string;
  /** May be left out (only arguments after the required ones). */
  readonly optional?: boolean;
  /** Takes every remaining positional (the last argument only). */
  readonly variadic?: boolean;
  /** What completion offers (default: from `name`, FILE or DIR, else none). */
  readonly complete?: ValueHint;
}

/**
 * Parsed arguments: option values by name and the positionals, in order.
 *
 * @example
 * ```ts
 * import type { ParsedArgs } from "./command.ts";
 * const args: ParsedArgs = { values: { json: true }, positionals: ["block-1"] };
 * ```
 */
export interface ParsedArgs {
  /** Option values by long name. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments, in order. */
  positionals: string[];
}

/**
 * A sub-command of `cdfs`: one declaration from which its parsing, its help, the suggestions
 * for typos and the shell completions are all made.
 *
 * @example
 * ```ts
 * import type { Command } from "./command.ts";
 * const hello: Command = {
 *   name: "hello",
 *   summary: "Say hello",
 *   usage: "cdfs hello [--loud] [NAME]",
 *   options: { loud: { type: "boolean", description: "in capitals" } },
 *   arguments: [{ name: "NAME", optional: true, description: "whom to greet" }],
 *   examples: ["cdfs hello --loud world"],
 *   run(ctx, args) {
 *     ctx.out(`hello ${args.positionals[0] ?? "world"}\n`);
 *     return Promise.resolve(0);
 *   },
 * };
 * ```
 */
export interface Command {
  /** The words that select the command, e.g. `"store"` or `"datanode serve"`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis line(s). */
  readonly usage: string;
  /** Further help: what the command does, as prose (options and examples have their fields). */
  readonly description?: string;
  /** The options it takes (`--help` is added to every command). */
  readonly options: OptionSpec;
  /**
   * Its positional arguments, checked before it runs (too few or too many is a usage error).
   * When absent the positionals are not checked here; every command of cdfs declares them.
   */
  readonly arguments?: readonly ArgumentDef[];
  /**
   * The fewest positionals the parser lets through, for a command that says more precisely
   * itself what is missing than "missing argument" can (default: its required arguments).
   */
  readonly minArguments?: number;
  /** Command lines that can be pasted into a shell as they are, each starting with `cdfs `. */
  readonly examples?: readonly string[];
  /**
   * Left out of the command list of `cdfs --help` (a command cdfs runs itself, such as the
   * relay processes of `cluster up --netns`); it still runs and has its own `--help`.
   */
  readonly hidden?: boolean;
  /** Runs the command; resolves to the process exit code. */
  run(ctx: CliContext, args: ParsedArgs): Promise<number>;
}

/**
 * A group of commands that share a first word (`cluster up`, `cluster down`, ...), for the
 * help of the group (`cdfs cluster --help`).
 *
 * @example
 * ```ts
 * import type { CommandGroup } from "./command.ts";
 * const group: CommandGroup = { name: "code", summary: "Coding modules: list, inspect" };
 * ```
 */
export interface CommandGroup {
  /** The first word of its commands. */
  readonly name: string;
  /** One line saying what its commands are about. */
  readonly summary: string;
}

/**
 * The `--help` option every command has.
 */
export const HELP_OPTION: OptionDef = {
  type: "boolean",
  short: "h",
  description: "show this help",
};

/**
 * A command's positional arguments as a synopsis: `ID [FILE|-]`, `INDEX...`.
 *
 * @example
 * ```ts
 * import { formatArguments } from "./command.ts";
 * console.log(formatArguments([{ name: "ID" }, { name: "FILE", optional: true }])); // "ID [FILE]"
 * ```
 *
 * @param args The argument definitions.
 * @returns The synopsis, empty for none.
 */
export function formatArguments(args: readonly ArgumentDef[]): string {
  return args.map((a) => {
    const text = `${a.name}${a.variadic ? "..." : ""}`;
    return a.optional ? `[${text}]` : text;
  }).join(" ");
}

/**
 * Parses a command's arguments strictly: an unknown option (with the closest known ones
 * suggested), an option without its value, a flag given a value, and, when the command's
 * arguments are given, too few or too many positionals are each a one-line usage error.
 * `--help` anywhere wins over every other mistake: it yields `{ help: true }` alone.
 *
 * @example
 * ```ts
 * import { parseCommandArgs } from "./command.ts";
 * const args = parseCommandArgs({ json: { type: "boolean" } }, ["--json", "x"]);
 * console.log(args.values.json, args.positionals); // true [ "x" ]
 * ```
 *
 * @example With the command, errors name it and point at its help
 * ```ts
 * import { parseCommandArgs } from "./command.ts";
 * const ls = { name: "ls", arguments: [] };
 * try {
 *   parseCommandArgs({ node: { type: "string" } }, ["--nod", "0"], ls);
 * } catch (e) {
 *   console.log((e as Error).message);
 *   // "ls: unknown option '--nod' (did you mean '--node'?); see 'cdfs ls --help'"
 * }
 * ```
 *
 * @param options The command's option table.
 * @param argv The words after the command name.
 * @param command The command's name and arguments, for the messages and the positional check.
 * @returns The parsed values and positionals.
 * @throws {CdfsError} USAGE, naming the unknown or malformed option or argument.
 */
export function parseCommandArgs(
  options: OptionSpec,
  argv: readonly string[],
  command?: Pick<Command, "name" | "arguments" | "minArguments">,
): ParsedArgs {
  const table: OptionSpec = { ...options, help: HELP_OPTION };
  const usage = (what: string): CdfsError =>
    new CdfsError(
      "USAGE",
      command === undefined ? what : `${command.name}: ${what}; see 'cdfs ${command.name} --help'`,
    );
  // Not strict: parseArgs' own errors are multi-line and capitalised; with tokens every
  // mistake is found here and said in cdfs's one-line style.
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.entries(table).map(([name, def]) => [
        name,
        def.short === undefined ? { type: def.type } : { type: def.type, short: def.short },
      ]),
    ),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === "option" && t.name === "help" && t.value === undefined)) {
    return { values: { help: true }, positionals: [] };
  }
  const values: ParsedArgs["values"] = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const def = Object.hasOwn(table, token.name) ? table[token.name] : undefined;
    if (def === undefined) {
      throw usage(
        `unknown option '${token.rawName}'${didYouMean(optionSuggestions(token.rawName, table))}`,
      );
    }
    let value: string | boolean = true;
    if (def.type === "boolean") {
      if (token.value !== undefined) {
        throw usage(
          `option '${token.rawName}' takes no value, got '${token.rawName}=${token.value}'`,
        );
      }
    } else {
      const placeholder = def.value ?? "VALUE";
      if (token.value === undefined) {
        throw usage(`option '${token.rawName}' needs a value ${placeholder}`);
      }
      // `--node --json`: the next word was taken as the value, but it is surely an option.
      if (!token.inlineValue && token.value.length > 1 && token.value.startsWith("-")) {
        throw usage(
          `option '${token.rawName}' needs a value ${placeholder}, got '${token.value}' ` +
            `(if that is the value, write ${token.rawName}=${token.value})`,
        );
      }
      value = token.value;
    }
    const name = token.name;
    if (def.multiple) {
      const list = values[name];
      values[name] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      values[name] = value;
    }
  }
  if (command?.arguments !== undefined) {
    const min = command.minArguments ?? command.arguments.filter((a) => !a.optional).length;
    checkPositionals(command.arguments, min, positionals, usage);
  }
  return { values, positionals };
}

function checkPositionals(
  args: readonly ArgumentDef[],
  min: number,
  given: readonly string[],
  usage: (what: string) => CdfsError,
): void {
  const max = args.some((a) => a.variadic) ? Infinity : args.length;
  const synopsis = formatArguments(args);
  if (given.length < min) throw usage(`missing argument: expected ${synopsis}`);
  if (given.length > max) {
    const expected = max === 0 ? "it takes no arguments" : `expected ${synopsis}`;
    throw usage(`unexpected argument '${given[max]}': ${expected}`);
  }
}

/** The options an unknown one may have meant, quoted as typed: `'--node'`, `'-o'`. */
function optionSuggestions(rawName: string, table: OptionSpec): string[] {
  if (rawName.startsWith("--")) {
    return closestNames(rawName.slice(2), Object.keys(table)).map((n) => `'--${n}'`);
  }
  // A one-letter option is too short to measure: only the same letter in the other case.
  const letter = rawName.slice(1).toLowerCase();
  return Object.values(table)
    .filter((def) => def.short?.toLowerCase() === letter)
    .map((def) => `'-${def.short}'`);
}

/**
 * Reads a string option, or `undefined` when absent.
 *
 * @example
 * ```ts
 * import { stringOption } from "./command.ts";
 * console.log(stringOption({ values: { node: "h:1" }, positionals: [] }, "node")); // "h:1"
 * ```
 *
 * @param args Parsed arguments.
 * @param name The option's long name.
 * @returns Its value.
 */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Reads a non-negative integer option (decimal, with optional K/M/G binary suffixes: `64M`).
 *
 * @example
 * ```ts
 * import { integerOption } from "./command.ts";
 * console.log(integerOption({ values: { size: "2K" }, positionals: [] }, "size", 0)); // 2048
 * ```
 *
 * @param args Parsed arguments.
 * @param name The option's long name.
 * @param fallback The value when the option is absent.
 * @returns The integer.
 * @throws {CdfsError} USAGE when the value is not such an integer.
 */
export function integerOption(args: ParsedArgs, name: string, fallback: number): number {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  return parseSize(text, `--${name}`);
}

const SIZE_SUFFIXES: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a byte count or other non-negative integer: decimal digits with an optional binary
 * suffix K, M or G (case-insensitive, an optional trailing `iB`/`B`).
 *
 * @example
 * ```ts
 * import { parseSize } from "./command.ts";
 * console.log(parseSize("64MiB", "--size")); // 67108864
 * ```
 *
 * @param text The text to parse.
 * @param what What the value is, for the error message.
 * @returns The integer.
 * @throws {CdfsError} USAGE naming `what` when the text is not such a number.
 */
export function parseSize(text: string, what: string): number {
  const match = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  const value = match ? Number(match[1]) * SIZE_SUFFIXES[match[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new CdfsError(
      "USAGE",
      `${what}: expected a non-negative integer like 4096 or 64M, got '${text}'`,
    );
  }
  return value;
}

const TIMEOUT_UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a timeout: a number with a unit `ms`, `s`, `m` or `h`, or plain milliseconds
 * (`10s`, `500ms`, `2m`, `1500`), rounded to whole milliseconds and checked against a range.
 * Not `parseDuration` of the link emulation: link delays need microseconds and always a unit,
 * a timeout is whole milliseconds and often minutes.
 *
 * @example
 * ```ts
 * import { parseTimeout } from "./command.ts";
 * console.log(parseTimeout("2m", "--timeout"), parseTimeout("1.5s", "--timeout")); // 120000 1500
 * console.log(parseTimeout("250", "--timeout")); // 250
 * ```
 *
 * @param text The text to parse.
 * @param what What the value is, for the error message.
 * @param range The smallest and largest timeout allowed, in milliseconds.
 * @returns Milliseconds.
 * @throws {CdfsError} USAGE naming `what` for a malformed value or one outside the range.
 */
export function parseTimeout(
  text: string,
  what: string,
  range: { min: number; max: number } = { min: 1, max: Number.MAX_SAFE_INTEGER },
): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  const scale = match === null ? undefined : TIMEOUT_UNITS[(match[2] ?? "").toLowerCase()];
  if (match === null || scale === undefined) {
    throw new CdfsError(
      "USAGE",
      `${what}: expected a duration like 10s, 500ms, 2m or plain milliseconds, got '${text}'`,
    );
  }
  const ms = Math.round(Number(match[1]) * scale);
  if (ms < range.min || ms > range.max) {
    throw new CdfsError(
      "USAGE",
      `${what}: ${text} is outside ${formatMs(range.min)}..${formatMs(range.max)}`,
    );
  }
  return ms;
}

/** A millisecond count in the largest unit that divides it: 100ms, 10s, 2m, 24h. */
function formatMs(ms: number): string {
  for (const [unit, scale] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= scale && ms % scale === 0) return `${ms / scale}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The positional arguments, checked to number between `min` and `max`.
 *
 * @example
 * ```ts
 * import { positionals } from "./command.ts";
 * console.log(positionals({ values: {}, positionals: ["a", "b"] }, 2, 2, "FILE ID")); // [ "a", "b" ]
 * ```
 *
 * @param args The parsed arguments.
 * @param min The fewest allowed.
 * @param max The most allowed (`Infinity` for no limit).
 * @param synopsis What is expected, for the message (e.g. `FILE ID`).
 * @returns The positionals.
 * @throws {CdfsError} USAGE for too few or too many.
 */
export function positionals(
  args: ParsedArgs,
  min: number,
  max: number,
  synopsis: string,
): string[] {
  const given = args.positionals;
  if (given.length < min) throw new CdfsError("USAGE", `missing argument: expected ${synopsis}`);
  if (given.length > max) {
    throw new CdfsError(
      "USAGE",
      `unexpected argument '${given[max]}'${synopsis ? `: expected ${synopsis}` : ""}`,
    );
  }
  return given;
}
