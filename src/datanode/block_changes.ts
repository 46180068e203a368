/**
 * The changes of a datanode's block set not yet told to its namenode, batched: a burst of
 * STOREs becomes one incremental block report instead of one each. Only the last change of a
 * block counts (stored then deleted is one removal; deleted then stored again is one
 * addition), which is also what the namenode requires of an incremental report: no block both
 * added and removed, none twice.
 *
 * @module
 */
import type { ReportedBlockEntry } from "../namenode/meta/model.ts";
import type { BlockChange } from "../store/types.ts";

/**
 * One incremental block report's content.
 *
 * @example
 * ```ts
 * import type { ChangeBatch } from "./block_changes.ts";
 * const batch: ChangeBatch = { added: [{ blockId: "f7.part0", length: 10 }], removed: ["f6.part1"] };
 * ```
 */
export interface ChangeBatch {
  /** Blocks stored (or replaced), with their lengths. */
  readonly added: ReportedBlockEntry[];
  /** Ids of blocks deleted. */
  readonly removed: string[];
}

/**
 * Block changes waiting to be reported, the last one per block, oldest first.
 *
 * @example
 * ```ts
 * import { PendingChanges } from "./block_changes.ts";
 * const pending = new PendingChanges();
 * pending.add({ kind: "added", block: "a", length: 3 });
 * pending.add({ kind: "removed", block: "a" });
 * pending.add({ kind: "added", block: "b", length: 5 });
 * console.log(pending.take(100)); // { added: [{ blockId: "b", length: 5 }], removed: ["a"] }
 * ```
 */
export class PendingChanges {
  // A Map keeps insertion order; a block's new change is moved to the end.
  readonly #changes = new Map<string, BlockChange>();

  /** How many blocks have a change waiting. */
  get size(): number {
    return this.#changes.size;
  }

  /**
   * Records a change; it replaces any earlier change of the same block.
   *
   * @param change The change.
   */
  add(change: BlockChange): void {
    this.#changes.delete(change.block);
    this.#changes.set(change.block, change);
  }

  /** Forgets every change (a full report is about to tell the whole set). */
  clear(): void {
    this.#changes.clear();
  }

  /**
   * Removes and returns the oldest changes, at most `max` of them.
   *
   * @param max The most entries (an incremental report holds at most 100).
   * @returns The changes as one report's content.
   */
  take(max: number): ChangeBatch {
    const batch: ChangeBatch = { added: [], removed: [] };
    for (const [block, change] of this.#changes) {
      if (batch.added.length + batch.removed.length >= max) break;
      this.#changes.delete(block);
      if (change.kind === "added") batch.added.push({ blockId: block, length: change.length });
      else batch.removed.push(block);
    }
    return batch;
  }
}
