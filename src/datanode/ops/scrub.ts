/**
 * SCRUB: one scrub pass now (scrub.ts), reported as it goes with `{"progress": bytes}` replies
 * (at most ten a second, and keepalives, so a slow pass never looks like a dead node) and ended
 * with `{"scrubbed": summary}`. A client that goes away stops the pass.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import { FRAME_TYPE } from "../../protocol/frame.ts";
import { ProgressWriter } from "../../protocol/progress_writer.ts";
import type { ScrubResponse } from "../../protocol/scrub_messages.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";
import type { Scrubber } from "../scrub.ts";

/**
 * Makes the SCRUB handler of a node's scrubber.
 *
 * @example
 * ```ts
 * import { BlockStore } from "../../store/block_store.ts";
 * import { Scrubber } from "../scrub.ts";
 * import { createScrubOp } from "./scrub.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir());
 * console.log(createScrubOp(new Scrubber({ store, nodeId: "dn1" })).op); // "SCRUB"
 * ```
 *
 * @param scrubber The node's scrubber.
 * @returns The handler.
 */
export function createScrubOp(scrubber: Scrubber): OpHandler {
  return {
    op: "SCRUB",
    clientStreams: false,
    async run(ctx, raw) {
      const request = parseRequestAs("SCRUB", raw);
      const writer = new ProgressWriter(ctx.conn, {
        reportProgress: true,
        onFrameOpen: (open) => ctx.frameOpen = open,
      });
      // The client's loss (a progress write fails) or the node's shutdown ends the pass.
      const gone = new AbortController();
      writer.failed.catch((e) => gone.abort(e));
      writer.start();
      try {
        const summary = await scrubber.scrubNow({
          ...(request.rate === undefined ? {} : { rate: request.rate }),
          onProgress: (bytes) => writer.progress = bytes,
          signal: AbortSignal.any([gone.signal, ctx.signal]),
        });
        ctx.bytes = summary.bytes;
        writer.stop();
        const reply: ScrubResponse = { scrubbed: summary };
        await writer.write(() => ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, reply));
      } finally {
        writer.stop();
        await writer.settled();
      }
    },
  };
}

/**
 * The SCRUB handler of a node without a scrubber (it answers `UNAVAILABLE`). A server replaces
 * it with one made for its own scrubber, as it does for STATS.
 */
export const scrubOp: OpHandler = {
  op: "SCRUB",
  clientStreams: false,
  run(_ctx, raw) {
    parseRequestAs("SCRUB", raw);
    return Promise.reject(new CdfsError("UNAVAILABLE", "this node has no scrubber"));
  },
};
