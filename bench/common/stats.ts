/**
 * The few statistics the benchmarks report: the median of repeated measurements and their
 * spread (min and max). Medians, not means: a shared 2-core machine gives the odd slow run, and
 * one of them should not move the number we report.
 *
 * @module
 */

/**
 * The median of some numbers (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * console.log(median([3, 1, 2, 10])); // 2.5
 * ```
 *
 * @param values At least one number.
 * @returns The median.
 * @throws {RangeError} For no numbers.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("the median of no values");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The median and the spread of repeated measurements.
 *
 * @example
 * ```ts
 * import type { Spread } from "./stats.ts";
 * const s: Spread = { median: 2, min: 1, max: 5, count: 3 };
 * ```
 */
export interface Spread {
  /** The median. */
  readonly median: number;
  /** The smallest value. */
  readonly min: number;
  /** The largest value. */
  readonly max: number;
  /** How many values. */
  readonly count: number;
}

/**
 * The median, min and max of some numbers.
 *
 * @example
 * ```ts
 * import { spreadOf } from "./stats.ts";
 * console.log(spreadOf([4, 1, 2])); // { median: 2, min: 1, max: 4, count: 3 }
 * ```
 *
 * @param values At least one number.
 * @returns Their spread.
 * @throws {RangeError} For no numbers.
 */
export function spreadOf(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    count: values.length,
  };
}

/**
 * The element whose value is closest to the median (the first such): the run to show as
 * "typical" in a chart.
 *
 * @example
 * ```ts
 * import { closestToMedian } from "./stats.ts";
 * console.log(closestToMedian([{ s: 9 }, { s: 2 }, { s: 3 }], (r) => r.s)); // { s: 3 }
 * ```
 *
 * @param items At least one item.
 * @param value Each item's value.
 * @returns The item.
 * @throws {RangeError} For no items.
 */
export function closestToMedian<T>(items: readonly T[], value: (item: T) => number): T {
  const middle = median(items.map(value));
  let best: T = items[0]!;
  for (const item of items) {
    if (Math.abs(value(item) - middle) < Math.abs(value(best) - middle)) best = item;
  }
  return best;
}
