/**
 * PING: the node's id and version, its free space and how many blocks it holds.
 *
 * @module
 */
import { FRAME_TYPE } from "../../protocol/frame.ts";
import type { PingResponse } from "../../protocol/responses.ts";
import { VERSION } from "../../core/version.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";

/**
 * The PING handler.
 */
export const pingOp: OpHandler = {
  op: "PING",
  clientStreams: false,
  async run(ctx, raw) {
    parseRequestAs("PING", raw);
    const [freeBytes, blocks] = await Promise.all([ctx.store.freeBytes(), ctx.store.count()]);
    const response: PingResponse = { node: ctx.nodeId, version: VERSION, freeBytes, blocks };
    await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
  },
};
