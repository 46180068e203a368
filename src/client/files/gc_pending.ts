/**
 * The first half of garbage collection: abandoned pending files. A `put` whose client died
 * leaves its file pending, the name reserved and the parts it stored on datanodes; those parts
 * are not orphans (a pending file places them), so they would stay until the namenode's own
 * `pendingTimeoutMs` expires the file. {@linkcode expireAbandonedFiles} aborts such files once
 * they are older than the grace period (ABORT_FILE), after which their blocks are orphans like
 * any other.
 *
 * No namenode op lists pending files (LIST_FILES shows committed ones only), so they are found
 * from the other end: the block ids on every live datanode name their file (`f<id>.part<j>`,
 * `f<id>.coded<i>`, ids never reused), and every such id that is not a committed file's is
 * looked up by id (GET_FILE sees pending files). A pending file that stored nothing on a live
 * datanode is not found that way; it holds only its name, which the namenode frees when it
 * expires the file.
 *
 * @module
 */
import { isCdfsError } from "../../core/errors.ts";
import type { NameNodeClient } from "../../namenode/client.ts";
import type { FileView } from "../../namenode/responses.ts";
import { DataNodeClient } from "../datanode_client.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "../objects/concurrency.ts";
import { errorMessage } from "../objects/error_message.ts";
import { listDatanodes } from "./spare.ts";

/** A block id of a file: `f<fileId>.part<j>` or `f<fileId>.coded<i>` (docs/namenode.md §1). */
const FILE_BLOCK = /^f([1-9][0-9]{0,15})\.(?:part|coded)(?:0|[1-9][0-9]{0,4})$/;

/**
 * The id of the file a block id names, if it names one.
 *
 * @example
 * ```ts
 * import { fileIdOfBlock } from "./gc_pending.ts";
 * console.log(fileIdOfBlock("f12.coded3"), fileIdOfBlock("photo.jpg.0")); // 12 undefined
 * ```
 *
 * @param blockId A block id.
 * @returns The file id, or undefined for a block stored outside the namenode's files.
 */
export function fileIdOfBlock(blockId: string): number | undefined {
  const match = FILE_BLOCK.exec(blockId);
  if (match === null) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * A pending file aborted (or, in a dry run, that would be).
 *
 * @example
 * ```ts
 * import type { ExpiredFile } from "./gc_pending.ts";
 * const e: ExpiredFile = {
 *   fileId: 12, name: "a.bin", created: "2026-01-01T00:00:00.000Z", copies: 22, bytes: 4096,
 * };
 * ```
 */
export interface ExpiredFile {
  /** Its id. */
  readonly fileId: number;
  /** The name it reserved. */
  readonly name: string;
  /** When it was created (the namenode's clock). */
  readonly created: string;
  /** Its block copies found on the live datanodes: orphans once it is aborted. */
  readonly copies: number;
  /** Their bytes. */
  readonly bytes: number;
}

/**
 * A datanode whose blocks could not be listed (its pending files, if any, stay for the next
 * run or the namenode's expiry).
 *
 * @example
 * ```ts
 * import type { UnlistedDatanode } from "./gc_pending.ts";
 * const u: UnlistedDatanode = { node: "dn3", address: "127.0.0.1:13103", reason: "refused" };
 * ```
 */
export interface UnlistedDatanode {
  /** The datanode. */
  readonly node: string;
  /** Its address. */
  readonly address: string;
  /** Why the listing failed. */
  readonly reason: string;
}

/**
 * Options of {@linkcode expireAbandonedFiles}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { ExpireOptions } from "./gc_pending.ts";
 * const options: ExpireOptions = { namenode, graceMs: 3_600_000, dryRun: true };
 * ```
 */
export interface ExpireOptions {
  /** The namenode. */
  readonly namenode: NameNodeClient;
  /** Only files created at least this long ago (by `now`). */
  readonly graceMs: number;
  /** Only say which files would be aborted. */
  readonly dryRun?: boolean;
  /** The clock the files' ages are judged by (default `Date.now`). */
  readonly now?: () => number;
  /** Connect and frame timeouts of the datanode connections. */
  readonly client?: DataNodeClientOptions;
}

/**
 * What {@linkcode expireAbandonedFiles} did.
 *
 * @example
 * ```ts
 * import type { ExpireResult } from "./gc_pending.ts";
 * const show = (r: ExpireResult) => `${r.expired.length} aborted, ${r.unlisted.length} unlisted`;
 * ```
 */
export interface ExpireResult {
  /** The pending files aborted (would be, in a dry run), by id. */
  readonly expired: readonly ExpiredFile[];
  /** The live datanodes whose blocks could not be listed. */
  readonly unlisted: readonly UnlistedDatanode[];
}

/**
 * Aborts every pending file older than the grace period that stored blocks on a live datanode
 * (see the module notes for how they are found).
 *
 * A file committed between the listing and the abort is never touched: the committed ids are
 * read first, each candidate is read again by id (its state must still be `pending`), and a
 * file committed between that read and the ABORT_FILE would lose nothing (ABORT_FILE of a
 * committed file only drops pending blocks, which a just-committed put has none of).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { expireAbandonedFiles } from "./gc_pending.ts";
 * const { expired } = await expireAbandonedFiles({ namenode, graceMs: 0 });
 * console.log(expired.map((f) => f.name));
 * ```
 *
 * @param options Namenode, grace period, dry run, clock.
 * @returns The files aborted and the datanodes not listed.
 */
export async function expireAbandonedFiles(options: ExpireOptions): Promise<ExpireResult> {
  const { namenode } = options;
  const now = options.now ?? Date.now;
  const committed = new Set<number>();
  for await (const file of namenode.files()) committed.add(file.fileId);
  const found = await fileBlocksOnDatanodes(namenode, options.client);
  const expired: ExpiredFile[] = [];
  for (const [fileId, copies] of [...found.copies].sort((a, b) => a[0] - b[0])) {
    if (committed.has(fileId)) continue;
    const file = await fileById(namenode, fileId);
    if (file === null || file.state !== "pending") continue;
    if (now() - Date.parse(file.created) < options.graceMs) continue;
    if (options.dryRun !== true) {
      try {
        await namenode.abortFile(fileId);
      } catch (error) {
        // Committed or aborted by someone else meanwhile: not ours to count.
        if (isCdfsError(error, "NOT_FOUND") || isCdfsError(error, "CONFLICT")) continue;
        throw error;
      }
    }
    expired.push({
      fileId,
      name: file.name,
      created: file.created,
      copies: copies.count,
      bytes: copies.bytes,
    });
  }
  return { expired, unlisted: found.unlisted };
}

/**
 * A file by id, or null when there is none (deleted, aborted: ids are never reused).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { fileById } from "./gc_pending.ts";
 * const file = await fileById(namenode, 12);
 * ```
 *
 * @param namenode The namenode.
 * @param fileId The id.
 * @returns The file, pending or not, or null.
 */
export async function fileById(namenode: NameNodeClient, fileId: number): Promise<FileView | null> {
  try {
    return await namenode.getFileById(fileId);
  } catch (error) {
    if (isCdfsError(error, "NOT_FOUND")) return null;
    throw error;
  }
}

/** Per file id, the copies and bytes of its blocks on the live datanodes. */
async function fileBlocksOnDatanodes(
  namenode: NameNodeClient,
  client: DataNodeClientOptions | undefined,
): Promise<{
  copies: Map<number, { count: number; bytes: number }>;
  unlisted: UnlistedDatanode[];
}> {
  const alive = (await listDatanodes(namenode)).filter((d) => d.state === "alive");
  const copies = new Map<number, { count: number; bytes: number }>();
  const unlisted: UnlistedDatanode[] = [];
  await runLimited(
    alive.map((datanode) => async () => {
      try {
        using connection = await DataNodeClient.connect(datanode.address, client);
        // Every file block id starts with "f": the datanode skips the others for us.
        for await (const entry of connection.listAll({ prefix: "f" })) {
          const fileId = fileIdOfBlock(entry.block);
          if (fileId === undefined) continue;
          const sum = copies.get(fileId) ?? { count: 0, bytes: 0 };
          copies.set(fileId, { count: sum.count + 1, bytes: sum.bytes + entry.length });
        }
      } catch (error) {
        unlisted.push({
          node: datanode.node,
          address: datanode.address,
          reason: errorMessage(error),
        });
      }
    }),
    MAX_CONCURRENT_STORES,
  );
  unlisted.sort((a, b) => a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
  return { copies, unlisted };
}
