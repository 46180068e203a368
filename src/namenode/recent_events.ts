/**
 * The namenode's recent-events list: the last records its {@linkcode NameNodeLogSink} was
 * handed, kept in memory (a ring) for the status page and the STATUS op. The records are the
 * log's own, unchanged: the list is the sink teed, never a second description of a decision.
 *
 * @module
 */
import type { NameNodeLogRecord, NameNodeLogSink } from "./log.ts";

/** How many records the list keeps by default. */
export const DEFAULT_RECENT_EVENTS = 200;

/**
 * The last `capacity` log records, oldest dropped first.
 *
 * @example
 * ```ts
 * import { RecentEvents } from "./recent_events.ts";
 * const events = new RecentEvents(2);
 * const sink = events.tee(() => {});
 * for (const event of ["a", "b", "c"]) sink({ time: "t", namenode: "nn1", event });
 * console.log(events.newestFirst().map((r) => r.event)); // [ "c", "b" ]
 * ```
 */
export class RecentEvents {
  readonly #ring: (NameNodeLogRecord | undefined)[];
  #next = 0;
  #count = 0;

  /**
   * An empty list.
   *
   * @param capacity How many records it keeps (at least 1).
   */
  constructor(readonly capacity: number = DEFAULT_RECENT_EVENTS) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`recent events capacity must be a positive integer, got ${capacity}`);
    }
    this.#ring = new Array(capacity);
  }

  /**
   * Keeps one record (the oldest is dropped when full).
   *
   * @param record The record, as the log emitted it.
   */
  push(record: NameNodeLogRecord): void {
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.capacity;
    this.#count = Math.min(this.#count + 1, this.capacity);
  }

  /**
   * A sink that keeps each record here, then hands it to `sink` (whose failure is its own).
   *
   * @param sink Where records go besides this list.
   * @returns The teed sink.
   */
  tee(sink: NameNodeLogSink): NameNodeLogSink {
    return (record) => {
      this.push(record);
      sink(record);
    };
  }

  /**
   * The records kept, newest first.
   *
   * @param limit At most this many.
   * @returns A copy of the list.
   */
  newestFirst(limit: number = this.capacity): NameNodeLogRecord[] {
    const out: NameNodeLogRecord[] = [];
    for (let i = 1; i <= Math.min(this.#count, limit); i++) {
      out.push(this.#ring[(this.#next - i + this.capacity) % this.capacity]!);
    }
    return out;
  }
}
