/**
 * The namenode's repair queue, as data: what an entry says (file, priority, state, progress),
 * how endangered a file is (its **margin**: how many more copies it can lose before it no
 * longer decodes, roughly), the order repairs go in (the smallest margin first), and the
 * per-datanode byte limiter that paces repair traffic (`--repair-rate`). Pure: the loop that
 * fills the queue and runs the repairs (`src/client/files/auto_repair.ts`) lives with the
 * client file operations it reuses, a layer above; the server only reads the queue through a
 * {@linkcode RepairQueueSource} (`NameNodeServer.repairQueueSnapshot`).
 *
 * The queue is never stored: every round recomputes it from FSCK (the file health the
 * metadata store implies), so a namenode that restarts, on SQLite or etcd, finds the same
 * files to repair at once. Only the retry backoff of files whose repair failed is kept in
 * memory (a restart retries them at once, which is harmless).
 *
 * @module
 */
import type { RepairItem, RepairQueueView } from "./status.ts";

/**
 * Where a queued file stands: `queued` (waiting for its turn), `repairing` (its repair runs
 * now), `waiting` (its last repair failed; retried at `retryAt`), `lost` (what survives does
 * not decode it: nothing to rebuild from, kept in the queue for the status page).
 *
 * @example
 * ```ts
 * import type { RepairState } from "./repair_queue.ts";
 * const s: RepairState = "waiting";
 * ```
 */
export type RepairState = "queued" | "repairing" | "waiting" | "lost";

/**
 * One file of the repair queue.
 *
 * @example
 * ```ts
 * import type { RepairQueueEntry } from "./repair_queue.ts";
 * const entry: RepairQueueEntry = {
 *   fileId: 7, name: "big.iso", code: "rapidraid", margin: 2, unavailable: 2, state: "queued",
 *   attempts: 0, lastError: null, retryAt: null, queuedAt: "2026-01-01T00:00:00.000Z",
 *   progress: { done: 0, total: 0 },
 * };
 * ```
 */
export interface RepairQueueEntry {
  /** The file id. */
  readonly fileId: number;
  /** Its name. */
  readonly name: string;
  /** Its coding module. */
  readonly code: string;
  /**
   * Its priority: how many more block copies it can lose and still decode (see
   * {@linkcode repairMargin}); smaller goes first, negative for a lost file.
   */
  readonly margin: number;
  /** How many of its copies are unavailable. */
  readonly unavailable: number;
  /** Where it stands. */
  readonly state: RepairState;
  /** How many repairs of it were started since it was queued. */
  readonly attempts: number;
  /** Why the last one failed, or null. */
  readonly lastError: string | null;
  /** When a failed repair is tried again (ISO-8601), or null. */
  readonly retryAt: string | null;
  /** When it was queued (ISO-8601). */
  readonly queuedAt: string;
  /** Bytes rebuilt of those to rebuild by the repair under way (0 of 0 when none runs). */
  readonly progress: { readonly done: number; readonly total: number };
}

/**
 * What reads the repair queue: the loop that owns it.
 *
 * @example
 * ```ts
 * import type { RepairQueueSource } from "./repair_queue.ts";
 * const empty: RepairQueueSource = { repairQueueSnapshot: () => [] };
 * ```
 */
export interface RepairQueueSource {
  /** The queue now, in repair order (a copy: changing it changes nothing). */
  repairQueueSnapshot(): RepairQueueEntry[];
}

/**
 * A block copy of a file as the margin sees it.
 *
 * @example
 * ```ts
 * import type { MarginCopy } from "./repair_queue.ts";
 * const c: MarginCopy = { kind: "coded", index: 3, available: false };
 * ```
 */
export interface MarginCopy {
  /** `part` or `coded`. */
  readonly kind: "part" | "coded";
  /** Its index. */
  readonly index: number;
  /** Whether it can be read (its datanode alive, the block not reported missing). */
  readonly available: boolean;
}

/**
 * How endangered a file is: how many more copies it can lose before it stops decoding, for
 * the repair order ("fewest surviving blocks beyond k" first). A file with coded blocks: the
 * distinct available roles less `k` (exact for an MDS code such as RS or replication, a fair
 * rank for RapidRAID). A file of parts only (replicated, not archived): the fewest available
 * copies of any part, less one (a part on its last copy: 0). Negative: lost already.
 *
 * @example
 * ```ts
 * import { repairMargin } from "./repair_queue.ts";
 * const coded = (index: number, available = true) => ({ kind: "coded" as const, index, available });
 * // RS(16,11) with two coded blocks gone: 14 left, 3 more may go.
 * const rs = Array.from({ length: 16 }, (_, i) => coded(i, i > 1));
 * console.log(repairMargin(rs, 11)); // 3
 * // Two parts, two copies each; part 1 is down to one copy.
 * const part = (index: number, available = true) => ({ kind: "part" as const, index, available });
 * console.log(repairMargin([part(0), part(0), part(1), part(1, false)], 2)); // 0
 * ```
 *
 * @param copies The file's committed copies.
 * @param k How many parts the code splits a file into.
 * @returns The margin.
 */
export function repairMargin(copies: readonly MarginCopy[], k: number): number {
  const available = copies.filter((c) => c.available);
  if (copies.some((c) => c.kind === "coded")) {
    return new Set(available.map((c) => `${c.kind}${c.index}`)).size - k;
  }
  let fewest = Infinity;
  for (let j = 0; j < k; j++) {
    fewest = Math.min(fewest, available.filter((c) => c.index === j).length);
  }
  return (fewest === Infinity ? 0 : fewest) - 1;
}

/**
 * Sorts queue entries into repair order: the smallest margin first (the most endangered), then
 * the most unavailable copies, then by name; lost files last (nothing can be done for them).
 *
 * @example
 * ```ts
 * import { orderRepairQueue } from "./repair_queue.ts";
 * const e = (name: string, margin: number, unavailable = 1) => ({ name, margin, unavailable });
 * const order = orderRepairQueue([e("a", 4), e("b", 1), e("c", -1), e("d", 1, 3)]);
 * console.log(order.map((x) => x.name)); // [ "d", "b", "a", "c" ]
 * ```
 *
 * @param entries The entries (not changed).
 * @returns A new array, in repair order.
 */
export function orderRepairQueue<
  T extends { readonly name: string; readonly margin: number; readonly unavailable: number },
>(entries: readonly T[]): T[] {
  const rank = (e: T) => e.margin < 0 ? Infinity : e.margin;
  return [...entries].sort((a, b) =>
    rank(a) - rank(b) || b.unavailable - a.unavailable ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/**
 * The retry delay after `failures` failed repairs of one file: 5 s doubling to 5 min.
 *
 * @example
 * ```ts
 * import { repairBackoffMs } from "./repair_queue.ts";
 * console.log([1, 2, 3, 10].map((n) => repairBackoffMs(n))); // [ 5000, 10000, 20000, 300000 ]
 * ```
 *
 * @param failures How many repairs of it failed in a row (1 or more).
 * @param baseMs The first delay (default 5 s).
 * @param maxMs The longest (default 5 min).
 * @returns The delay, ms.
 */
export function repairBackoffMs(failures: number, baseMs = 5_000, maxMs = 300_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
}

/**
 * The repair queue as STATUS and the status page show it (`status.ts`): the count, and the
 * first `limit` files in repair order, each with why it waits and how far its repair is.
 *
 * @example
 * ```ts
 * import { repairQueueView } from "./repair_queue.ts";
 * const view = repairQueueView({ repairQueueSnapshot: () => [] });
 * console.log(view.snapshot()); // { queued: 0, items: [] }
 * ```
 *
 * @param source The repair loop's queue.
 * @param limit The most files listed.
 * @returns The view.
 */
export function repairQueueView(source: RepairQueueSource, limit = 50): RepairQueueView {
  return {
    snapshot: () => {
      const entries = source.repairQueueSnapshot();
      return { queued: entries.length, items: entries.slice(0, limit).map(repairItem) };
    },
  };
}

function repairItem(entry: RepairQueueEntry): RepairItem {
  const reasons = [
    entry.state === "lost"
      ? `lost: ${entry.unavailable} unavailable, too few left to rebuild`
      : `${entry.unavailable} unavailable, can lose ${entry.margin} more`,
  ];
  if (entry.lastError !== null) reasons.push(`last attempt failed: ${entry.lastError}`);
  if (entry.state === "waiting" && entry.retryAt !== null) {
    reasons.push(`retry at ${entry.retryAt}`);
  }
  const { done, total } = entry.progress;
  return {
    name: entry.name,
    reason: reasons.join("; "),
    state: entry.state === "repairing" ? "running" : "queued",
    progress: entry.state === "repairing" && total > 0 ? done / total : null,
  };
}
