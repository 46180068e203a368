/**
 * The limiter behind `namenode serve --repair-rate`: a token bucket per datanode, in bytes.
 * A repair reserves, as it starts, what it may move through each datanode (the repair loop's
 * estimate), and when it ends the reservation is given back ({@linkcode RepairRateLimiter.refund})
 * and it is charged what it moved through each one (each source the bytes it sent, the target
 * the bytes it wrote); either may overdraw a bucket. The next repair starts only once no bucket
 * is overdrawn ({@linkcode RepairRateLimiter.delayMs}), so repairs running at once
 * (`--repair-concurrency`) do not all start on the same budget, and over any stretch of repairs
 * no datanode moves more than `rate` bytes per second plus one second's burst and the bytes of
 * one repair. A repair itself runs at full speed: the pace is kept between repairs, not inside
 * the datanodes' coding runs.
 *
 * The clock is injected, so the limiter is tested without waiting.
 *
 * @module
 */

/**
 * The default `--repair-rate`: 32 MiB/s per datanode (a fraction of a disk's or a 1 Gbit/s
 * link's bandwidth, so foreground traffic keeps most of it).
 */
export const DEFAULT_REPAIR_RATE = 32 * 1024 * 1024;

/**
 * A per-datanode byte rate limiter with an injected clock.
 *
 * @example
 * ```ts
 * import { RepairRateLimiter } from "./repair_rate.ts";
 * let now = 0;
 * const limiter = new RepairRateLimiter(1000, () => now); // 1000 bytes/s, 1 s burst
 * limiter.charge("dn1", 3000);
 * console.log(limiter.delayMs()); // 2000: dn1 is 2000 bytes over its burst
 * now += 500;
 * console.log(limiter.delayMs()); // 1500
 * ```
 */
export class RepairRateLimiter {
  /** Bytes per second per datanode. */
  readonly rate: number;
  /** The bucket size: one second of traffic. */
  readonly burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * A limiter with full buckets.
   *
   * @param rate Bytes per second per datanode (positive).
   * @param now The clock, ms (default `Date.now`).
   * @throws {RangeError} For a rate that is not a positive number.
   */
  constructor(rate: number, now: () => number = Date.now) {
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new RangeError(`a repair rate must be a positive number of bytes/s, got ${rate}`);
    }
    this.rate = rate;
    this.burst = rate;
    this.#now = now;
  }

  /**
   * Takes `bytes` from a datanode's bucket (it may go below zero).
   *
   * @param node The datanode.
   * @param bytes The bytes it moved for a repair.
   */
  charge(node: string, bytes: number): void {
    const bucket = this.#refill(node);
    bucket.tokens -= Math.max(0, bytes);
  }

  /**
   * Gives back bytes taken earlier (a reservation that is replaced by the real charge), up to a
   * full bucket.
   *
   * @example
   * ```ts
   * import { RepairRateLimiter } from "./repair_rate.ts";
   * const limiter = new RepairRateLimiter(1000, () => 0);
   * limiter.charge("dn1", 3000);
   * limiter.refund("dn1", 2500);
   * console.log(limiter.available("dn1")); // 500
   * ```
   *
   * @param node The datanode.
   * @param bytes The bytes to give back.
   */
  refund(node: string, bytes: number): void {
    const bucket = this.#refill(node);
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, bytes));
  }

  /**
   * How long to wait before the next repair may start: until the most overdrawn bucket is
   * back at zero (0 when none is overdrawn).
   *
   * @returns Milliseconds.
   */
  delayMs(): number {
    let debt = 0;
    for (const node of this.#buckets.keys()) {
      debt = Math.max(debt, -this.#refill(node).tokens);
    }
    return Math.ceil((debt / this.rate) * 1000);
  }

  /**
   * The bytes a datanode may still move at once (negative when overdrawn).
   *
   * @param node The datanode.
   * @returns Its tokens.
   */
  available(node: string): number {
    return this.#refill(node).tokens;
  }

  #refill(node: string): { tokens: number; at: number } {
    const now = this.#now();
    let bucket = this.#buckets.get(node);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(node, bucket);
    }
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.burst, bucket.tokens + (elapsed / 1000) * this.rate);
    bucket.at = now;
    return bucket;
  }
}
