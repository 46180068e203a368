/**
 * Progress of an object operation: bytes done out of a total, summed over its transfers.
 *
 * @module
 */

/**
 * Reports the bytes done out of a total; called often, so it should only record or redraw.
 *
 * @example
 * ```ts
 * import type { ProgressCallback } from "./progress.ts";
 * const log: ProgressCallback = (done, total) => void [done, total];
 * ```
 */
export type ProgressCallback = (done: number, total: number) => void;

/**
 * Sums the progress of several transfers, each reporting its own running total.
 *
 * @example
 * ```ts
 * import { progressSum } from "./progress.ts";
 * const sum = progressSum(20, (done, total) => console.log(done, total));
 * const a = sum.counter(), b = sum.counter();
 * a(5); b(10); a(10); // 5 20, 15 20, 20 20
 * ```
 *
 * @param total The bytes of all transfers.
 * @param onProgress Where the sum goes.
 * @returns A counter per transfer, and the sum so far.
 */
export function progressSum(
  total: number,
  onProgress: ProgressCallback | undefined,
): { counter(): (bytes: number) => void; done(): number } {
  let sum = 0;
  return {
    counter() {
      let mine = 0;
      return (bytes) => {
        sum += bytes - mine;
        mine = bytes;
        onProgress?.(sum, total);
      };
    },
    done: () => sum,
  };
}
