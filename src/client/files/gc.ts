/**
 * `gc`: garbage collection of block copies no file needs. The namenode is the authority on
 * what is garbage: ORPHANS lists the copies datanodes reported that no file (pending files
 * included) places on them, first reported at least the grace period ago. This client first
 * aborts abandoned pending files older than the grace (`gc_pending.ts`: their blocks become
 * orphans), then deletes each orphan on its datanode; the datanode's incremental block report
 * then removes it from the namenode's view. Nothing is recorded at the namenode by the delete
 * itself: a copy no file places has no record to change.
 *
 * **Why the re-check before each delete is enough.** The ORPHANS answer is a snapshot; between
 * it and the DELETE another client may come to need the copy. Right before deleting block B
 * on datanode N, the file B names (`f<id>.…`) is read again by id (GET_FILE sees pending files
 * too), and B is deleted only when:
 * - the file does not exist: it was deleted or aborted, and file ids (so block ids) are never
 *   reused, so no record can ever name B again; or
 * - the file exists, places no copy of B on N (pending or stored), and every copy of B it
 *   places is on a live datanode.
 *
 * Every way a copy comes to be needed goes through the namenode, and each is covered:
 * - CREATE_FILE and ADD_BLOCKS place a block before anything writes it (put, archive). One
 *   applied before the re-check is seen by it (B is placed on N: kept). A put's blocks are
 *   new ids, never orphans before their CREATE_FILE; so only an archive that runs again can
 *   place B on N after the re-check, and its encode writes B (it overwrites, block ids being
 *   never reused) after the ADD_BLOCKS. For the DELETE to hit that new copy, the ADD_BLOCKS
 *   and the whole encode must fit between the re-check's reply and the DELETE's arrival at N:
 *   one round trip. Should it happen, the archive itself notices before any harm: it confirms
 *   every coded block on its datanode (STAT) before it drops a replica, so the file keeps its
 *   parts and stays readable. And gc reads the file once more after the DELETE: a file that
 *   now places B on N is reported (`raced`, exit status 1): a repair rebuilds the block once
 *   fsck knows it missing (the datanode's next full report).
 * - MOVE_BLOCK records a copy a repair rebuilt, after it was written: that copy is an orphan
 *   until then (the grace period is what protects it normally; `--grace 0` does not). A
 *   repair rebuilds a copy whose datanode is dead, so while the file places B on a dead
 *   datanode, B on N is kept: it may be the repair's new copy. A repair that starts after the
 *   re-check cannot replace the orphan: it writes without overwriting (`EXISTS` while the old
 *   copy is there), so the DELETE removes the old copy or the repair fails and is run again.
 * - COMMIT_FILE and ABORT_FILE change no placement's datanode: a committed file places what
 *   it placed while pending.
 *
 * Copies whose id names no file (blocks stored with `cdfs block` or `cdfs object` on the same
 * datanodes, outside the namenode's files) are orphans to the namenode too; they are kept
 * unless `foreign` is set, as nothing says they are garbage but the absence of a record no
 * one meant to make.
 *
 * @module
 */
import { isCdfsError } from "../../core/errors.ts";
import type { NameNodeClient } from "../../namenode/client.ts";
import type { FileView, OrphanView } from "../../namenode/responses.ts";
import { DataNodeClient } from "../datanode_client.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "../objects/concurrency.ts";
import { errorMessage } from "../objects/error_message.ts";
import { quoteName } from "./file_target.ts";
import { listDatanodes } from "./spare.ts";
import {
  expireAbandonedFiles,
  type ExpiredFile,
  fileById,
  fileIdOfBlock,
  type UnlistedDatanode,
} from "./gc_pending.ts";

export { type ExpiredFile, fileIdOfBlock, type UnlistedDatanode } from "./gc_pending.ts";

/**
 * Options of {@linkcode collectGarbage}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { GcOptions } from "./gc.ts";
 * const options: GcOptions = { namenode, graceMs: 3_600_000, dryRun: true };
 * ```
 */
export interface GcOptions {
  /** The namenode. */
  readonly namenode: NameNodeClient;
  /**
   * How old an orphan (since its datanode first reported it) and an abandoned pending file
   * (since it was created) must be. 0 takes everything, puts and repairs under way included.
   */
  readonly graceMs: number;
  /** Only say what would be aborted and deleted. */
  readonly dryRun?: boolean;
  /** Also delete orphans whose block id names no file. */
  readonly foreign?: boolean;
  /** The clock pending files' ages are judged by (default `Date.now`). */
  readonly now?: () => number;
  /** Connect and frame timeouts of the datanode connections. */
  readonly client?: DataNodeClientOptions;
}

/**
 * An orphan block copy.
 *
 * @example
 * ```ts
 * import type { GcCopy } from "./gc.ts";
 * const c: GcCopy = {
 *   block: "f9.part1", node: "dn3", address: "127.0.0.1:13103", length: 4096,
 *   firstSeen: "2026-01-01T00:00:00.000Z",
 * };
 * ```
 */
export interface GcCopy {
  /** The block id. */
  readonly block: string;
  /** The datanode. */
  readonly node: string;
  /** Its address (null when the namenode has none). */
  readonly address: string | null;
  /** Its length, as reported. */
  readonly length: number;
  /** When its datanode first reported it. */
  readonly firstSeen: string;
}

/**
 * An orphan not deleted, and why.
 *
 * @example
 * ```ts
 * import type { KeptCopy } from "./gc.ts";
 * const k: KeptCopy = {
 *   block: "photo.0", node: "dn3", address: "h:1", length: 1, firstSeen: "2026-01-01T00:00:00.000Z",
 *   reason: "its id names no file",
 * };
 * ```
 */
export interface KeptCopy extends GcCopy {
  /** Why it was kept, or why its delete failed. */
  readonly reason: string;
}

/**
 * What {@linkcode collectGarbage} did (or, in a dry run, would do).
 *
 * @example
 * ```ts
 * import type { GcResult } from "./gc.ts";
 * const show = (r: GcResult) => `${r.deleted.length} copies, ${r.bytes} bytes`;
 * ```
 */
export interface GcResult {
  /** Whether nothing was changed. */
  readonly dryRun: boolean;
  /** The grace period used, ms. */
  readonly graceMs: number;
  /** The abandoned pending files aborted. */
  readonly expired: readonly ExpiredFile[];
  /** The orphans deleted (found gone counts as deleted). */
  readonly deleted: readonly GcCopy[];
  /** Their bytes. */
  readonly bytes: number;
  /** The orphans kept, each with why. */
  readonly kept: readonly KeptCopy[];
  /**
   * The orphans whose delete failed (their datanode unreachable though the namenode counts it
   * alive): left for a later run.
   */
  readonly failed: readonly KeptCopy[];
  /**
   * Copies deleted while a file came to place them (see the module notes): the archive that
   * placed them keeps the file's replicas, and `cdfs repair` rebuilds them once the datanode's
   * next full report shows them missing.
   */
  readonly raced: readonly GcCopy[];
  /** Live datanodes whose blocks could not be listed for pending files. */
  readonly unlisted: readonly UnlistedDatanode[];
}

/**
 * Whether an orphan may be deleted, judged against its file read just now.
 *
 * @example
 * ```ts
 * import { judgeOrphan } from "./gc.ts";
 * const orphan = { block: "f9.part1", node: "dn3", address: "h:1", length: 1, firstSeen: "" };
 * console.log(judgeOrphan(orphan, null, false)); // null: deletable, file 9 is gone
 * ```
 *
 * @param orphan The orphan.
 * @param file The file its id names (null: none, or it no longer exists).
 * @param foreign Whether an id that names no file may go.
 * @returns Null when it may be deleted, else why it is kept.
 */
export function judgeOrphan(
  orphan: GcCopy,
  file: FileView | null,
  foreign: boolean,
): string | null {
  if (fileIdOfBlock(orphan.block) === undefined) {
    return foreign ? null : "its id names no file (stored with 'cdfs block' or 'cdfs object'?); " +
      "--foreign deletes such blocks";
  }
  if (file === null) return null;
  const copies = file.blocks.filter((b) => b.block === orphan.block);
  if (copies.some((b) => b.node === orphan.node)) {
    return `file ${quoteName(file.name)} places it there now`;
  }
  const dead = copies.find((b) => !b.alive);
  if (dead !== undefined) {
    return `file ${quoteName(file.name)} has it on ${dead.node}, which is dead: a repair may ` +
      "be rebuilding it here";
  }
  return null;
}

/**
 * Collects garbage: aborts abandoned pending files, then deletes every orphan the namenode
 * lists that its file (read again right before) does not need (the module notes say why that
 * is safe).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { collectGarbage } from "./gc.ts";
 * const result = await collectGarbage({ namenode, graceMs: 3_600_000 });
 * console.log(`${result.deleted.length} orphans deleted, ${result.bytes} bytes`);
 * ```
 *
 * @param options Namenode, grace period, dry run.
 * @returns What was aborted, deleted, kept, failed.
 * @throws {CdfsError} The namenode's errors (ORPHANS, LIST_*, GET_FILE); a datanode's only
 * fail its copies.
 */
export async function collectGarbage(options: GcOptions): Promise<GcResult> {
  const { namenode, graceMs } = options;
  const dryRun = options.dryRun === true;
  const { expired, unlisted } = await expireAbandonedFiles({
    namenode,
    graceMs,
    dryRun,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.client === undefined ? {} : { client: options.client }),
  });
  const orphans = await allOrphans(namenode, graceMs);
  // A dead datanode would only fail its deletes; its orphans wait until it is back.
  const dead = new Set(
    (await listDatanodes(namenode)).filter((d) => d.state !== "alive").map((d) => d.node),
  );
  const deleted: GcCopy[] = [];
  const kept: KeptCopy[] = [];
  const failed: KeptCopy[] = [];
  const raced: GcCopy[] = [];
  await runLimited(
    orphans.map((orphan) => async () => {
      if (dead.has(orphan.node)) {
        return void kept.push({
          ...orphan,
          reason: "its datanode is dead: deleted once it is back",
        });
      }
      const fileId = fileIdOfBlock(orphan.block);
      const before = fileId === undefined ? null : await fileById(namenode, fileId);
      const reason = judgeOrphan(orphan, before, options.foreign === true);
      if (reason !== null) return void kept.push({ ...orphan, reason });
      if (dryRun) return void deleted.push(orphan);
      const failure = await deleteCopy(orphan, options.client);
      if (failure !== null) return void failed.push({ ...orphan, reason: failure });
      deleted.push(orphan);
      // Only a file that existed can have come to place the copy (ids are never reused).
      if (before === null || fileId === undefined) return;
      const after = await fileById(namenode, fileId);
      if (after?.blocks.some((b) => b.block === orphan.block && b.node === orphan.node)) {
        raced.push(orphan);
      }
    }),
    MAX_CONCURRENT_STORES,
  );
  const order = (a: GcCopy, b: GcCopy) =>
    a.node < b.node ? -1 : a.node > b.node ? 1 : a.block < b.block ? -1 : a.block > b.block ? 1 : 0;
  return {
    dryRun,
    graceMs,
    expired,
    deleted: deleted.sort(order),
    bytes: deleted.reduce((sum, c) => sum + c.length, 0),
    kept: kept.sort(order),
    failed: failed.sort(order),
    raced: raced.sort(order),
    unlisted,
  };
}

/** Every orphan the namenode lists, page after page. */
async function allOrphans(namenode: NameNodeClient, graceMs: number): Promise<GcCopy[]> {
  const all: GcCopy[] = [];
  let after: { blockId: string; node: string } | undefined;
  do {
    const page = await namenode.orphans({ graceMs, ...(after === undefined ? {} : { after }) });
    all.push(...page.orphans.map(copyOf));
    after = page.next === null ? undefined : { blockId: page.next.block, node: page.next.node };
  } while (after !== undefined);
  return all;
}

function copyOf(orphan: OrphanView): GcCopy {
  const { block, node, address, length, firstSeen } = orphan;
  return { block, node, address, length, firstSeen };
}

/** Deletes one copy; null when it is gone (deleted now, or already), else why not. */
async function deleteCopy(
  copy: GcCopy,
  client: DataNodeClientOptions | undefined,
): Promise<string | null> {
  if (copy.address === null) return "the namenode has no address for the datanode";
  try {
    using connection = await DataNodeClient.connect(copy.address, client);
    await connection.delete(copy.block);
    return null;
  } catch (error) {
    return isCdfsError(error, "NOT_FOUND") ? null : errorMessage(error);
  }
}
