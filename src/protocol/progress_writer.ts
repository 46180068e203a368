/**
 * {@linkcode ProgressWriter}: one side of a long CODING exchange, writing its frames one at a
 * time and keeping the other side informed with `{"progress": n}` RESPONSE frames.
 *
 * The keepalive is what tells a pipeline's failure apart from waiting for it: a node waiting
 * for a stuck neighbour keeps the nodes after it informed, so only the node next to the stuck
 * one times out, and the error names the right node. A node serving a CODING request writes
 * its replies through one (progress at most ten times a second for a local program, keepalives
 * for any); a node pushing its stream to the next node of a push-mode chain writes the stream
 * through another (keepalives only: the data is its progress).
 *
 * @module
 */
import type { FrameConnection } from "./connection.ts";
import { FRAME_TYPE } from "./frame.ts";

/** How often progress is reported, at most. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * Options of a {@linkcode ProgressWriter}.
 *
 * @example
 * ```ts
 * import type { ProgressWriterOptions } from "./progress_writer.ts";
 * const options: ProgressWriterOptions = { reportProgress: true };
 * ```
 */
export interface ProgressWriterOptions {
  /** Report `progress` when it changed (at most ten times a second), not only as keepalive. */
  readonly reportProgress: boolean;
  /** Told when a frame starts (true) and finishes (false) being written. */
  readonly onFrameOpen?: (open: boolean) => void;
}

/**
 * Serialises the frames written to one connection and adds progress frames: when progress
 * changed (if reporting) and when nothing was written for a third of the connection's idle
 * timeout (at most 5 s). Frames are written in the order `write` was called.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { ProgressWriter } from "./progress_writer.ts";
 * const writer = new ProgressWriter(conn, { reportProgress: true });
 * writer.start();
 * writer.progress = 1 << 20;
 * await writer.write(() => conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { prepared: true }));
 * writer.stop();
 * ```
 */
export class ProgressWriter {
  /** Bytes done, reported in progress frames. */
  progress = 0;
  /** Rejects when a write failed (the writer's own progress frames included). */
  readonly failed: Promise<never>;
  readonly #conn: FrameConnection;
  readonly #options: ProgressWriterOptions;
  readonly #keepaliveMs: number;
  #reported = 0;
  #lastWrite = performance.now();
  #lastProgress = 0;
  #busy = false;
  #chain: Promise<unknown> = Promise.resolve();
  #failure: { error: unknown } | undefined;
  #fail!: (error: unknown) => void;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Makes the writer of a connection (not started).
   *
   * @param conn The connection.
   * @param options Whether to report progress, and who to tell of open frames.
   */
  constructor(conn: FrameConnection, options: ProgressWriterOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#keepaliveMs = Math.max(50, Math.min(5000, conn.idleTimeoutMs / 3));
    this.failed = new Promise<never>((_, reject) => this.#fail = reject);
    this.failed.catch(() => {});
  }

  /**
   * Starts the progress timer.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * writer.start();
   * ```
   */
  start(): void {
    if (this.#timer !== undefined) return;
    const tick = Math.min(PROGRESS_INTERVAL_MS, this.#keepaliveMs / 2);
    this.#timer = setInterval(() => this.#tick(), tick);
  }

  /**
   * Stops the progress timer (writes in flight go on).
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * writer.stop();
   * ```
   */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Writes one frame, after any write in flight. `cancel` runs instead of `write` when the
   * writer already failed.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await writer.write(() => conn.writeDataFrame(bytes));
   * ```
   *
   * @param write Writes the frame.
   * @param cancel Releases what `write` would have, when it does not run.
   * @returns What `write` returned.
   * @throws The error of this or an earlier write.
   */
  write<T>(write: () => Promise<T>, cancel?: () => void): Promise<T> {
    const result = this.#chain.then(async () => {
      if (this.#failure !== undefined) {
        cancel?.();
        throw this.#failure.error;
      }
      this.#busy = true;
      this.#options.onFrameOpen?.(true);
      try {
        const value = await write();
        this.#options.onFrameOpen?.(false);
        return value;
      } catch (e) {
        this.#failure ??= { error: e };
        this.#fail(e);
        throw e;
      } finally {
        this.#busy = false;
        this.#lastWrite = performance.now();
      }
    });
    this.#chain = result.catch(() => {});
    return result;
  }

  /**
   * Throws the error of a write that failed.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * writer.check();
   * ```
   */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /**
   * Waits for the writes in flight.
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * await writer.settled();
   * ```
   */
  async settled(): Promise<void> {
    await this.#chain;
  }

  /**
   * Sets the progress and reports it at once when a report is due (a relay: a push-mode node
   * passes on what the chain's end reports without waiting for its own timer, so the client
   * hears it after one hop's delay per node, not one timer period).
   *
   * @example
   * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
   * ```ts ignore
   * writer.report(4 << 20);
   * ```
   *
   * @param progress Bytes done.
   */
  report(progress: number): void {
    this.progress = progress;
    if (this.#timer !== undefined) this.#tick();
  }

  #tick(): void {
    if (this.#busy || this.#failure !== undefined) return;
    const now = performance.now();
    const due = this.#options.reportProgress && this.progress !== this.#reported &&
      now - this.#lastProgress >= PROGRESS_INTERVAL_MS;
    if (!due && now - this.#lastWrite < this.#keepaliveMs) return;
    const progress = this.progress;
    this.#reported = progress;
    this.#lastProgress = now;
    this.write(() => this.#conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { progress }))
      .catch(() => {}); // surfaces through `failed` and the next write
  }
}
