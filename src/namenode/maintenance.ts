/**
 * The namenode's background decisions, on a timer: mark silent datanodes dead (every
 * `checkIntervalMs`), and abort pending files older than `pendingTimeoutMs` (every
 * `pendingScanIntervalMs`; a put whose client died leaves its file pending, the name reserved
 * and its blocks unreferenced: expiry frees the name and turns the blocks into orphans for
 * garbage collection, like HDFS's lease recovery). One round at a time; a failed round (the
 * store unreachable) is logged and the next one tries again.
 *
 * @module
 */
import { markDeadDatanodes } from "./datanode_ops.ts";
import { expirePendingFiles } from "./file_ops.ts";
import type { NameNodeState } from "./state.ts";

/**
 * The timer's periods.
 *
 * @example
 * ```ts
 * import type { MaintenanceOptions } from "./maintenance.ts";
 * const options: MaintenanceOptions = {
 *   checkIntervalMs: 1000,
 *   pendingTimeoutMs: 3_600_000,
 *   pendingScanIntervalMs: 60_000,
 * };
 * ```
 */
export interface MaintenanceOptions {
  /** How often silent datanodes are looked for. */
  readonly checkIntervalMs: number;
  /** How old a pending file may get before it is aborted. */
  readonly pendingTimeoutMs: number;
  /** How often pending files are looked over. */
  readonly pendingScanIntervalMs: number;
}

/** The shortest wait between two dead checks (no busy loop on a clock that lags). */
const MIN_CHECK_MS = 10;

/**
 * The background loop of one namenode.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const loop = new Maintenance(state, { checkIntervalMs: 1000, pendingTimeoutMs: 3_600_000, pendingScanIntervalMs: 60_000 });
 * loop.start();
 * await loop.stop();
 * ```
 */
export class Maintenance {
  readonly #state: NameNodeState;
  readonly #options: MaintenanceOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | null = null;
  #lastScan = -Infinity;
  #stopped = false;

  /**
   * The loop, not started yet ({@linkcode Maintenance.start}).
   *
   * @param state The namenode.
   * @param options The periods.
   */
  constructor(state: NameNodeState, options: MaintenanceOptions) {
    this.#state = state;
    this.#options = options;
  }

  /** Starts the timer (the first round runs after one period). */
  start(): void {
    this.#schedule();
  }

  /**
   * Runs one round now: the dead check, and the pending scan when it is due.
   *
   * @returns When the round is over.
   */
  runOnce(): Promise<void> {
    this.#round ??= this.#roundOnce().finally(() => this.#round = null);
    return this.#round;
  }

  /** Stops the timer and waits for a round under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(delayMs = this.#options.checkIntervalMs): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(async () => {
      await this.runOnce();
      this.#schedule(await this.#nextCheckMs());
    }, delayMs);
  }

  /**
   * When to look for dead datanodes next: after one period, or sooner, just after the first
   * live datanode's silence passes `deadAfterMs`. So a datanode is marked dead (and the repairs
   * woken) when it is dead, which `isAlive` and LIST_DATANODES already say, not up to a period
   * later (a quarter of `deadAfterMs`, up to 5 s). A heartbeat meanwhile only makes a check find
   * nothing.
   */
  async #nextCheckMs(): Promise<number> {
    const period = this.#options.checkIntervalMs;
    try {
      const { nodes } = await this.#state.directory();
      const now = this.#state.now();
      let next = period;
      for (const node of nodes) {
        if (node.state !== "alive") continue;
        next = Math.min(next, node.lastHeartbeat + this.#state.timing.deadAfterMs - now + 1);
      }
      return Math.max(MIN_CHECK_MS, next);
    } catch {
      return period; // the store's trouble is the round's to report
    }
  }

  async #roundOnce(): Promise<void> {
    try {
      await markDeadDatanodes(this.#state);
      const now = performance.now();
      if (now - this.#lastScan >= this.#options.pendingScanIntervalMs) {
        this.#lastScan = now;
        await expirePendingFiles(this.#state, this.#options.pendingTimeoutMs);
      }
    } catch (error) {
      this.#state.log.emit("error", {
        message: `background round failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
    }
  }
}
