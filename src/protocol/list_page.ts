/**
 * The paging of LIST: how many entries one RESPONSE holds and where the next page starts.
 *
 * @module
 */
import { MAX_BLOCK_ID_LENGTH } from "../core/block_id.ts";
import { MAX_JSON_PAYLOAD } from "./frame.ts";
import type { ListEntry, ListResponse } from "./responses.ts";

/**
 * Builds a LIST page from the candidate entries (those after `after` with the prefix, in
 * order): at most `limit` of them and, whatever `limit` says, no more than fit the RESPONSE
 * bound of 64 KiB, so a page of 10000 entries with long ids is cut short rather than failing.
 * `next` is set when any candidate was left out. Pass at least `limit + 1` candidates when
 * there are that many, so the last page is recognised.
 *
 * @example
 * ```ts
 * import { buildListResponse } from "./list_page.ts";
 * const created = "2025-01-01T00:00:00.000Z";
 * const page = buildListResponse([
 *   { block: "a", length: 1, created },
 *   { block: "b", length: 2, created },
 * ], 1);
 * console.log(page.next); // "a"
 * ```
 *
 * @param candidates Entries in code-unit order of their ids.
 * @param limit The most entries to include.
 * @param maxBytes The bound of the encoded JSON.
 * @returns The page.
 */
export function buildListResponse(
  candidates: readonly ListEntry[],
  limit: number,
  maxBytes: number = MAX_JSON_PAYLOAD,
): ListResponse {
  // Ids and timestamps are ASCII, so string length is byte length. Reserve room for the
  // envelope and the longest possible `next`.
  let size = `{"blocks":[],"next":""}`.length + MAX_BLOCK_ID_LENGTH;
  const blocks: ListEntry[] = [];
  for (const candidate of candidates) {
    if (blocks.length >= limit) break;
    const entry = { block: candidate.block, length: candidate.length, created: candidate.created };
    const entrySize = JSON.stringify(entry).length + (blocks.length > 0 ? 1 : 0);
    if (size + entrySize > maxBytes) break;
    blocks.push(entry);
    size += entrySize;
  }
  const last = blocks[blocks.length - 1];
  return { blocks, next: blocks.length < candidates.length && last ? last.block : null };
}
