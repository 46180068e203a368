/**
 * Repair traffic of the analyzer (`repair.ts`) against an independent check: for each block,
 * the plan's blocks span it (rank by textbook elimination, `code_harness.ts`), and no set of
 * one block fewer among the others does (brute force over those subsets). By monotonicity
 * that makes the plan's size the minimum.
 */
import assert from "node:assert/strict";
import { cheapestRepair, repairTraffic } from "../../../src/coding/analysis/repair.ts";
import { generatorMatrix } from "../../../src/coding/analysis/symbolic.ts";
import { loadCodingModule } from "../../../src/coding/lang/loader.ts";
import type { CodingModule } from "../../../src/coding/lang/program.ts";
import { combinations, independentRank } from "../code_harness.ts";

/** Whether the rows of `from` span row `target` (independent elimination). */
function spans(module: CodingModule, from: readonly number[], target: number): boolean {
  const g = generatorMatrix(module);
  const rows = from.map((i) => g[i]!);
  return independentRank(module.field, [...rows, g[target]!]) ===
    independentRank(module.field, rows);
}

/** Checks that `size` is the fewest of `available` blocks that span `target`. */
function assertMinimum(
  module: CodingModule,
  target: number,
  read: readonly number[],
  available: readonly number[],
): void {
  assert.ok(
    read.every((b) => available.includes(b)),
    `${module.name}: ${target} reads a lost block`,
  );
  assert.ok(spans(module, read, target), `${module.name}: {${read}} does not span ${target}`);
  for (const s of combinations(available.length, read.length - 1)) {
    const subset = s.map((t) => available[t]!);
    assert.ok(!spans(module, subset, target), `${module.name}: {${subset}} spans ${target} too`);
  }
}

const others = (n: number, ...lost: number[]) =>
  Array.from({ length: n }, (_, i) => i).filter((i) => !lost.includes(i));

Deno.test("repair traffic: RS(14,10) reads 10 blocks per block repaired", async () => {
  const m = await loadCodingModule("rs:k=10,m=4");
  const t = repairTraffic(m);
  t.single.forEach((p, b) => {
    assert.equal(p!.read.length, 10);
    assertMinimum(m, b, p!.read, others(14, b));
  });
  assert.deepEqual([t.average, t.averageData, t.double?.worst?.read.length], [10, 10, 10]);
});

Deno.test("repair traffic: LRC(10,2,2) reads 5 per data block, half of RS(14,10)", async () => {
  const m = await loadCodingModule("lrc:k=10,l=2,r=2");
  const t = repairTraffic(m);
  assert.deepEqual(t.single.map((p) => p!.read.length), [
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    10,
    10,
  ]);
  t.single.forEach((p, b) => assertMinimum(m, b, p!.read, others(14, b)));
  assert.equal(t.averageData, 5);
  assert.equal(t.average, 80 / 14);
  // Two lost blocks: the worst single repair reads 10 (two data blocks of one group).
  const worst = t.double!.worst!;
  assert.equal(worst.read.length, 10);
  assertMinimum(m, worst.lost, worst.read, others(14, worst.lost, worst.other));
  assert.equal(t.double!.unrepairable, 0);
});

Deno.test("repair traffic: RapidRAID(16,11) in GF(2^8), every block's minimum", async () => {
  const m = await loadCodingModule("rapidraid");
  const t = repairTraffic(m);
  t.single.forEach((p, b) => assertMinimum(m, b, p!.read, others(16, b)));
  assert.deepEqual(t.single.map((p) => p!.read.length), [
    9,
    9,
    9,
    9,
    9,
    9,
    9,
    9,
    9,
    10,
    10,
    9,
    9,
    9,
    10,
    10,
  ]);
  assert.equal(t.averageData, undefined); // no row is a copy of a part
});

Deno.test("cheapestRepair: only among the survivors, preferring the ones listed first", async () => {
  const m = await loadCodingModule("replication:n=3");
  assert.deepEqual(cheapestRepair(m, 0, [2, 1])!.read, [2]);
  assert.equal(cheapestRepair(m, 0, []), undefined);
  const two = await loadCodingModule("replication:n=2");
  const t = repairTraffic(two);
  assert.deepEqual([t.double?.worst, t.double?.unrepairable], [undefined, 2]);
});
