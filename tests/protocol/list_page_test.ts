import assert from "node:assert/strict";
import { MAX_JSON_PAYLOAD } from "../../src/protocol/frame.ts";
import { buildListResponse } from "../../src/protocol/list_page.ts";
import { parseResponse } from "../../src/protocol/response_validation.ts";
import type { ListEntry } from "../../src/protocol/responses.ts";

const CREATED = "2025-06-01T12:34:56.789Z";

Deno.test("LIST pages respect the limit and the 64 KiB bound, and set next", () => {
  const entries: ListEntry[] = [];
  for (let i = 0; i < 10001; i++) {
    entries.push({
      block: `${"x".repeat(190)}${String(i).padStart(6, "0")}`,
      length: i,
      created: CREATED,
    });
  }
  const page = buildListResponse(entries, 10000);
  const size = new TextEncoder().encode(JSON.stringify(page)).length;
  assert.ok(size <= MAX_JSON_PAYLOAD, `page is ${size} bytes`);
  assert.ok(page.blocks.length > 100 && page.blocks.length < 10000);
  assert.equal(page.next, page.blocks[page.blocks.length - 1]!.block);
  assert.deepEqual(page.blocks, entries.slice(0, page.blocks.length));
  // The page is valid for the client too.
  assert.deepEqual(parseResponse("LIST", JSON.parse(JSON.stringify(page))), page);

  const small = entries.slice(0, 3);
  assert.deepEqual(buildListResponse(small, 2), {
    blocks: small.slice(0, 2),
    next: small[1]!.block,
  });
  assert.deepEqual(buildListResponse(small, 3), { blocks: small, next: null });
  assert.deepEqual(buildListResponse([], 5), { blocks: [], next: null });
});
