/**
 * The SVG charts of `cdfs bench rapidraid`: bars of encode time with min–max whiskers
 * ({@linkcode encodeTimeChart}) and the per-node timeline of one pipelined encode
 * ({@linkcode timelineChart}). Each takes plain data and returns an SVG document as a string.
 *
 * Drawn with Vega-Lite compiled to Vega and rendered headless (`renderer: "none"`, then
 * `toSVG()`): a well-kept plotting library that escapes every text it draws, lays out axes and
 * legends, and needs no DOM or canvas. It is loaded with a dynamic import on the first chart,
 * so the other commands do not pay its start-up (~0.1-0.2 s).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { pluralNoun } from "../../src/format/count.ts";

/**
 * One bar of {@linkcode encodeTimeChart}.
 *
 * @example
 * ```ts
 * import type { EncodeTimeBar } from "./charts.ts";
 * const bar: EncodeTimeBar = { group: "loopback · single", label: "RS(16,11)", median: 2.1, min: 2, max: 2.4 };
 * ```
 */
export interface EncodeTimeBar {
  /** The panel the bar goes in (e.g. network setting and single or concurrent). */
  readonly group: string;
  /** The bar's label (the scheme). */
  readonly label: string;
  /** The bar's length: the median time, in seconds. */
  readonly median: number;
  /** The whisker's left end. */
  readonly min: number;
  /** The whisker's right end. */
  readonly max: number;
}

/** Width of the plotting area of every panel, in pixels. */
const PANEL_WIDTH = 480;
/** Height of one row (bar or node) in pixels. */
const ROW_STEP = 22;

/**
 * Bars of encode time: one panel per group (in the order the groups first appear), one
 * horizontal bar per entry whose length is its median, and a whisker from its min to its max.
 * Each panel has its own time axis (single and concurrent encodes differ by an order of
 * magnitude); bars keep the order given; one colour per label across panels.
 *
 * @example
 * ```ts
 * import { encodeTimeChart } from "./charts.ts";
 * const svg = await encodeTimeChart([
 *   { group: "loopback · single", label: "RapidRAID pull", median: 1.2, min: 1.1, max: 1.4 },
 *   { group: "loopback · single", label: "RS(16,11)", median: 2.1, min: 2, max: 2.4 },
 * ]);
 * console.log(svg.startsWith("<svg")); // true
 * ```
 *
 * @param bars The bars.
 * @param title The chart's title.
 * @returns An SVG document.
 */
export async function encodeTimeChart(
  bars: readonly EncodeTimeBar[],
  title = "Encode time (bar: median; whisker: min–max)",
): Promise<string> {
  const groups = [...new Set(bars.map((b) => b.group))];
  const labels = [...new Set(bars.map((b) => b.label))];
  const panel = (group: string) => ({
    title: { text: group, anchor: "start" as const, fontSize: 12 },
    width: PANEL_WIDTH,
    height: { step: ROW_STEP },
    data: { values: bars.filter((b) => b.group === group).map((b) => ({ ...b })) },
    encoding: {
      y: { field: "label", type: "nominal" as const, sort: null, title: null },
    },
    layer: [
      {
        mark: { type: "bar" as const, height: { band: 0.7 } },
        encoding: {
          x: { field: "median", type: "quantitative" as const, title: "seconds" },
          color: {
            field: "label",
            type: "nominal" as const,
            scale: { domain: labels },
            legend: null,
          },
        },
      },
      {
        mark: { type: "rule" as const, color: "black" },
        encoding: {
          x: { field: "min", type: "quantitative" as const },
          x2: { field: "max" },
        },
      },
      {
        mark: { type: "text" as const, align: "left" as const, dx: 4, fontSize: 10 },
        encoding: {
          x: { field: "max", type: "quantitative" as const },
          text: { field: "median", type: "quantitative" as const, format: ".3f" },
        },
      },
    ],
  });
  return await renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    vconcat: groups.map(panel),
    config: { font: "sans-serif" },
  });
}

/**
 * One node's row of a {@linkcode TimelinePanel}: milliseconds from the encode's start (the
 * client's request) to when the run began and ended on the node (its request window) and to
 * its first and last computed step. Absent times are not drawn.
 *
 * @example
 * ```ts
 * import type { TimelineNode } from "./charts.ts";
 * const row: TimelineNode = { node: 3, requestStart: 2, requestEnd: 950, stepsStart: 40, stepsEnd: 940 };
 * ```
 */
export interface TimelineNode {
  /** The node's (logical) index. */
  readonly node: number;
  /** The run's first request on the node began. */
  readonly requestStart?: number;
  /** Its last request there ended. */
  readonly requestEnd?: number;
  /** Its first step was computed. */
  readonly stepsStart?: number;
  /** Its last step was computed. */
  readonly stepsEnd?: number;
}

/**
 * One encode's timeline.
 *
 * @example
 * ```ts
 * import type { TimelinePanel } from "./charts.ts";
 * const panel: TimelinePanel = { title: "RapidRAID push, loopback", nodes: [] };
 * ```
 */
export interface TimelinePanel {
  /** What was encoded where. */
  readonly title: string;
  /** The rows, one per node. */
  readonly nodes: readonly TimelineNode[];
}

/**
 * Per-node timelines of pipelined encodes, one panel per encode: for every node a thin bar
 * over its request window and a thick bar from its first to its last step. Nodes without
 * times get no bars, and the panel's subtitle names them (nodes too old to report times).
 *
 * @example
 * ```ts
 * import { timelineChart } from "./charts.ts";
 * const svg = await timelineChart([{
 *   title: "RapidRAID push",
 *   nodes: [{ node: 0, requestStart: 0, requestEnd: 90, stepsStart: 1, stepsEnd: 80 }, { node: 1 }],
 * }]);
 * console.log(svg.includes("no times from node 1")); // true
 * ```
 *
 * @param panels The encodes.
 * @param title The chart's title.
 * @returns An SVG document.
 */
export async function timelineChart(
  panels: readonly TimelinePanel[],
  title =
    "Per-node timeline of one pipelined encode (thin: request window; thick: first to last step)",
): Promise<string> {
  const panel = (p: TimelinePanel) => {
    const rows: { node: number; kind: string; start: number; end: number }[] = [];
    const missing: number[] = [];
    for (const n of p.nodes) {
      const before = rows.length;
      if (n.requestStart !== undefined && n.requestEnd !== undefined) {
        rows.push({ node: n.node, kind: "request", start: n.requestStart, end: n.requestEnd });
      }
      if (n.stepsStart !== undefined && n.stepsEnd !== undefined) {
        rows.push({ node: n.node, kind: "steps", start: n.stepsStart, end: n.stepsEnd });
      }
      if (rows.length === before) missing.push(n.node);
    }
    // The stroke keeps a bar of zero length (one step: first = last) visible as a line.
    const bar = (kind: string, band: number, color: string) => ({
      transform: [{ filter: { field: "kind", equal: kind } }],
      mark: { type: "bar" as const, height: { band }, color, stroke: color, strokeWidth: 1 },
      encoding: {
        x: { field: "start", type: "quantitative" as const, title: "ms since the encode began" },
        x2: { field: "end" },
      },
    });
    return {
      title: {
        text: p.title,
        anchor: "start" as const,
        fontSize: 12,
        ...(missing.length === 0 ? {} : {
          subtitle: `no times from ${pluralNoun(missing.length, "node")} ${missing.join(", ")}` +
            " (their STATS reports none)",
        }),
      },
      width: PANEL_WIDTH,
      height: { step: ROW_STEP },
      data: { values: rows },
      encoding: {
        y: {
          field: "node",
          type: "ordinal" as const,
          title: "node",
          scale: { domain: p.nodes.map((n) => n.node) },
        },
      },
      layer: [bar("request", 0.8, "#c6dbef"), bar("steps", 0.4, "#2171b5")],
    };
  };
  return await renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    // An empty vconcat does not compile: say in the chart that there was nothing to draw.
    vconcat:
      (panels.length > 0 ? panels : [{ title: "no pipelined encode was measured", nodes: [] }])
        .map(panel),
    config: { font: "sans-serif" },
  });
}

/** Compiles a Vega-Lite spec and renders it to SVG without a DOM. */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
