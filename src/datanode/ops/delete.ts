/**
 * DELETE: removes a block (durably) or answers `NOT_FOUND`. A DELETE with a request id that the
 * node remembers (a client asking again after the reply was lost) gets the first one's outcome
 * and deletes nothing (`OpContext.requests`).
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
    const { block, request } = parseRequestAs("DELETE", raw);
    ctx.block = block;
    const remove = () => ctx.store.delete(block);
    if (request === undefined || ctx.requests === undefined) await remove();
    else await ctx.requests.once(request, block, remove);
    const response: DeleteResponse = { block, deleted: true };
    await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
  },
};
