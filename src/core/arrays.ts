/**
 * Small helpers on plain arrays that several modules need.
 *
 * @module
 */

/**
 * Removes the first `item` from `list` in place, if it is there (a waiter that gave up leaves
 * the list of those still waiting).
 *
 * @example
 * ```ts
 * import { removeItem } from "./arrays.ts";
 * const waiting = ["a", "b", "c"];
 * removeItem(waiting, "b");
 * removeItem(waiting, "x");
 * console.log(waiting); // [ "a", "c" ]
 * ```
 *
 * @param list The array to change.
 * @param item The element to remove (compared with `===`).
 */
export function removeItem<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}

/**
 * Advances `subset`, k increasing indices of 0..n-1, to the next k-subset in lexicographic
 * order, in place; false (and `subset` unchanged) after the last one. Start from `[0, 1, ...,
 * k-1]` to visit every k-subset.
 *
 * @example
 * ```ts
 * import { nextSubset } from "./arrays.ts";
 * const s = [0, 1];
 * const seen = [s.join("")];
 * while (nextSubset(s, 3)) seen.push(s.join(""));
 * console.log(seen); // [ "01", "02", "12" ]
 * ```
 *
 * @param subset The current subset, changed in place.
 * @param n The size of the set the indices are taken from.
 * @returns Whether there was a next subset.
 */
export function nextSubset(subset: number[], n: number): boolean {
  const k = subset.length;
  let t = k - 1;
  while (t >= 0 && subset[t] === n - k + t) t--;
  if (t < 0) return false;
  subset[t]!++;
  for (let u = t + 1; u < k; u++) subset[u] = subset[u - 1]! + 1;
  return true;
}
