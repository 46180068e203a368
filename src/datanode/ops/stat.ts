/**
 * STAT: a block's length, chunk size, digest and creation time, from its verified header and
 * footer (the data itself is verified by every read, not here).
 *
 * @module
 */
import { formatChecksum } from "../../checksum/checksum.ts";
import { FRAME_TYPE } from "../../protocol/frame.ts";
import type { StatResponse } from "../../protocol/responses.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";

/**
 * The STAT handler.
 */
export const statOp: OpHandler = {
  op: "STAT",
  clientStreams: false,
  async run(ctx, raw) {
    const { block } = parseRequestAs("STAT", raw);
    ctx.block = block;
    const info = await ctx.store.stat(block);
    const response: StatResponse = {
      block,
      length: info.length,
      chunkSize: info.chunkSize,
      digest: formatChecksum(info.digest),
      created: info.created.toISOString(),
    };
    await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
  },
};
