/**
 * LIST: one page of block ids (with length and creation time) in code-unit order, cut to the
 * request's `limit` and to what fits the 64 KiB RESPONSE bound.
 *
 * @module
 */
import { FRAME_TYPE } from "../../protocol/frame.ts";
import { buildListResponse } from "../../protocol/list_page.ts";
import { DEFAULT_LIST_LIMIT } from "../../protocol/requests.ts";
import type { ListEntry } from "../../protocol/responses.ts";
import { LIST_LIMIT_MAX, type ListBlocksOptions } from "../../store/block_store.ts";
import { type OpHandler, parseRequestAs } from "../op.ts";

/**
 * The LIST handler.
 */
export const listOp: OpHandler = {
  op: "LIST",
  clientStreams: false,
  async run(ctx, raw) {
    const request = parseRequestAs("LIST", raw);
    const limit = request.limit ?? DEFAULT_LIST_LIMIT;
    // One candidate more than the page may hold, so that buildListResponse can tell whether
    // this is the last page (the store caps a listing at LIST_LIMIT_MAX; see below).
    const options: ListBlocksOptions = { limit: Math.min(limit + 1, LIST_LIMIT_MAX) };
    if (request.prefix !== undefined) options.prefix = request.prefix;
    if (request.after !== undefined) options.after = request.after;
    const listing = await ctx.store.list(options);
    // A block whose header is damaged is listed by the store with a `corrupt` note; the wire
    // entry has no such field (the client rejects unknown fields), so it shows as length 0
    // and a read of it answers CORRUPT.
    const candidates: ListEntry[] = listing.blocks.map((entry) => ({
      block: entry.block,
      length: entry.length,
      created: entry.created.toISOString(),
    }));
    const page = buildListResponse(candidates, limit);
    if (page.next === null && listing.next !== null) {
      // limit = LIST_LIMIT_MAX: the store could not give the extra candidate, but it knows
      // that more blocks follow.
      page.next = page.blocks.at(-1)?.block ?? null;
    }
    await ctx.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, page);
  },
};
