/**
 * The frame-byte counters a connection adds to.
 *
 * @module
 */

/**
 * Counters of frame bytes (16-byte header plus payload) a connection adds to as whole frames
 * are read and written; preambles and bytes drained while closing are not counted.
 *
 * @example
 * ```ts
 * import type { ByteMeter } from "./byte_meter.ts";
 * const meter: ByteMeter = { bytesIn: 0, bytesOut: 0 };
 * ```
 */
export interface ByteMeter {
  /** Frame bytes read. */
  bytesIn: number;
  /** Frame bytes written. */
  bytesOut: number;
}
