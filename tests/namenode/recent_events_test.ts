/**
 * The recent-events list: the log's records teed unchanged, newest first, the oldest dropped
 * past its capacity; a capacity that is not a positive integer is refused.
 */
import assert from "node:assert/strict";
import type { NameNodeLogRecord } from "../../src/namenode/log.ts";
import { RecentEvents } from "../../src/namenode/recent_events.ts";

Deno.test("recent events: teed unchanged, newest first, bounded", () => {
  const events = new RecentEvents(3);
  const seen: NameNodeLogRecord[] = [];
  const sink = events.tee((r) => seen.push(r));
  const records = [1, 2, 3, 4, 5].map((i) => ({ time: "t", namenode: "nn", event: `e${i}`, i }));
  for (const record of records) sink(record);
  assert.deepEqual(seen, records);
  assert.equal(events.newestFirst()[0], records[4], "the same object, not a copy of it");
  assert.deepEqual(events.newestFirst().map((r) => r.event), ["e5", "e4", "e3"]);
  assert.deepEqual(events.newestFirst(2).map((r) => r.event), ["e5", "e4"]);
  assert.throws(() => new RecentEvents(0), RangeError);
});
