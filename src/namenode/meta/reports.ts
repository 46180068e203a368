/**
 * Block reports as pure functions: validating one, working out what it changes in the set of
 * blocks a node reported, and what it tells the namenode (copies missing, blocks unknown).
 * Both backends call these, so a report means the same on SQLite and etcd.
 *
 * @module
 */
import { validateBlockId } from "../../core/block_id.ts";
import { CdfsError } from "../../core/errors.ts";
import {
  type BlockReport,
  MAX_FULL_REPORT,
  MAX_INCREMENTAL_REPORT,
  type PlacedBlock,
  type ReportedBlock,
  type ReportedBlockEntry,
  type ReportResult,
} from "./model.ts";
import { validateByteCount } from "./validate_fields.ts";

/**
 * Validates a block report: bounds, block ids, lengths, no id twice.
 *
 * @example
 * ```ts
 * import { validateReport } from "./reports.ts";
 * const report = validateReport({ kind: "full", blocks: [{ blockId: "f1.part0", length: 3 }] });
 * console.log(report.kind); // "full"
 * ```
 *
 * @param report The candidate.
 * @returns A validated copy.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateReport(report: BlockReport): BlockReport {
  if (report?.kind === "full") {
    const blocks = validateEntries(report.blocks, MAX_FULL_REPORT, "a full report");
    return { kind: "full", blocks };
  }
  if (report?.kind === "incremental") {
    if (!Array.isArray(report.added) || !Array.isArray(report.removed)) {
      throw new CdfsError("BAD_REQUEST", "an incremental report needs added and removed arrays");
    }
    if (report.added.length + report.removed.length > MAX_INCREMENTAL_REPORT) {
      throw new CdfsError(
        "BAD_REQUEST",
        `an incremental report has ${
          report.added.length + report.removed.length
        } entries, the limit is ${MAX_INCREMENTAL_REPORT} (send a full report)`,
      );
    }
    const added = validateEntries(report.added, MAX_INCREMENTAL_REPORT, "an incremental report");
    const removed = report.removed.map((id) => validateBlockId(id));
    const addedIds = new Set(added.map((e) => e.blockId));
    const removedIds = new Set<string>();
    for (const id of removed) {
      if (addedIds.has(id)) {
        throw new CdfsError("BAD_REQUEST", `an incremental report both adds and removes ${id}`);
      }
      if (removedIds.has(id)) {
        throw new CdfsError("BAD_REQUEST", `an incremental report removes ${id} twice`);
      }
      removedIds.add(id);
    }
    return { kind: "incremental", added, removed };
  }
  throw new CdfsError("BAD_REQUEST", `a block report's kind must be "full" or "incremental"`);
}

/**
 * What a report changes in a node's reported set.
 *
 * @example
 * ```ts
 * import type { ReportChanges } from "./reports.ts";
 * const changes: ReportChanges = { upserts: [], removed: [] };
 * ```
 */
export interface ReportChanges {
  /** Blocks to write (new, or with a new length); `firstSeen` kept from before when known. */
  readonly upserts: readonly ReportedBlock[];
  /** Block ids to remove from the set. */
  readonly removed: readonly string[];
}

/**
 * Works out the changes a report makes to a node's reported set. A block reported again keeps
 * its first-seen time (the orphan grace period runs from the first report); removing a block
 * the node never reported is nothing to do.
 *
 * @example
 * ```ts
 * import { planReport } from "./reports.ts";
 * const before = new Map([["f1.part0", { node: "dn0", blockId: "f1.part0", length: 3, firstSeen: 1 }]]);
 * const plan = planReport("dn0", before, { kind: "full", blocks: [] }, 5);
 * console.log(plan.removed); // ["f1.part0"]
 * ```
 *
 * @param node The reporting node.
 * @param before What the node reported so far (for an incremental report, at least the blocks
 * it names).
 * @param report The validated report.
 * @param now The store's clock.
 * @returns The changes.
 */
export function planReport(
  node: string,
  before: ReadonlyMap<string, ReportedBlock>,
  report: BlockReport,
  now: number,
): ReportChanges {
  const entries = report.kind === "full" ? report.blocks : report.added;
  const upserts: ReportedBlock[] = [];
  for (const entry of entries) {
    const old = before.get(entry.blockId);
    if (old !== undefined && old.length === entry.length) continue;
    upserts.push({
      node,
      blockId: entry.blockId,
      length: entry.length,
      firstSeen: old?.firstSeen ?? now,
    });
  }
  let removed: string[];
  if (report.kind === "full") {
    const kept = new Set(report.blocks.map((e) => e.blockId));
    removed = [...before.keys()].filter((id) => !kept.has(id));
  } else {
    removed = report.removed.filter((id) => before.has(id));
  }
  return { upserts, removed };
}

/**
 * What a report tells the namenode, given the copies the files place on the node (for an
 * incremental report, at least those of the blocks it names).
 *
 * @example
 * ```ts
 * import { classifyReport } from "./reports.ts";
 * const result = classifyReport([], { kind: "full", blocks: [{ blockId: "x.part0", length: 1 }] });
 * console.log(result.unknown); // ["x.part0"]
 * ```
 *
 * @param placed Copies the files place on the reporting node.
 * @param report The validated report.
 * @returns Missing copies and unknown block ids, both sorted by block id.
 */
export function classifyReport(
  placed: readonly PlacedBlock[],
  report: BlockReport,
): ReportResult {
  const placedIds = new Set(placed.map((b) => b.blockId));
  const reported = report.kind === "full" ? report.blocks : report.added;
  const unknown = reported.map((e) => e.blockId).filter((id) => !placedIds.has(id)).sort();
  let missing: PlacedBlock[];
  if (report.kind === "full") {
    const have = new Set(report.blocks.map((e) => e.blockId));
    missing = placed.filter((b) => b.state === "stored" && !have.has(b.blockId));
  } else {
    const gone = new Set(report.removed);
    missing = placed.filter((b) => b.state === "stored" && gone.has(b.blockId));
  }
  missing.sort((a, b) => a.blockId < b.blockId ? -1 : a.blockId > b.blockId ? 1 : 0);
  return { missing, unknown };
}

/**
 * The block ids a report names (for an incremental report: added and removed).
 *
 * @example
 * ```ts
 * import { reportIds } from "./reports.ts";
 * console.log(reportIds({ kind: "incremental", added: [], removed: ["a"] })); // ["a"]
 * ```
 *
 * @param report The validated report.
 * @returns The ids.
 */
export function reportIds(report: BlockReport): string[] {
  return report.kind === "full"
    ? report.blocks.map((e) => e.blockId)
    : [...report.added.map((e) => e.blockId), ...report.removed];
}

function validateEntries(
  entries: readonly ReportedBlockEntry[],
  max: number,
  what: string,
): ReportedBlockEntry[] {
  if (!Array.isArray(entries)) throw new CdfsError("BAD_REQUEST", `${what} needs a block array`);
  if (entries.length > max) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} has ${entries.length} blocks, the limit is ${max}`,
    );
  }
  const seen = new Set<string>();
  return entries.map((e) => {
    const blockId = validateBlockId(e?.blockId);
    if (seen.has(blockId)) throw new CdfsError("BAD_REQUEST", `${what} lists ${blockId} twice`);
    seen.add(blockId);
    return { blockId, length: validateByteCount(e.length, `length of ${blockId}`) };
  });
}
