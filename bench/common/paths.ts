// deno-lint-ignore-file no-console
/**
 * Helpers every benchmark driver shares: paths in the repository and progress lines (running a
 * command and the machine description are in `machine.ts`, medians in `stats.ts`).
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
