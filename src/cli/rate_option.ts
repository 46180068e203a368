/**
 * Rates in bytes per second on the command line (`--scrub-rate 8MiB/s`): a size as
 * `parseSize` reads it, with an optional `/s`.
 *
 * @module
 */
import { parseSize } from "./command.ts";

/**
 * Parses a rate: a byte count with an optional K, M or G suffix and an optional `/s`
 * (`4MiB/s`, `8M`, `0`).
 *
 * @example
 * ```ts
 * import { parseRate } from "./rate_option.ts";
 * console.log(parseRate("4MiB/s", "--scrub-rate"), parseRate("0", "--scrub-rate")); // 4194304 0
 * ```
 *
 * @param text The text to parse.
 * @param what The option, for the error message.
 * @returns Bytes per second.
 * @throws {CdfsError} USAGE naming `what` when the text is not such a rate.
 */
export function parseRate(text: string, what: string): number {
  return parseSize(text.trim().replace(/\/s$/i, ""), what);
}
