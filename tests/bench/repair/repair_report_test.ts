import assert from "node:assert/strict";
import {
  formatRepairTable,
  repairTimeBars,
  summarizeRepairs,
} from "../../../bench/repair/repair_report.ts";
import type { RepairRun } from "../../../bench/repair/repair_bench.ts";

const run = (
  code: string,
  loss: "single" | "double",
  seconds: number,
  blocks: number,
): RepairRun => ({
  code,
  loss,
  block: 0,
  run: 0,
  seconds,
  bytesMoved: blocks * 1000 + 20,
  blocksRead: blocks,
  predicted: blocks,
});

Deno.test("summarizeRepairs: medians, means of blocks and bytes per byte, ratios to the rs code", () => {
  const rows = summarizeRepairs([{
    setting: { label: "loopback", kind: "loopback" },
    measurement: {
      codes: ["lrc:k=10,l=2,r=2", "rs:k=10,m=4"],
      objectBytes: 10_000,
      runs: 1,
      nodes: [],
      blockBytes: { "lrc:k=10,l=2,r=2": 1000, "rs:k=10,m=4": 1000 },
      repairs: [
        run("rs:k=10,m=4", "single", 0.2, 10),
        run("rs:k=10,m=4", "single", 0.4, 10),
        run("lrc:k=10,l=2,r=2", "single", 0.1, 5),
        run("lrc:k=10,l=2,r=2", "single", 0.3, 10),
        run("lrc:k=10,l=2,r=2", "double", 0.3, 10),
      ],
    },
  }]);
  // In the order of the codes, single loss first; a loss not measured has no row.
  assert.deepEqual(rows.map((r) => `${r.code} ${r.loss}`), [
    "lrc:k=10,l=2,r=2 single",
    "lrc:k=10,l=2,r=2 double",
    "rs:k=10,m=4 single",
  ]);
  const [lrc, lrcDouble, rs] = rows;
  assert.equal(lrc!.blocksRead, 7.5);
  assert.equal(lrc!.bytesPerByte, 7.52);
  assert.equal(lrc!.seconds.median, 0.2);
  assert.equal(lrc!.trafficToRs, Math.round(7.52 / 10.02 * 1000) / 1000);
  assert.equal(lrc!.timeToRs, Math.round(0.2 / 0.3 * 1000) / 1000);
  assert.equal(rs!.trafficToRs, 1);
  // No RS double loss measured: no ratio.
  assert.equal(lrcDouble!.trafficToRs, undefined);
  const table = formatRepairTable(rows);
  assert.equal(table.trimEnd().split("\n").length, 2 + 3);
  assert.match(
    table,
    /\| lrc:k=10,l=2,r=2 \| double \| 1 \| 0\.300 \(0\.300–0\.300\) \| 10\.00 \| 10\.00 \| 10\.020 \| — \| — \|/,
  );
  assert.deepEqual(repairTimeBars(rows).map((b) => b.group), [
    "loopback · single loss",
    "loopback · double loss",
    "loopback · single loss",
  ]);
});
