/**
 * Verified reads of one block file. Opening a block checks its header and footer (see
 * `block_file.ts`); every chunk read is checked against its stored checksum before its bytes
 * are handed out, so a reader never returns bad bytes. Reads go straight into the caller's
 * buffer (for example a pooled view over WebAssembly memory), one chunk at a time, so a block
 * of any size costs one chunk of memory.
 *
 * @module
 */
import { type Checksummer, formatChecksum } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import {
  blockFileSize,
  chunkCount,
  decodeFooter,
  decodeHeader,
  FOOTER_TRAILER_SIZE,
  HEADER_SIZE,
} from "./block_file.ts";
import { readFully } from "./file_io.ts";
import type { BlockInfo, ChunkedBlockInfo, CorruptionListener } from "./types.ts";

/**
 * A byte range of a block. Both fields are optional: the default is the whole block.
 *
 * @example
 * ```ts
 * import type { ByteRange } from "./block_reader.ts";
 * const secondKiB: ByteRange = { offset: 1024, length: 1024 };
 * ```
 */
export interface ByteRange {
  /** The first byte, 0 by default. */
  offset?: number;
  /** How many bytes, by default up to the end of the block. */
  length?: number;
}

/**
 * One verified piece of a range read: all of a chunk, or the part of it inside the range.
 *
 * @example
 * ```ts
 * import type { RangeSlice } from "./block_reader.ts";
 * function frameOf(slice: RangeSlice): [Uint8Array, bigint] {
 *   return [slice.bytes, slice.checksum];
 * }
 * ```
 */
export interface RangeSlice {
  /** The index of the chunk the bytes come from. */
  chunkIndex: number;
  /** The bytes: a view into the caller's buffer, valid until the next read into it. */
  bytes: Uint8Array;
  /**
   * The xxh64 of exactly `bytes`: the stored chunk checksum for a whole chunk, freshly
   * computed for a partial one (at most the first and last slice of a range), so a sender
   * can use it as a frame checksum without hashing again.
   */
  checksum: bigint;
}

/**
 * Opens the file of a block for reading, or throws `NOT_FOUND`.
 *
 * @example
 * ```ts
 * import { openBlockFile } from "./block_reader.ts";
 * try {
 *   await openBlockFile("/nonexistent/blocks/b1", "b1");
 * } catch (e) {
 *   console.log((e as Error).message); // block 'b1' does not exist
 * }
 * ```
 *
 * @param path The path of the block file.
 * @param block The block id, for the message.
 * @returns The open file.
 * @throws {CdfsError} `NOT_FOUND` when there is no such file.
 */
export async function openBlockFile(path: string, block: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CdfsError("NOT_FOUND", `block '${block}' does not exist`);
    }
    throw e;
  }
}

/**
 * Reads and validates the header of an open block file (from its start), and checks that the
 * file has exactly the size the header implies.
 *
 * @example
 * ```ts
 * import { createChecksummer } from "../checksum/checksum.ts";
 * import { BlockStore } from "./block_store.ts";
 * import { openBlockFile, readBlockInfo } from "./block_reader.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir());
 * const writer = await store.create("b1");
 * await writer.write(new Uint8Array(10));
 * await writer.commit();
 * using file = await openBlockFile(`${store.dir}/blocks/b1`, "b1");
 * console.log((await readBlockInfo(file, "b1", await createChecksummer())).length); // 10
 * ```
 *
 * @param file The block file, positioned at its start.
 * @param block The id it is stored under.
 * @param hasher Checks the header checksum.
 * @returns What the header says.
 * @throws {CdfsError} `CORRUPT` naming the block and the problem.
 */
export async function readBlockInfo(
  file: Deno.FsFile,
  block: string,
  hasher: Checksummer,
): Promise<BlockInfo & { chunkCount: number }> {
  const stat = await file.stat();
  if (!stat.isFile) throw new CdfsError("CORRUPT", `block '${block}': not a regular file`);
  const headerBytes = new Uint8Array(HEADER_SIZE);
  const got = await readFully(file, headerBytes);
  const header = decodeHeader(headerBytes.subarray(0, got), block, hasher);
  const expected = blockFileSize(header.length, header.chunkSize);
  if (stat.size !== expected) {
    throw new CdfsError(
      "CORRUPT",
      `block '${block}': file is ${stat.size} bytes, its header implies ${expected} (${
        stat.size < expected ? "truncated" : "trailing bytes"
      })`,
    );
  }
  return {
    block,
    length: header.length,
    chunkSize: header.chunkSize,
    digest: header.digest,
    created: header.created,
    chunkCount: header.chunks,
  };
}

/**
 * Reads and validates the header and footer of an open block file.
 *
 * @example
 * ```ts
 * import { createChecksummer } from "../checksum/checksum.ts";
 * import { BlockStore } from "./block_store.ts";
 * import { openBlockFile, readChunkedBlockInfo } from "./block_reader.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir(), { chunkSize: 4096 });
 * const writer = await store.create("b1");
 * await writer.write(new Uint8Array(5000));
 * await writer.commit();
 * using file = await openBlockFile(`${store.dir}/blocks/b1`, "b1");
 * const info = await readChunkedBlockInfo(file, "b1", await createChecksummer());
 * console.log(info.chunkChecksums.length); // 2
 * ```
 *
 * @param file The block file, positioned at its start.
 * @param block The id it is stored under.
 * @param hasher Checks the header checksum and the digest.
 * @returns The block's facts and chunk checksums.
 * @throws {CdfsError} `CORRUPT` naming the block and the problem.
 */
export async function readChunkedBlockInfo(
  file: Deno.FsFile,
  block: string,
  hasher: Checksummer,
): Promise<ChunkedBlockInfo> {
  const info = await readBlockInfo(file, block, hasher);
  const footerBytes = new Uint8Array(8 * info.chunkCount + FOOTER_TRAILER_SIZE);
  await file.seek(HEADER_SIZE + info.length, Deno.SeekMode.Start);
  const got = await readFully(file, footerBytes);
  const chunkChecksums = decodeFooter(
    footerBytes.subarray(0, got),
    { ...info, chunks: info.chunkCount },
    hasher,
  );
  return { ...info, chunkChecksums };
}

/**
 * Reads one committed block, verifying every chunk. Create it with `BlockStore.openReader`.
 * One read at a time: a reader keeps a file position, so calls must not overlap (they throw).
 * The reader keeps the file open, so the block's bytes stay readable even if the block is
 * deleted or overwritten meanwhile (the old file lives on until closed).
 *
 * @example
 * ```ts
 * import { BlockStore } from "./block_store.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir(), { chunkSize: 4096 });
 * const writer = await store.create("b1");
 * await writer.write(new Uint8Array(10_000).fill(7));
 * await writer.commit();
 * using reader = await store.openReader("b1", { offset: 4000, length: 200 });
 * const buffer = new Uint8Array(reader.info.chunkSize);
 * for await (const slice of reader.slices(buffer)) {
 *   console.log(slice.chunkIndex, slice.bytes.length); // 0 96, then 1 104
 * }
 * ```
 */
export class BlockReader {
  /** The block's facts and chunk checksums, validated when the reader was opened. */
  readonly info: ChunkedBlockInfo;
  /** The first byte of the requested range. */
  readonly offset: number;
  /** The length of the requested range. */
  readonly length: number;
  #file: Deno.FsFile;
  #hasher: Checksummer;
  #onCorrupt: CorruptionListener | undefined;
  #position = -1;
  #busy = false;
  #closed = false;

  /**
   * Wraps an open block file whose header and footer were validated.
   *
   * @param file The open block file (the reader owns it from now on).
   * @param info Its validated facts.
   * @param hasher Verifies chunks; `checksum()` only, so it may be shared.
   * @param range The requested range, already checked against the block length.
   * @param onCorrupt Told of a chunk that fails verification, before the read throws.
   */
  constructor(
    file: Deno.FsFile,
    info: ChunkedBlockInfo,
    hasher: Checksummer,
    range: { offset: number; length: number },
    onCorrupt?: CorruptionListener,
  ) {
    this.#file = file;
    this.#onCorrupt = onCorrupt;
    this.info = info;
    this.#hasher = hasher;
    this.offset = range.offset;
    this.length = range.length;
  }

  /**
   * The index of the first chunk of the requested range (equal to {@linkcode endChunk} when
   * the range is empty).
   *
   * @returns The chunk index.
   */
  get firstChunk(): number {
    return this.length === 0 ? this.endChunk : Math.floor(this.offset / this.info.chunkSize);
  }

  /**
   * One past the index of the last chunk of the requested range.
   *
   * @returns The chunk index.
   */
  get endChunk(): number {
    return this.length === 0
      ? Math.floor(this.offset / this.info.chunkSize)
      : chunkCount(this.offset + this.length, this.info.chunkSize);
  }

  /**
   * The length of chunk `index`: `chunkSize`, except for a shorter last chunk.
   *
   * @param index A chunk index, `0 <= index < info.chunkCount`.
   * @returns Its length in bytes.
   */
  chunkLength(index: number): number {
    const { chunkSize, length } = this.info;
    return Math.min(chunkSize, length - index * chunkSize);
  }

  /**
   * Reads chunk `index` into the start of `into` and verifies it against its stored checksum.
   * On a mismatch the part of `into` that was read is zeroed, so the bad bytes go nowhere.
   *
   * @param index A chunk index, `0 <= index < info.chunkCount` (any chunk of the block, not
   *   only those of the requested range).
   * @param into A buffer of at least {@linkcode chunkLength}`(index)` bytes.
   * @returns The filled, verified view `into.subarray(0, chunkLength(index))`.
   * @throws {CdfsError} `CORRUPT` naming the block and chunk when the bytes do not match.
   * @throws {RangeError} When `index` is out of range or `into` too small.
   */
  async readChunk(index: number, into: Uint8Array): Promise<Uint8Array> {
    const { block, chunkSize, chunkCount } = this.info;
    if (!Number.isInteger(index) || index < 0 || index >= chunkCount) {
      throw new RangeError(
        `chunk index ${index} is outside block '${block}' of ${chunkCount} chunks`,
      );
    }
    const size = this.chunkLength(index);
    if (into.length < size) {
      throw new RangeError(`buffer of ${into.length} bytes is too small for a ${size}-byte chunk`);
    }
    if (this.#closed) throw new Error(`reader of block '${block}' is closed`);
    if (this.#busy) throw new Error(`reader of block '${block}' is already reading`);
    this.#busy = true;
    const view = into.length === size ? into : into.subarray(0, size);
    const start = HEADER_SIZE + index * chunkSize;
    try {
      if (this.#position !== start) {
        this.#position = -1; // unknown until the seek completes
        await this.#file.seek(start, Deno.SeekMode.Start);
      }
      const got = await readFully(this.#file, view);
      this.#position = start + got;
      if (got < size) {
        view.fill(0, 0, got);
        throw new CdfsError(
          "CORRUPT",
          `block '${block}' chunk ${index}: file ended after ${got} of ${size} bytes`,
        );
      }
      const stored = this.info.chunkChecksums[index]!;
      const computed = this.#hasher.checksum(view);
      if (computed !== stored) {
        view.fill(0);
        const first = index * chunkSize;
        throw new CdfsError(
          "CORRUPT",
          `block '${block}' chunk ${index} (bytes ${first}..${first + size - 1}): checksum ` +
            `mismatch (stored ${formatChecksum(stored)}, computed ${formatChecksum(computed)})`,
        );
      }
      return view;
    } catch (e) {
      if (!(e instanceof CdfsError)) this.#position = -1;
      else if (e.code === "CORRUPT") {
        this.#onCorrupt?.({ block, chunk: index, offset: index * chunkSize, error: e });
      }
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads the requested range chunk by chunk, yielding each verified piece. Every yielded view
   * is a view into `into` (or `readAhead`), valid until the next one is asked for.
   *
   * With a second buffer `readAhead`, the next chunk is read and verified into the other buffer
   * while the caller is still busy with the piece just yielded (for example writing it to a
   * socket), so file reads and verification overlap with the caller's work; the two buffers
   * alternate. Nothing is yielded before it was verified, and a chunk that fails verification
   * throws when its turn comes, after every earlier piece was yielded.
   *
   * @example
   * ```ts
   * import { BlockStore } from "./block_store.ts";
   * const store = await BlockStore.open(await Deno.makeTempDir(), { chunkSize: 4096 });
   * const writer = await store.create("b1");
   * await writer.write(new Uint8Array(10_000).fill(7));
   * await writer.commit();
   * using reader = await store.openReader("b1");
   * const [a, b] = [new Uint8Array(4096), new Uint8Array(4096)];
   * for await (const slice of reader.slices(a, b)) {
   *   console.log(slice.chunkIndex, slice.bytes.length); // 0 4096, 1 4096, 2 1808
   * }
   * ```
   *
   * @param into A buffer of at least `min(info.chunkSize, info.length)` bytes.
   * @param readAhead An optional second buffer of the same minimum size, for reading ahead.
   * @returns The pieces of the range, in order.
   * @throws {CdfsError} `CORRUPT` when a chunk fails verification (nothing of it is yielded).
   */
  async *slices(
    into: Uint8Array,
    readAhead?: Uint8Array,
  ): AsyncGenerator<RangeSlice, void, undefined> {
    const { chunkSize } = this.info;
    const rangeEnd = this.offset + this.length;
    const first = this.firstChunk;
    const end = this.endChunk;
    if (first >= end) return;
    const buffers = readAhead === undefined ? [into] : [into, readAhead];
    // The read of the next chunk, started before the current piece is yielded when there is a
    // second buffer. Always awaited (by the loop or the `finally`), never left dangling.
    let next: Promise<Uint8Array> | null = this.readChunk(first, into);
    try {
      for (let index = first; index < end; index++) {
        const chunk: Uint8Array = await next!;
        next = null;
        if (index + 1 < end && buffers.length > 1) {
          next = this.readChunk(index + 1, buffers[(index + 1 - first) % 2]!);
          // Observed now so a failure while the caller works is not "unhandled"; the loop
          // rethrows it when that chunk's turn comes.
          next.catch(() => {});
        }
        const chunkStart = index * chunkSize;
        const from = Math.max(this.offset, chunkStart) - chunkStart;
        const to = Math.min(rangeEnd, chunkStart + chunk.length) - chunkStart;
        if (from === 0 && to === chunk.length) {
          yield { chunkIndex: index, bytes: chunk, checksum: this.info.chunkChecksums[index]! };
        } else {
          const bytes = chunk.subarray(from, to);
          yield { chunkIndex: index, bytes, checksum: this.#hasher.checksum(bytes) };
        }
        if (index + 1 < end && buffers.length === 1) next = this.readChunk(index + 1, into);
      }
    } finally {
      // The caller stopped early (or a read failed): let a read in flight finish before the
      // caller reuses or returns its buffer, and before the reader may be closed.
      if (next !== null) await next.catch(() => {});
    }
  }

  /** Closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  /** Closes the file, for `using reader = await store.openReader(...)`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a verified reader on the block file at `path`, for the range `range` (checked against
 * the block's length).
 *
 * @example
 * ```ts
 * import { createChecksummer } from "../checksum/checksum.ts";
 * import { BlockStore } from "./block_store.ts";
 * import { openBlockReader } from "./block_reader.ts";
 * const store = await BlockStore.open(await Deno.makeTempDir());
 * const writer = await store.create("b1");
 * await writer.write(new Uint8Array(3));
 * await writer.commit();
 * const hasher = await createChecksummer();
 * using reader = await openBlockReader(`${store.dir}/blocks/b1`, "b1", hasher);
 * console.log(reader.length); // 3
 * ```
 *
 * @param path The block file.
 * @param block The id it is stored under.
 * @param hasher Verifies the file; used with `checksum()` only, so it may be shared.
 * @param range The part to read; the whole block by default.
 * @param onCorrupt Told of a damaged header, footer or chunk before the read throws `CORRUPT`.
 * @returns The reader, which owns the open file.
 * @throws {CdfsError} `NOT_FOUND` without the file, `CORRUPT` when its header or footer is
 *   bad, `BAD_REQUEST` when the range is outside the block.
 */
export async function openBlockReader(
  path: string,
  block: string,
  hasher: Checksummer,
  range: ByteRange = {},
  onCorrupt?: CorruptionListener,
): Promise<BlockReader> {
  const file = await openBlockFile(path, block);
  let info: ChunkedBlockInfo;
  try {
    info = await readChunkedBlockInfo(file, block, hasher);
  } catch (e) {
    file.close();
    if (e instanceof CdfsError && e.code === "CORRUPT") onCorrupt?.({ block, error: e });
    throw e;
  }
  try {
    return new BlockReader(file, info, hasher, checkRange(range, info), onCorrupt);
  } catch (e) {
    file.close();
    throw e;
  }
}

function checkRange(range: ByteRange, info: BlockInfo): { offset: number; length: number } {
  const offset = range.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > info.length) {
    throw new CdfsError(
      "BAD_REQUEST",
      `offset ${offset} is outside block '${info.block}' of ${info.length} bytes`,
    );
  }
  const length = range.length ?? info.length - offset;
  if (!Number.isSafeInteger(length) || length < 0 || length > info.length - offset) {
    throw new CdfsError(
      "BAD_REQUEST",
      `range of ${length} bytes at offset ${offset} is outside block '${info.block}' of ${info.length} bytes`,
    );
  }
  return { offset, length };
}
