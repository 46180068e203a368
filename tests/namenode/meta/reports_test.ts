import assert from "node:assert/strict";
import type { PlacedBlock, ReportedBlock } from "../../../src/namenode/meta/model.ts";
import { classifyReport, planReport, validateReport } from "../../../src/namenode/meta/reports.ts";
import { cdfsError } from "../../helpers/assert_error.ts";

const seen = (blockId: string, length: number, firstSeen: number): ReportedBlock => ({
  node: "dn0",
  blockId,
  length,
  firstSeen,
});

Deno.test("a full report keeps first-seen times, rewrites changed lengths, drops the rest", () => {
  const before = new Map([["a", seen("a", 1, 5)], ["b", seen("b", 2, 6)], ["c", seen("c", 3, 7)]]);
  const plan = planReport("dn0", before, {
    kind: "full",
    blocks: [{ blockId: "a", length: 1 }, { blockId: "b", length: 9 }, { blockId: "d", length: 4 }],
  }, 100);
  assert.deepEqual(plan, { upserts: [seen("b", 9, 6), seen("d", 4, 100)], removed: ["c"] });
});

Deno.test("an incremental report ignores removals of blocks never reported", () => {
  const plan = planReport("dn0", new Map(), {
    kind: "incremental",
    added: [{ blockId: "a", length: 1 }],
    removed: ["zz"],
  }, 3);
  assert.deepEqual(plan, { upserts: [seen("a", 1, 3)], removed: [] });
});

Deno.test("classification: only committed copies go missing; unplaced blocks are unknown", () => {
  const placed = (blockId: string, state: "pending" | "stored"): PlacedBlock => ({
    fileId: 1,
    name: "f",
    blockId,
    role: { kind: "part", index: 0 },
    node: "dn0",
    state,
  });
  const result = classifyReport([placed("s", "stored"), placed("p", "pending")], {
    kind: "full",
    blocks: [{ blockId: "x", length: 1 }],
  });
  assert.deepEqual(result.missing.map((b) => b.blockId), ["s"]);
  assert.deepEqual(result.unknown, ["x"]);
});

Deno.test("reports are validated", () => {
  assert.throws(
    () =>
      validateReport({
        kind: "full",
        blocks: [{ blockId: "a", length: 1 }, { blockId: "a", length: 1 }],
      }),
    cdfsError("BAD_REQUEST", /lists a twice/),
  );
  assert.throws(
    () =>
      validateReport({ kind: "incremental", added: [{ blockId: "a", length: 1 }], removed: ["a"] }),
    cdfsError("BAD_REQUEST", /both adds and removes a/),
  );
  assert.throws(
    () => validateReport({ kind: "full", blocks: [{ blockId: "a", length: -1 }] }),
    cdfsError("BAD_REQUEST", /length of a/),
  );
  assert.throws(
    () => validateReport({ kind: "weekly" } as never),
    cdfsError("BAD_REQUEST", /"full" or "incremental"/),
  );
});
