import assert from "node:assert/strict";
import { deferredSink, type NameNodeLogRecord } from "../../src/namenode/log.ts";

const record = (event: string): NameNodeLogRecord => ({
  time: "2026-01-01T00:00:00.000Z",
  namenode: "nn1",
  event,
});

Deno.test("deferredSink: records wait for the turn's end, in order; flush hands them over at once", async () => {
  const seen: string[] = [];
  const log = deferredSink((r) => seen.push(r.event));
  log.sink(record("a"));
  log.sink(record("b"));
  assert.deepEqual(seen, []);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ["a", "b"]);
  log.sink(record("c"));
  log.flush();
  assert.deepEqual(seen, ["a", "b", "c"]);
  // The turn's scheduled hand-over finds nothing left, and writes nothing twice.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ["a", "b", "c"]);
});

Deno.test("deferredSink: a sink that throws loses its own line, not the ones after it", async () => {
  const seen: string[] = [];
  const log = deferredSink((r) => {
    if (r.event === "bad") throw new Error("disk full");
    seen.push(r.event);
  });
  for (const event of ["a", "bad", "c"]) log.sink(record(event));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ["a", "c"]);
});
