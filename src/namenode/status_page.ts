/**
 * The status page of `namenode serve --http`: one HTML page, rendered here from a
 * {@linkcode StatusReport} (every name and detail HTML-escaped: file names are user input),
 * that refreshes itself with a few lines of inline JavaScript fetching the same rendering
 * again (`/fragment`), and the report itself as `/status.json`. No build step and no external
 * resource; a Content-Security-Policy lets only the page's own script run.
 *
 * @module
 */
import type { NameNodeLogRecord } from "./log.ts";
import type { NodeStatus, StatusReport } from "./status.ts";
import {
  NODE_COLUMNS,
  type NodeCellStyle,
  type NodeColumn,
  SCRUB_COLUMN,
} from "./status_columns.ts";

/** How often the page fetches a new rendering, ms. */
export const PAGE_REFRESH_MS = 2_000;

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./status_page.ts";
 * console.log(escapeHtml('<img src=x onerror="alert(1)">'));
 * // "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
 * ```
 *
 * @param text Any text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** An escaped table: a header row and rows of cells already escaped. */
function table(id: string, head: readonly string[], rows: readonly string[]): string {
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`;
}

function cell(text: string | number, cls = ""): string {
  return `<td${cls === "" ? "" : ` class="${cls}"`}>${escapeHtml(String(text))}</td>`;
}

function age(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** The page's datanode columns: the shared ones, then scrub. */
const PAGE_NODE_COLUMNS: readonly NodeColumn[] = [...NODE_COLUMNS, SCRUB_COLUMN];

const PAGE_STYLE: NodeCellStyle = { age, missing: "—" };

function nodeRow(n: NodeStatus): string {
  const cells = PAGE_NODE_COLUMNS.map((column) => {
    const { text, cls } = column.cell(n, PAGE_STYLE);
    return cell(text, cls);
  });
  return `<tr data-node="${escapeHtml(n.node)}" data-state="${n.state}">${cells.join("")}</tr>`;
}

function eventRow(record: NameNodeLogRecord): string {
  const details = Object.entries(record)
    .filter(([key, value]) =>
      key !== "time" && key !== "namenode" && key !== "event" && value !== undefined
    )
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `<tr>${cell(record.time)}${cell(record.event, "event")}${cell(details)}</tr>`;
}

function count(id: string, value: number, label: string, cls = ""): string {
  return `<span class="count ${cls}"><b id="${id}">${value}</b> ${label}</span>`;
}

/**
 * The page's body: summary counts, datanodes, endangered files, repair queue, recent events.
 * Element ids (`nodes-alive`, `nodes-dead`, `files-healthy`, `files-degraded`, `files-lost`,
 * `files-unknown`) and `data-node`/`data-state` on node rows are for scripts and tests.
 *
 * @example
 * ```ts
 * import { renderStatusFragment } from "./status_page.ts";
 * const html = renderStatusFragment({
 *   namenode: "nn1", version: "0.1.0", time: "2026-01-01T00:00:00.000Z", deadAfterMs: 30000,
 *   nodes: [], files: { total: 1, healthy: 0, degraded: 1, lost: 0, unknown: 0 },
 *   endangered: [{ name: "<b>", code: "rs", status: "degraded", blocks: 9, unavailable: 1 }],
 *   repair: { queued: 0, items: [] }, events: [], truncated: false,
 * });
 * console.log(html.includes("&lt;b&gt;"), html.includes("<b>\u003c/")); // true false
 * ```
 *
 * @param report The status.
 * @returns HTML, every value from the report escaped.
 */
export function renderStatusFragment(report: StatusReport): string {
  const alive = report.nodes.filter((n) => n.state === "alive").length;
  const f = report.files;
  const parts = [
    `<p class="meta">namenode <b>${escapeHtml(report.namenode)}</b> (cdfs ${
      escapeHtml(report.version)
    }) at ${escapeHtml(report.time)}; a datanode silent for ${age(report.deadAfterMs)} is dead${
      report.truncated ? "; lists cut to fit" : ""
    }</p>`,
    `<p class="summary">${count("nodes-alive", alive, "datanodes alive")}${
      count(
        "nodes-dead",
        report.nodes.length - alive,
        "dead",
        alive < report.nodes.length ? "bad" : "",
      )
    } · ${count("files-total", f.total, "files:")}${count("files-healthy", f.healthy, "healthy")}${
      count("files-degraded", f.degraded, "degraded", f.degraded > 0 ? "warn" : "")
    }${count("files-lost", f.lost, "lost", f.lost > 0 ? "bad" : "")}${
      count("files-unknown", f.unknown, "unknown", f.unknown > 0 ? "warn" : "")
    }</p>`,
    "<h2>Datanodes</h2>",
    table("nodes", PAGE_NODE_COLUMNS.map((column) => column.title), report.nodes.map(nodeRow)),
    "<h2>Files in danger</h2>",
    report.endangered.length === 0
      ? '<p class="muted" id="endangered-none">every file is healthy</p>'
      : table(
        "endangered",
        ["name", "code", "status", "blocks", "unavailable"],
        report.endangered.map((e) =>
          `<tr>${cell(e.name)}${cell(e.code)}${cell(e.status, e.status)}${cell(e.blocks, "num")}${
            cell(e.unavailable, "num")
          }</tr>`
        ),
      ),
    `<h2>Repair queue (${report.repair.queued})</h2>`,
    report.repair.items.length === 0 ? '<p class="muted">empty</p>' : table(
      "repair",
      ["name", "reason", "state", "progress"],
      report.repair.items.map((r) =>
        `<tr>${cell(r.name)}${cell(r.reason)}${cell(r.state)}${
          cell(r.progress === null ? "—" : `${Math.floor(r.progress * 100)}%`, "num")
        }</tr>`
      ),
    ),
    "<h2>Recent events</h2>",
    report.events.length === 0
      ? '<p class="muted">none yet</p>'
      : table("events", ["time", "event", "details"], report.events.map(eventRow)),
  ];
  return parts.join("\n");
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1em}td,th{padding:2px 10px;text-align:left;
border-bottom:1px solid #ddd}td.num{text-align:right}.dead,.lost,.bad{color:#b00;font-weight:bold}
.degraded,.unknown,.warn{color:#b60}.alive{color:#080}.muted,.meta{color:#777}
.count{margin-right:1em}#events td:nth-child(-n+2){white-space:nowrap}#refresh{color:#777;font-size:12px}#refresh.stale{color:#b00}`;

/**
 * The whole page: the fragment of `report` inside a shell whose script replaces it every
 * {@linkcode PAGE_REFRESH_MS} with a new one from `/fragment` (and says so when that fails).
 *
 * @example
 * ```ts
 * import { renderStatusPage } from "./status_page.ts";
 * const page = renderStatusPage({
 *   namenode: "nn1", version: "0.1.0", time: "2026-01-01T00:00:00.000Z", deadAfterMs: 30000,
 *   nodes: [], files: { total: 0, healthy: 0, degraded: 0, lost: 0, unknown: 0 },
 *   endangered: [], repair: { queued: 0, items: [] }, events: [], truncated: false,
 * }, "abc");
 * console.log(page.startsWith("<!DOCTYPE html>")); // true
 * ```
 *
 * @param report The status now.
 * @param nonce The script's nonce (the Content-Security-Policy names it).
 * @param refreshMs How often the page refreshes itself.
 * @returns The HTML.
 */
export function renderStatusPage(
  report: StatusReport,
  nonce: string,
  refreshMs: number = PAGE_REFRESH_MS,
): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cdfs status: ${
    escapeHtml(report.namenode)
  }</title>
<link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><h1>cdfs cluster status</h1><div id="refresh">refreshes every ${refreshMs / 1000} s</div>
<main id="status">${renderStatusFragment(report)}</main>
<script nonce="${escapeHtml(nonce)}">
"use strict";
const refresh = document.getElementById("refresh");
async function update() {
  try {
    const reply = await fetch("fragment", { cache: "no-store" });
    if (!reply.ok) throw new Error("HTTP " + reply.status);
    document.getElementById("status").innerHTML = await reply.text();
    refresh.textContent = "updated " + new Date().toLocaleTimeString();
    refresh.className = "";
  } catch (error) {
    refresh.textContent = "namenode unreachable since " + new Date().toLocaleTimeString();
    refresh.className = "stale";
  }
  setTimeout(update, ${refreshMs});
}
setTimeout(update, ${refreshMs});
</script></body></html>
`;
}
