import assert from "node:assert/strict";
import { idealEncode } from "../../../bench/common/ideal.ts";
import type { ClusterMeasurement, EncodeRun } from "../../../bench/rapidraid/rapidraid.ts";
import {
  encodeTimeBars,
  formatResultsMarkdown,
  formatSummaryTable,
  type RapidraidBenchResults,
  type SettingResult,
  summarizeSettings,
  timelinePanels,
} from "../../../bench/rapidraid/rapidraid_report.ts";
import { assignLinks } from "../../../src/emulation/link_spec.ts";

const T0 = 1_800_000_000_000;

function run(
  scheme: EncodeRun["scheme"],
  kind: EncodeRun["kind"],
  index: number,
  seconds: number,
  extra: Partial<EncodeRun> = {},
): EncodeRun {
  const objects = kind === "single" ? 1 : 4;
  return {
    scheme,
    kind,
    run: index,
    objects,
    startedAt: T0 + index * 10_000,
    seconds,
    encodeSeconds: Array.from({ length: objects }, () => seconds),
    cpuBusy: 0.5 + index / 10,
    runIds: Array.from({ length: objects }, (_, o) => `${o}`.padStart(32, "0")),
    ...extra,
  };
}

const MEASUREMENT: ClusterMeasurement = {
  nodes: Array.from({ length: 16 }, (_, i) => `127.0.0.1:${13100 + i}`),
  schemes: ["pull", "rs"],
  objectBytes: 11_000_000,
  partBytes: 1_000_000,
  chunkBytes: 100_000,
  concurrent: 4,
  runs: 3,
  warmUps: 0,
  putSeconds: { rapidraid: 1, rs: 1 },
  encodes: [
    run("pull", "single", 0, 1.0, {
      nodeTimes: [
        {
          node: 0,
          startedAt: T0 + 5,
          firstStepAt: T0 + 10,
          lastStepAt: T0 + 900,
          endedAt: T0 + 950,
        },
        { node: 1 },
      ],
    }),
    run("pull", "single", 1, 3.0),
    run("pull", "single", 2, 2.0, { nodeTimes: [{ node: 0, startedAt: T0 + 20_000 }] }),
    run("rs", "single", 0, 4.0),
    run("rs", "single", 1, 5.0),
    run("rs", "single", 2, 6.0),
    run("pull", "concurrent", 0, 8.0),
    run("rs", "concurrent", 0, 10.0),
  ],
};

const LINKS = assignLinks({ nodes: 16, base: { rateBitsPerSecond: 8e6, delayMs: 1, jitterMs: 0 } });

Deno.test("summarizeSettings: medians, spread, MB/s per object and ratios to RS", () => {
  const rows = summarizeSettings([{
    setting: { label: "lo", kind: "loopback" },
    measurement: MEASUREMENT,
  }]);
  assert.deepEqual(rows.map((r) => [r.scheme, r.kind]), [
    ["pull", "single"],
    ["rs", "single"],
    ["pull", "concurrent"],
    ["rs", "concurrent"],
  ]);
  const [pull, rs, pullMany, rsMany] = rows;
  assert.deepEqual(pull!.seconds, { median: 2, min: 1, max: 3, count: 3 });
  assert.equal(pull!.mbPerSecondPerObject, 11 / 2);
  assert.equal(pull!.ratioToRs, 2 / 5);
  assert.equal(rs!.ratioToRs, 1);
  assert.equal(pullMany!.objects, 4);
  assert.equal(pullMany!.ratioToRs, 8 / 10);
  assert.equal(rsMany!.seconds.median, 10);
  assert.deepEqual(pull!.cpuBusy, { median: 0.6, min: 0.5, max: 0.7, count: 3 });
  // Loopback: no rates, no ideal.
  assert.equal(pull!.idealSeconds, undefined);
  assert.equal(pull!.ratioToIdeal, undefined);
});

Deno.test("summarizeSettings: the ideal of each cell, for the cell's number of objects", () => {
  const rows = summarizeSettings([{
    setting: { label: "netns", kind: "netns", links: LINKS },
    measurement: MEASUREMENT,
  }]);
  const links = LINKS.map((l) => l.link);
  const common = { partBytes: 1_000_000, chunkBytes: 100_000, links };
  const pipeline = idealEncode({ ...common, shape: { kind: "pipeline", nodes: 16 } })!;
  const rsMany = idealEncode({
    ...common,
    shape: { kind: "coordinator", k: 11, m: 5 },
    objects: 4,
  })!;
  assert.equal(rows[0]!.idealSeconds, pipeline.seconds);
  assert.equal(rows[0]!.ratioToIdeal, 2 / pipeline.seconds);
  assert.equal(rows[3]!.idealSeconds, rsMany.seconds);
});

Deno.test("summarizeSettings: no RS measured, no ratio to RS", () => {
  const measurement = {
    ...MEASUREMENT,
    schemes: ["pull"] as const,
    encodes: MEASUREMENT.encodes.filter((e) => e.scheme === "pull"),
  };
  const rows = summarizeSettings([{ setting: { label: "lo", kind: "loopback" }, measurement }]);
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => r.ratioToRs === undefined));
});

Deno.test("formatSummaryTable: a header, a separator and one row per cell", () => {
  const rows = summarizeSettings([{
    setting: { label: "lo", kind: "loopback" },
    measurement: MEASUREMENT,
  }]);
  const lines = formatSummaryTable(rows).trimEnd().split("\n");
  assert.equal(lines.length, 2 + rows.length);
  const cells = lines[2]!.split("|").map((c) => c.trim());
  assert.deepEqual(cells.slice(1, 6), ["lo", "RapidRAID pull", "1", "2.000", "1.000–3.000"]);
  assert.equal(cells[7], "0.40×");
  assert.equal(cells[9], "—");
  assert.ok(lines[4]!.includes("4 at once"));
});

Deno.test("formatResultsMarkdown describes the settings' links", () => {
  const congested = assignLinks({
    nodes: 16,
    base: { rateBitsPerSecond: 200e6, delayMs: 1, jitterMs: 0 },
    congest: { fraction: 0.25, link: { rateBitsPerSecond: 500e6, delayMs: 100, jitterMs: 10 } },
  });
  const settings: SettingResult[] = [{
    setting: { label: "congested", kind: "netns", links: congested },
    measurement: MEASUREMENT,
  }];
  const results: RapidraidBenchResults = {
    version: 1,
    started: "2026-01-01T00:00:00.000Z",
    finished: "2026-01-01T00:10:00.000Z",
    machine: { cpus: 2, cpuModel: "test CPU", kernel: "6", deno: "2" },
    options: {
      schemes: ["pull", "rs"],
      objectBytes: 11_000_000,
      chunkBytes: 100_000,
      runs: 3,
      concurrent: 4,
      warmUps: 0,
    },
    settings,
    summary: summarizeSettings(settings),
  };
  const text = formatResultsMarkdown(results);
  const picked = congested.flatMap((l, i) => l.congested ? [i] : []);
  assert.ok(text.includes(`nodes ${picked.join(", ")}: 500 Mbit/s, 100 ms ± 10 ms`), text);
  assert.ok(text.includes("200 Mbit/s, 1 ms"));
  assert.ok(text.includes(formatSummaryTable(results.summary)));
});

Deno.test("encodeTimeBars: one bar per row, grouped by setting and single/concurrent", () => {
  const rows = summarizeSettings([{
    setting: { label: "lo", kind: "loopback" },
    measurement: MEASUREMENT,
  }]);
  const bars = encodeTimeBars(rows);
  assert.deepEqual(bars.map((b) => b.group), [
    "lo · one encode",
    "lo · one encode",
    "lo · 4 encodes at once",
    "lo · 4 encodes at once",
  ]);
  assert.deepEqual(bars[1], {
    group: "lo · one encode",
    label: "RS(16,11)",
    median: 5,
    min: 4,
    max: 6,
  });
});

Deno.test("timelinePanels: the run nearest the median, times since the client's start", () => {
  const panels = timelinePanels([{
    setting: { label: "lo", kind: "loopback" },
    measurement: MEASUREMENT,
  }]);
  // Only pull has node times; of its runs with them (1.0 s and 2.0 s; median 1.5) the first
  // is as near as the other and is taken.
  assert.equal(panels.length, 1);
  assert.ok(panels[0]!.title.startsWith("RapidRAID pull, lo: run 1, 1.000 s"));
  assert.deepEqual(panels[0]!.nodes, [
    { node: 0, requestStart: 5, requestEnd: 950, stepsStart: 10, stepsEnd: 900 },
    { node: 1 },
  ]);
});
