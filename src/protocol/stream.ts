/**
 * Chunked data streams: the DATA frames and END trailer that follow a STORE request or a
 * RETRIEVE response. Both directions keep memory bounded and copy nothing on the hot path:
 *
 * - {@linkcode receiveChunks} reads each DATA frame straight into a pooled buffer, verifies its
 *   checksum, hands it to the consumer and reads the next frame only once the consumer is done
 *   with that buffer (backpressure reaches the sender through TCP flow control); then it
 *   checks the END trailer's length and digest.
 * - {@linkcode sendChunks} writes the chunks a producer yields, each only after the previous one
 *   was written, then the END trailer; {@linkcode readChunks} is such a producer for any
 *   `read(view)` source (a file, stdin), cutting it into canonical chunks.
 *
 * The digest of a stream is the xxh64 of its frames' checksums (big-endian u64s, in order),
 * i.e. `blockDigest` of `src/checksum/checksum.ts`, computed incrementally.
 *
 * @module
 */
import {
  type ChecksumMemory,
  type Checksummer,
  createChecksummer,
  formatChecksum,
  hashInPlace,
} from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import type { FrameConnection } from "./connection.ts";
import {
  decodeEndPayload,
  END_PAYLOAD_SIZE,
  type EndTrailer,
  FRAME_HEADER_SIZE,
  FRAME_TYPE,
  frameTypeName,
  MAX_CHUNK_SIZE,
} from "./frame.ts";

/**
 * A buffer lent by a pool (the shape of `PooledBuffer` in `src/buffer/pool.ts`).
 *
 * @example
 * ```ts
 * import type { ChunkBuffer } from "./stream.ts";
 * const buffer: ChunkBuffer = { bytes: new Uint8Array(1 << 20), release() {} };
 * ```
 */
export interface ChunkBuffer {
  /** The memory lent, usually a view on WebAssembly memory. */
  readonly bytes: Uint8Array;
  /** Gives the buffer back; `bytes` must not be used afterwards. */
  release(): void;
}

/**
 * A source of buffers that waits when all are lent (the shape of `BufferPool` in
 * `src/buffer/pool.ts`).
 *
 * @example
 * ```ts
 * import type { ChunkBufferPool } from "./stream.ts";
 * const pool: ChunkBufferPool = {
 *   acquire: () => Promise.resolve({ bytes: new Uint8Array(1 << 20), release() {} }),
 * };
 * ```
 */
export interface ChunkBufferPool {
  /** Lends a buffer, waiting for one to be released when none is free. */
  acquire(): Promise<ChunkBuffer>;
  /**
   * Lends a buffer if one is free now (optional; without it a stream never reads ahead). It
   * may return undefined or throw a `RangeError` (an arena that is full): both mean no.
   */
  tryAcquire?(): ChunkBuffer | undefined;
  /** The size of every buffer, when known: a chunk size over it is refused up front. */
  readonly bufferSize?: number;
  /**
   * The shared WebAssembly memory the buffers live in, when there is one (a `BufferPool`'s
   * arena): the streams then have their chunks hashed in place (see `hashInPlace`).
   */
  readonly arena?: ChecksumMemory;
}

/**
 * A chunk to send.
 *
 * @example
 * ```ts
 * import type { OutgoingChunk } from "./stream.ts";
 * const chunk: OutgoingChunk = { bytes: new Uint8Array([1, 2, 3]) };
 * ```
 */
export interface OutgoingChunk {
  /** The bytes; valid until the producer is asked for the next chunk. */
  bytes: Uint8Array;
  /** The xxh64 of `bytes` when the producer has it (a store reader verified it); trusted. */
  checksum?: bigint;
  /**
   * The 16 bytes before `bytes` in its buffer are scratch space, so the frame header can be put
   * there and the frame sent in one write.
   */
  headroom?: boolean;
}

/**
 * A received chunk, handed to the consumer of {@linkcode receiveChunks}.
 *
 * @example
 * ```ts
 * import type { IncomingChunk } from "./stream.ts";
 * function describe(c: IncomingChunk): string {
 *   return `chunk ${c.index} at ${c.offset}: ${c.bytes.length} bytes`;
 * }
 * ```
 */
export interface IncomingChunk {
  /** The verified bytes, a view into a pooled buffer; valid until the consumer returns. */
  bytes: Uint8Array;
  /** Their xxh64, equal to the frame's checksum. */
  checksum: bigint;
  /** The chunk number, from 0. */
  index: number;
  /** The stream offset of the first byte. */
  offset: number;
}

/**
 * What a completed stream carried.
 *
 * @example
 * ```ts
 * import type { StreamSummary } from "./stream.ts";
 * const empty: StreamSummary = { length: 0, chunks: 0, digest: 0xef46db3751d8e999n };
 * ```
 */
export interface StreamSummary {
  /** Total bytes. */
  length: number;
  /** Number of DATA frames. */
  chunks: number;
  /** xxh64 of the frames' checksums, equal to the END trailer's. */
  digest: bigint;
}

/**
 * Rules a stream must follow, shared by both directions.
 *
 * @example
 * ```ts
 * import type { StreamRules } from "./stream.ts";
 * const store: StreamRules = { chunkSize: 1 << 20, length: 5_000_000 };
 * ```
 */
export interface StreamRules {
  /** The largest DATA payload, and with `canonical` the size of all but the last. */
  chunkSize: number;
  /** The exact total length, when known in advance. */
  length?: number;
  /**
   * Every frame but the last is exactly `chunkSize` bytes (default true: STORE and whole-block
   * RETRIEVE). A range RETRIEVE sets false: frames are then 1..chunkSize bytes.
   */
  canonical?: boolean;
}

/**
 * Options of {@linkcode sendChunks}.
 *
 * @example
 * ```ts
 * import type { SendChunksOptions } from "./stream.ts";
 * const options: SendChunksOptions = { chunkSize: 1 << 20, watchPeer: true };
 * ```
 */
export interface SendChunksOptions extends StreamRules {
  /**
   * Watch for an early ERROR from the peer while sending (a client uploading a STORE): the
   * stream stops at the next frame and that error is thrown instead of writing on into a
   * connection the peer has given up on.
   */
  watchPeer?: boolean;
}

/**
 * Options of {@linkcode receiveChunks}.
 *
 * @example
 * ```ts
 * import type { ReceiveChunksOptions } from "./stream.ts";
 * const options: ReceiveChunksOptions = { chunkSize: 1 << 20, overlap: true };
 * ```
 */
export interface ReceiveChunksOptions extends StreamRules {
  /**
   * Read the next frame into a second buffer while the consumer works on the current one
   * (default false). The consumer is still called one chunk at a time, in order.
   */
  overlap?: boolean;
}

const digesters = new WeakMap<FrameConnection, Checksummer>();

/** The write options of a DATA frame, made once rather than per frame. */
const WITH_HEADROOM: { readonly headroom?: boolean } = Object.freeze({ headroom: true });
const WITHOUT_HEADROOM: { readonly headroom?: boolean } = Object.freeze({});

/** The incremental hasher of stream digests of `conn` (its frame hasher is busy per frame). */
async function digesterOf(conn: FrameConnection): Promise<Checksummer> {
  let digester = digesters.get(conn);
  if (digester === undefined) {
    digester = await createChecksummer();
    digesters.set(conn, digester);
  }
  return digester;
}

function checkRules(rules: StreamRules): void {
  const { chunkSize, length } = rules;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunk size ${chunkSize} is outside 1..${MAX_CHUNK_SIZE}`);
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new RangeError(`stream length ${length} is not a non-negative safe integer`);
  }
}

/**
 * Sends a data stream: one DATA frame per chunk, then END with the total length and digest.
 * Each chunk is written before the producer is asked for the next, so a producer may reuse
 * one buffer. Nothing is sent for a chunk that breaks the rules.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { readChunks, sendChunks } from "./stream.ts";
 * const file = await Deno.open("movie.mkv");
 * const summary = await sendChunks(conn, readChunks(file, pool, 1 << 20), {
 *   chunkSize: 1 << 20,
 *   watchPeer: true,
 * });
 * ```
 *
 * @param conn The connection, right after the request (STORE) or response (RETRIEVE).
 * @param chunks The producer.
 * @param options Chunk size, declared length, canonical chunking, early-error watching.
 * @returns What was sent.
 * @throws {CdfsError} `BAD_REQUEST` when the producer yields more or fewer bytes than declared,
 * `INTERNAL` for a chunk that is empty, too large or follows a short one (a producer bug), the
 * peer's {@linkcode PeerError} when `watchPeer` sees one, and the connection's errors.
 */
export async function sendChunks(
  conn: FrameConnection,
  chunks: AsyncIterable<OutgoingChunk> | Iterable<OutgoingChunk>,
  options: SendChunksOptions,
): Promise<StreamSummary> {
  checkRules(options);
  const { chunkSize, length: declared, canonical = true, watchPeer = false } = options;
  const digester = await digesterOf(conn);
  const encodedChecksum = new Uint8Array(8);
  const encodedView = new DataView(encodedChecksum.buffer);
  digester.start();
  if (watchPeer) conn.prefetchHeader();
  let total = 0;
  let index = 0;
  let previousWasShort = false;
  for await (const chunk of chunks) {
    const size = chunk.bytes.length;
    if (size === 0 || size > chunkSize) {
      throw new CdfsError("INTERNAL", `chunk ${index} has ${size} bytes, expected 1..${chunkSize}`);
    }
    if (canonical && previousWasShort) {
      throw new CdfsError("INTERNAL", `chunk ${index} follows a short chunk`);
    }
    if (declared !== undefined && total + size > declared) {
      throw new CdfsError("BAD_REQUEST", `the data is longer than the declared ${declared} bytes`);
    }
    if (watchPeer && conn.peerSentData) {
      throw await conn.takeEarlyReply(0) ?? earlyCloseError();
    }
    let checksum: bigint;
    try {
      checksum = await conn.writeDataFrame(
        chunk.bytes,
        chunk.checksum,
        chunk.headroom ? WITH_HEADROOM : WITHOUT_HEADROOM,
      );
    } catch (e) {
      // The peer may have answered ERROR and closed: its reason beats "broken pipe".
      if (watchPeer && e instanceof CdfsError && e.code === "UNAVAILABLE") {
        throw await conn.takeEarlyReply(1000) ?? e;
      }
      throw e;
    }
    encodedView.setBigUint64(0, checksum, false);
    digester.update(encodedChecksum);
    previousWasShort = size < chunkSize;
    total += size;
    index++;
  }
  if (declared !== undefined && total !== declared) {
    throw new CdfsError(
      "BAD_REQUEST",
      `the data has ${total} bytes, shorter than the declared ${declared}`,
    );
  }
  const digest = digester.finish();
  if (watchPeer && conn.peerSentData) {
    throw await conn.takeEarlyReply(0) ?? earlyCloseError();
  }
  await conn.writeEnd({ length: total, digest });
  return { length: total, chunks: index, digest };
}

function earlyCloseError(): CdfsError {
  return new CdfsError("UNAVAILABLE", "the peer closed the connection during the stream");
}

/**
 * Checks a stream's END trailer against what was received: its length and its digest.
 *
 * @example
 * ```ts
 * import { checkEndTrailer } from "./stream.ts";
 * checkEndTrailer({ length: 10, digest: 7n }, 10, 7n); // matches: returns
 * try {
 *   checkEndTrailer({ length: 10, digest: 7n }, 9, 7n);
 * } catch (error) {
 *   console.log((error as Error).message); // "END says 10 bytes but 9 were received"
 * }
 * ```
 *
 * @param trailer The END trailer as read.
 * @param received The bytes of the DATA frames received.
 * @param digest The digest of their checksums.
 * @throws {CdfsError} `CORRUPT` when the length or the digest differs.
 */
export function checkEndTrailer(trailer: EndTrailer, received: number, digest: bigint): void {
  if (trailer.length !== received) {
    throw new CdfsError(
      "CORRUPT",
      `END says ${trailer.length} bytes but ${received} were received`,
    );
  }
  if (trailer.digest !== digest) {
    throw new CdfsError(
      "CORRUPT",
      `END digest ${formatChecksum(trailer.digest)} does not match the received chunks (${
        formatChecksum(digest)
      })`,
    );
  }
}

/**
 * Receives a data stream: reads each DATA frame into a pooled buffer, verifies it, and awaits
 * `onChunk` before the buffer is reused; then verifies the END trailer. Returns only when every
 * byte was consumed and the trailer matched. A buffer is taken once a DATA frame's header has
 * arrived and given back once the consumer is done with its chunk, so a sender that goes
 * quiet between frames holds no buffer; with `overlap`, a second one is taken to read the next
 * frame while the consumer works, but only if the pool has one free at once.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { receiveChunks } from "./stream.ts";
 * const checksums: bigint[] = [];
 * const summary = await receiveChunks(conn, pool, { chunkSize: request.chunkSize }, async (c) => {
 *   await writer.append(c.bytes);
 *   checksums.push(c.checksum);
 * });
 * ```
 *
 * @param conn The connection, right after the request (STORE) or response (RETRIEVE).
 * @param pool Where the buffers come from; each must hold `chunkSize` bytes.
 * @param options Chunk size, expected length, canonical chunking, overlap.
 * @param onChunk The consumer; `chunk.bytes` is valid until its promise settles.
 * @returns What was received.
 * @throws {CdfsError} `BAD_REQUEST` (empty or oversized frame, a short frame before the last,
 * more or fewer bytes than `length`, a frame other than DATA/END, the connection closed),
 * `CORRUPT` (frame checksum, END length or digest mismatch), the peer's {@linkcode PeerError}
 * for an ERROR frame, the consumer's errors, and the connection's errors.
 */
export async function receiveChunks(
  conn: FrameConnection,
  pool: ChunkBufferPool,
  options: ReceiveChunksOptions,
  onChunk: (chunk: IncomingChunk) => void | Promise<void>,
): Promise<StreamSummary> {
  checkRules(options);
  const { chunkSize, length: expected, canonical = true, overlap = false } = options;
  if (pool.arena !== undefined) hashInPlace(pool.arena);
  const digester = await digesterOf(conn);
  const encodedChecksum = new Uint8Array(8);
  const encodedView = new DataView(encodedChecksum.buffer);
  // The consumer's work on the previous chunk, when overlapping (it gives its buffer back when
  // done); never left unobserved.
  let consuming: Promise<void> | null = null;
  /** A buffer for the next frame: a spare while the consumer works, else after it is done. */
  const take = async (): Promise<ChunkBuffer> => {
    let buffer: ChunkBuffer | undefined;
    if (consuming !== null) {
      buffer = spareOf(pool);
      if (buffer === undefined) {
        await consuming;
        consuming = null;
      }
    }
    buffer ??= await pool.acquire();
    if (buffer.bytes.length < chunkSize) {
      buffer.release();
      throw tooLarge(buffer.bytes.length);
    }
    return buffer;
  };
  const tooLarge = (size: number) =>
    new CdfsError("BAD_REQUEST", `chunk size ${chunkSize} exceeds this node's buffer size ${size}`);
  if (pool.bufferSize !== undefined && pool.bufferSize < chunkSize) {
    throw tooLarge(pool.bufferSize);
  }
  try {
    digester.start();
    let total = 0;
    let index = 0;
    let previousWasShort = false;
    while (true) {
      const header = await conn.readFrameHeader();
      if (header === null) {
        throw new CdfsError(
          "BAD_REQUEST",
          `connection closed in the middle of a data stream (after ${total} bytes)`,
        );
      }
      if (header.type === FRAME_TYPE.ERROR) throw await conn.readErrorPayload(header);
      if (header.type === FRAME_TYPE.END) {
        const payload = new Uint8Array(END_PAYLOAD_SIZE);
        await conn.readPayloadInto(payload);
        const trailer = decodeEndPayload(payload);
        if (expected !== undefined && total !== expected) {
          throw new CdfsError(
            "BAD_REQUEST",
            `the stream has ${total} bytes, shorter than the declared ${expected}`,
          );
        }
        const digest = digester.finish();
        checkEndTrailer(trailer, total, digest);
        if (consuming !== null) await consuming;
        return { length: total, chunks: index, digest };
      }
      if (header.type !== FRAME_TYPE.DATA) {
        throw new CdfsError(
          "BAD_REQUEST",
          `expected a DATA or END frame, got ${frameTypeName(header.type)}`,
        );
      }
      const size = header.length;
      if (size === 0 || size > chunkSize) {
        throw new CdfsError(
          "BAD_REQUEST",
          `DATA frame ${index} has ${size} bytes, expected 1..${chunkSize}`,
        );
      }
      if (canonical && previousWasShort) {
        throw new CdfsError(
          "BAD_REQUEST",
          `DATA frame ${index} follows a short frame (only the last may be shorter than ${chunkSize})`,
        );
      }
      if (expected !== undefined && total + size > expected) {
        throw new CdfsError(
          "BAD_REQUEST",
          `the stream is longer than the declared ${expected} bytes`,
        );
      }
      const buffer = await take();
      const view = buffer.bytes.subarray(0, size);
      try {
        await conn.readPayloadInto(view);
      } catch (e) {
        buffer.release();
        throw e;
      }
      encodedView.setBigUint64(0, header.checksum, false);
      digester.update(encodedChecksum);
      const chunk: IncomingChunk = { bytes: view, checksum: header.checksum, index, offset: total };
      previousWasShort = size < chunkSize;
      total += size;
      index++;
      if (consuming !== null) {
        try {
          await consuming;
        } catch (e) {
          buffer.release();
          throw e;
        }
      }
      consuming = null;
      const consumed = (async () => {
        try {
          await onChunk(chunk);
        } finally {
          buffer.release();
        }
      })();
      if (overlap) {
        consuming = consumed;
        // Observed here so a failure while the next frame is being read is not "unhandled";
        // it is rethrown by the next `await consuming`.
        consuming.catch(() => {});
      } else {
        await consumed;
      }
    }
  } finally {
    // The consumer may still be using a buffer: let it finish (and give it back).
    if (consuming !== null) await (consuming as Promise<void>).catch(() => {});
  }
}

/** A buffer of `pool` if one is free right now, else undefined. */
function spareOf(pool: ChunkBufferPool): ChunkBuffer | undefined {
  try {
    return pool.tryAcquire?.();
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/**
 * Options of {@linkcode readChunks}.
 *
 * @example
 * ```ts
 * import type { ReadChunksOptions } from "./stream.ts";
 * const options: ReadChunksOptions = { headroom: true };
 * ```
 */
export interface ReadChunksOptions {
  /**
   * Leave 16 bytes of headroom before each chunk in the buffer (when the buffer is large
   * enough), so {@linkcode sendChunks} sends header and payload in one write.
   */
  headroom?: boolean;
}

/**
 * Cuts a byte source into canonical chunks (all `chunkSize` bytes but the last), reading into
 * one pooled buffer that is reused for every chunk. A producer for {@linkcode sendChunks}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { readChunks, sendChunks } from "./stream.ts";
 * await sendChunks(conn, readChunks(Deno.stdin, pool, 1 << 20), { chunkSize: 1 << 20 });
 * ```
 *
 * @param source Anything with `read(view)` (a file, stdin, a socket).
 * @param pool Where the buffer comes from; it must hold `chunkSize` bytes.
 * @param chunkSize The chunk size.
 * @param options Headroom for one-write frames.
 * @returns The chunks; each is valid until the next is asked for.
 */
export async function* readChunks(
  source: { read(view: Uint8Array): Promise<number | null> },
  pool: ChunkBufferPool,
  chunkSize: number,
  options: ReadChunksOptions = {},
): AsyncGenerator<OutgoingChunk, void, undefined> {
  checkRules({ chunkSize });
  if (pool.arena !== undefined) hashInPlace(pool.arena);
  const buffer = await pool.acquire();
  try {
    if (buffer.bytes.length < chunkSize) {
      throw new RangeError(
        `chunk size ${chunkSize} exceeds the buffer size ${buffer.bytes.length}`,
      );
    }
    const start = options.headroom && buffer.bytes.length >= FRAME_HEADER_SIZE + chunkSize
      ? FRAME_HEADER_SIZE
      : 0;
    const area = buffer.bytes.subarray(start, start + chunkSize);
    let ended = false;
    while (!ended) {
      let filled = 0;
      while (filled < chunkSize) {
        const n = await source.read(area.subarray(filled));
        if (n === null) {
          ended = true;
          break;
        }
        filled += n;
      }
      if (filled > 0) yield { bytes: area.subarray(0, filled), headroom: start > 0 };
    }
  } finally {
    buffer.release();
  }
}
