import assert from "node:assert/strict";
import { closestToMedian, median, spreadOf } from "../../../bench/common/stats.ts";

Deno.test("median: the middle value, or the mean of the middle two", () => {
  assert.equal(median([5]), 5);
  assert.equal(median([9, 1, 5]), 5);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

Deno.test("median does not reorder its input", () => {
  const values = [3, 1, 2];
  median(values);
  assert.deepEqual(values, [3, 1, 2]);
});

Deno.test("spreadOf: median, min, max and count", () => {
  assert.deepEqual(spreadOf([2.5, 0.5, 1, 7]), { median: 1.75, min: 0.5, max: 7, count: 4 });
});

Deno.test("closestToMedian picks the item nearest the median, the first on ties", () => {
  const runs = [{ id: "a", s: 10 }, { id: "b", s: 1 }, { id: "c", s: 4 }, { id: "d", s: 6 }];
  // median 5: c (4) and d (6) are as near; c comes first.
  assert.equal(closestToMedian(runs, (r) => r.s).id, "c");
  assert.equal(closestToMedian([{ s: 3 }], (r) => r.s).s, 3);
});
