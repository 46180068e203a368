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
