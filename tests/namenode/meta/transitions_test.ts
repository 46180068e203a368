import assert from "node:assert/strict";
import {
  commitRecord,
  heartbeatRecord,
  isSilent,
  newFileRecord,
  registerRecord,
  validateNewFile,
} from "../../../src/namenode/meta/transitions.ts";
import { cdfsError } from "../../helpers/assert_error.ts";

const spec = validateNewFile({
  name: "a",
  code: "rs",
  blocks: [{ role: { kind: "coded", index: 1 }, node: "b" }, {
    role: { kind: "part", index: 0 },
    node: "a",
  }],
  digest: "0123456789abcdef",
});

Deno.test("a new file's blocks are sorted parts first, and pending", () => {
  const file = newFileRecord(5, spec, 10);
  assert.deepEqual(file.blocks.map((b) => [b.blockId, b.state]), [
    ["f5.part0", "pending"],
    ["f5.coded1", "pending"],
  ]);
});

Deno.test("a commit must agree with what begin said", () => {
  const file = newFileRecord(5, spec, 10);
  assert.throws(
    () => commitRecord(file, { length: 1, digest: "fedcba9876543210" }, 11),
    cdfsError("CONFLICT", /has digest 0123456789abcdef, the commit says fedcba9876543210/),
  );
  assert.throws(
    () => commitRecord(file, { length: 1, state: "pending" as never }, 11),
    cdfsError("BAD_REQUEST", /replicated, encoded or archived/),
  );
  const done = commitRecord(file, { length: 1 }, 11);
  assert.deepEqual([done.state, done.committed, done.digest], [
    "replicated",
    11,
    "0123456789abcdef",
  ]);
});

Deno.test("heartbeats never move time backwards; silence is strictly longer than the limit", () => {
  const node = registerRecord(null, { id: "n", address: "h:1", capacity: 9, free: 9 }, 100);
  assert.equal(heartbeatRecord(node, { free: 1 }, 50).lastHeartbeat, 100);
  assert.equal(isSilent(node, 130, 30), false);
  assert.equal(isSilent(node, 131, 30), true);
  assert.equal(isSilent({ ...node, state: "dead" }, 1000, 30), false);
});
