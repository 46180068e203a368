/**
 * PING: the node's id and version, its free space, how many blocks it holds, how loaded it is
 * (its buffer pool and connections), and the GF(2^8) kernels it codes with.
 *
 * @module
 */
import { FRAME_TYPE } from "../../protocol/frame.ts";
import type { PingResponse } from "../../protocol/responses.ts";
import { VERSION } from "../../core/version.ts";
import { gfBackend } from "../../gf/backend.ts";
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
    const response: PingResponse = {
      node: ctx.nodeId,
      version: VERSION,
      freeBytes,
      blocks,
      gfBackend: gfBackend().backend,
    };
    // Pressure, so that a saturated node does not look healthy just because it answers.
    if (ctx.pressure !== undefined) Object.assign(response, ctx.pressure());
    await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
  },
};
