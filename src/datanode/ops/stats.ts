/**
 * STATS: the node's traffic counters (traffic.ts): per op, in total, and per recent CODING run.
 *
 * The reply is one RESPONSE frame, so it must fit the frame's bound (64 KiB): it carries the
 * {@linkcode STATS_RECENT_RUNS} most recent runs, fewer if their upstream lists are long.
 *
 * @module
 */
import { FRAME_TYPE, maxPayloadLength } from "../../protocol/frame.ts";
import type { StatsResponse } from "../../protocol/responses.ts";
import type { ScrubStatus } from "../../protocol/scrub_messages.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";
import { TrafficCounters } from "../traffic.ts";

/**
 * How many of the most recent runs a STATS reply carries at most.
 */
export const STATS_RECENT_RUNS = 32;

const encoder = new TextEncoder();

/**
 * Makes the STATS handler of a node, reporting `traffic`.
 *
 * @example
 * ```ts
 * import { TrafficCounters } from "../traffic.ts";
 * import { createStatsOp } from "./stats.ts";
 * const handler = createStatsOp(new TrafficCounters());
 * console.log(handler.op); // "STATS"
 * ```
 *
 * @param traffic The node's counters.
 * @param scrub The node's scrub progress now (absent: the reply has no `scrub`).
 * @returns The handler.
 */
export function createStatsOp(traffic: TrafficCounters, scrub?: () => ScrubStatus): OpHandler {
  return {
    op: "STATS",
    clientStreams: false,
    async run(ctx, raw) {
      const request = parseRequestAs("STATS", raw);
      const snapshot = request.run === undefined
        ? traffic.snapshot({ recentRuns: STATS_RECENT_RUNS })
        : traffic.snapshot({ run: request.run });
      const response: StatsResponse = { node: ctx.nodeId, ...snapshot };
      if (scrub !== undefined) response.scrub = scrub();
      // Drop the oldest runs until the reply fits one RESPONSE frame.
      const bound = maxPayloadLength(FRAME_TYPE.RESPONSE);
      for (const run of Object.keys(response.runs)) {
        if (encoder.encode(JSON.stringify(response)).length <= bound) break;
        delete response.runs[run];
      }
      await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
    },
  };
}

/**
 * The STATS handler with counters of its own (nothing counts on them). A server replaces it
 * with one made for its counters, as it does for CODING.
 */
export const statsOp: OpHandler = createStatsOp(new TrafficCounters());
