/**
 * How the failures of a program run are named and collected: every error says which program,
 * step and stream it comes from (once: an error already named passes on unchanged), and
 * concurrent opens and closes are awaited as outcomes so that no rejection goes unhandled.
 *
 * @module
 */

import { CdfsError, isCdfsError } from "../../core/errors.ts";

/** Errors that already say which program and step they come from (passed on unchanged). */
const attributed = new WeakSet<object>();

function isAttributed(error: unknown): boolean {
  return typeof error === "object" && error !== null && attributed.has(error);
}

/**
 * Prefixes an error's message with `where` (a CdfsError keeps its code); an error already
 * attributed to its program and step is passed on unchanged.
 *
 * @example
 * ```ts
 * import { prefixed } from "./run_errors.ts";
 * console.log((prefixed(new Error("lost"), "input 'a'") as Error).message); // "input 'a': lost"
 * ```
 *
 * @param error Anything thrown.
 * @param where What failed.
 * @returns A CdfsError (or `error` itself when already attributed).
 */
export function prefixed(error: unknown, where: string): unknown {
  if (isAttributed(error)) return error;
  if (isCdfsError(error)) {
    return new CdfsError(error.code, `${where}: ${error.message}`, { cause: error });
  }
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new CdfsError("TIMEOUT", `${where}: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CdfsError("INTERNAL", `${where}: ${message}`, { cause: error });
}

/**
 * Prefixes an error with the program and step it happened in, once: later prefixes pass it on
 * unchanged.
 *
 * @example
 * ```ts
 * import { attribute } from "./run_errors.ts";
 * const once = attribute(new Error("boom"), "program 'p', step 3");
 * console.log(attribute(once, "program 'q'") === once); // true
 * ```
 *
 * @param error Anything thrown.
 * @param where The program and step.
 * @returns The attributed CdfsError.
 */
export function attribute(error: unknown, where: string): unknown {
  if (isAttributed(error)) return error;
  const wrapped = prefixed(error, where) as CdfsError;
  attributed.add(wrapped);
  return wrapped;
}

/**
 * A promise's outcome, so that a rejection is never left unhandled while we await others.
 *
 * @example
 * ```ts
 * import type { Outcome } from "./run_errors.ts";
 * const failed: Outcome<number> = { ok: false, error: new Error("x") };
 * ```
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Turns a promise into one of its {@linkcode Outcome} that never rejects.
 *
 * @example
 * ```ts
 * import { settle } from "./run_errors.ts";
 * console.log((await settle(Promise.reject(new Error("x")))).ok); // false
 * ```
 *
 * @param promise The promise.
 * @returns Its outcome.
 */
export function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
}
