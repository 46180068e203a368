import assert from "node:assert/strict";
import { nextSubset, removeItem } from "../../src/core/arrays.ts";

Deno.test("nextSubset visits every k-subset once, in lexicographic order", () => {
  for (const [n, k] of [[5, 2], [6, 3], [4, 4], [7, 1]] as const) {
    const seen: string[] = [];
    const s = Array.from({ length: k }, (_, i) => i);
    do seen.push(s.join(",")); while (nextSubset(s, n));
    let expected = 1;
    for (let i = 1; i <= k; i++) expected = expected * (n - k + i) / i;
    assert.equal(seen.length, expected, `C(${n}, ${k})`);
    assert.equal(new Set(seen).size, seen.length);
    assert.deepEqual([...seen].sort(), seen);
    // After the last subset it reports false and leaves the subset as it was.
    assert.deepEqual(s, Array.from({ length: k }, (_, i) => n - k + i));
  }
});

Deno.test("removeItem removes the first occurrence only, and nothing when absent", () => {
  const list = [1, 2, 1, 3];
  removeItem(list, 1);
  assert.deepEqual(list, [2, 1, 3]);
  removeItem(list, 9);
  assert.deepEqual(list, [2, 1, 3]);
});
