/**
 * Plain-text tables for the command line: every column as wide as its widest cell, columns two
 * spaces apart, so a long address or a big number moves the columns after it instead of
 * breaking their alignment.
 *
 * Widths count UTF-16 code units (`String.prototype.length`): fine for the ASCII the commands
 * print; wide characters (CJK, emoji) would misalign.
 *
 * @module
 */

/**
 * How the cells of a column line up: `"left"` for text, `"right"` for numbers (so their digits
 * line up).
 *
 * @example
 * ```ts
 * import { type ColumnAlignment, formatColumns } from "./columns.ts";
 * const alignment: ColumnAlignment[] = ["left", "right"];
 * console.log(formatColumns([["op", "requests"], ["PING", "12"]], alignment).join("\n"));
 * // op    requests
 * // PING        12
 * ```
 */
export type ColumnAlignment = "left" | "right";

/**
 * Lays rows out as columns two spaces apart, each as wide as its widest cell (the header's
 * included); lines carry no trailing spaces, so a left-aligned last column is not padded.
 *
 * The alignment is either a count of leading columns flush left (the others flush right: text
 * first, numbers after), or one {@linkcode ColumnAlignment} per column (columns past the
 * array's end are flush left). A row shorter than the longest one ends with its last cell
 * unpadded, spanning the columns after it (say, a node that did not answer: index, address,
 * reason); that cell sets no column's width.
 *
 * @example Text flush left, numbers flush right
 * ```ts
 * import { formatColumns } from "./columns.ts";
 * console.log(formatColumns([["node", "bytes"], ["0", "12"], ["1", "3"]], 1).join("\n"));
 * // node  bytes
 * // 0        12
 * // 1         3
 * ```
 *
 * @example One alignment per column, and a row that spans
 * ```ts
 * import { formatColumns } from "./columns.ts";
 * const lines = formatColumns([
 *   ["node", "blocks", "state"],
 *   ["0", "7", "up"],
 *   ["1", "unreachable"],
 * ], ["left", "right", "left"]);
 * console.log(lines.join("\n"));
 * // node  blocks  state
 * // 0          7  up
 * // 1     unreachable
 * ```
 *
 * @param rows The rows, a header row (if any) first.
 * @param alignment How many leading columns are flush left, or each column's alignment.
 * @returns One line per row, without trailing spaces.
 */
export function formatColumns(
  rows: readonly (readonly string[])[],
  alignment: number | readonly ColumnAlignment[],
): string[] {
  let columns = 0;
  for (const row of rows) columns = Math.max(columns, row.length);
  const widths = new Array<number>(columns).fill(0);
  for (const row of rows) {
    // A short row's last cell spans the columns after it: it sets no width.
    const sized = row.length < columns ? row.length - 1 : row.length;
    for (let i = 0; i < sized; i++) widths[i] = Math.max(widths[i]!, row[i]!.length);
  }
  const flushLeft = (column: number): boolean =>
    typeof alignment === "number" ? column < alignment : (alignment[column] ?? "left") === "left";
  return rows.map((row) =>
    row.map((cell, i) => {
      if (row.length < columns && i === row.length - 1) return cell;
      return flushLeft(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
    }).join("  ").trimEnd()
  );
}
