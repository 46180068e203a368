/**
 * Waiting for a promise unless a signal aborts first: {@linkcode abortable}.
 *
 * @module
 */

/**
 * Resolves as `work` does, or rejects as soon as `signal` aborts (at once if it has): with
 * `reason()` when given, else the signal's reason. `work` goes on; a late rejection of it is
 * ignored.
 *
 * @example
 * ```ts
 * import { abortable } from "./abortable.ts";
 * const controller = new AbortController();
 * const waiting = abortable(new Promise(() => {}), controller.signal);
 * controller.abort(new Error("stopped"));
 * await waiting.catch((e) => console.log(e.message)); // stopped
 * ```
 *
 * @param work What to wait for.
 * @param signal Ends the wait when aborted (undefined: wait for `work` alone).
 * @param reason The error to reject with on abort (default: the signal's reason).
 * @returns What `work` resolves to.
 */
export async function abortable<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  reason?: () => unknown,
): Promise<T> {
  if (signal === undefined) return await work;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(reason === undefined ? signal.reason : reason());
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
  work.catch(() => {}); // settled after an abort: nobody waits for it any more
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
