/**
 * `archive` of a file by name: its code's encode runs on the datanodes that hold it, and once
 * every coded block is confirmed the part replicas go, so the file lives in its coded blocks
 * only (the storage saving the code is for).
 *
 * The order of the steps, and why a crash at any point leaves the replicated file or the
 * archived one, never neither:
 * 1. ADD_BLOCKS with the code's whole layout: the namenode records the coded blocks as
 *    pending and places those of logical nodes that hold no part yet. Readers still see the
 *    replicated file (pending blocks are invisible). A crash here leaves pending blocks, which
 *    the next archive aborts before it starts again.
 * 2. The encode (`encodeObject`) on those nodes: every coded block is written, and becomes
 *    visible on its datanode only when the whole run committed. A failure aborts the pending
 *    blocks (ABORT_FILE); the replicas were never touched. A crash after the run committed
 *    leaves coded blocks no record names; the next archive writes them again over those.
 * 3. COMMIT_FILE with state `encoded`: the record names the parts *and* the coded blocks,
 *    both complete. A crash after it leaves an encoded file: readable from its parts, and the
 *    next archive goes on at step 4.
 * 4. Every coded block is confirmed where the committed record places it (STAT: present, the
 *    part length, and the digest the encode committed when this run did the encode). Any
 *    doubt stops here with nothing dropped.
 * 5. DROP_BLOCKS of every part copy with state `archived`, one atomic change of the record:
 *    from now on the file is its coded blocks, which step 4 confirmed.
 * 6. Only now are the part copies deleted on the datanodes, best effort: a copy not deleted
 *    (its datanode down) is one no record names, an orphan for garbage collection.
 *
 * So the record names only blocks that are durable on their datanodes at every step, and a
 * datanode copy is deleted only after the record stopped naming it.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { CdfsError } from "../../core/errors.ts";
import type { StatResponse } from "../../protocol/responses.ts";
import type { NameNodeClient } from "../../namenode/client.ts";
import { layoutOfModule } from "../../namenode/layout.ts";
import type { BlockView, FileView } from "../../namenode/responses.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { confirmByStat, type StatCheck, type StatRefusal } from "../objects/node_requests.ts";
import { type EncodeMode, encodeObject, type EncodeResult } from "../objects/encode.ts";
import type { ProgressCallback } from "../objects/progress.ts";
import { abandonChanges, commitChanges, withOutcome } from "./commit.ts";
import { deleteCopies, type DeletedCopies } from "./delete_copies.ts";
import { filePartLength, quoteName } from "./file_target.ts";

/**
 * Options of {@linkcode archiveFile}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { ArchiveFileOptions } from "./archive.ts";
 * const options: ArchiveFileOptions = { namenode, file: await namenode.getFile("big"), module };
 * ```
 */
export interface ArchiveFileOptions {
  /** The namenode. */
  readonly namenode: NameNodeClient;
  /** The file, as read from the namenode. */
  readonly file: FileView;
  /** Its code. */
  readonly module: CodingModule;
  /** The encode's chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** The encode's mode (default pull). */
  readonly mode?: EncodeMode;
  /** The stall timeout of the encode's runs, ms. */
  readonly timeoutMs?: number;
  /** Connect and frame timeouts of the datanode connections. */
  readonly client?: DataNodeClientOptions;
  /** The encode's progress: bytes of the file encoded, out of its part-padded length. */
  readonly onProgress?: ProgressCallback;
}

/**
 * A coded block confirmed before the replicas were dropped.
 *
 * @example
 * ```ts
 * import type { ConfirmedCopy } from "./archive.ts";
 * const c: ConfirmedCopy = { block: "f7.coded3", node: "dn3", address: "h:1", length: 10, digest: "0123456789abcdef" };
 * ```
 */
export interface ConfirmedCopy {
  /** The block id. */
  readonly block: string;
  /** The datanode. */
  readonly node: string;
  /** Its address. */
  readonly address: string;
  /** Its length (the part length). */
  readonly length: number;
  /** Its block digest. */
  readonly digest: string;
}

/**
 * What {@linkcode archiveFile} did.
 *
 * @example
 * ```ts
 * import type { ArchiveFileResult } from "./archive.ts";
 * const show = (r: ArchiveFileResult) =>
 *   `${r.file.state}: ${r.confirmed.length} coded blocks, ${r.replicas.deleted.length} replicas gone`;
 * ```
 */
export interface ArchiveFileResult {
  /** The file now (archived). */
  readonly file: FileView;
  /** The encode, when this archive ran it (absent when the file was encoded already). */
  readonly encode?: EncodeResult;
  /** Whether the file was archived already (then nothing was done). */
  readonly already: boolean;
  /** The coded blocks confirmed. */
  readonly confirmed: readonly ConfirmedCopy[];
  /** The part copies deleted from the datanodes and those left as orphans. */
  readonly replicas: DeletedCopies;
}

/**
 * Archives a file: encode on the datanodes that hold it, confirm every coded block, record
 * the archive, drop the replicas (the module's documentation has the order and why a crash
 * never loses the file). An encoded file (a crash after the encode) goes on from the
 * confirmation; an archived one is left as it is.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { archiveFile } from "./archive.ts";
 * const result = await archiveFile({ namenode, file: await namenode.getFile("big"), module });
 * console.log(result.file.state); // "archived"
 * ```
 *
 * @param options Namenode, file, code, encode settings, progress.
 * @returns The archived file, the encode, the blocks confirmed and the replicas dropped.
 * @throws {CdfsError} `BAD_REQUEST` for a module other than the file's or a pending file;
 * the encode's errors (the pending coded blocks are then aborted, the replicas kept); a
 * coded block not confirmed (`NOT_FOUND`, `CORRUPT`, `UNAVAILABLE`, naming every such
 * block: the replicas are kept, the file stays encoded).
 */
export async function archiveFile(options: ArchiveFileOptions): Promise<ArchiveFileResult> {
  const { namenode, module } = options;
  let file = options.file;
  const partLength = filePartLength(file, module);
  if (file.state === "archived") {
    return { file, already: true, confirmed: [], replicas: { deleted: [], left: [] } };
  }
  if (file.state === "pending") {
    throw new CdfsError("BAD_REQUEST", `file ${quoteName(file.name)} is still being put`);
  }
  let encode: EncodeResult | undefined;
  if (file.state === "replicated") {
    // Pending blocks of a committed file are what an archive that died left (step 1).
    if (file.blocks.some((b) => b.state === "pending")) await namenode.abortFile(file.fileId);
    const added = await namenode.addBlocks(file.fileId, {
      layout: layoutOfModule(module),
      blockLength: partLength,
    });
    const nodes = added.nodes!.map((ref, i) => {
      if (ref === null) {
        throw new CdfsError("INTERNAL", `the namenode placed no datanode for logical node ${i}`);
      }
      return ref.address;
    });
    try {
      encode = await encodeObject({
        module,
        nodes,
        objectId: file.objectId,
        // A coded block already there under this file's block id can only be one an earlier
        // archive wrote and never committed at the namenode (block ids are never reused):
        // no record names it, so it is replaced.
        overwrite: true,
        ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
        ...(options.mode === undefined ? {} : { mode: options.mode }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.client === undefined ? {} : { client: options.client }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
    } catch (error) {
      await abandonChanges(namenode, file.fileId);
      throw withOutcome(error, `file ${quoteName(file.name)} is kept replicated`);
    }
    file = await commitChanges(namenode, file.fileId, { state: "encoded" });
  }
  const digests = new Map(encode?.committed.map((b) => [b.block, b.digest]) ?? []);
  const confirmed = await confirmCodedCopies(file, module, partLength, digests, options.client);
  const parts = file.blocks.filter((b) => b.kind === "part");
  file = await namenode.dropBlocks(
    file.fileId,
    parts.map((b) => ({ blockId: b.block, node: b.node })),
    "archived",
  );
  const replicas = await deleteCopies(parts, options.client);
  return { file, ...(encode === undefined ? {} : { encode }), already: false, confirmed, replicas };
}

/** A coded block's copy to STAT, with the datanode the record places it on. */
type CopyCheck = StatCheck & { readonly node: string };

/**
 * STATs every coded block where the committed record places it: every coded block of the
 * code must have a stored copy, present on its datanode, of the part length, with the digest
 * the encode committed when it is known.
 *
 * @throws {CdfsError} Naming every block not confirmed; the code of the first.
 */
async function confirmCodedCopies(
  file: FileView,
  module: CodingModule,
  partLength: number,
  digests: ReadonlyMap<string, string>,
  client: DataNodeClientOptions | undefined,
): Promise<ConfirmedCopy[]> {
  const copies = new Map<number, BlockView>();
  for (const b of file.blocks) {
    if (b.kind === "coded" && b.state === "stored") copies.set(b.index, b);
  }
  const checks = module.coded.map((_, index): StatRefusal | CopyCheck => {
    const copy = copies.get(index);
    if (copy === undefined) {
      return {
        index,
        code: "NOT_FOUND",
        text: `coded block ${index} is not in the file's record`,
      };
    }
    const where = `${copy.block} on ${copy.node} (${copy.address ?? "no address"})`;
    if (copy.address === null) {
      return {
        index,
        code: "UNAVAILABLE",
        text: `${where}: the namenode has no address for the datanode`,
      };
    }
    const expected = digests.get(copy.block);
    return {
      index,
      block: copy.block,
      node: copy.node,
      address: copy.address,
      where,
      mismatch: (stat: StatResponse) =>
        stat.length !== partLength
          ? `length ${stat.length}, the part length is ${partLength}`
          : expected !== undefined && stat.digest !== expected
          ? `digest ${stat.digest}, the encode committed ${expected}`
          : undefined,
    };
  });
  const confirmed = await confirmByStat(
    checks,
    client,
    `file ${quoteName(file.name)} is kept encoded, its part replicas kept`,
  );
  return confirmed.map(({ check, stat }) => ({
    block: check.block,
    node: check.node,
    address: check.address,
    length: stat.length,
    digest: stat.digest,
  }));
}
