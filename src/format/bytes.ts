/**
 * Byte counts as text for people: the one formatter of the command line and the reports.
 *
 * @module
 */

/**
 * A byte count in binary units with one decimal (`B`, `KiB`, `MiB`, `GiB`, `TiB`).
 *
 * @example
 * ```ts
 * import { formatBytes } from "./bytes.ts";
 * console.log(formatBytes(1536), formatBytes(100)); // "1.5 KiB" "100 B"
 * ```
 *
 * @param bytes A non-negative number of bytes.
 * @returns The text.
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A transfer rate: bytes per second in the units of {@linkcode formatBytes}, with `/s`. The
 * progress bars and the summaries both print rates with it, so the two read alike when they
 * measure the same bytes over the same time.
 *
 * @example
 * ```ts
 * import { formatRate } from "./bytes.ts";
 * console.log(formatRate(3 << 20, 2)); // "1.5 MiB/s"
 * console.log(formatRate(100, 0)); // "0 B/s"
 * ```
 *
 * @param bytes The bytes moved.
 * @param seconds The time they took; no time yet reads as 0 B/s.
 * @returns The text.
 */
export function formatRate(bytes: number, seconds: number): string {
  return `${formatBytes(seconds > 0 ? bytes / seconds : 0)}/s`;
}
