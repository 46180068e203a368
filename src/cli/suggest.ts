/**
 * "Did you mean ...?" for mistyped command words and option names: the known names closest to
 * what was typed, by edit distance with transpositions (`retreive` is one swap from
 * `retrieve`), or by prefix (`--chunk` for `--chunk-size`).
 *
 * @module
 */

/**
 * The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
 * adjacent characters each cost 1. A swap counts once because it is the commonest typo
 * (`clsuter`), which plain Levenshtein would count as two.
 *
 * @example
 * ```ts
 * import { editDistance } from "./suggest.ts";
 * console.log(editDistance("retreive", "retrieve"), editDistance("stor", "store")); // 1 1
 * ```
 *
 * @param a One string.
 * @param b The other.
 * @returns The number of edits that turn `a` into `b`.
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic programme: the swap looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known names closest to a typed one: those at the smallest edit distance when it is small
 * for the word's length (1 up to 5 characters, 2 up to 8, then 3), else those the word is a
 * prefix of (3 characters at least); at most three, empty when nothing is close.
 *
 * @example
 * ```ts
 * import { closestNames } from "./suggest.ts";
 * console.log(closestNames("stor", ["store", "stat", "stats", "rm"])); // [ "store" ]
 * console.log(closestNames("chunk", ["chunk-size", "json"])); // [ "chunk-size" ]
 * console.log(closestNames("xyz", ["store"])); // []
 * ```
 *
 * @param typed What was typed (without leading dashes, for options).
 * @param known The names it may have meant.
 * @returns The suggestions, best first.
 */
export function closestNames(typed: string, known: Iterable<string>): string[] {
  const word = typed.toLowerCase();
  const limit = word.length <= 5 ? 1 : word.length <= 8 ? 2 : 3;
  let best = Infinity;
  let closest: string[] = [];
  const prefixed: string[] = [];
  for (const name of new Set(known)) {
    const distance = editDistance(word, name.toLowerCase());
    if (distance < best) {
      best = distance;
      closest = [name];
    } else if (distance === best) {
      closest.push(name);
    }
    if (word.length >= 3 && name.toLowerCase().startsWith(word)) prefixed.push(name);
  }
  if (best <= limit) return closest.slice(0, 3);
  return prefixed.slice(0, 3);
}

/**
 * The " (did you mean ...?)" part of an error message, empty without suggestions.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./suggest.ts";
 * console.log(didYouMean(["'--node'"])); // " (did you mean '--node'?)"
 * console.log(didYouMean(["'stat'", "'stats'"])); // " (did you mean 'stat' or 'stats'?)"
 * console.log(didYouMean([])); // ""
 * ```
 *
 * @param suggestions The suggestions, already quoted as they should read.
 * @returns The text, with its leading space.
 */
export function didYouMean(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return "";
  const last = suggestions[suggestions.length - 1]!;
  const list = suggestions.length === 1
    ? last
    : `${suggestions.slice(0, -1).join(", ")} or ${last}`;
  return ` (did you mean ${list}?)`;
}
