/**
 * DELETE: removes a block (durably) or answers `NOT_FOUND`.
 *
 * @module
 */
import { FRAME_TYPE } from "../../protocol/frame.ts";
import type { DeleteResponse } from "../../protocol/responses.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";

/**
 * The DELETE handler.
 */
export const deleteOp: OpHandler = {
  op: "DELETE",
  clientStreams: false,
  async run(ctx, raw) {
    const { block } = parseRequestAs("DELETE", raw);
    ctx.block = block;
    await ctx.store.delete(block);
    const response: DeleteResponse = { block, deleted: true };
    await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
  },
};
