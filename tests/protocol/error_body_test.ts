import assert from "node:assert/strict";
import { cdfsError } from "../helpers/assert_error.ts";
import { errorBody, parseErrorBody } from "../../src/protocol/error_body.ts";

function badRequest(pattern: RegExp): (e: unknown) => boolean {
  return cdfsError("BAD_REQUEST", pattern);
}

Deno.test("error bodies: known codes pass, unknown codes become INTERNAL, lines stay single", () => {
  assert.deepEqual(parseErrorBody({ code: "CORRUPT", message: "bad" }), {
    code: "CORRUPT",
    message: "bad",
  });
  assert.deepEqual(parseErrorBody({ code: "QUOTA", message: "full" }), {
    code: "INTERNAL",
    message: "QUOTA: full",
  });
  assert.equal(parseErrorBody({ code: "EXISTS", message: "a\nb\r\n" }).message, "a b ");
  assert.throws(() => parseErrorBody({ code: "lower", message: "" }), badRequest(/code/));
  assert.throws(() => parseErrorBody({ code: "EXISTS" }), badRequest(/message/));
  assert.throws(() => parseErrorBody({ code: "EXISTS", message: "", x: 1 }), badRequest(/"x"/));
  const long = errorBody("INTERNAL", "é".repeat(5000));
  assert.ok(long.message.length <= 1000);
  assert.ok(new TextEncoder().encode(JSON.stringify(long)).length <= 4096);
});
