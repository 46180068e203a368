/**
 * Deleting block copies a file record no longer names (the replicas after an archive, every
 * block after `rm`), best effort: a copy whose datanode is down stays behind as an orphan,
 * which the namenode lists (ORPHANS) for garbage collection once the datanode reports it.
 *
 * @module
 */
import { isCdfsError } from "../../core/errors.ts";
import type { BlockView } from "../../namenode/responses.ts";
import { DataNodeClient } from "../datanode_client.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "../objects/concurrency.ts";
import { errorMessage } from "../objects/error_message.ts";

/**
 * A copy that could not be deleted, and why.
 *
 * @example
 * ```ts
 * import type { LeftCopy } from "./delete_copies.ts";
 * const left: LeftCopy = { block: "f7.part0", node: "dn3", address: "h:1", reason: "connection refused" };
 * ```
 */
export interface LeftCopy {
  /** The block id. */
  readonly block: string;
  /** The datanode. */
  readonly node: string;
  /** Its address (null when the namenode had none). */
  readonly address: string | null;
  /** Why the delete failed. */
  readonly reason: string;
}

/**
 * What {@linkcode deleteCopies} did.
 *
 * @example
 * ```ts
 * import type { DeletedCopies } from "./delete_copies.ts";
 * const show = (d: DeletedCopies) => `${d.deleted.length} deleted, ${d.left.length} left`;
 * ```
 */
export interface DeletedCopies {
  /** The copies gone now (deleted, or already absent). */
  readonly deleted: readonly BlockView[];
  /** The copies left behind. */
  readonly left: readonly LeftCopy[];
}

/**
 * Deletes block copies from their datanodes, several at once; a failure does not stop the
 * others. A copy that is not there any more counts as deleted.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { deleteCopies } from "./delete_copies.ts";
 * const { left } = await deleteCopies(file.blocks.filter((b) => b.kind === "part"));
 * ```
 *
 * @param copies The copies (as the file record named them).
 * @param client Client timeouts.
 * @returns The copies deleted and those left.
 */
export async function deleteCopies(
  copies: readonly BlockView[],
  client?: DataNodeClientOptions,
): Promise<DeletedCopies> {
  const outcomes = await runLimited(
    copies.map((copy) => async (): Promise<BlockView | LeftCopy> => {
      const left = (reason: string): LeftCopy => ({
        block: copy.block,
        node: copy.node,
        address: copy.address,
        reason,
      });
      if (copy.address === null) return left("the namenode has no address for the datanode");
      try {
        using connection = await DataNodeClient.connect(copy.address, client);
        await connection.delete(copy.block);
        return copy;
      } catch (error) {
        return isCdfsError(error, "NOT_FOUND") ? copy : left(errorMessage(error));
      }
    }),
    MAX_CONCURRENT_STORES,
  );
  return {
    deleted: outcomes.filter((o): o is BlockView => !("reason" in o)),
    left: outcomes.filter((o): o is LeftCopy => "reason" in o),
  };
}
