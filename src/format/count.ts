/**
 * Counts of things as text for people: "1 block", "2 blocks", and lists of indices as ranges
 * ("0-4, 7"). The one place the command line and the reports make plurals, so no summary says
 * "1 blocks".
 *
 * @module
 */

/**
 * A count and its noun, singular for exactly one: `1 block`, `0 blocks`, `16 nodes`.
 *
 * @example
 * ```ts
 * import { formatCount } from "./count.ts";
 * console.log(formatCount(1, "block"), formatCount(3, "block")); // "1 block" "3 blocks"
 * console.log(formatCount(2, "coded block")); // "2 coded blocks"
 * ```
 *
 * @example An irregular plural
 * ```ts
 * import { formatCount } from "./count.ts";
 * console.log(formatCount(2, "child", "children")); // "2 children"
 * ```
 *
 * @param count How many.
 * @param singular The noun for one.
 * @param plural The noun for any other count (default: the singular and an `s`).
 * @returns The count, a space and the noun.
 */
export function formatCount(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${pluralNoun(count, singular, plural)}`;
}

/**
 * The noun alone, singular for exactly one: for text that names the count elsewhere or not as
 * a number (`coded blocks 0-4`, `node 7`).
 *
 * @example
 * ```ts
 * import { pluralNoun } from "./count.ts";
 * console.log(`${pluralNoun(1, "node")} 7`, `${pluralNoun(5, "node")} 0-4`); // "node 7" "nodes 0-4"
 * ```
 *
 * @param count How many.
 * @param singular The noun for one.
 * @param plural The noun for any other count (default: the singular and an `s`).
 * @returns The noun.
 */
export function pluralNoun(count: number, singular: string, plural = `${singular}s`): string {
  return count === 1 ? singular : plural;
}

/**
 * Integers as a short list of ranges, in ascending order without repetitions: runs of
 * consecutive numbers become `first-last`, so sixteen lost nodes fit in a few characters.
 *
 * @example
 * ```ts
 * import { formatRanges } from "./count.ts";
 * console.log(formatRanges([4, 0, 1, 2, 3, 7, 9, 10])); // "0-4, 7, 9-10"
 * console.log(formatRanges([])); // ""
 * ```
 *
 * @param values The integers, in any order (repetitions are ignored).
 * @returns The ranges, comma separated.
 */
export function formatRanges(values: Iterable<number>): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(", ");
}
