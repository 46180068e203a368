/**
 * Reading a file from its part copies (a replicated or encoded file): part j goes to offset
 * j · partLength of a local file, from the first of its copies that reads whole; a copy on a
 * datanode that is down, missing, or damaged (a chunk fails its checksum on the datanode) is
 * passed over for the next one. Only the file's own bytes are read (the last part's padding
 * is not).
 *
 * @module
 */
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import type { BlockView, FileView } from "../../namenode/responses.ts";
import { writeFully } from "../byte_io.ts";
import { DataNodeClient } from "../datanode_client.ts";
import type { DataNodeClientOptions } from "../node_connection.ts";
import { MAX_CONCURRENT_STORES, runLimited } from "../objects/concurrency.ts";
import { errorMessage } from "../objects/error_message.ts";
import { type ProgressCallback, progressSum } from "../objects/progress.ts";
import type { OrderedFileDigest } from "../objects/ordered_digest.ts";
import { quoteName } from "./file_target.ts";

/**
 * A copy that could not be read, and why.
 *
 * @example
 * ```ts
 * import type { FailedCopy } from "./read_parts.ts";
 * const f: FailedCopy = { block: "f7.part3", node: "dn3", address: "h:1", reason: "missing", corrupt: false };
 * ```
 */
export interface FailedCopy {
  /** The block id. */
  readonly block: string;
  /** The datanode. */
  readonly node: string;
  /** Its address (null when the namenode had none). */
  readonly address: string | null;
  /** What went wrong. */
  readonly reason: string;
  /** Whether the datanode found the copy damaged (a checksum failed). */
  readonly corrupt: boolean;
}

/**
 * Options of {@linkcode readParts}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { ReadPartsOptions } from "./read_parts.ts";
 * const options: ReadPartsOptions = { file, partLength: 1000, path: "/tmp/out" };
 * ```
 */
export interface ReadPartsOptions {
  /** The file, with its part copies. */
  readonly file: FileView;
  /** The length of each part. */
  readonly partLength: number;
  /** The local file the parts are written into (it exists; each part at its offset). */
  readonly path: string;
  /** Connect and frame timeouts. */
  readonly client?: DataNodeClientOptions;
  /** Bytes of the file written, out of its length. */
  readonly onProgress?: ProgressCallback;
  /** Called for each copy that could not be read (the next copy is tried). */
  readonly onFailedCopy?: (copy: FailedCopy) => void;
  /**
   * Told what of each part is in the file as it is written (and when a part is read again
   * from another copy), to hash the file while it arrives; its parts are the ones read here.
   */
  readonly digest?: OrderedFileDigest;
}

/**
 * What {@linkcode readParts} did.
 *
 * @example
 * ```ts
 * import type { ReadPartsResult } from "./read_parts.ts";
 * const show = (r: ReadPartsResult) => `${r.used.length} parts; ${r.failed.length} copies passed over`;
 * ```
 */
export interface ReadPartsResult {
  /** The copy each part was read from, by part index. */
  readonly used: readonly BlockView[];
  /** The copies passed over. */
  readonly failed: readonly FailedCopy[];
}

/**
 * Reads every part of a file into `path`, each from the first of its copies that reads
 * whole (copies on live datanodes first), several parts at once.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { readParts } from "./read_parts.ts";
 * const { used } = await readParts({ file, partLength, path: temp });
 * ```
 *
 * @param options File, part length, output path, callbacks.
 * @returns The copies used and those passed over.
 * @throws {CdfsError} `NOT_FOUND` (`CORRUPT` when every failure was damage) naming each part
 * that no copy could give, and why each of its copies failed.
 */
export async function readParts(options: ReadPartsOptions): Promise<ReadPartsResult> {
  const { file, partLength } = options;
  const length = file.length ?? 0;
  // Parts past the file's end hold only padding: nothing of them is read.
  const k = partLength === 0 ? 0 : Math.ceil(length / partLength);
  const copies = partCopies(file);
  const progress = progressSum(length, options.onProgress);
  const failed: FailedCopy[] = [];
  const unreadable: { part: number; failures: FailedCopy[] }[] = [];
  const used = await runLimited(
    Array.from({ length: k }, (_, j) => async (): Promise<BlockView | undefined> => {
      const start = j * partLength;
      const wanted = Math.max(0, Math.min(partLength, length - start));
      const counter = progress.counter();
      const count = (bytes: number) => {
        counter(bytes);
        options.digest?.written(j, bytes);
      };
      const mine: FailedCopy[] = [];
      for (const copy of copies[j] ?? []) {
        try {
          await readCopy(
            copy,
            options.path,
            start,
            wanted,
            count,
            options.client,
            (at, bytes) => options.digest?.offer(j, at, bytes),
          );
          return copy;
        } catch (error) {
          options.digest?.restart(j);
          const failure: FailedCopy = {
            block: copy.block,
            node: copy.node,
            address: copy.address,
            reason: errorMessage(error),
            corrupt: isCdfsError(error, "CORRUPT"),
          };
          mine.push(failure);
          failed.push(failure);
          options.onFailedCopy?.(failure);
          counter(0);
        }
      }
      unreadable.push({ part: j, failures: mine });
      return undefined;
    }),
    MAX_CONCURRENT_STORES,
  );
  if (unreadable.length > 0) {
    unreadable.sort((a, b) => a.part - b.part);
    const allCorrupt = unreadable.every((u) =>
      u.failures.length > 0 && u.failures.every((f) => f.corrupt)
    );
    throw new CdfsError(
      allCorrupt ? "CORRUPT" : "NOT_FOUND",
      `file ${quoteName(file.name)}: ${unreadable.length} of its ${k} parts cannot be read: ` +
        unreadable.map(({ part, failures }) =>
          failures.length === 0
            ? `part ${part} has no copy`
            : `part ${part} (${
              failures.map((f) => `${f.block} on ${f.node}: ${f.reason}`).join("; ")
            })`
        ).join("; "),
    );
  }
  return { used: used as BlockView[], failed };
}

/** The stored copies of each part, those on live datanodes first. */
function partCopies(file: FileView): BlockView[][] {
  const copies: BlockView[][] = [];
  for (const b of file.blocks) {
    if (b.kind !== "part" || b.state !== "stored") continue;
    (copies[b.index] ??= []).push(b);
  }
  for (const list of copies) list?.sort((a, b) => Number(b.alive) - Number(a.alive));
  return copies;
}

/**
 * Retrieves the first `wanted` bytes of a copy into `path` at `start`; each chunk is shown to
 * `offer` (its offset in the part) while it is being written.
 */
async function readCopy(
  copy: BlockView,
  path: string,
  start: number,
  wanted: number,
  count: (bytes: number) => void,
  client: DataNodeClientOptions | undefined,
  offer: (at: number, bytes: Uint8Array) => void,
): Promise<void> {
  if (copy.address === null) {
    throw new CdfsError("UNAVAILABLE", "the namenode has no address for its datanode");
  }
  using connection = await DataNodeClient.connect(copy.address, client);
  using output = await Deno.open(path, { write: true });
  await output.seek(start, Deno.SeekMode.Start);
  let received = 0;
  let offered = 0;
  const result = await connection.retrieve(copy.block, async (chunk) => {
    // The write runs on another thread while the chunk is hashed here (when its turn).
    const writing = writeFully(output, chunk);
    offer(offered, chunk);
    offered += chunk.length;
    await writing;
  }, {
    length: wanted,
    onProgress: (bytes) => count(received = bytes),
  });
  if (result.length !== wanted || received !== wanted) {
    throw new CdfsError(
      "CORRUPT",
      `${copy.block} gave ${result.length} bytes, ${wanted} were asked for`,
    );
  }
}
