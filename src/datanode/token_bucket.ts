/**
 * A token bucket that paces background work (the scrub) to a rate in bytes per second, on an
 * injectable clock so that tests check the rate without waiting for it.
 *
 * @module
 */

/**
 * The time source of a {@linkcode TokenBucket}: the real one is {@linkcode SYSTEM_CLOCK}; a
 * test passes one whose `sleep` advances `now` at once.
 *
 * @example
 * ```ts
 * import type { Clock } from "./token_bucket.ts";
 * let now = 0;
 * const fake: Clock = { now: () => now, sleep: (ms) => Promise.resolve(void (now += ms)) };
 * ```
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The process's clock: `performance.now()` and `setTimeout`.
 */
export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/**
 * Paces work to `rate` units per second. `take(n)` spends `n` tokens and waits while the
 * bucket is in debt, so a take larger than the burst (a whole chunk) is allowed and the long-run
 * rate still holds: over any run of takes the time spent is at least
 * `(total - burst) / rate` seconds.
 *
 * @example
 * ```ts
 * import { type Clock, TokenBucket } from "./token_bucket.ts";
 * let now = 0;
 * const clock: Clock = { now: () => now, sleep: (ms) => Promise.resolve(void (now += ms)) };
 * const bucket = new TokenBucket(1000, { burst: 100, clock });
 * for (let i = 0; i < 10; i++) await bucket.take(100);
 * console.log(now); // 900: 1000 tokens at 1000/s, the first 100 from the full bucket
 * ```
 */
export class TokenBucket {
  /** Tokens added per second. */
  readonly rate: number;
  /** The most tokens the bucket holds (what may be spent at once after a pause). */
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updated: number;

  /**
   * Makes a full bucket.
   *
   * @param rate Tokens per second, a positive number.
   * @param options The burst (default: a tenth of a second's worth) and the clock.
   * @throws {RangeError} For a rate or burst that is not a positive finite number.
   */
  constructor(rate: number, options: { burst?: number; clock?: Clock } = {}) {
    const burst = options.burst ?? rate / 10;
    if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`bad rate ${rate}`);
    if (!(burst > 0 && Number.isFinite(burst))) throw new RangeError(`bad burst ${burst}`);
    this.rate = rate;
    this.burst = burst;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#tokens = burst;
    this.#updated = this.#clock.now();
  }

  /**
   * Spends `n` tokens, waiting until the bucket is out of debt.
   *
   * @param n The tokens (bytes) about to be used.
   * @param signal Ends the wait early (the promise rejects with its reason).
   */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    this.#refill();
    this.#tokens -= n;
    if (this.#tokens >= 0) return;
    await this.#clock.sleep((-this.#tokens / this.rate) * 1000, signal);
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#updated) / 1000) * this.rate);
    this.#updated = now;
  }
}
