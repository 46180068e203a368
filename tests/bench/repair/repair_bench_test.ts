import assert from "node:assert/strict";
import {
  checkRepairCounts,
  DEFAULT_REPAIR_CODES,
  parseRepairCodes,
} from "../../../bench/repair/repair_bench.ts";
import { isCdfsError } from "../../../src/core/errors.ts";

Deno.test("parseRepairCodes splits before each family, keeps parameters' commas and names codes canonically", async () => {
  assert.deepEqual(await parseRepairCodes("rs:k=4,m=2, lrc:k=4,l=2,r=1,rapidraid:n=8,k=5"), [
    "rs:k=4,m=2",
    "lrc:k=4,l=2,r=1",
    "rapidraid:n=8,k=5",
  ]);
  // The defaults load, with the same k, each on at most 16 nodes.
  assert.deepEqual(await parseRepairCodes(DEFAULT_REPAIR_CODES.join(",")), DEFAULT_REPAIR_CODES);
});

Deno.test("parseRepairCodes and checkRepairCounts refuse bad input as usage errors", async () => {
  const bad: [string, RegExp][] = [
    ["", /name at least one code/],
    ["nosuchcode", /'nosuchcode' is not a code/],
    ["rapidraid:n=30,k=10", /'rapidraid:n=30,k=10' is not a code/],
    ["rs:k=16,m=4", /needs 20 nodes; the bench has 16/],
    ["rs:k=4,m=2,rs:k=4,m=2", /named twice/],
  ];
  for (const [text, pattern] of bad) {
    await assert.rejects(
      parseRepairCodes(text),
      (e) => isCdfsError(e, "USAGE") && pattern.test(e.message),
      text,
    );
  }
  for (const counts of [{ objectBytes: 0, runs: 1 }, { objectBytes: 10, runs: 1.5 }]) {
    assert.throws(() => checkRepairCounts(counts), (e) => isCdfsError(e, "USAGE"));
  }
});
