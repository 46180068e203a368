/**
 * `get` of a file by name: from its parts while it has them (replicated, encoded), else (or
 * when a part has no readable copy left) decoded from whichever coded blocks survive: a
 * degraded read (`decodeObject`, which refuses an undecodable set up front and goes around a
 * damaged block with another set of survivors). Either way the bytes are checked against the
 * SHA-256 the namenode recorded before they reach the output, and a failed read leaves no
 * partial file.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import type { CodingModule } from "../../coding/lang/program.ts";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import type { FileView } from "../../namenode/responses.ts";
import type { ByteWriter } from "../byte_io.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { copyFile, finishFile, localError } from "../objects/local_file.ts";
import type { ProgressCallback } from "../objects/progress.ts";
import { decodeObject, type DecodeResult } from "../objects/decode.ts";
import type { CodedBlockState, CorruptBlock } from "../objects/state.ts";
import { fileManifest, fileNodes, filePartLength, quoteName } from "./file_target.ts";
import { OrderedFileDigest, partSpans } from "../objects/ordered_digest.ts";
import { type FailedCopy, readParts, type ReadPartsResult } from "./read_parts.ts";

/**
 * Options of {@linkcode readFile}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { ReadFileOptions } from "./read.ts";
 * const options: ReadFileOptions = { file, module, output: "cat.jpg" };
 * ```
 */
export interface ReadFileOptions {
  /** The file, as read from the namenode. */
  readonly file: FileView;
  /** Its code. */
  readonly module: CodingModule;
  /**
   * A path (written as a temporary file beside it, renamed over it once verified) or a writer
   * (the file is assembled and verified in a temporary file in `tempDir` first, then copied).
   */
  readonly output: string | ByteWriter;
  /** Where the temporary file for a writer goes (default the system's). */
  readonly tempDir?: string;
  /** The decode's chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** The stall timeout of a decode's runs, ms. */
  readonly timeoutMs?: number;
  /** Connect and frame timeouts. */
  readonly client?: DataNodeClientOptions;
  /** Bytes of the file written, out of its length (from 0 again when a decode takes over). */
  readonly onProgress?: ProgressCallback;
  /** A part copy that could not be read (the next copy is tried). */
  readonly onFailedCopy?: (copy: FailedCopy) => void;
  /** The decode's survey of the coded blocks, before it decodes (to show what was lost). */
  readonly onSurvey?: (blocks: readonly CodedBlockState[]) => void;
  /** A coded block found damaged by the decode (it starts again without it). */
  readonly onCorrupt?: (block: CorruptBlock) => void;
}

/**
 * What {@linkcode readFile} did.
 *
 * @example
 * ```ts
 * import type { ReadFileResult } from "./read.ts";
 * const show = (r: ReadFileResult) => r.via === "parts" ? "from its parts" : "decoded";
 * ```
 */
export interface ReadFileResult {
  /** `parts` (read from the part copies) or `decode` (from the coded blocks). */
  readonly via: "parts" | "decode";
  /** The file's length. */
  readonly length: number;
  /** Its SHA-256, equal to the record's. */
  readonly sha256: string;
  /** The part read, when via parts. */
  readonly parts?: ReadPartsResult;
  /** Why the parts did not do, when a file with parts was decoded. */
  readonly partsError?: string;
  /** The decode, when via decode. */
  readonly decode?: DecodeResult;
  /** The datanode that decoded (the decode's `coordinator` is its logical node). */
  readonly decodedOn?: string;
}

/**
 * Reads a file: its parts if it has them and each has a readable copy, else a decode of its
 * surviving coded blocks.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { readFile } from "./read.ts";
 * const file = await namenode.getFile("photos/cat.jpg");
 * const result = await readFile({ file, module: await loadCodingModule(file.code), output: "cat.jpg" });
 * console.log(result.via, result.sha256 === file.digest); // "parts" true
 * ```
 *
 * @param options File, code, output, callbacks.
 * @returns How it was read, its length and hash.
 * @throws {CdfsError} `NOT_FOUND` naming the parts no copy could give (a file without coded
 * blocks); `SINGULAR` when the surviving coded blocks do not decode it (naming the lost and
 * damaged ones); `CORRUPT` when the result does not hash to the record's SHA-256.
 */
export async function readFile(options: ReadFileOptions): Promise<ReadFileResult> {
  const { file, module } = options;
  const partLength = filePartLength(file, module);
  const hasParts = file.blocks.some((b) => b.kind === "part" && b.state === "stored");
  const hasCoded = file.blocks.some((b) => b.kind === "coded" && b.state === "stored");
  let partsError: CdfsError | undefined;
  if (hasParts) {
    const read = await readViaParts(options, partLength);
    if (!(read instanceof CdfsError)) return read;
    // Without coded blocks there is nothing else to read the file from.
    if (!hasCoded) throw read;
    partsError = read;
  }
  if (!hasCoded) {
    throw new CdfsError("NOT_FOUND", `file ${quoteName(file.name)} has no stored block`);
  }
  const nodes = fileNodes(file, module);
  const decode = await decodeObject({
    module,
    nodes,
    objectId: file.objectId,
    manifest: fileManifest(file, module),
    output: options.output,
    ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
    ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.client === undefined ? {} : { client: options.client }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.onSurvey === undefined ? {} : { onSurvey: options.onSurvey }),
    ...(options.onCorrupt === undefined ? {} : { onCorrupt: options.onCorrupt }),
  }).catch((error) => {
    if (!isCdfsError(error)) throw error;
    // The object operations name the object ("object 'f7' cannot be decoded ..."): a user
    // knows the file by its name.
    const object = `object '${file.objectId}' `;
    const message = error.message.startsWith(object)
      ? `file ${quoteName(file.name)} ${error.message.slice(object.length)}`
      : `file ${quoteName(file.name)}: ${error.message}`;
    throw new CdfsError(error.code, message, { cause: error });
  });
  return {
    via: "decode",
    length: decode.length,
    sha256: decode.sha256,
    ...(partsError === undefined ? {} : { partsError: partsError.message }),
    decode,
    decodedOn: file.blocks.find((b) => b.address === nodes[decode.coordinator])?.node ??
      nodes[decode.coordinator]!,
  };
}

/**
 * The parts into a temporary file, verified, then renamed or copied to the output; the error
 * when the parts do not give the file (a part without a readable copy, a wrong hash), which
 * the coded blocks may still.
 */
async function readViaParts(
  options: ReadFileOptions,
  partLength: number,
): Promise<ReadFileResult | CdfsError> {
  const { file, output } = options;
  const length = file.length!;
  const temp = typeof output === "string"
    ? await Deno.makeTempFile({
      dir: dirname(output),
      prefix: `.${basename(output)}.`,
      suffix: ".part",
    })
      .catch((error) => {
        throw localError(error, output, "create");
      })
    : await Deno.makeTempFile({
      prefix: "cdfs-get-",
      ...(options.tempDir === undefined ? {} : { dir: options.tempDir }),
    });
  let renamed = false;
  // The file is hashed in order while its parts arrive, so the digest is ready with them.
  const digest = new OrderedFileDigest(temp, partSpans(length, partLength));
  try {
    let parts: ReadPartsResult;
    try {
      parts = await readParts({
        file,
        partLength,
        path: temp,
        digest,
        ...(options.client === undefined ? {} : { client: options.client }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        ...(options.onFailedCopy === undefined ? {} : { onFailedCopy: options.onFailedCopy }),
      });
    } catch (error) {
      if (isCdfsError(error, "NOT_FOUND") || isCdfsError(error, "CORRUPT")) return error;
      throw error;
    }
    const sha256 = await finishFile(temp, length, digest);
    if (sha256 !== file.digest) {
      return new CdfsError(
        "CORRUPT",
        `file ${quoteName(file.name)} read from its parts has SHA-256 ${sha256}, its record ` +
          `says ${file.digest}`,
      );
    }
    if (typeof output === "string") {
      await Deno.rename(temp, output).catch((error) => {
        throw localError(error, output, "write");
      });
      renamed = true;
    } else {
      await copyFile(temp, output);
    }
    return { via: "parts", length, sha256, parts };
  } finally {
    digest.close();
    if (!renamed) await Deno.remove(temp).catch(() => {});
  }
}
