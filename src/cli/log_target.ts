/**
 * The `--log FILE|-` of the serving commands: where their JSON log lines go. A file is opened
 * for appending before the server starts (so a path that cannot be written is a start error,
 * not a silent loss), and written synchronously line by line (a line is never interleaved
 * with another).
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { describeOsError } from "../format/os_error.ts";
import type { CliContext } from "./command.ts";

/**
 * An opened log destination.
 *
 * @example
 * ```ts
 * import type { LogTarget } from "./log_target.ts";
 * const toStderr: LogTarget = { write: () => {}, close: () => {}, undo: () => Promise.resolve() };
 * ```
 */
export interface LogTarget {
  /** Writes text (whole lines). */
  write(text: string): void;
  /** Closes a file; nothing for the standard streams. */
  close(): void;
  /** Closes and, when the open created the file, removes it (a start that failed). */
  undo(): Promise<void>;
}

const encoder = new TextEncoder();

/**
 * Opens `--log`: absent means standard error, `-` standard output, anything else a file
 * appended to (created if missing).
 *
 * @example
 * ```ts
 * import { openLogTarget } from "./log_target.ts";
 * const lines: string[] = [];
 * const ctx = { out: () => {}, err: (t: string) => lines.push(t), isTerminal: false, env: () => undefined };
 * const log = await openLogTarget(undefined, ctx);
 * log.write("{}\n");
 * console.log(lines); // [ "{}\n" ]
 * ```
 *
 * @param target The option's value.
 * @param ctx The command's context (its standard streams).
 * @returns The destination.
 * @throws {CdfsError} `UNAVAILABLE` `--log FILE: why` when the file cannot be opened.
 */
export async function openLogTarget(
  target: string | undefined,
  ctx: CliContext,
): Promise<LogTarget> {
  if (target === undefined || target === "-") {
    const write = target === "-" ? ctx.out : ctx.err;
    return { write: (text) => write(text), close: () => {}, undo: () => Promise.resolve() };
  }
  const existed = await Deno.lstat(target).then(() => true, () => false);
  const file = await Deno.open(target, { create: true, append: true }).catch((e) => {
    throw new CdfsError("UNAVAILABLE", `--log ${target}: ${describeOsError(e)}`, { cause: e });
  });
  let closed = false;
  const close = () => {
    if (!closed) file.close();
    closed = true;
  };
  return {
    write(text) {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    },
    close,
    async undo() {
      close();
      if (!existed) await Deno.remove(target).catch(() => {});
    },
  };
}
