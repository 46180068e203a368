/**
 * `--scrub-rate BYTES/s` and `--scrub-pause DURATION` of `cdfs datanode serve`: how fast the
 * background scrub verifies the stored blocks (`src/datanode/scrub.ts`) and how long it rests
 * between two passes.
 *
 * @module
 */
import { DEFAULT_SCRUB_PAUSE_MS, DEFAULT_SCRUB_RATE } from "../datanode/scrub.ts";
import { type OptionDef, type ParsedArgs, parseTimeout, stringOption } from "./command.ts";
import { parseRate } from "./rate_option.ts";

/**
 * The option table entries.
 *
 * @example
 * ```ts
 * import { SCRUB_OPTIONS } from "./scrub_options.ts";
 * console.log(SCRUB_OPTIONS["scrub-rate"].default); // 8MiB/s
 * ```
 */
export const SCRUB_OPTIONS: { "scrub-rate": OptionDef; "scrub-pause": OptionDef } = {
  "scrub-rate": {
    type: "string",
    value: "BYTES/s",
    description: "verify every block's checksums in the background, pass after pass, at " +
      "most this fast (e.g. 4MiB/s); a damaged block is quarantined (DIR/quarantine) and " +
      "reported removed to the namenode. 0: no background scrub (cdfs scrub still runs one)",
    default: "8MiB/s",
  },
  "scrub-pause": {
    type: "string",
    value: "DURATION",
    description: "the rest between two background scrub passes, e.g. 10s or 200ms",
    default: `${DEFAULT_SCRUB_PAUSE_MS / 1000}s`,
  },
};

/**
 * The background scrub's settings from `--scrub-rate` and `--scrub-pause` (their defaults
 * when absent).
 *
 * @example
 * ```ts
 * import { scrubSettings } from "./scrub_options.ts";
 * const args = { values: { "scrub-rate": "4MiB/s", "scrub-pause": "200ms" }, positionals: [] };
 * console.log(scrubSettings(args)); // { rate: 4194304, pauseMs: 200 }
 * ```
 *
 * @param args The parsed command line.
 * @returns Bytes per second (0: no background scrub) and the pause in milliseconds.
 * @throws {CdfsError} USAGE for a malformed rate or a pause outside 10 ms..24 h.
 */
export function scrubSettings(args: ParsedArgs): { rate: number; pauseMs: number } {
  const rateText = stringOption(args, "scrub-rate");
  const pauseText = stringOption(args, "scrub-pause");
  return {
    rate: rateText === undefined ? DEFAULT_SCRUB_RATE : parseRate(rateText, "--scrub-rate"),
    pauseMs: pauseText === undefined
      ? DEFAULT_SCRUB_PAUSE_MS
      : parseTimeout(pauseText, "--scrub-pause", { min: 10, max: 86_400_000 }),
  };
}
