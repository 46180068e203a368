/**
 * A one-line progress bar for long transfers: bytes done (of the total, when known), the
 * average rate and the time left, redrawn in place with `\r` on standard error at most ten
 * times a second. When standard error is not a terminal (a pipe, a log file, a test) it draws
 * nothing at all, so scripts see only the command's real output.
 *
 * @module
 */
import type { CliContext } from "./command.ts";
import { formatBytes, formatRate } from "../format/bytes.ts";

/**
 * Options of {@linkcode createProgress}.
 *
 * @example
 * ```ts
 * import type { ProgressOptions } from "./progress.ts";
 * const options: ProgressOptions = { label: "store b1", total: 1 << 30 };
 * ```
 */
export interface ProgressOptions {
  /** What is under way, shown first (e.g. `store movie.mkv.0`). */
  label: string;
  /** The total bytes, when known: adds the bar, the percentage and the time left. */
  total?: number;
  /** The clock in milliseconds (default `performance.now`); tests inject their own. */
  now?: () => number;
  /** The least time between two redraws (default 100 ms). */
  minIntervalMs?: number;
}

/**
 * A running progress display.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * const progress = createProgress(ctx, { label: "copy", total: 100 });
 * progress.update(50);
 * progress.finish();
 * ```
 */
export interface Progress {
  /** Records the bytes done so far; redraws when the last redraw is old enough. */
  update(done: number): void;
  /** Sets the total once it becomes known (e.g. from a node's reply). */
  setTotal(total: number): void;
  /** Removes the line (if one was drawn), leaving the terminal as it was. */
  finish(): void;
}

const BAR_WIDTH = 24;
const SILENT: Progress = { update() {}, setTotal() {}, finish() {} };

/**
 * Creates a progress display on `ctx.err`: a real one when `ctx.isTerminal`, a silent one
 * otherwise.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * let drawn = "";
 * let clock = 0;
 * const ctx = { out() {}, err: (t: string) => void (drawn += t), isTerminal: true, env: () => undefined };
 * const progress = createProgress(ctx, { label: "store b1", total: 2048, now: () => clock });
 * clock = 1000;
 * progress.update(1024);
 * console.log(drawn.includes("50%")); // true
 * progress.finish();
 * ```
 *
 * @param ctx Where the line is drawn, and whether it is a terminal.
 * @param options Label, total, clock, redraw interval.
 * @returns The display.
 */
export function createProgress(ctx: CliContext, options: ProgressOptions): Progress {
  if (!ctx.isTerminal) return SILENT;
  const now = options.now ?? (() => performance.now());
  const minIntervalMs = options.minIntervalMs ?? 100;
  const started = now();
  let lastDraw = -Infinity;
  let drawnWidth = 0;
  let finished = false;
  let total = options.total;
  return {
    setTotal(value) {
      total = value;
    },
    update(done) {
      if (finished) return;
      const t = now();
      if (t - lastDraw < minIntervalMs) return;
      lastDraw = t;
      const line = formatProgressLine(options.label, done, total, t - started);
      // Pad over the remains of a longer previous line.
      ctx.err(`\r${line.padEnd(drawnWidth)}`);
      drawnWidth = Math.max(drawnWidth, line.length);
    },
    finish() {
      if (finished) return;
      finished = true;
      if (drawnWidth > 0) ctx.err(`\r${" ".repeat(drawnWidth)}\r`);
    },
  };
}

/**
 * The text of one progress line.
 *
 * @example
 * ```ts
 * import { formatProgressLine } from "./progress.ts";
 * console.log(formatProgressLine("get", 512 << 20, 1024 << 20, 2000));
 * // "get [############------------]  50%  512.0 MiB / 1.0 GiB  256.0 MiB/s  ETA 0:02"
 * ```
 *
 * @param label What is under way.
 * @param done Bytes done.
 * @param total Total bytes, when known.
 * @param elapsedMs Time since the start.
 * @returns The line, without `\r` or newline.
 */
export function formatProgressLine(
  label: string,
  done: number,
  total: number | undefined,
  elapsedMs: number,
): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const rateText = formatRate(done, elapsedMs / 1000);
  if (total === undefined) return `${label}  ${formatBytes(done)}  ${rateText}`;
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.floor(fraction * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const eta = rate > 0 ? formatDuration(Math.max(0, total - done) / rate) : "--:--";
  return `${label} ${bar} ${percent}  ${formatBytes(done)} / ${
    formatBytes(total)
  }  ${rateText}  ETA ${eta}`;
}

/**
 * A duration as `M:SS`, or `H:MM:SS` from one hour on.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * console.log(formatDuration(65), formatDuration(3725)); // "1:05" "1:02:05"
 * ```
 *
 * @param seconds A non-negative duration.
 * @returns The text.
 */
export function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * The time and rate at the end of a summary line (`, 1.25 s, 146.8 MiB/s`), empty when
 * nothing was moved or no time passed. Pass the bytes the command's progress bar counted, so
 * that the summary's rate is the rate the bar showed at the end.
 *
 * @example
 * ```ts
 * import { formatSummaryRate } from "./progress.ts";
 * console.log(`stored b1: 3.0 MiB${formatSummaryRate(3 << 20, 2)}`);
 * // "stored b1: 3.0 MiB, 2.00 s, 1.5 MiB/s"
 * ```
 *
 * @param bytes The bytes moved.
 * @param seconds The time they took, from the moment the progress bar started.
 * @returns The text, with its leading comma.
 */
export function formatSummaryRate(bytes: number, seconds: number): string {
  if (seconds <= 0 || bytes === 0) return "";
  return `, ${seconds.toFixed(2)} s, ${formatRate(bytes, seconds)}`;
}
