/**
 * The repair queue's order and the rate limiter (`src/namenode/repair_queue.ts`,
 * `repair_rate.ts`): the most endangered file first; the limiter, on an injected clock, holds
 * repairs back until every datanode is within its byte budget, and never lets a datanode move
 * more than the rate allows over a stretch of repairs.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  orderRepairQueue,
  repairBackoffMs,
  repairMargin,
} from "../../src/namenode/repair_queue.ts";
import { RepairRateLimiter } from "../../src/namenode/repair_rate.ts";

const coded = (index: number, available = true) => ({ kind: "coded" as const, index, available });
const part = (index: number, available = true) => ({ kind: "part" as const, index, available });

Deno.test("repair queue: the margin is the copies a file can still lose", () => {
  // RapidRAID (16, 11) archived: 2 lost, 14 left, 3 to spare; 5 lost: lost (-0 to spare: 0).
  const archived = (lost: number) => Array.from({ length: 16 }, (_, i) => coded(i, i >= lost));
  assert.equal(repairMargin(archived(0), 11), 5);
  assert.equal(repairMargin(archived(2), 11), 3);
  assert.equal(repairMargin(archived(6), 11), -1);
  // Replication (k = 1), three copies, one lost: 1 to spare.
  assert.equal(repairMargin([coded(0), coded(1, false), coded(2)], 1), 1);
  // Parts only: the part with the fewest copies left decides.
  const parts = [part(0), part(0), part(1), part(1, false), part(2), part(2)];
  assert.equal(repairMargin(parts, 3), 0);
  assert.equal(repairMargin([part(0), part(0), part(1), part(1)], 2), 1);
  assert.equal(repairMargin([part(0), part(0), part(1, false), part(1, false)], 2), -1);
});

Deno.test("repair queue: ordered by danger, then by copies lost, then by name; lost files last", () => {
  const e = (name: string, margin: number, unavailable = 1) => ({ name, margin, unavailable });
  const entries = [
    e("safe", 4),
    e("lost", -1, 9),
    e("b-last-copy", 0),
    e("a-last-copy", 0),
    e("two-lost", 2, 2),
    e("two-margin", 2, 1),
    e("most-lost", 0, 5),
  ];
  assert.deepEqual(orderRepairQueue(entries).map((x) => x.name), [
    "most-lost",
    "a-last-copy",
    "b-last-copy",
    "two-lost",
    "two-margin",
    "safe",
    "lost",
  ]);
  // The input is not changed.
  assert.equal(entries[0]!.name, "safe");
});

Deno.test("repair queue: retries back off, 5 s doubling to 5 min", () => {
  assert.deepEqual([1, 2, 3, 4, 6, 7, 50].map((n) => repairBackoffMs(n)), [
    5_000,
    10_000,
    20_000,
    40_000,
    160_000,
    300_000,
    300_000,
  ]);
});

Deno.test("repair rate: a datanode over its budget holds the next repair until it has caught up", () => {
  let now = 0;
  const rate = 20 * 1024 * 1024;
  const limiter = new RepairRateLimiter(rate, () => now);
  assert.equal(limiter.delayMs(), 0);
  // Within the one-second burst: no wait.
  limiter.charge("dn1", rate / 2);
  assert.equal(limiter.delayMs(), 0);
  // 3 s of traffic at once on dn1: 2.5 s over budget (the burst covers the rest).
  limiter.charge("dn1", 3 * rate);
  limiter.charge("dn2", rate);
  assert.equal(limiter.delayMs(), 2_500);
  now += 1_000;
  assert.equal(limiter.delayMs(), 1_500);
  now += 1_500;
  assert.equal(limiter.delayMs(), 0);
  assert.equal(limiter.available("dn1"), 0);
  // Refilled to one burst at most, however long it was idle.
  now += 60_000;
  assert.equal(limiter.available("dn1"), rate);
  assert.throws(() => new RepairRateLimiter(0), RangeError);
});

Deno.test("repair rate: repairs started only when delayMs() is 0 move at most rate x time + one burst + one repair", () => {
  let now = 0;
  const rate = 1000;
  const limiter = new RepairRateLimiter(rate, () => now);
  let moved = 0;
  const repair = 700;
  for (let i = 0; i < 100; i++) {
    now += limiter.delayMs(); // what the loop sleeps
    limiter.charge("dn1", repair);
    moved += repair;
  }
  // The last repair started at `now`: before it, at most rate x now + burst.
  assert.ok(moved - repair <= (rate * now) / 1000 + rate, `${moved} bytes in ${now} ms`);
  // And the pace is the rate, not slower: within one repair of it.
  assert.ok(moved >= (rate * now) / 1000, `${moved} bytes in ${now} ms`);
});
