/**
 * Files by name: the client side of the namenode's files. The namenode says where a file's
 * blocks go or are; the bytes go to and from the datanodes directly, through the object
 * operations of `../objects.ts` (a file is the object `f<fileId>` of its code). Put
 * ({@linkcode putFile}), read with a degraded fallback ({@linkcode readFile}), archive
 * ({@linkcode archiveFile}), remove ({@linkcode removeFile}), repair ({@linkcode repairFile})
 * and garbage collection ({@linkcode collectGarbage}); each module documents its order of steps
 * and what a crash leaves.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { putFile, readFile } from "./mod.ts";
 * const { file } = await putFile({ namenode, module, path: "cat.jpg", name: "photos/cat.jpg" });
 * await readFile({ file, module, output: "cat.copy.jpg" });
 * ```
 *
 * @module
 */
export {
  archiveFile,
  type ArchiveFileOptions,
  type ArchiveFileResult,
  type ConfirmedCopy,
} from "./archive.ts";
export { abandonChanges, commitChanges } from "./commit.ts";
export { deleteCopies, type DeletedCopies, type LeftCopy } from "./delete_copies.ts";
export {
  checkFileCode,
  fileManifest,
  fileNodes,
  filePartLength,
  quoteName,
} from "./file_target.ts";
export {
  collectGarbage,
  type ExpiredFile,
  fileIdOfBlock,
  type GcCopy,
  type GcOptions,
  type GcResult,
  judgeOrphan,
  type KeptCopy,
  type UnlistedDatanode,
} from "./gc.ts";
export { putFile, type PutFileOptions, type PutFileResult } from "./put.ts";
export { readFile, type ReadFileOptions, type ReadFileResult } from "./read.ts";
export { type FailedCopy, type ReadPartsResult } from "./read_parts.ts";
export { removeFile, type RemoveFileResult } from "./remove.ts";
export {
  type RebuiltCopy,
  repairFile,
  type RepairFileOptions,
  type RepairFileResult,
  type UnrepairedCopy,
} from "./repair.ts";
export {
  chooseTarget,
  type CopyVector,
  listDatanodes,
  type TargetChoice,
  type TargetRequest,
} from "./spare.ts";
