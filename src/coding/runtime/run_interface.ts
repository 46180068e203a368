/**
 * What one run of a program offers whoever drives it (the step loops, the local cluster, a
 * served request): steps, then `finish()`, or `abort()`. `PlanRun` (`program_run.ts`) is the
 * run of a compiled plan.
 *
 * @module
 */

import type { PooledBuffer } from "../../buffer/pool.ts";

/**
 * The result of one step of a {@linkcode ProgramRun}.
 *
 * @example
 * ```ts
 * import type { StepResult } from "./run_interface.ts";
 * function consume(step: StepResult, send: (data: Uint8Array) => void): void {
 *   if (step.output === null) return;
 *   send(step.output.bytes.subarray(0, step.length));
 *   step.output.release();
 * }
 * ```
 */
export interface StepResult {
  /** The step's index (0-based). */
  readonly step: number;
  /** The step's length in bytes. */
  readonly length: number;
  /**
   * A stream program's output buffer (`bytes.subarray(0, length)`); the caller owns this
   * reference and must release it. `null` for a local program.
   */
  readonly output: PooledBuffer | null;
}

/**
 * Totals of a completed run.
 *
 * @example
 * ```ts
 * import type { RunSummary } from "./run_interface.ts";
 * const summary: RunSummary = { length: 100, steps: 1 };
 * ```
 */
export interface RunSummary {
  /** The stream length L. */
  readonly length: number;
  /** Steps executed. */
  readonly steps: number;
}

/**
 * One run of a program in progress: opened streams, then steps, then `finish()` (or
 * `abort()`).
 *
 * @example
 * ```ts
 * import type { ProgramRun, RunSummary } from "./run_interface.ts";
 * async function drain(run: ProgramRun): Promise<RunSummary> {
 *   for (let step = await run.step(); step; step = await run.step()) step.output?.release();
 *   return await run.finish();
 * }
 * ```
 */
export interface ProgramRun {
  /** The program's name. */
  readonly program: string;
  /** The stream length L (every input's length). */
  readonly length: number;
  /** The number of steps, `ceil(L / C)`. */
  readonly steps: number;
  /**
   * Executes the next step; `null` after the last. On failure the run is aborted (outputs
   * discarded, inputs closed, buffers released) and the error names the program and step.
   */
  step(): Promise<StepResult | null>;
  /** After the last step: waits for the writes, closes inputs and commits the outputs. */
  finish(): Promise<RunSummary>;
  /**
   * Aborts: outputs discarded, inputs closed, buffers released. Idempotent. During a `step()`
   * it stops the step (which then rejects with `reason`) and resolves once it cleaned up.
   */
  abort(reason?: unknown): Promise<void>;
}
