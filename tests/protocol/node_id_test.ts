import assert from "node:assert/strict";
import { cdfsError } from "../helpers/assert_error.ts";
import { validateNodeId } from "../../src/protocol/node_id.ts";

function badRequest(pattern: RegExp): (e: unknown) => boolean {
  return cdfsError("BAD_REQUEST", pattern);
}

Deno.test("node ids", () => {
  assert.equal(validateNodeId("dn1:7070@rack-2"), "dn1:7070@rack-2");
  assert.throws(() => validateNodeId(""), badRequest(/node id/));
  assert.throws(() => validateNodeId("a/b"), badRequest(/node id/));
});
