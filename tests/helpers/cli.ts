/**
 * Runs the `cdfs` command line in this process, as `cdfs ARGS < STDIN > CAPTURE` would run: the
 * text a command prints and the bytes it writes to binary standard output are captured.
 *
 * @module
 */
import { runCli } from "../../src/cli/app.ts";
import type { CliContext } from "../../src/cli/command.ts";
import { COMMANDS, GROUPS } from "../../src/cli/commands.ts";
import { iterableReader } from "../../src/client/byte_io.ts";
import { concatBytes } from "./bytes.ts";

/**
 * What a command printed and its exit code.
 *
 * @example
 * ```ts ignore
 * import { type CliRun, runCdfs } from "./cli.ts";
 * const run: CliRun = await runCdfs(["--version"]);
 * console.log(run.code, run.out, run.err, run.stdout.length);
 * ```
 */
export interface CliRun {
  /** The exit code. */
  code: number;
  /** The text written to standard output. */
  out: string;
  /** The text written to standard error: errors, warnings, progress. */
  err: string;
  /** The bytes written to binary standard output (`cdfs retrieve ID`, `cdfs decode ID`). */
  stdout: Uint8Array<ArrayBuffer>;
}

/**
 * How to run a command: its environment, standard input and terminals.
 *
 * @example
 * ```ts ignore
 * import type { CdfsOptions } from "./cli.ts";
 * const options: CdfsOptions = {
 *   env: { CDFS_NODE: "127.0.0.1:13100" },
 *   stdin: new TextEncoder().encode("data"),
 *   isTerminal: true,
 * };
 * ```
 */
export interface CdfsOptions {
  /** The environment variables the command sees; no others. */
  env?: Record<string, string>;
  /** Binary standard input: these bytes, or a reader of them. Empty (`< /dev/null`) when absent. */
  stdin?: Uint8Array | NonNullable<CliContext["stdin"]>;
  /**
   * The most bytes one write to binary standard output takes, so that writers must finish a
   * short write as they must on a pipe. Every write is taken whole when absent.
   */
  maxWrite?: number;
  /** Whether standard error is a terminal (then commands draw progress bars). Default false. */
  isTerminal?: boolean;
  /** Whether standard input is a terminal (`cdfs store ID -` refuses one). Default false. */
  stdinIsTerminal?: boolean;
}

/**
 * A command context that captures what is printed to it.
 *
 * @example
 * ```ts ignore
 * import { type CapturingContext, capturingContext } from "./cli.ts";
 * const ctx: CapturingContext = capturingContext();
 * ctx.out("hello\n");
 * console.log(ctx.printed().out); // "hello\n"
 * ```
 */
export interface CapturingContext extends CliContext {
  /** Everything printed so far. */
  printed(): Omit<CliRun, "code">;
}

/**
 * Makes the context {@linkcode runCdfs} runs commands in, for tests of functions that take a
 * `CliContext` themselves.
 *
 * @example
 * ```ts ignore
 * import { capturingContext } from "./cli.ts";
 * const ctx = capturingContext({ env: { CDFS_NODES: "h:1,h:2" } });
 * console.log(ctx.env("CDFS_NODES")); // "h:1,h:2"
 * ```
 *
 * @param options The environment, standard input, write limit and terminals.
 * @returns The context.
 */
export function capturingContext(options: CdfsOptions = {}): CapturingContext {
  const out: string[] = [];
  const err: string[] = [];
  const written: Uint8Array[] = [];
  const { stdin, maxWrite = Infinity } = options;
  return {
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    isTerminal: options.isTerminal ?? false,
    env: (name) => options.env?.[name],
    stdin: stdin instanceof Uint8Array ? iterableReader([stdin]) : stdin ?? iterableReader([]),
    stdinIsTerminal: options.stdinIsTerminal ?? false,
    stdout: {
      write(view) {
        const n = Math.min(view.length, maxWrite);
        // A copy: the writer may reuse its buffer once the write resolves.
        written.push(view.slice(0, n));
        return Promise.resolve(n);
      },
    },
    printed: () => ({ out: out.join(""), err: err.join(""), stdout: concatBytes(written) }),
  };
}

/**
 * Runs `cdfs ARGS` in this process, capturing what it prints.
 *
 * @example
 * ```ts ignore
 * import { runCdfs } from "./cli.ts";
 * const { code, out } = await runCdfs(["code", "list"]);
 * const stored = await runCdfs(["store", "--node", "127.0.0.1:13100", "b", "-"], {
 *   stdin: new Uint8Array([1, 2, 3]),
 * });
 * const { stdout } = await runCdfs(["retrieve", "b"], { env: { CDFS_NODE: "127.0.0.1:13100" } });
 * ```
 *
 * @param args The arguments after `cdfs`.
 * @param options The environment, standard input, write limit and terminals.
 * @returns The exit code and what was printed.
 */
export async function runCdfs(args: string[], options: CdfsOptions = {}): Promise<CliRun> {
  const ctx = capturingContext(options);
  const code = await runCli(COMMANDS, ctx, args, GROUPS);
  return { code, ...ctx.printed() };
}
