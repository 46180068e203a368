/**
 * A namenode file as the object operations (`../objects/`) take it: its blocks are an object
 * whose id is the file's `objectId`, spread over the logical nodes of its code. The namenode's
 * record says what an object's manifest says (length, SHA-256, module), so a file has no
 * manifest block on the datanodes ({@linkcode fileManifest} builds it from the record), and
 * which datanode is which logical node is recovered from where the blocks are
 * ({@linkcode fileNodes}, through `nodesOfFile`).
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { CdfsError } from "../../core/errors.ts";
import { nodesOfFile } from "../../namenode/nodes_of_file.ts";
import { layoutOfModule } from "../../namenode/layout.ts";
import type { FileView } from "../../namenode/responses.ts";
import { type ObjectManifest, partLengthOf } from "../objects/manifest.ts";

/**
 * The address given to the object operations for a logical node the namenode placed nothing
 * on (RS puts parts on 11 of its 16 nodes; a repair's node list before the spare is known).
 * Those operations never contact such a node; if one did, the connection would fail on port
 * 0 instead of reaching a stranger.
 */
export const UNPLACED = "127.0.0.1:0";

/**
 * The run id a manifest built from a record names for the encode. The namenode does not keep
 * the encode's run id; the object operations only ask whether there was an encode.
 */
const UNKNOWN_RUN = "0".repeat(32);

/**
 * The name of a file in messages: `"photos/cat.jpg"`.
 *
 * @example
 * ```ts
 * import { quoteName } from "./file_target.ts";
 * console.log(quoteName("a b")); // "\"a b\""
 * ```
 *
 * @param name The file's name.
 * @returns It in double quotes, escaped as JSON.
 */
export function quoteName(name: string): string {
  return JSON.stringify(name);
}

/**
 * Checks that a module is the file's code, and that the record has what a read needs.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { checkFileCode } from "./file_target.ts";
 * checkFileCode(file, await loadCodingModule(file.code));
 * ```
 *
 * @param file The file.
 * @param module The module meant to be its code.
 * @throws {CdfsError} `BAD_REQUEST` for another module; `CORRUPT` for a committed record
 * without its length or digest.
 */
export function checkFileCode(file: FileView, module: CodingModule): void {
  if (file.code !== module.name) {
    throw new CdfsError(
      "BAD_REQUEST",
      `file ${quoteName(file.name)} was put with ${file.code}, not ${module.name}`,
    );
  }
  if (file.length === null || file.digest === null) {
    throw new CdfsError(
      "CORRUPT",
      `file ${quoteName(file.name)} has no ${file.length === null ? "length" : "digest"} in ` +
        "its record",
    );
  }
}

/**
 * The length of each part (and coded block) of a file: its length cut into the module's k
 * parts.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { filePartLength } from "./file_target.ts";
 * console.log(filePartLength(file, module));
 * ```
 *
 * @param file The file.
 * @param module Its code.
 * @returns Bytes per part.
 */
export function filePartLength(file: FileView, module: CodingModule): number {
  checkFileCode(file, module);
  return partLengthOf(file.length!, module.k, module.field);
}

/**
 * What the object operations read from a manifest, from the namenode's record: module, k, n,
 * lengths, SHA-256; an encode when the file has coded blocks. No coded-block records: every
 * coded block is on its module's logical node, which {@linkcode fileNodes} maps to wherever
 * the block is now.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { fileManifest } from "./file_target.ts";
 * const manifest = fileManifest(file, module);
 * console.log(manifest.sha256 === file.digest); // true
 * ```
 *
 * @param file The file (committed).
 * @param module Its code.
 * @returns The manifest.
 */
export function fileManifest(file: FileView, module: CodingModule): ObjectManifest {
  const partLength = filePartLength(file, module);
  const encoded = file.blocks.some((b) => b.kind === "coded" && b.state === "stored");
  return {
    module: module.name,
    k: module.k,
    n: module.n,
    objectLength: file.length!,
    partLength,
    sha256: file.digest!,
    created: file.created,
    ...(encoded ? { encoded: { run: UNKNOWN_RUN, at: file.committed ?? file.created } } : {}),
  };
}

/**
 * The address of every logical node of a file's code, in order: the datanode that holds what
 * that logical node holds (after a repair, the datanode the block was moved to; one address
 * at two indexes when a repair short of datanodes put two logical nodes on one).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { fileNodes } from "./file_target.ts";
 * const nodes = fileNodes(file, module); // 16 addresses for RapidRAID
 * ```
 *
 * @param file The file.
 * @param module Its code.
 * @returns One address per logical node.
 * @throws {CdfsError} `CONFLICT` when the blocks do not follow the code's layout;
 * `NOT_FOUND` when a logical node has no datanode (a file never encoded has none for the
 * nodes that only hold coded blocks), or its datanode no address.
 */
export function fileNodes(file: FileView, module: CodingModule): string[] {
  const refs = nodesOfFile(file, layoutOfModule(module));
  return refs.map((ref, i) => {
    if (ref === null) {
      throw new CdfsError(
        "NOT_FOUND",
        `file ${quoteName(file.name)} has no block on logical node ${i} of ${module.name}`,
      );
    }
    return ref.address;
  });
}
