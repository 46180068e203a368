/**
 * Bounded concurrency of the many requests of an object operation.
 *
 * @module
 */

/**
 * How many STOREs (or other requests) run at once: each STORE holds client buffers from a pool
 * of 32 shared by the process, so this stays well below that.
 */
export const MAX_CONCURRENT_STORES = 12;

/**
 * Runs tasks with at most `limit` at a time; after a failure starts no more, then throws it.
 *
 * @example
 * ```ts
 * import { runLimited } from "./concurrency.ts";
 * const squares = await runLimited([1, 2, 3].map((x) => () => Promise.resolve(x * x)), 2);
 * console.log(squares); // [1, 4, 9]
 * ```
 *
 * @param tasks The tasks.
 * @param limit How many at once.
 * @returns Their results, in order.
 */
export async function runLimited<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]!();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
