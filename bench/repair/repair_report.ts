/**
 * The results of `cdfs bench repair`: one row per setting, code and loss (median repair time,
 * blocks read and bytes moved per byte repaired next to the analyzer's cheapest plans, and the
 * ratios to RS), the table, `results.md`, `results.json` and `repair_time.svg`.
 *
 * @module
 */
import { formatCount } from "../../src/format/count.ts";
import { type EncodeTimeBar, encodeTimeChart } from "../common/charts.ts";
import type { machine } from "../common/machine.ts";
import { writeResultFiles } from "../common/out_dir.ts";
import { type Spread, spreadOf } from "../common/stats.ts";
import { type BenchSetting, describeSetting } from "../common/cluster_session.ts";
import type { RepairChoices, RepairMeasurement } from "./repair_bench.ts";

/**
 * One setting and what was measured in it.
 *
 * @example
 * ```ts
 * import type { RepairSettingResult } from "./repair_report.ts";
 * const show = (r: RepairSettingResult) => `${r.setting.label}: ${r.measurement.repairs.length}`;
 * ```
 */
export interface RepairSettingResult {
  /** The setting. */
  readonly setting: BenchSetting;
  /** The measurement. */
  readonly measurement: RepairMeasurement;
}

/**
 * One row of the results table: one code and kind of loss in one setting.
 *
 * @example
 * ```ts
 * import type { RepairSummaryRow } from "./repair_report.ts";
 * const row: RepairSummaryRow = {
 *   setting: "loopback", code: "rs:k=10,m=4", loss: "single", repairs: 14,
 *   seconds: { median: 0.2, min: 0.1, max: 0.3, count: 14 }, blocksRead: 10, predicted: 10,
 *   bytesPerByte: 10.29, trafficToRs: 1, timeToRs: 1,
 * };
 * ```
 */
export interface RepairSummaryRow {
  /** The setting's label. */
  readonly setting: string;
  /** The code. */
  readonly code: string;
  /** One block lost, or two. */
  readonly loss: "single" | "double";
  /** Repairs measured. */
  readonly repairs: number;
  /** Repair time: median and spread. */
  readonly seconds: Spread;
  /** Blocks read per block repaired, measured, the mean over the repairs. */
  readonly blocksRead: number;
  /** The analyzer's blocks read for the same losses, the mean. */
  readonly predicted: number;
  /** Frame bytes moved per byte repaired, measured, the mean. */
  readonly bytesPerByte: number;
  /** `bytesPerByte` / RS's in the same setting and loss (absent without an RS code). */
  readonly trafficToRs?: number;
  /** The median time / RS's. */
  readonly timeToRs?: number;
}

/**
 * Everything `bench repair` writes to `results.json`.
 *
 * @example
 * ```ts
 * import type { RepairBenchResults } from "./repair_report.ts";
 * const show = (r: RepairBenchResults) => `${r.summary.length} rows`;
 * ```
 */
export interface RepairBenchResults {
  /** The format's version. */
  readonly version: 1;
  /** When the session started (ISO). */
  readonly started: string;
  /** When it ended (ISO). */
  readonly finished: string;
  /** The machine it ran on. */
  readonly machine: Awaited<ReturnType<typeof machine>>;
  /** The choices. */
  readonly options: RepairChoices;
  /** Every setting, raw. */
  readonly settings: readonly RepairSettingResult[];
  /** The table's rows. */
  readonly summary: readonly RepairSummaryRow[];
}

/**
 * The rows of every setting: one per code and loss, in the order of the codes, single loss
 * first; ratios to the first `rs` code of the same setting and loss.
 *
 * @example
 * ```ts
 * import { summarizeRepairs } from "./repair_report.ts";
 * const rows = summarizeRepairs([{
 *   setting: { label: "loopback", kind: "loopback" },
 *   measurement: {
 *     codes: ["rs:k=2,m=1"], objectBytes: 200, runs: 1, nodes: [], blockBytes: { "rs:k=2,m=1": 100 },
 *     repairs: [{ code: "rs:k=2,m=1", loss: "single", block: 0, run: 0, seconds: 0.1, bytesMoved: 210, blocksRead: 2, predicted: 2 }],
 *   },
 * }]);
 * console.log(rows[0]?.bytesPerByte, rows[0]?.trafficToRs); // 2.1 1
 * ```
 *
 * @param settings The settings and their measurements.
 * @returns The rows.
 */
export function summarizeRepairs(settings: readonly RepairSettingResult[]): RepairSummaryRow[] {
  const rows: RepairSummaryRow[] = [];
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  for (const { setting, measurement } of settings) {
    const own: RepairSummaryRow[] = [];
    for (const code of measurement.codes) {
      for (const loss of ["single", "double"] as const) {
        const runs = measurement.repairs.filter((r) => r.code === code && r.loss === loss);
        if (runs.length === 0) continue;
        const block = measurement.blockBytes[code]!;
        own.push({
          setting: setting.label,
          code,
          loss,
          repairs: runs.length,
          seconds: spreadOf(runs.map((r) => r.seconds)),
          blocksRead: round(mean(runs.map((r) => r.blocksRead))),
          predicted: round(mean(runs.map((r) => r.predicted))),
          bytesPerByte: round(mean(runs.map((r) => r.bytesMoved / block))),
        });
      }
    }
    for (const row of own) {
      const rs = own.find((r) => r.code.startsWith("rs:") && r.loss === row.loss);
      rows.push(
        rs === undefined ? row : {
          ...row,
          trafficToRs: round(row.bytesPerByte / rs.bytesPerByte),
          timeToRs: round(row.seconds.median / rs.seconds.median),
        },
      );
    }
  }
  return rows;
}

/**
 * The table (Markdown, also printed).
 *
 * @example
 * ```ts
 * import { formatRepairTable } from "./repair_report.ts";
 * console.log(formatRepairTable([]).split("\n").length); // 3
 * ```
 *
 * @param rows The rows.
 * @returns A header, a separator and one line per row, newline-terminated.
 */
export function formatRepairTable(rows: readonly RepairSummaryRow[]): string {
  const ratio = (value: number | undefined) => value === undefined ? "—" : `${value.toFixed(2)}×`;
  const lines = [
    "| setting | code | loss | repairs | median s (min–max) | blocks read | analyzer | " +
    "bytes moved / byte | × RS traffic | × RS time |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.setting} | ${r.code} | ${r.loss} | ${r.repairs} | ` +
      `${r.seconds.median.toFixed(3)} (${r.seconds.min.toFixed(3)}–${
        r.seconds.max.toFixed(3)
      }) | ` +
      `${r.blocksRead.toFixed(2)} | ${r.predicted.toFixed(2)} | ${r.bytesPerByte.toFixed(3)} | ` +
      `${ratio(r.trafficToRs)} | ${ratio(r.timeToRs)} |`
    ),
  ];
  return lines.join("\n") + "\n";
}

/**
 * `results.md`: when and where, the choices, the settings, the table and what its columns
 * mean.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { formatRepairMarkdown } from "./repair_report.ts";
 * await Deno.writeTextFile("results.md", formatRepairMarkdown(results));
 * ```
 *
 * @param results The results.
 * @returns The document.
 */
export function formatRepairMarkdown(results: RepairBenchResults): string {
  const o = results.options;
  return [
    "# cdfs bench repair",
    "",
    `${results.started} to ${results.finished}; ${results.machine.cpus ?? "?"} CPUs ` +
    `(${results.machine.cpuModel ?? "unknown CPU"}), Linux ${results.machine.kernel ?? "?"}, ` +
    `Deno ${results.machine.deno ?? "?"}.`,
    "",
    `Codes: ${o.codes.join(", ")}; one object of ${formatCount(o.objectBytes, "byte")} each, ` +
    `encoded with its replicas dropped; every coded block repaired ` +
    `${formatCount(o.runs, "time")} per kind of loss. Settings:`,
    "",
    ...results.settings.map(({ setting }) => `- ${setting.label}: ${describeSetting(setting)}`),
    "",
    formatRepairTable(results.summary),
    "Single loss: one coded block deleted and rebuilt on its node. Double loss: the block and " +
    "the first block its cheapest single repair reads deleted, the block rebuilt. Median and " +
    "min–max over every repair. Blocks read: survivors that sent the rebuilding node at least " +
    "one block length (the run's STATS), the mean; analyzer: the blocks its cheapest plan reads " +
    "for the same losses (src/coding/analysis/repair.ts). Bytes moved / byte: frame bytes the " +
    "rebuilding node pulled for the run over the block length (headers and replies included), " +
    "the mean. × RS: over RS's in the same setting and loss.",
    "",
  ].join("\n");
}

/**
 * The bars of `repair_time.svg`: one panel per setting and loss, one bar per code.
 *
 * @example
 * ```ts
 * import { repairTimeBars } from "./repair_report.ts";
 * console.log(repairTimeBars([]).length); // 0
 * ```
 *
 * @param rows The rows.
 * @returns The bars.
 */
export function repairTimeBars(rows: readonly RepairSummaryRow[]): EncodeTimeBar[] {
  return rows.map((r) => ({
    group: `${r.setting} · ${r.loss} loss`,
    label: `${r.code} (${r.bytesPerByte.toFixed(2)} B/B)`,
    median: r.seconds.median,
    min: r.seconds.min,
    max: r.seconds.max,
  }));
}

/**
 * Writes `results.json`, `results.md` and `repair_time.svg` into `dir`.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { writeRepairResults } from "./repair_report.ts";
 * const paths = await writeRepairResults("bench/out/repair", results);
 * ```
 *
 * @param dir The output directory (created if missing).
 * @param results The results.
 * @returns The paths written.
 */
export async function writeRepairResults(
  dir: string,
  results: RepairBenchResults,
): Promise<string[]> {
  return await writeResultFiles(dir, [
    ["results.json", JSON.stringify(results, null, 2) + "\n"],
    ["results.md", formatRepairMarkdown(results)],
    [
      "repair_time.svg",
      await encodeTimeChart(
        repairTimeBars(results.summary),
        "Repair time per block (bar: median; whisker: min–max; B/B: bytes moved per byte repaired)",
      ),
    ],
  ]);
}
