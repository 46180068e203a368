// deno-lint-ignore-file no-console
/**
 * Helpers every benchmark driver shares: paths in the repository, running a command, the
 * machine description written next to the results, medians, and progress lines.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/**
 * The absolute path of a file of the repository, from its path relative to the top.
 *
 * @example
 * ```ts
 * import { repoPath } from "./paths.ts";
 * console.log(repoPath("deno.json").endsWith("/deno.json")); // true
 * ```
 *
 * @param relative The path from the repository's top.
 * @returns The absolute path.
 */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}

/**
 * `output` (run a command, collect its output), `machine` (what the results were measured on)
 * and `median` live in `src/bench/` so that `cdfs bench` shares them; re-exported here for the
 * drivers of this folder.
 */
export { machine, output } from "./machine.ts";
export { median } from "./stats.ts";

/**
 * Prints a progress line on standard error when it is a terminal (silent in pipes and CI logs).
 *
 * @example
 * ```ts
 * import { progress } from "./paths.ts";
 * progress("measuring mulAdd 64 KiB ...");
 * ```
 *
 * @param line The line.
 */
export function progress(line: string): void {
  if (Deno.stderr.isTerminal()) console.error(line);
}
