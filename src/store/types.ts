/**
 * What the block store reports about a stored block.
 *
 * @module
 */

/**
 * The facts of a committed block, as `BlockStore.stat` and `BlockWriter.commit` report them.
 *
 * @example
 * ```ts
 * import type { BlockInfo } from "./types.ts";
 * import { formatChecksum } from "../checksum.ts";
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
  /** The block digest: xxh64 of the chunk checksums (see `blockDigest` in src/checksum.ts). */
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
