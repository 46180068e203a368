/**
 * `put` of a file by name: the namenode places it, the client stores its parts on the chosen
 * datanodes, and the namenode makes it visible. Bytes never pass through the namenode.
 *
 * The steps, and what a crash after each leaves:
 * 1. CREATE_FILE with the code's part layout: the namenode reserves the name and picks a
 *    datanode for every logical node (a code's placement is a relation between the chosen
 *    nodes: RapidRAID's part j on those of coded blocks j and j+5). The file is pending:
 *    invisible to readers, its name taken.
 * 2. The parts go to their datanodes (`putParts`, with the node list of step 1). A failure
 *    removes what was stored and aborts the file (ABORT_FILE).
 * 3. COMMIT_FILE with the length and SHA-256: the file is visible, every part stored and
 *    confirmed by its datanode. A client that dies before this leaves a pending file, which the
 *    namenode expires (`pendingTimeoutMs`); its parts then become orphans for GC.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { CdfsError } from "../../core/errors.ts";
import type { NameNodeClient } from "../../namenode/client.ts";
import { layoutOfModule } from "../../namenode/layout.ts";
import type { FileView, NodeRef } from "../../namenode/responses.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { partLengthOf } from "../objects/manifest.ts";
import { statFile } from "../objects/local_file.ts";
import { deleteQuietly } from "../objects/node_requests.ts";
import type { ProgressCallback } from "../objects/progress.ts";
import { putParts, type StoredPart } from "../objects/put_parts.ts";
import { abandonChanges, commitChanges, withOutcome } from "./commit.ts";
import { UNPLACED } from "./file_target.ts";

/**
 * Options of {@linkcode putFile}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { PutFileOptions } from "./put.ts";
 * const options: PutFileOptions = { namenode, module, path: "cat.jpg", name: "photos/cat.jpg" };
 * ```
 */
export interface PutFileOptions {
  /** The namenode. */
  readonly namenode: NameNodeClient;
  /** The code: its parts layout is placed now, its encode runs at the archive. */
  readonly module: CodingModule;
  /** The local file to put. */
  readonly path: string;
  /** The name it gets. */
  readonly name: string;
  /** The chunk size the parts are stored with (default 1 MiB). */
  readonly chunkSize?: number;
  /** Connect and frame timeouts of the datanode connections. */
  readonly client?: DataNodeClientOptions;
  /** Bytes sent to the datanodes (every replica counts), out of all there are to send. */
  readonly onProgress?: ProgressCallback;
}

/**
 * What {@linkcode putFile} did.
 *
 * @example
 * ```ts
 * import type { PutFileResult } from "./put.ts";
 * const show = (r: PutFileResult) => `${r.file.name}: ${r.parts.length} part copies`;
 * ```
 */
export interface PutFileResult {
  /** The committed file, with every block and its datanode. */
  readonly file: FileView;
  /** Every part copy stored. */
  readonly parts: readonly StoredPart[];
  /** How long each part is. */
  readonly partLength: number;
  /** Bytes sent to the datanodes. */
  readonly bytesSent: number;
}

/**
 * Puts a local file under a name: CREATE_FILE (the namenode chooses the datanodes), the parts
 * to them, COMMIT_FILE. The file is visible only once every part is stored and confirmed; on
 * any failure the parts stored are removed and the pending file aborted.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { putFile } from "./put.ts";
 * const { file } = await putFile({ namenode, module, path: "cat.jpg", name: "photos/cat.jpg" });
 * console.log(file.state); // "replicated"
 * ```
 *
 * @param options Namenode, code, local file, name, chunk size, progress.
 * @returns The committed file.
 * @throws {CdfsError} `EXISTS` for a taken name, `UNAVAILABLE` when the namenode finds too few
 * datanodes with room (its message has the numbers), the local file's and the datanodes'
 * errors (naming the node); the file is then not visible.
 */
export async function putFile(options: PutFileOptions): Promise<PutFileResult> {
  const { namenode, module } = options;
  const length = (await statFile(options.path)).size;
  const partLength = partLengthOf(length, module.k, module.field);
  const created = await namenode.createFile({
    name: options.name,
    code: module.name,
    length,
    layout: layoutOfModule(module, "parts"),
    blockLength: partLength,
  });
  const { fileId, objectId } = created.file;
  const nodes = addressesOf(created.nodes);
  let stored: readonly StoredPart[] = [];
  try {
    const put = await putParts({
      module,
      nodes,
      objectId,
      file: options.path,
      writeManifest: false,
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
      ...(options.client === undefined ? {} : { client: options.client }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
    stored = put.parts;
    if (put.manifest.objectLength !== length) {
      throw new CdfsError(
        "UNAVAILABLE",
        `${options.path} changed while it was being put (${length} bytes, then ` +
          `${put.manifest.objectLength})`,
      );
    }
    const file = await commitChanges(namenode, fileId, { length, digest: put.manifest.sha256 });
    return { file, parts: put.parts, partLength, bytesSent: put.bytesSent };
  } catch (error) {
    // putParts removed what it stored when it failed itself; after it, the parts are ours to
    // remove. The file's record goes in any case: the name is free again at once.
    await deleteQuietly(nodes, stored, options.client);
    const aborted = await abandonChanges(namenode, fileId);
    throw withOutcome(
      error,
      aborted
        ? `file ${JSON.stringify(options.name)} was not created`
        : `file ${JSON.stringify(options.name)} stays pending until the namenode expires it`,
    );
  }
}

/** The address of each logical node; {@linkcode UNPLACED} for those without a datanode. */
function addressesOf(nodes: readonly (NodeRef | null)[]): string[] {
  return nodes.map((ref) => ref?.address ?? UNPLACED);
}
