import assert from "node:assert/strict";
import { formatCount, formatRanges, pluralNoun } from "../../src/format/count.ts";

Deno.test("formatCount: singular for exactly one, plural for any other count", () => {
  assert.equal(formatCount(1, "block"), "1 block");
  assert.equal(formatCount(0, "block"), "0 blocks");
  assert.equal(formatCount(2, "block"), "2 blocks");
  assert.equal(formatCount(16, "coded block"), "16 coded blocks");
  assert.equal(formatCount(1, "child", "children"), "1 child");
  assert.equal(formatCount(3, "child", "children"), "3 children");
  assert.equal(pluralNoun(1, "node"), "node");
  assert.equal(pluralNoun(5, "node"), "nodes");
  assert.equal(pluralNoun(2, "serves", "serve"), "serve");
});

Deno.test("formatRanges: consecutive runs as first-last, sorted, repetitions once", () => {
  assert.equal(formatRanges([]), "");
  assert.equal(formatRanges([7]), "7");
  assert.equal(formatRanges([0, 1, 2, 3, 4]), "0-4");
  assert.equal(formatRanges([4, 3, 0, 1, 2, 9, 7, 10, 2]), "0-4, 7, 9-10");
  assert.equal(formatRanges(new Set([5, 6])), "5-6");
  assert.equal(formatRanges([1, 3, 5]), "1, 3, 5");
});
