/**
 * The arguments the coding and file commands share: the coding module by name (from
 * `--coding-dir` first), `--timeout`, `--chunk-size`, the object id; and how they run an
 * operation: with a progress bar, timed, to the binary standard output.
 *
 * @module
 */
import type { ProgressCallback } from "../client/objects/progress.ts";
import { manifestBlockId } from "../client/objects/manifest.ts";
import { type DataNodeClientOptions, withStallTimeout } from "../client/node_connection.ts";
import { listCodingModules, loadCodingModule } from "../coding/lang/loader.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { MAX_CODING_TIMEOUT_MS, MIN_CODING_TIMEOUT_MS } from "../protocol/requests.ts";
import {
  type CliContext,
  integerOption,
  type ParsedArgs,
  parseTimeout,
  stringOption,
} from "./command.ts";
import { createProgress, type Progress } from "./progress.ts";

/**
 * Loads a module by name or family spec (`rs:k=6,m=3`), from `--coding-dir` first; an unknown
 * name is a usage error listing the known ones, bad family parameters one naming the parameter.
 *
 * @example
 * ```ts
 * import { loadModule } from "./coding_args.ts";
 * const module = await loadModule("rs", { values: {}, positionals: [] });
 * console.log(module.n, module.k); // 16 11
 * ```
 *
 * @param name The module's name.
 * @param args The parsed arguments (their `--coding-dir`).
 * @returns The module.
 * @throws {CdfsError} USAGE for an unknown module.
 */
export async function loadModule(name: string, args: ParsedArgs): Promise<CodingModule> {
  const search = { codingDirs: codingDirs(args) };
  try {
    return await loadCodingModule(name, search);
  } catch (error) {
    if (!isCdfsError(error, "NOT_FOUND") && !isCdfsError(error, "BAD_REQUEST")) throw error;
    if (name.includes(":") && isCdfsError(error, "BAD_REQUEST")) {
      // A family spec with bad parameters: the message names the parameter and its range.
      throw new CdfsError("USAGE", error.message, { cause: error });
    }
    if (isCdfsError(error, "BAD_REQUEST") && !/is not valid/.test(error.message)) throw error;
    const listing = await asUsageWhenMissingDir(listCodingModules(search));
    const known = listing.filter((m) => m.error === undefined).map((m) => m.name);
    throw new CdfsError(
      "USAGE",
      `unknown coding module '${name}' (known: ${
        known.join(", ") || "none"
      }; see 'cdfs code list')`,
      { cause: error },
    );
  }
}

/**
 * Turns a missing `--coding-dir` (NOT_FOUND from the module search) into a usage error.
 *
 * @example
 * ```ts
 * import { asUsageWhenMissingDir } from "./coding_args.ts";
 * console.log(await asUsageWhenMissingDir(Promise.resolve(1))); // 1
 * ```
 *
 * @param promise The search.
 * @returns What it gives.
 * @throws {CdfsError} USAGE for a missing directory; anything else as it was.
 */
export async function asUsageWhenMissingDir<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (isCdfsError(error, "NOT_FOUND")) {
      throw new CdfsError("USAGE", `--coding-dir: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
/**
 * The directories of `--coding-dir`, in the order given.
 *
 * @example
 * ```ts
 * import { codingDirs } from "./coding_args.ts";
 * console.log(codingDirs({ values: { "coding-dir": ["a", "b"] }, positionals: [] })); // [ "a", "b" ]
 * ```
 *
 * @param args The parsed arguments.
 * @returns The directories (none when the option is absent).
 */
export function codingDirs(args: ParsedArgs): string[] {
  const value = args.values["coding-dir"];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
}

/**
 * `--timeout` as the object operations take it: `{ timeoutMs, client }` (the coding runs' stall
 * timeout and the same bound on every other connection), or nothing when absent.
 *
 * @example
 * ```ts
 * import { timeoutArgument } from "./coding_args.ts";
 * console.log(timeoutArgument({ values: { timeout: "2s" }, positionals: [] }).timeoutMs); // 2000
 * ```
 *
 * @param args The parsed arguments.
 * @returns The stall timeout and the client options bounded by it, if given.
 * @throws {CdfsError} USAGE for a malformed or out-of-range duration.
 */
export function timeoutArgument(
  args: ParsedArgs,
): { timeoutMs?: number; client?: DataNodeClientOptions } {
  const text = stringOption(args, "timeout");
  if (text === undefined) return {};
  const timeoutMs = parseTimeout(text, "--timeout", {
    min: MIN_CODING_TIMEOUT_MS,
    max: MAX_CODING_TIMEOUT_MS,
  });
  // The coding runs take it as their stall timeout; every other connection the command opens
  // (manifest reads, STAT, STORE of parts) is bounded by it too, so a frozen node costs at
  // most --timeout wherever it is met.
  return { timeoutMs, client: withStallTimeout({}, timeoutMs) };
}

/**
 * `--chunk-size` of a coding run: 4K..16M, default 1M.
 *
 * @example
 * ```ts
 * import { chunkSizeOption } from "./coding_args.ts";
 * console.log(chunkSizeOption({ values: { "chunk-size": "64K" }, positionals: [] })); // 65536
 * ```
 *
 * @param args The parsed arguments.
 * @returns Bytes.
 * @throws {CdfsError} USAGE outside 4K..16M.
 */
export function chunkSizeOption(args: ParsedArgs): number {
  const chunkSize = integerOption(args, "chunk-size", 1 << 20);
  if (chunkSize < 4096 || chunkSize > 16 << 20) {
    throw new CdfsError("USAGE", `--chunk-size must be in 4K..16M, got ${chunkSize}`);
  }
  return chunkSize;
}
/**
 * Checks an object id (and the block ids made from it) as a usage error.
 *
 * @example
 * ```ts
 * import { objectIdArgument } from "./coding_args.ts";
 * console.log(objectIdArgument("movie")); // "movie"
 * ```
 *
 * @param id The object id.
 * @returns It.
 * @throws {CdfsError} USAGE when it cannot name blocks.
 */
export function objectIdArgument(id: string): string {
  try {
    manifestBlockId(id);
    return id;
  } catch (error) {
    throw isCdfsError(error) ? new CdfsError("USAGE", error.message, { cause: error }) : error;
  }
}

/**
 * Runs an operation with a progress bar (on a terminal), removed when it ends.
 *
 * @example
 * Not run by `deno test --doc`: it needs a CLI context and a running cluster.
 * ```ts ignore
 * import { withProgress } from "./coding_args.ts";
 * const result = await withProgress(ctx, "put big", (onProgress) => putFile({ ...options, onProgress }));
 * ```
 *
 * @param ctx The command's context (the bar goes to its stderr, on a terminal only).
 * @param label What the bar is for.
 * @param operation The operation, given the callback that moves the bar.
 * @returns The operation's result.
 */
export async function withProgress<T>(
  ctx: CliContext,
  label: string,
  operation: (onProgress: ProgressCallback) => Promise<T>,
): Promise<T> {
  const progress: Progress = createProgress(ctx, { label });
  try {
    return await operation((done, total) => {
      // A total of 0 is one not known yet (an encode before its nodes answered): a bar of
      // "100%  0 B / 0 B" would be wrong until then.
      if (total > 0) progress.setTotal(total);
      progress.update(done);
    });
  } finally {
    progress.finish();
  }
}

/**
 * The binary standard output of a context, where an object or a file goes without `-o`.
 *
 * @example
 * Not run by `deno test --doc`: it writes to a CLI context's standard output (`ctx`).
 * ```ts ignore
 * import { binaryStdout } from "./coding_args.ts";
 * await binaryStdout(ctx).write(bytes);
 * ```
 *
 * @param ctx The command's context.
 * @returns Its binary standard output.
 * @throws {CdfsError} INTERNAL for a context without one.
 */
export function binaryStdout(ctx: CliContext): NonNullable<CliContext["stdout"]> {
  if (ctx.stdout === undefined) {
    throw new CdfsError("INTERNAL", "this context has no binary standard output");
  }
  return ctx.stdout;
}

/**
 * Seconds since `started` (a `performance.now()`), to the millisecond.
 *
 * @example
 * ```ts
 * import { elapsed } from "./coding_args.ts";
 * console.log(elapsed(performance.now()) < 1); // true
 * ```
 *
 * @param started When the work started.
 * @returns Seconds.
 */
export function elapsed(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}
