/**
 * The datanode table of a status report, in one place for both of its renderings: `cdfs status`
 * (text) and the status page of `namenode serve --http` (HTML). Which fields, their titles,
 * their order and how sizes are written are here; each rendering only says how it writes an
 * age and a missing value ({@linkcode NodeCellStyle}).
 *
 * @module
 */
import { formatBytes } from "../format/bytes.ts";
import type { NodeStatus } from "./status.ts";

/**
 * What the renderings write differently.
 *
 * @example
 * ```ts
 * import type { NodeCellStyle } from "./status_columns.ts";
 * const style: NodeCellStyle = { age: (ms) => `${ms} ms`, missing: "-" };
 * ```
 */
export interface NodeCellStyle {
  /** A heartbeat's age, from milliseconds. */
  readonly age: (ms: number) => string;
  /** The mark of a value the node did not give. */
  readonly missing: string;
}

/**
 * One cell: its text (not escaped) and its class on the page (`num` right-aligns; "": none).
 *
 * @example
 * ```ts
 * import type { NodeCell } from "./status_columns.ts";
 * const cell: NodeCell = { text: "1.0 KiB", cls: "num" };
 * ```
 */
export interface NodeCell {
  /** What the cell shows. */
  readonly text: string;
  /** Its class on the page. */
  readonly cls: string;
}

/**
 * One column of the datanode table.
 *
 * @example
 * ```ts
 * import type { NodeColumn } from "./status_columns.ts";
 * const column: NodeColumn = { title: "id", cell: (n) => ({ text: n.node, cls: "" }) };
 * ```
 */
export interface NodeColumn {
  /** The header. */
  readonly title: string;
  /** The node's cell in this column. */
  readonly cell: (node: NodeStatus, style: NodeCellStyle) => NodeCell;
}

const plain = (text: string): NodeCell => ({ text, cls: "" });
const num = (text: string): NodeCell => ({ text, cls: "num" });

/**
 * The columns both renderings show, in order: id, address, state, capacity, free, blocks,
 * heartbeat, requests, in, out (a node without traffic: why, or the missing mark, under
 * requests, and in and out empty).
 *
 * @example
 * ```ts
 * import { NODE_COLUMNS } from "./status_columns.ts";
 * const node = {
 *   node: "dn1", address: "127.0.0.1:9000", state: "alive" as const, capacity: 2048, free: 1024,
 *   blocks: 3, lastHeartbeat: "2026-01-01T00:00:00.000Z", heartbeatAgeMs: 1500, traffic: null,
 *   trafficError: null, scrub: null,
 * };
 * const style = { age: (ms: number) => `${ms / 1000} s`, missing: "-" };
 * console.log(NODE_COLUMNS.map((c) => c.cell(node, style).text).join(" "));
 * // "dn1 127.0.0.1:9000 alive 2.0 KiB 1.0 KiB 3 1.5 s -  "
 * ```
 */
export const NODE_COLUMNS: readonly NodeColumn[] = [
  { title: "id", cell: (n) => plain(n.node) },
  { title: "address", cell: (n) => plain(n.address) },
  { title: "state", cell: (n) => ({ text: n.state, cls: n.state }) },
  { title: "capacity", cell: (n) => num(formatBytes(n.capacity)) },
  { title: "free", cell: (n) => num(formatBytes(n.free)) },
  { title: "blocks", cell: (n) => num(String(n.blocks)) },
  { title: "heartbeat", cell: (n, style) => num(style.age(n.heartbeatAgeMs)) },
  {
    title: "requests",
    cell: (n, style) =>
      n.traffic === null
        ? { text: n.trafficError ?? style.missing, cls: "muted" }
        : num(String(n.traffic.requests)),
  },
  {
    title: "in",
    cell: (n) => n.traffic === null ? plain("") : num(formatBytes(n.traffic.bytesIn)),
  },
  {
    title: "out",
    cell: (n) => n.traffic === null ? plain("") : num(formatBytes(n.traffic.bytesOut)),
  },
];

/**
 * The scrub column the page adds: how far the node's current pass is (a percentage, or bytes
 * when its total is unknown), which pass, and how many corrupt blocks it found.
 *
 * @example
 * ```ts
 * import { SCRUB_COLUMN } from "./status_columns.ts";
 * const node = {
 *   node: "dn1", address: "127.0.0.1:9000", state: "alive" as const, capacity: 0, free: 0,
 *   blocks: 0, lastHeartbeat: "2026-01-01T00:00:00.000Z", heartbeatAgeMs: 0, traffic: null,
 *   trafficError: null,
 *   scrub: { passes: 0, checkedBytes: 50, totalBytes: 200, corrupt: 1, lastPassEnded: null },
 * };
 * console.log(SCRUB_COLUMN.cell(node, { age: String, missing: "-" }).text);
 * // "25% of pass 1, 1 corrupt"
 * ```
 */
export const SCRUB_COLUMN: NodeColumn = {
  title: "scrub",
  cell: (n, style) => {
    if (n.scrub === null) return plain(style.missing);
    const done = n.scrub.totalBytes === null
      ? `${formatBytes(n.scrub.checkedBytes)}`
      : `${
        n.scrub.totalBytes > 0 ? Math.floor(100 * n.scrub.checkedBytes / n.scrub.totalBytes) : 100
      }%`;
    return plain(`${done} of pass ${n.scrub.passes + 1}, ${n.scrub.corrupt} corrupt`);
  },
};
