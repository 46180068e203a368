import assert from "node:assert/strict";
import { blockIdOf } from "../../../src/namenode/meta/model.ts";

Deno.test("block ids follow the coding modules' templates and are valid block ids", () => {
  assert.equal(blockIdOf(12, { kind: "part", index: 3 }), "f12.part3");
  assert.equal(blockIdOf(12, { kind: "coded", index: 15 }), "f12.coded15");
});
