/**
 * The on-disk format of one block file, `DIR/blocks/<id>`:
 *
 * ```
 * offset        size  field
 * 0             8     magic "CDFSBLK1"
 * 8             8     header checksum: xxh64 of bytes 16..4095, u64 big-endian
 * 16            4080  header JSON (UTF-8), padded with spaces:
 *                     {"version":1,"block":id,"length":n,"chunkSize":n,"chunks":n,
 *                      "digest":"hex16","created":"ISO-8601"}
 * 4096          len   the data: chunks of chunkSize bytes, the last one possibly shorter
 * 4096+len      8*n   the xxh64 of each chunk, u64 big-endian (n = ceil(len / chunkSize))
 * ...           8     block digest: xxh64 of the chunk checksums above, u64 big-endian
 * ...           8     magic "CDFSEND1"
 * ```
 *
 * Every byte outside the data is covered by a check: the header by its checksum, the chunk
 * checksums by the digest, the digest by the header's copy of it and by recomputation, the
 * end magic by comparison; the file size must equal exactly what the header implies. The data
 * is covered by the chunk checksums, checked on every read. Anything that fails is reported
 * as `CORRUPT` naming the block and what is wrong. The header carries the block id so that a
 * file moved or copied under another name is caught too.
 *
 * This module only encodes and decodes bytes; it does no I/O.
 *
 * @module
 */
import { blockDigest, type Checksummer, formatChecksum } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";

/**
 * The size of the header at the start of every block file; the data starts here.
 */
export const HEADER_SIZE = 4096;

/**
 * The bytes after the chunk checksums: the block digest and the end magic.
 */
export const FOOTER_TRAILER_SIZE = 16;

/**
 * The version of the block file format written in every header.
 */
export const BLOCK_FILE_VERSION = 1;

/**
 * The smallest chunk size the store accepts. With 8 bytes of checksum per chunk, the footer
 * (which a reader holds in memory) stays under 0.2% of the block.
 */
export const MIN_CHUNK_SIZE = 4096;

/**
 * The largest chunk size the store accepts, the protocol's bound on a DATA frame (16 MiB).
 */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

/**
 * The default chunk size, 1 MiB.
 */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

const HEADER_MAGIC = "CDFSBLK1";
const FOOTER_MAGIC = "CDFSEND1";
const HEADER_JSON_OFFSET = 16;
const SPACE = 0x20;
const HEX16 = /^[0-9a-f]{16}$/;

/**
 * The fields of a block file header.
 *
 * @example
 * ```ts
 * import type { BlockHeader } from "./block_file.ts";
 * const header: BlockHeader = {
 *   block: "b1", length: 10, chunkSize: 4096, chunks: 1, digest: 1n, created: new Date(0),
 * };
 * ```
 */
export interface BlockHeader {
  /** The block id, the file's own name. */
  block: string;
  /** The length of the data in bytes. */
  length: number;
  /** The size of every chunk but the last, which may be shorter. */
  chunkSize: number;
  /** The number of chunks, `ceil(length / chunkSize)`. */
  chunks: number;
  /** The block digest (see `blockDigest` in src/checksum/checksum.ts). */
  digest: bigint;
  /** When the block was committed (millisecond precision). */
  created: Date;
}

/**
 * Checks a chunk size: an integer from {@linkcode MIN_CHUNK_SIZE} to
 * {@linkcode MAX_CHUNK_SIZE}.
 *
 * @example
 * ```ts
 * import { validateChunkSize } from "./block_file.ts";
 * console.log(validateChunkSize(65536)); // 65536
 * ```
 *
 * @param chunkSize The proposed chunk size.
 * @returns `chunkSize`.
 * @throws {CdfsError} `BAD_REQUEST` when it is out of bounds or not an integer.
 */
export function validateChunkSize(chunkSize: unknown): number {
  if (
    typeof chunkSize !== "number" || !Number.isInteger(chunkSize) ||
    chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE
  ) {
    throw new CdfsError(
      "BAD_REQUEST",
      `chunk size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}, not ${
        String(chunkSize)
      }`,
    );
  }
  return chunkSize;
}

/**
 * The number of chunks of a block: `ceil(length / chunkSize)` (0 for an empty block).
 *
 * @example
 * ```ts
 * import { chunkCount } from "./block_file.ts";
 * console.log(chunkCount(4097, 4096)); // 2
 * ```
 *
 * @param length The block length in bytes.
 * @param chunkSize The chunk size.
 * @returns The number of chunks.
 */
export function chunkCount(length: number, chunkSize: number): number {
  return Math.ceil(length / chunkSize);
}

/**
 * The exact size of the file that holds a block of `length` bytes.
 *
 * @example
 * ```ts
 * import { blockFileSize } from "./block_file.ts";
 * console.log(blockFileSize(0, 4096)); // 4112: header and trailer only
 * ```
 *
 * @param length The block length in bytes.
 * @param chunkSize The chunk size.
 * @returns The file size in bytes.
 */
export function blockFileSize(length: number, chunkSize: number): number {
  return HEADER_SIZE + length + 8 * chunkCount(length, chunkSize) + FOOTER_TRAILER_SIZE;
}

/**
 * Encodes a header into its {@linkcode HEADER_SIZE} bytes.
 *
 * @example
 * ```ts
 * import { createChecksummer } from "../checksum/checksum.ts";
 * import { encodeHeader, HEADER_SIZE } from "./block_file.ts";
 * const hasher = await createChecksummer();
 * const bytes = encodeHeader({
 *   block: "b1", length: 0, chunkSize: 4096, chunks: 0, digest: 0n, created: new Date(),
 * }, hasher);
 * console.log(bytes.length === HEADER_SIZE); // true
 * ```
 *
 * @param header The fields.
 * @param hasher Computes the header checksum.
 * @returns The header bytes.
 */
export function encodeHeader(header: BlockHeader, hasher: Checksummer): Uint8Array {
  const json = JSON.stringify({
    version: BLOCK_FILE_VERSION,
    block: header.block,
    length: header.length,
    chunkSize: header.chunkSize,
    chunks: header.chunks,
    digest: formatChecksum(header.digest),
    created: header.created.toISOString(),
  });
  const bytes = new Uint8Array(HEADER_SIZE);
  bytes.fill(SPACE, HEADER_JSON_OFFSET);
  const { written, read } = new TextEncoder().encodeInto(
    json,
    bytes.subarray(HEADER_JSON_OFFSET),
  );
  if (read !== json.length) {
    // Cannot happen with valid ids (at most 200 ASCII characters); guard anyway.
    throw new RangeError(`block header JSON does not fit in ${HEADER_SIZE} bytes (${written}+)`);
  }
  new TextEncoder().encodeInto(HEADER_MAGIC, bytes);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(8, hasher.checksum(bytes.subarray(HEADER_JSON_OFFSET)), false);
  return bytes;
}

/**
 * Decodes and validates a header: magic, checksum, JSON shape, every field's type and range,
 * the block id, and that `chunks` agrees with `length` and `chunkSize`.
 *
 * @example
 * ```ts
 * import { createChecksummer } from "../checksum/checksum.ts";
 * import { decodeHeader, encodeHeader } from "./block_file.ts";
 * const hasher = await createChecksummer();
 * const header = {
 *   block: "b1", length: 5, chunkSize: 4096, chunks: 1, digest: 7n, created: new Date(),
 * };
 * console.log(decodeHeader(encodeHeader(header, hasher), "b1", hasher).length); // 5
 * ```
 *
 * @param bytes The first {@linkcode HEADER_SIZE} bytes of the file (fewer means truncated).
 * @param block The id the file is stored under.
 * @param hasher Checks the header checksum.
 * @returns The fields.
 * @throws {CdfsError} `CORRUPT` naming the block and the problem.
 */
export function decodeHeader(bytes: Uint8Array, block: string, hasher: Checksummer): BlockHeader {
  const corrupt = (what: string) => new CdfsError("CORRUPT", `block '${block}': ${what}`);
  if (bytes.length < HEADER_SIZE) {
    throw corrupt(`truncated header (${bytes.length} of ${HEADER_SIZE} bytes)`);
  }
  if (!hasAscii(bytes, 0, HEADER_MAGIC)) throw corrupt("bad header magic (not a cdfs block file)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const stored = view.getBigUint64(8, false);
  const computed = hasher.checksum(bytes.subarray(HEADER_JSON_OFFSET, HEADER_SIZE));
  if (stored !== computed) {
    throw corrupt(
      `header checksum mismatch (stored ${formatChecksum(stored)}, computed ${
        formatChecksum(computed)
      })`,
    );
  }
  let fields: unknown;
  try {
    // The JSON is padded with spaces, which JSON.parse accepts as trailing whitespace.
    fields = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(HEADER_JSON_OFFSET, HEADER_SIZE),
      ),
    );
  } catch {
    throw corrupt("header is not valid JSON");
  }
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw corrupt("header is not a JSON object");
  }
  const f = fields as Record<string, unknown>;
  if (f.version !== BLOCK_FILE_VERSION) {
    throw corrupt(`unsupported block file version ${JSON.stringify(f.version)}`);
  }
  if (f.block !== block) {
    throw corrupt(`file holds block ${JSON.stringify(f.block)} (moved or copied by hand?)`);
  }
  const length = f.length;
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
    throw corrupt(`bad length in header: ${JSON.stringify(length)}`);
  }
  const chunkSize = f.chunkSize;
  // Any positive chunk size up to the maximum is readable, so changing MIN_CHUNK_SIZE for
  // writers later never makes existing files unreadable.
  if (
    typeof chunkSize !== "number" || !Number.isInteger(chunkSize) || chunkSize < 1 ||
    chunkSize > MAX_CHUNK_SIZE
  ) {
    throw corrupt(`bad chunk size in header: ${JSON.stringify(chunkSize)}`);
  }
  const chunks = chunkCount(length, chunkSize);
  if (f.chunks !== chunks) {
    throw corrupt(
      `header says ${JSON.stringify(f.chunks)} chunks, but ${length} bytes make ${chunks}`,
    );
  }
  if (typeof f.digest !== "string" || !HEX16.test(f.digest)) {
    throw corrupt(`bad digest in header: ${JSON.stringify(f.digest)}`);
  }
  const created = typeof f.created === "string" ? new Date(f.created) : undefined;
  if (created === undefined || Number.isNaN(created.getTime())) {
    throw corrupt(`bad creation time in header: ${JSON.stringify(f.created)}`);
  }
  return { block, length, chunkSize, chunks, digest: BigInt("0x" + f.digest), created };
}

/**
 * Encodes the footer: the chunk checksums, the digest and the end magic.
 *
 * @example
 * ```ts
 * import { encodeFooter } from "./block_file.ts";
 * console.log(encodeFooter([1n, 2n], 3n).length); // 32
 * ```
 *
 * @param chunkChecksums The xxh64 of each chunk, in order.
 * @param digest The block digest.
 * @returns The footer bytes.
 */
export function encodeFooter(chunkChecksums: ArrayLike<bigint>, digest: bigint): Uint8Array {
  const n = chunkChecksums.length;
  const bytes = new Uint8Array(8 * n + FOOTER_TRAILER_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) view.setBigUint64(8 * i, chunkChecksums[i]!, false);
  view.setBigUint64(8 * n, digest, false);
  new TextEncoder().encodeInto(FOOTER_MAGIC, bytes.subarray(8 * n + 8));
  return bytes;
}

/**
 * Decodes and validates a footer against its header: the end magic, the digest (which must
 * equal the header's copy and the digest recomputed from the chunk checksums).
 *
 * @example
 * ```ts
 * import { blockDigest, createChecksummer } from "../checksum/checksum.ts";
 * import { decodeFooter, encodeFooter } from "./block_file.ts";
 * const hasher = await createChecksummer();
 * const digest = blockDigest(hasher, [42n]);
 * const header = {
 *   block: "b1", length: 5, chunkSize: 4096, chunks: 1, digest, created: new Date(),
 * };
 * console.log(decodeFooter(encodeFooter([42n], digest), header, hasher)[0]); // 42n
 * ```
 *
 * @param bytes The last `8 * header.chunks + FOOTER_TRAILER_SIZE` bytes of the file.
 * @param header The decoded header of the same file.
 * @param hasher Recomputes the digest.
 * @returns The chunk checksums.
 * @throws {CdfsError} `CORRUPT` naming the block and the problem.
 */
export function decodeFooter(
  bytes: Uint8Array,
  header: BlockHeader,
  hasher: Checksummer,
): BigUint64Array {
  const corrupt = (what: string) => new CdfsError("CORRUPT", `block '${header.block}': ${what}`);
  const n = header.chunks;
  if (bytes.length !== 8 * n + FOOTER_TRAILER_SIZE) {
    throw corrupt(`footer is ${bytes.length} bytes, expected ${8 * n + FOOTER_TRAILER_SIZE}`);
  }
  if (!hasAscii(bytes, 8 * n + 8, FOOTER_MAGIC)) throw corrupt("bad footer magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const checksums = new BigUint64Array(n);
  for (let i = 0; i < n; i++) checksums[i] = view.getBigUint64(8 * i, false);
  const stored = view.getBigUint64(8 * n, false);
  if (stored !== header.digest) {
    throw corrupt(
      `footer digest ${formatChecksum(stored)} differs from header digest ${
        formatChecksum(header.digest)
      }`,
    );
  }
  const computed = blockDigest(hasher, checksums);
  if (computed !== stored) {
    throw corrupt(
      `chunk checksums do not match the digest (stored ${formatChecksum(stored)}, computed ${
        formatChecksum(computed)
      })`,
    );
  }
  return checksums;
}

function hasAscii(bytes: Uint8Array, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}
