/**
 * Committing and abandoning a file's pending changes at the namenode, when a reply may be
 * lost: {@linkcode commitChanges} finds out whether a commit whose reply was lost was applied
 * (GET_FILE by id), {@linkcode abandonChanges} aborts without failing the caller's own error.
 *
 * @module
 */
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import type { CommitSpec, NameNodeClient } from "../../namenode/client.ts";
import type { FileView } from "../../namenode/responses.ts";

/**
 * Commits a file's pending changes. When the connection broke after the request was sent
 * (`UNAVAILABLE`, "may or may not have been applied"), asks for the file by id: nothing
 * pending any more means the commit was applied.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { commitChanges } from "./commit.ts";
 * const file = await commitChanges(namenode, 7, { digest });
 * ```
 *
 * @param namenode The namenode.
 * @param fileId The file.
 * @param commit Length, digest, state.
 * @returns The committed file.
 * @throws {CdfsError} The commit's error when it was not applied.
 */
export async function commitChanges(
  namenode: NameNodeClient,
  fileId: number,
  commit: CommitSpec,
): Promise<FileView> {
  try {
    return await namenode.commitFile(fileId, commit);
  } catch (error) {
    if (!isCdfsError(error, "UNAVAILABLE") && !isCdfsError(error, "TIMEOUT")) throw error;
    const now = await namenode.getFileById(fileId).catch(() => undefined);
    const applied = now !== undefined && now.state !== "pending" &&
      !now.blocks.some((b) => b.state === "pending") &&
      (commit.state === undefined || now.state === commit.state);
    if (applied) return now;
    throw error;
  }
}

/**
 * Aborts a file's pending changes, best effort: after a failed put or encode, whose error is
 * the one to report. A pending file the abort does not reach is expired by the namenode
 * (`pendingTimeoutMs`); its blocks then become orphans for garbage collection.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { abandonChanges } from "./commit.ts";
 * await abandonChanges(namenode, 7);
 * ```
 *
 * @param namenode The namenode.
 * @param fileId The file.
 * @returns Whether the abort was applied.
 */
export async function abandonChanges(namenode: NameNodeClient, fileId: number): Promise<boolean> {
  try {
    await namenode.abortFile(fileId);
    return true;
  } catch {
    return false;
  }
}

/**
 * Adds to an error what became of the file, so one line says both.
 *
 * @example
 * ```ts
 * import { CdfsError } from "../../core/errors.ts";
 * import { withOutcome } from "./commit.ts";
 * const e = withOutcome(new CdfsError("UNAVAILABLE", "node 3 down"), "nothing was stored");
 * console.log((e as Error).message); // "node 3 down; nothing was stored"
 * ```
 *
 * @param error The error.
 * @param outcome What the caller's state is now.
 * @returns A {@linkcode CdfsError} with the same code (UNAVAILABLE for others).
 */
export function withOutcome(error: unknown, outcome: string): unknown {
  if (!(error instanceof Error)) return error;
  const code = isCdfsError(error) ? error.code : "UNAVAILABLE";
  return new CdfsError(code, `${error.message}; ${outcome}`, { cause: error });
}
