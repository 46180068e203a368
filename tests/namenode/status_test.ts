/**
 * The status report's pure parts: endangered files ordered lost, unknown, degraded (most
 * unavailable first), and a report cut to fit one RESPONSE frame with its counts whole.
 */
import assert from "node:assert/strict";
import { compareEndangered, type EndangeredFile, fitStatus } from "../../src/namenode/status.ts";
import { parseStatusReport } from "../../src/namenode/status_parse.ts";

const file = (name: string, status: EndangeredFile["status"], unavailable: number) => ({
  name,
  code: "rs",
  status,
  blocks: 9,
  unavailable,
});

Deno.test("status: the most endangered first; a report cut to fit keeps its counts", () => {
  const sorted = [
    file("d1", "degraded", 1),
    file("u", "unknown", 1),
    file("d3", "degraded", 3),
    file("l", "lost", 5),
  ].sort(compareEndangered);
  assert.deepEqual(sorted.map((f) => f.name), ["l", "u", "d3", "d1"]);

  const events = Array.from({ length: 2000 }, (_, i) => ({
    time: "2026-01-01T00:00:00.000Z",
    namenode: "nn1",
    event: "file-committed",
    name: `file-${i}-${"x".repeat(100)}`,
  }));
  const files = { total: 5000, healthy: 10, degraded: 4990, lost: 0, unknown: 0 };
  const report = fitStatus({
    namenode: "nn1",
    version: "0.1.0",
    time: "2026-01-01T00:00:00.000Z",
    deadAfterMs: 1000,
    nodes: [],
    files,
    endangered: Array.from({ length: 50 }, (_, i) => file(`f${i}`, "degraded", 1)),
    repair: { queued: 0, items: [] },
    events,
    truncated: false,
  });
  assert.ok(new TextEncoder().encode(JSON.stringify(report)).length <= 65536 - 4096);
  assert.ok(report.events.length > 0 && report.events.length < 2000);
  assert.equal(report.events[0], events[0], "the newest kept");
  assert.equal(report.endangered.length, 50);
  assert.deepEqual(report.files, files);
  assert.equal(report.truncated, true);
  // What the namenode sends, the client accepts; a hostile reply is refused by name.
  assert.deepEqual(parseStatusReport(JSON.parse(JSON.stringify(report)), "STATUS"), report);
  assert.throws(
    () => parseStatusReport({ ...report, nodes: [{ node: "dn0" }] }, "STATUS response"),
    /STATUS response node 0 "address"/,
  );
});
