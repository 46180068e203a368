/**
 * `cdfs status`: the cluster at a glance, from the namenode's STATUS (what the status page of
 * `namenode serve --http` shows): datanodes, file health counts, the most endangered files, the
 * repair queue and the recent events, as tables or as one line of JSON for scripts.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { formatColumns } from "../format/columns.ts";
import type { StatusReport } from "../namenode/status.ts";
import { NODE_COLUMNS, type NodeCellStyle } from "../namenode/status_columns.ts";
import type { CliContext, Command, ParsedArgs } from "./command.ts";
import { printJson } from "./json_line.ts";
import { connectNamenode, NAMENODE_OPTIONS } from "./namenode_option.ts";
import { jsonOption } from "./options.ts";

/** How many recent events the text shows (the JSON has all the namenode sent). */
const SHOWN_EVENTS = 10;

/** How the text writes a heartbeat's age and a missing value in the datanode table. */
const TEXT_STYLE: NodeCellStyle = {
  age: (ms) => `${(ms / 1000).toFixed(1)} s ago`,
  missing: "-",
};

/**
 * The `status` command.
 */
export const statusCommand: Command = {
  name: "status",
  summary: "The cluster at a glance: datanodes, file health, repair queue, recent events",
  usage: "cdfs status [--namenode ADDR] [--json]",
  description: [
    "Asks the namenode for its STATUS (docs/protocol.md): every datanode (alive or dead, space,",
    "blocks, how long since its heartbeat, its traffic), how many files are healthy, degraded,",
    "lost or unknown, the most endangered files first, the repair queue and the recent events.",
    "It is what 'cdfs namenode serve --http HOST:PORT' shows in a browser.",
    "",
    "Exit status: 0 every datanode alive and every file healthy, 1 something is not.",
  ].join("\n"),
  options: { ...NAMENODE_OPTIONS, ...jsonOption("print the report as one line of JSON") },
  arguments: [],
  examples: [
    "cdfs status --namenode 127.0.0.1:13000",
    "cdfs status --cluster lab --json | jq '.files'",
  ],
  run: runStatus,
};

async function runStatus(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  using namenode = await connectNamenode(ctx, args);
  const report = await namenode.status();
  if (args.values.json === true) printJson(ctx, report);
  else ctx.out(statusText(report));
  const allWell = report.nodes.every((n) => n.state === "alive") &&
    report.files.healthy === report.files.total;
  return allWell ? 0 : 1;
}

/**
 * A status report as `cdfs status` prints it.
 *
 * @example
 * ```ts
 * import { statusText } from "./status.ts";
 * const text = statusText({
 *   namenode: "nn1", version: "0.1.0", time: "2026-01-01T00:00:00.000Z", deadAfterMs: 30000,
 *   nodes: [], files: { total: 2, healthy: 1, degraded: 1, lost: 0, unknown: 0 },
 *   endangered: [], repair: { queued: 0, items: [] }, events: [], truncated: false,
 * });
 * console.log(text.split("\n")[1]); // "files: 2 (1 healthy, 1 degraded, 0 lost, 0 unknown)"
 * ```
 *
 * @param report The report.
 * @returns The text, ending with a newline.
 */
export function statusText(report: StatusReport): string {
  const alive = report.nodes.filter((n) => n.state === "alive").length;
  const f = report.files;
  const lines = [
    `namenode ${report.namenode} (cdfs ${report.version}) at ${report.time}: ` +
    `${alive} of ${report.nodes.length} datanodes alive`,
    `files: ${f.total} (${f.healthy} healthy, ${f.degraded} degraded, ${f.lost} lost, ` +
    `${f.unknown} unknown)`,
  ];
  const indent = (rows: string[][], left: number) =>
    formatColumns(rows, left).map((line) => `  ${line}`);
  if (report.nodes.length > 0) {
    lines.push("datanodes:");
    lines.push(...indent([
      NODE_COLUMNS.map((column) => column.title),
      ...report.nodes.map((n) => NODE_COLUMNS.map((column) => column.cell(n, TEXT_STYLE).text)),
    ], 3));
  }
  if (report.endangered.length > 0) {
    lines.push("files in danger (most endangered first):");
    lines.push(...indent([
      ["status", "unavailable", "code", "name"],
      ...report.endangered.map((e) => [
        e.status,
        `${e.unavailable} of ${e.blocks}`,
        e.code,
        JSON.stringify(e.name),
      ]),
    ], 4));
  }
  lines.push(`repair queue: ${report.repair.queued}`);
  lines.push(...indent(
    report.repair.items.map((r) => [
      r.state,
      r.progress === null ? "-" : `${Math.floor(r.progress * 100)}%`,
      JSON.stringify(r.name),
      r.reason,
    ]),
    4,
  ));
  if (report.events.length > 0) {
    lines.push(
      `recent events (newest first, ${
        Math.min(SHOWN_EVENTS, report.events.length)
      } of ${report.events.length}):`,
    );
    for (const record of report.events.slice(0, SHOWN_EVENTS)) {
      const details = Object.entries(record)
        .filter(([k, v]) => k !== "time" && k !== "namenode" && k !== "event" && v !== undefined)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(" ");
      lines.push(`  ${record.time} ${record.event} ${details}`.trimEnd());
    }
  }
  if (report.truncated) lines.push("(lists cut to fit one reply)");
  return lines.map((line) => `${line}\n`).join("");
}
