/**
 * The results of `cdfs bench rapidraid`: the summary of every (setting, scheme, single or
 * concurrent) cell — median and spread of the time, MB/s per object, ratio to RS, ratio to the
 * link-limited ideal, CPU busy — and the files written from it: `results.md`, `results.json`,
 * `encode_time.svg` and `timeline.svg`.
 *
 * @module
 */
import { formatCount } from "../../src/format/count.ts";
import { type BenchSetting, describeSetting } from "../common/cluster_session.ts";
import {
  type EncodeTimeBar,
  encodeTimeChart,
  timelineChart,
  type TimelinePanel,
} from "../common/charts.ts";
import { idealEncode } from "../common/ideal.ts";
import { writeResultFiles } from "../common/out_dir.ts";
import {
  type ClusterMeasurement,
  type EncodeRun,
  type MeasureChoices,
  type SchemeName,
  SCHEMES,
} from "./rapidraid.ts";
import { closestToMedian, type Spread, spreadOf } from "../common/stats.ts";

/**
 * One setting and what was measured in it.
 *
 * @example
 * ```ts
 * import type { SettingResult } from "./rapidraid_report.ts";
 * const show = (r: SettingResult) => `${r.setting.label}: ${r.measurement.encodes.length} encodes`;
 * ```
 */
export interface SettingResult {
  /** The setting. */
  readonly setting: BenchSetting;
  /** The measurement. */
  readonly measurement: ClusterMeasurement;
}

/**
 * One row of the results table.
 *
 * @example
 * ```ts
 * import type { SummaryRow } from "./rapidraid_report.ts";
 * const row: SummaryRow = {
 *   setting: "loopback", scheme: "rs", schemeLabel: "RS(16,11)", kind: "single", objects: 1,
 *   seconds: { median: 2, min: 1.9, max: 2.2, count: 5 }, mbPerSecondPerObject: 33.5,
 *   cpuBusy: { median: 0.9, min: 0.8, max: 0.95, count: 5 }, ratioToRs: 1,
 * };
 * ```
 */
export interface SummaryRow {
  /** The setting's label. */
  readonly setting: string;
  /** The scheme. */
  readonly scheme: SchemeName;
  /** Its label. */
  readonly schemeLabel: string;
  /** One encode, or several at once. */
  readonly kind: EncodeRun["kind"];
  /** Encodes at once. */
  readonly objects: number;
  /** The time until every encode finished, over the runs. */
  readonly seconds: Spread;
  /** Object MB (10^6 bytes) over the median time. */
  readonly mbPerSecondPerObject: number;
  /** The machine's CPU busy share during the encodes, over the runs. */
  readonly cpuBusy: Spread;
  /** Median time over RS's median time in the same cell, when RS was measured. */
  readonly ratioToRs?: number;
  /** The link-limited ideal, when every rate is known. */
  readonly idealSeconds?: number;
  /** Median time over the ideal. */
  readonly ratioToIdeal?: number;
}

/**
 * Everything `results.json` holds.
 *
 * @example
 * ```ts
 * import type { RapidraidBenchResults } from "./rapidraid_report.ts";
 * const show = (r: RapidraidBenchResults) => `${r.settings.length} settings, ${r.summary.length} rows`;
 * ```
 */
export interface RapidraidBenchResults {
  /** The format's version. */
  readonly version: 1;
  /** When the bench started, ISO-8601. */
  readonly started: string;
  /** When it finished, ISO-8601. */
  readonly finished: string;
  /** What it ran on. */
  readonly machine: Readonly<Record<string, string | number | null>>;
  /** The measurement's choices. */
  readonly options: MeasureChoices;
  /** Every setting with every run. */
  readonly settings: readonly SettingResult[];
  /** The table. */
  readonly summary: readonly SummaryRow[];
}

/**
 * Summarizes every cell: per setting, single encodes then concurrent ones, schemes in the order
 * measured.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { summarizeSettings } from "./rapidraid_report.ts";
 * const rows = summarizeSettings(settings);
 * ```
 *
 * @param settings The settings and their measurements.
 * @returns The rows.
 */
export function summarizeSettings(settings: readonly SettingResult[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const { setting, measurement: m } of settings) {
    for (const kind of ["single", "concurrent"] as const) {
      const cell: SummaryRow[] = [];
      for (const scheme of m.schemes) {
        const runs = m.encodes.filter((e) => e.scheme === scheme && e.kind === kind);
        if (runs.length === 0) continue;
        const seconds = spreadOf(runs.map((r) => r.seconds));
        const objects = runs[0]!.objects;
        const ideal = setting.links === undefined ? undefined : idealEncode({
          shape: SCHEMES[scheme].shape,
          partBytes: m.partBytes,
          chunkBytes: m.chunkBytes,
          links: setting.links.map((l) => l.link),
          objects,
        });
        cell.push({
          setting: setting.label,
          scheme,
          schemeLabel: SCHEMES[scheme].label,
          kind,
          objects,
          seconds,
          mbPerSecondPerObject: m.objectBytes / 1e6 / seconds.median,
          cpuBusy: spreadOf(runs.map((r) => r.cpuBusy)),
          ...(ideal === undefined
            ? {}
            : { idealSeconds: ideal.seconds, ratioToIdeal: seconds.median / ideal.seconds }),
        });
      }
      const rs = cell.find((row) => row.scheme === "rs");
      rows.push(
        ...cell.map((row) =>
          rs === undefined ? row : { ...row, ratioToRs: row.seconds.median / rs.seconds.median }
        ),
      );
    }
  }
  return rows;
}

/**
 * The results table in Markdown: one row per cell.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { formatSummaryTable } from "./rapidraid_report.ts";
 * console.log(formatSummaryTable(results.summary));
 * ```
 *
 * @param rows The rows.
 * @returns The table, lines ending with a newline.
 */
export function formatSummaryTable(rows: readonly SummaryRow[]): string {
  const dash = "—";
  const ratio = (value: number | undefined) => value === undefined ? dash : `${value.toFixed(2)}×`;
  const percent = (value: number) => `${(value * 100).toFixed(0)}%`;
  const lines = [
    "| setting | scheme | encodes | median s | min–max s | MB/s per object | × RS | ideal s | × ideal | CPU busy (max) |",
    "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |",
    ...rows.map((r) =>
      `| ${r.setting} | ${r.schemeLabel} | ${
        r.kind === "single" ? "1" : `${r.objects} at once`
      } | ` +
      `${r.seconds.median.toFixed(3)} | ${r.seconds.min.toFixed(3)}–${
        r.seconds.max.toFixed(3)
      } | ` +
      `${r.mbPerSecondPerObject.toFixed(1)} | ${ratio(r.ratioToRs)} | ` +
      `${r.idealSeconds === undefined ? dash : r.idealSeconds.toFixed(3)} | ` +
      `${ratio(r.ratioToIdeal)} | ${percent(r.cpuBusy.median)} (${percent(r.cpuBusy.max)}) |`
    ),
  ];
  return lines.join("\n") + "\n";
}

/**
 * `results.md`: what was measured, the table, and how to read it.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { formatResultsMarkdown } from "./rapidraid_report.ts";
 * await Deno.writeTextFile("results.md", formatResultsMarkdown(results));
 * ```
 *
 * @param results The results.
 * @returns The Markdown text.
 */
export function formatResultsMarkdown(results: RapidraidBenchResults): string {
  const o = results.options;
  const first = results.settings[0]?.measurement;
  const partBytes = first?.partBytes ?? Math.ceil(o.objectBytes / 11);
  const settings = results.settings.map(({ setting }) =>
    `- ${setting.label}: ${describeSetting(setting)}`
  );
  return [
    "# cdfs bench rapidraid",
    "",
    `${results.started} to ${results.finished}; ${results.machine.cpus ?? "?"} CPUs ` +
    `(${results.machine.cpuModel ?? "unknown CPU"}), Linux ${results.machine.kernel ?? "?"}, ` +
    `Deno ${results.machine.deno ?? "?"}.`,
    "",
    `Objects of ${bytes(o.objectBytes)} (11 parts of ${bytes(partBytes)}), steps of ` +
    `${bytes(o.chunkBytes)}; ${formatCount(o.runs, "timed run")} after ` +
    `${formatCount(o.warmUps, "warm-up")}; concurrent: ${
      o.concurrent > 0 ? `${o.concurrent} objects encoded at once` : "not measured"
    }. Settings:`,
    "",
    ...settings,
    "",
    formatSummaryTable(results.summary),
    "Median and min–max over the runs: the time until every encode of the run finished. " +
    "MB/s per object: object size / median time. × RS: median / RS's median in the same " +
    "setting. Ideal: link-limited (RapidRAID: part / rate + 16 × (step / rate + delay); RS: " +
    "11 parts through the coordinator's link; concurrent encodes add up every node's bytes). " +
    "CPU busy: the whole machine's, all cores, median (max) over the runs.",
    "",
  ].join("\n");
}

/**
 * The bars of `encode_time.svg`: one panel per setting and single/concurrent, one bar per
 * scheme.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { encodeTimeBars } from "./rapidraid_report.ts";
 * const bars = encodeTimeBars(results.summary);
 * ```
 *
 * @param rows The summary rows.
 * @returns The bars.
 */
export function encodeTimeBars(rows: readonly SummaryRow[]): EncodeTimeBar[] {
  return rows.map((r) => ({
    group: `${r.setting} · ${r.kind === "single" ? "one encode" : `${r.objects} encodes at once`}`,
    label: r.schemeLabel,
    median: r.seconds.median,
    min: r.seconds.min,
    max: r.seconds.max,
  }));
}

/**
 * The panels of `timeline.svg`: for every setting and pipelined scheme, its single encode
 * whose time is closest to the median, each node's times relative to the client's start.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { timelinePanels } from "./rapidraid_report.ts";
 * const panels = timelinePanels(results.settings);
 * ```
 *
 * @param settings The settings and their measurements.
 * @returns The panels.
 */
export function timelinePanels(settings: readonly SettingResult[]): TimelinePanel[] {
  const panels: TimelinePanel[] = [];
  for (const { setting, measurement } of settings) {
    for (const scheme of measurement.schemes) {
      const runs = measurement.encodes.filter((e) =>
        e.scheme === scheme && e.kind === "single" && e.nodeTimes !== undefined
      );
      if (runs.length === 0) continue;
      const run = closestToMedian(runs, (r) => r.seconds);
      // Each time relative to the client's start; absent times stay absent.
      const since = <K extends string>(key: K, t: number | undefined) =>
        t === undefined ? {} : { [key]: t - run.startedAt } as Record<K, number>;
      panels.push({
        title: `${SCHEMES[scheme].label}, ${setting.label}: run ${run.run + 1}, ` +
          `${run.seconds.toFixed(3)} s`,
        nodes: run.nodeTimes!.map((t) => ({
          node: t.node,
          ...since("requestStart", t.startedAt),
          ...since("requestEnd", t.endedAt),
          ...since("stepsStart", t.firstStepAt),
          ...since("stepsEnd", t.lastStepAt),
        })),
      });
    }
  }
  return panels;
}

/**
 * Writes `results.json`, `results.md`, `encode_time.svg` and `timeline.svg` into `dir`
 * (created if missing).
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { writeResults } from "./rapidraid_report.ts";
 * const files = await writeResults("bench/out/rapidraid", results);
 * ```
 *
 * @param dir The output directory.
 * @param results The results.
 * @returns The paths written.
 */
export async function writeResults(dir: string, results: RapidraidBenchResults): Promise<string[]> {
  return await writeResultFiles(dir, [
    ["results.json", JSON.stringify(results, null, 2) + "\n"],
    ["results.md", formatResultsMarkdown(results)],
    ["encode_time.svg", await encodeTimeChart(encodeTimeBars(results.summary))],
    ["timeline.svg", await timelineChart(timelinePanels(results.settings))],
  ]);
}

function bytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
