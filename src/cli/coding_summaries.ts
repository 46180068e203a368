/**
 * The lines the coding commands print about coded blocks: which were lost (in one short line)
 * and which were found damaged and gone around.
 *
 * @module
 */
import type { CodedBlockState, CorruptBlock } from "../client/objects/state.ts";
import { formatRanges, pluralNoun } from "../format/count.ts";

/**
 * The stderr line for a damaged block that a decode or repair found and went around: which
 * block, on which node, and the node's own words.
 *
 * @example
 * ```ts
 * import { corruptBlockLine } from "./coding_summaries.ts";
 * const block = { index: 3, block: "big.coded3", node: 3, address: "h:1", reason: "checksum mismatch" };
 * console.log(corruptBlockLine("decode big", block));
 * // "cdfs: decode big: coded block 3 (big.coded3) on node 3 (h:1) is damaged, not used: checksum mismatch\n"
 * ```
 *
 * @param what The operation and object, e.g. `decode big`.
 * @param block The damaged block.
 * @returns The line, with its newline.
 */
export function corruptBlockLine(what: string, block: CorruptBlock): string {
  return `cdfs: ${what}: coded block ${block.index} (${block.block}) on node ${block.node} ` +
    `(${block.address}) is damaged, not used: ${block.reason}\n`;
}

/**
 * The coded blocks a decode found lost, in one short line: blocks lost for the same reason
 * share one entry, with their indices and nodes as ranges (16 refused connections would
 * otherwise make a line of 600 characters).
 *
 * @example
 * ```ts
 * import { formatLostBlocks } from "./coding_summaries.ts";
 * const lost = (index: number, reason: string) => ({
 *   index,
 *   block: `movie.coded${index}`,
 *   node: index,
 *   address: `127.0.0.1:${13100 + index}`,
 *   present: false,
 *   reason,
 * });
 * console.log(formatLostBlocks([
 *   lost(0, "node unreachable: cannot reach node 127.0.0.1:13100: connection refused"),
 *   lost(1, "node unreachable: cannot reach node 127.0.0.1:13101: connection refused"),
 *   lost(7, "missing"),
 * ]));
 * // "lost coded blocks 0-1 (nodes 0-1: connection refused); 7 (node 7: missing)"
 * ```
 *
 * @param blocks Every coded block's state, as the decode's survey found it.
 * @returns `no coded block lost`, or `lost coded block(s) ...`.
 */
export function formatLostBlocks(blocks: readonly CodedBlockState[]): string {
  const lost = blocks.filter((b) => !b.present);
  if (lost.length === 0) return "no coded block lost";
  const byReason = new Map<string, CodedBlockState[]>();
  for (const block of lost) {
    const reason = shortReason(block);
    byReason.set(reason, [...(byReason.get(reason) ?? []), block]);
  }
  const entries = [...byReason].map(([reason, group]) => {
    const nodes = new Set(group.map((b) => b.node));
    return `${formatRanges(group.map((b) => b.index))} ` +
      `(${pluralNoun(nodes.size, "node")} ${formatRanges(nodes)}: ${reason})`;
  });
  return `lost ${pluralNoun(lost.length, "coded block")} ${entries.join("; ")}`;
}

/**
 * Why a block is lost, without its node's address: the survey's reasons name it ("cannot
 * reach node 127.0.0.1:13100: ..."), which would keep nodes that failed alike apart.
 */
function shortReason(block: CodedBlockState): string {
  return (block.reason ?? "lost")
    .replace(/^node unreachable: /, "")
    .replaceAll(`cannot reach node ${block.address}: `, "")
    .replaceAll(`node ${block.address}: `, "");
}
/**
 * `coded block 3` or `coded blocks 0-2, 5`.
 *
 * @example
 * ```ts
 * import { codedBlocks } from "./coding_summaries.ts";
 * console.log(codedBlocks([0, 1, 2, 5])); // "coded blocks 0-2, 5"
 * ```
 *
 * @param indices The coded blocks' indices.
 * @returns The words.
 */
export function codedBlocks(indices: readonly number[]): string {
  return `${pluralNoun(indices.length, "coded block")} ${formatRanges(indices)}`;
}
