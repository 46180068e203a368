import assert from "node:assert/strict";
import type { NodeStatus } from "../../src/namenode/status.ts";
import {
  NODE_COLUMNS,
  type NodeCellStyle,
  SCRUB_COLUMN,
} from "../../src/namenode/status_columns.ts";

const STYLE: NodeCellStyle = { age: (ms) => `age(${ms})`, missing: "?" };

function node(overrides: Partial<NodeStatus> = {}): NodeStatus {
  return {
    node: "dn1",
    address: "127.0.0.1:9000",
    state: "alive",
    capacity: 1 << 30,
    free: 1 << 20,
    blocks: 4,
    lastHeartbeat: "2026-01-01T00:00:00.000Z",
    heartbeatAgeMs: 2500,
    traffic: { requests: 9, bytesIn: 2048, bytesOut: 3 << 20 },
    trafficError: null,
    scrub: null,
    ...overrides,
  } as NodeStatus;
}

Deno.test("status_columns: the shared datanode columns, their order and cells", () => {
  assert.deepEqual(
    NODE_COLUMNS.map((c) => c.title),
    ["id", "address", "state", "capacity", "free", "blocks", "heartbeat", "requests", "in", "out"],
  );
  assert.deepEqual(NODE_COLUMNS.map((c) => c.cell(node(), STYLE)), [
    { text: "dn1", cls: "" },
    { text: "127.0.0.1:9000", cls: "" },
    { text: "alive", cls: "alive" },
    { text: "1.0 GiB", cls: "num" },
    { text: "1.0 MiB", cls: "num" },
    { text: "4", cls: "num" },
    { text: "age(2500)", cls: "num" },
    { text: "9", cls: "num" },
    { text: "2.0 KiB", cls: "num" },
    { text: "3.0 MiB", cls: "num" },
  ]);
});

Deno.test("status_columns: a node without traffic shows why, or the style's missing mark", () => {
  const texts = (n: NodeStatus) => NODE_COLUMNS.slice(7).map((c) => c.cell(n, STYLE).text);
  assert.deepEqual(texts(node({ traffic: null, trafficError: "timed out" })), [
    "timed out",
    "",
    "",
  ]);
  assert.deepEqual(texts(node({ state: "dead", traffic: null })), ["?", "", ""]);
  assert.equal(NODE_COLUMNS[7]!.cell(node({ traffic: null }), STYLE).cls, "muted");
});

Deno.test("status_columns: scrub shows the pass's progress, bytes when the total is unknown", () => {
  const scrub = (s: NodeStatus["scrub"]) => SCRUB_COLUMN.cell(node({ scrub: s }), STYLE).text;
  assert.equal(SCRUB_COLUMN.title, "scrub");
  assert.equal(scrub(null), "?");
  const progress = { checkedBytes: 1, totalBytes: 3, corrupt: 2, passes: 4, lastPassEnded: null };
  assert.equal(scrub(progress), "33% of pass 5, 2 corrupt");
  assert.equal(scrub({ ...progress, checkedBytes: 0, totalBytes: 0 }), "100% of pass 5, 2 corrupt");
  assert.equal(
    scrub({ ...progress, checkedBytes: 2048, totalBytes: null }),
    "2.0 KiB of pass 5, 2 corrupt",
  );
});
