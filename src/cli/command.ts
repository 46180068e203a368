/**
 * The shape of a cdfs sub-command and the one place where command-line arguments are parsed
 * (with `node:util` `parseArgs`, strict: unknown options are usage errors).
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CdfsError } from "../errors.ts";

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
  /** Binary standard output, for commands that write data (`cdfs retrieve ID`). */
  readonly stdout?: { write(view: Uint8Array): Promise<number> };
}

/**
 * The option table of a command, as `node:util` `parseArgs` takes it.
 *
 * @example
 * ```ts
 * import type { OptionSpec } from "./command.ts";
 * const spec: OptionSpec = { json: { type: "boolean" }, node: { type: "string", short: "n" } };
 * ```
 */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

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
 * A sub-command of `cdfs`.
 *
 * @example
 * ```ts
 * import type { Command } from "./command.ts";
 * const hello: Command = {
 *   name: "hello",
 *   summary: "Say hello",
 *   usage: "cdfs hello [NAME]",
 *   options: {},
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
  /** Further help: what the command does, its options, examples. */
  readonly description?: string;
  /** The options it takes (`--help` is added to every command). */
  readonly options: OptionSpec;
  /**
   * Left out of the command list of `cdfs --help` (a command cdfs runs itself, such as the
   * relay processes of `cluster up --netns`); it still runs and has its own `--help`.
   */
  readonly hidden?: boolean;
  /** Runs the command; resolves to the process exit code. */
  run(ctx: CliContext, args: ParsedArgs): Promise<number>;
}

/**
 * Parses a command's arguments strictly.
 *
 * @example
 * ```ts
 * import { parseCommandArgs } from "./command.ts";
 * const args = parseCommandArgs({ json: { type: "boolean" } }, ["--json", "x"]);
 * console.log(args.values.json, args.positionals); // true [ "x" ]
 * ```
 *
 * @param options The command's option table.
 * @param argv The words after the command name.
 * @returns The parsed values and positionals.
 * @throws {CdfsError} USAGE, naming the unknown or malformed option.
 */
export function parseCommandArgs(options: OptionSpec, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (e) {
    // parseArgs' first line says what is wrong ("Unknown option '--x'"); the lines after it
    // are advice on quoting that would break the one-line error rule.
    const message = e instanceof Error ? e.message : String(e);
    throw new CdfsError("USAGE", message.split("\n")[0]!.trim());
  }
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
