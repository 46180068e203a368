/**
 * `rm` of a file by name. The record goes first (DELETE_FILE), then the blocks from the
 * datanodes, best effort. The other order would be unsafe: a client dying after it deleted
 * some blocks would leave a record that names blocks which are gone, a file that reads as
 * damaged or lost. Record first, a crash (or a datanode that is down) can only leave blocks
 * that no record names: orphans, which ORPHANS lists for garbage collection. No block a file
 * needs is ever deleted, since once the record is gone no file needs them.
 *
 * @module
 */
import type { NameNodeClient } from "../../namenode/client.ts";
import type { FileView } from "../../namenode/responses.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { deleteCopies, type DeletedCopies } from "./delete_copies.ts";

/**
 * What {@linkcode removeFile} did.
 *
 * @example
 * ```ts
 * import type { RemoveFileResult } from "./remove.ts";
 * const show = (r: RemoveFileResult) => `${r.file.name}: ${r.blocks.left.length} orphans`;
 * ```
 */
export interface RemoveFileResult {
  /** The file's last record. */
  readonly file: FileView;
  /** Its block copies deleted, and those left behind as orphans. */
  readonly blocks: DeletedCopies;
}

/**
 * Removes a file: its record, then its blocks.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { removeFile } from "./remove.ts";
 * const { blocks } = await removeFile(namenode, "photos/cat.jpg");
 * console.log(blocks.deleted.length, blocks.left.length);
 * ```
 *
 * @param namenode The namenode.
 * @param name The file's name.
 * @param client Datanode client timeouts.
 * @returns The record and what became of each block copy.
 * @throws {CdfsError} `NOT_FOUND` for an unknown file (nothing is changed).
 */
export async function removeFile(
  namenode: NameNodeClient,
  name: string,
  client?: DataNodeClientOptions,
): Promise<RemoveFileResult> {
  const file = await namenode.deleteFile(name);
  return { file, blocks: await deleteCopies(file.blocks, client) };
}
