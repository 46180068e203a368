/**
 * What the block store reports about a stored block.
 *
 * @module
 */
import type { CdfsError } from "../core/errors.ts";

/**
 * The facts of a committed block, as `BlockStore.stat` and `BlockWriter.commit` report them.
 *
 * @example
 * ```ts
 * import type { BlockInfo } from "./types.ts";
 * import { formatChecksum } from "../checksum/checksum.ts";
 * function describe(info: BlockInfo): string {
 *   return `${info.block}: ${info.length} bytes, digest ${formatChecksum(info.digest)}`;
 * }
 * ```
 */
export interface BlockInfo {
  /** The block id. */
  block: string;
  /** The length of the data in bytes. */
  length: number;
  /** The size of every chunk but the last, which may be shorter. */
  chunkSize: number;
  /** The block digest: xxh64 of the chunk checksums (see `blockDigest` in src/checksum/checksum.ts). */
  digest: bigint;
  /** When the block was committed (millisecond precision). */
  created: Date;
}

/**
 * {@linkcode BlockInfo} plus the checksum of every chunk, as a `BlockReader` holds it.
 *
 * @example
 * ```ts
 * import type { ChunkedBlockInfo } from "./types.ts";
 * function lastChunkChecksum(info: ChunkedBlockInfo): bigint | undefined {
 *   return info.chunkChecksums[info.chunkCount - 1];
 * }
 * ```
 */
export interface ChunkedBlockInfo extends BlockInfo {
  /** The number of chunks, `ceil(length / chunkSize)`. */
  chunkCount: number;
  /** The xxh64 of each chunk, in order. */
  chunkChecksums: BigUint64Array;
}

/**
 * A change to the set of committed blocks of a store: a block became visible under its id (a
 * new block, or one replaced by an overwrite), or was deleted. Temp files of writes under way
 * are never changes: a block exists from its commit on.
 *
 * @example
 * ```ts
 * import type { BlockChange } from "./types.ts";
 * const changes: BlockChange[] = [
 *   { kind: "added", block: "f7.part0", length: 4096 },
 *   { kind: "removed", block: "f6.part0" },
 * ];
 * ```
 */
export type BlockChange =
  | { readonly kind: "added"; readonly block: string; readonly length: number }
  | { readonly kind: "removed"; readonly block: string };

/**
 * Receives {@linkcode BlockChange}s, synchronously, right after each one. It must be quick and
 * must not throw (a listener that throws is ignored): it runs inside a STORE's commit.
 *
 * @example
 * ```ts
 * import type { BlockChange, BlockChangeListener } from "./types.ts";
 * const seen: BlockChange[] = [];
 * const listener: BlockChangeListener = (change) => seen.push(change);
 * ```
 */
export type BlockChangeListener = (change: BlockChange) => void;

/**
 * A verified read that found a block damaged: which block, where, and the `CORRUPT` error the
 * read throws. `chunk` and `offset` are absent when the header, footer or file size is wrong.
 *
 * @example
 * ```ts
 * import type { CorruptionReport } from "./types.ts";
 * import { CdfsError } from "../core/errors.ts";
 * const report: CorruptionReport = {
 *   block: "f7.part0",
 *   chunk: 2,
 *   offset: 2 << 20,
 *   error: new CdfsError("CORRUPT", "block 'f7.part0' chunk 2: checksum mismatch"),
 * };
 * ```
 */
export interface CorruptionReport {
  /** The block id. */
  readonly block: string;
  /** The index of the chunk whose bytes did not match its checksum. */
  readonly chunk?: number;
  /** The offset of that chunk in the block. */
  readonly offset?: number;
  /** The error the read throws. */
  readonly error: CdfsError;
}

/**
 * Told of each {@linkcode CorruptionReport}, synchronously, just before the read throws; it must
 * be quick and must not throw (the datanode starts the block's quarantine from here).
 *
 * @example
 * ```ts
 * import type { CorruptionListener } from "./types.ts";
 * const damaged = new Set<string>();
 * const listener: CorruptionListener = (report) => damaged.add(report.block);
 * ```
 */
export type CorruptionListener = (report: CorruptionReport) => void;
