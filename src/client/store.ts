/**
 * The STORE of one block ({@linkcode storeBlock}, `DataNodeClient.store`): the bytes stream
 * through pooled buffers, and the node's reply is checked against the digest of what was
 * sent.
 *
 * A reply lost after the whole stream went out (the connection closed without an answer)
 * leaves the outcome unknown: the node may have made the block durable. The STORE is then
 * sent once more declaring the digest of what was sent, which the node answers as stored
 * (`existed`) when exactly that content is there, and `EXISTS` when other content is
 * (docs/protocol.md, STORE); a source that cannot be read again is not resent: a STAT
 * tells whether that content is there.
 *
 * @module
 */
import { formatChecksum } from "../checksum/checksum.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { PeerError } from "../protocol/peer_error.ts";
import { DEFAULT_CHUNK_SIZE, FRAME_TYPE } from "../protocol/frame.ts";
import type { StoreRequest } from "../protocol/requests.ts";
import { parseResponse } from "../protocol/response_validation.ts";
import {
  type OutgoingChunk,
  readChunks,
  sendChunks,
  type StreamSummary,
} from "../protocol/stream.ts";
import { bufferPoolFor } from "./buffer_pools.ts";
import { type ByteReader, isByteReader, iterableReader } from "./byte_io.ts";
import { isLostReply, type NodeConnection, retryBusy } from "./node_connection.ts";
import { checkByteCount, checkChunkSize } from "./request_checks.ts";

/**
 * Where a STORE reads the block from: a reader (a `Deno.FsFile`, `Deno.stdin`), read straight
 * into pooled buffers, or chunks of any sizes (copied once into pooled buffers).
 *
 * @example
 * ```ts
 * import type { StoreSource } from "./store.ts";
 * const fromMemory: StoreSource = [new TextEncoder().encode("hello")];
 * const fromStdin: StoreSource = Deno.stdin;
 * ```
 */
export type StoreSource = ByteReader | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Options of {@linkcode storeBlock}.
 *
 * @example
 * ```ts
 * import type { StoreOptions } from "./store.ts";
 * const options: StoreOptions = { overwrite: true, length: 5, onProgress: (n) => void n };
 * ```
 */
export interface StoreOptions {
  /** Replace an existing block instead of failing with `EXISTS` (default false). */
  overwrite?: boolean;
  /**
   * The exact length, when known: the node rejects a stream of another length, and this side
   * stops before sending more than that.
   */
  length?: number;
  /** The chunk size, 4096..16777216 (default 1 MiB). */
  chunkSize?: number;
  /** Called after each chunk was sent, with the bytes sent so far. */
  onProgress?: (bytesSent: number) => void;
}

/**
 * What a STORE did; `digest` is the block digest the node confirmed.
 *
 * @example
 * ```ts
 * import type { StoreResult } from "./store.ts";
 * const r: StoreResult = { block: "b", length: 0, chunks: 0, digest: "ef46db3751d8e999" };
 * ```
 */
export interface StoreResult {
  /** The block id. */
  block: string;
  /** Bytes stored. */
  length: number;
  /** Chunks sent. */
  chunks: number;
  /** The block digest (16 hex digits), equal on both sides. */
  digest: string;
  /**
   * True when the node wrote nothing because exactly this content was already stored: the
   * reply to the first try was lost and it had taken effect.
   */
  existed?: true;
}

/**
 * Stores a block from a reader or from chunks. Resolves once the node has made the block
 * durable and confirmed the digest of exactly the bytes sent.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * using file = await Deno.open("movie.mkv");
 * const { size } = await file.stat();
 * const result = await storeBlock(link, "movie.mkv.0", file, { length: size });
 * console.log(result.digest);
 * ```
 *
 * @param link The connection to the node.
 * @param id The block id.
 * @param source The bytes.
 * @param options Overwrite, declared length, chunk size, progress.
 * @returns Length, chunk count and digest.
 * @throws {CdfsError} `EXISTS` (without `overwrite`), `BAD_REQUEST` (length mismatch, bad
 * id), `CORRUPT`, `UNAVAILABLE`, `TIMEOUT`, all naming the node; an error of the source
 * itself is thrown as it is. After a lost reply, the outcome the node then reports.
 */
export async function storeBlock(
  link: NodeConnection,
  id: string,
  source: StoreSource,
  options: StoreOptions = {},
): Promise<StoreResult> {
  const block = link.checkId(id);
  const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const request: StoreRequest = { op: "STORE", block, chunkSize };
  if (options.length !== undefined) {
    request.length = checkByteCount(options.length, "store length");
  }
  if (options.overwrite) request.overwrite = true;
  // A node under pressure may answer BUSY at any frame: the store is tried again from the
  // start (retryBusy's backoff) when the source can be read again from there.
  const rewind = await rewinder(source);
  let again = false;
  const attempt = (sent: StoreRequest) => async () => {
    if (again) await rewind!();
    again = true;
    const reader = isByteReader(source) ? source : iterableReader(source);
    return await storeOnce(link, sent, reader, options.onProgress);
  };
  try {
    return rewind === null ? await attempt(request)() : await retryBusy(attempt(request));
  } catch (e) {
    if (!(e instanceof LostReply)) throw e;
    // The outcome is unknown: ask again, declaring the content, so that a STORE that took
    // effect is answered as done and is never written twice.
    const declared: StoreRequest = {
      ...request,
      length: e.sent.length,
      digest: formatChecksum(e.sent.digest),
    };
    if (rewind === null) return await outcomeByStat(link, declared, e);
    try {
      return await retryBusy(attempt(declared));
    } catch (retryError) {
      if (retryError instanceof LostReply) throw retryError.error;
      throw retryError;
    }
  }
}

/**
 * A STORE whose whole stream went out but whose reply did not come (the connection closed or
 * broke): it may have taken effect.
 */
class LostReply extends Error {
  constructor(readonly error: CdfsError, readonly sent: StreamSummary) {
    super(error.message);
  }
}

/**
 * After a lost reply, for a source that cannot be read again: the STORE took effect exactly
 * when the node holds the content sent (its STAT shows that length, chunk size and digest).
 */
async function outcomeByStat(
  link: NodeConnection,
  declared: StoreRequest,
  lost: LostReply,
): Promise<StoreResult> {
  const { block } = declared;
  let note: string;
  try {
    const stat = parseResponse("STAT", await simpleExchange(link, { op: "STAT", block }));
    if (
      stat.length === declared.length && stat.chunkSize === declared.chunkSize &&
      stat.digest === declared.digest
    ) {
      return {
        block,
        length: stat.length,
        chunks: lost.sent.chunks,
        digest: stat.digest,
      };
    }
    note = `block '${block}' holds other content (digest ${stat.digest})`;
  } catch (e) {
    note = isCdfsError(e, "NOT_FOUND")
      ? `block '${block}' is not there`
      : `its outcome is unknown (${e instanceof Error ? e.message : String(e)})`;
  }
  throw new CdfsError(
    lost.error.code,
    `${lost.error.message}; the reply to the STORE was lost and ${note}; the source cannot ` +
      `be read again to retry`,
    { cause: lost.error },
  );
}

/** One request without data, on the link's connection; an ERROR reply is thrown. */
async function simpleExchange(
  link: NodeConnection,
  request: { op: "STAT"; block: string },
): Promise<Record<string, unknown>> {
  const conn = await link.acquire();
  try {
    await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
    const body = await link.readResponse(conn);
    link.release(conn);
    return body;
  } catch (e) {
    if (e instanceof PeerError) link.release(conn);
    else link.drop();
    throw link.nodeError(e);
  }
}

/**
 * How to read `source` again from where it is now: an array from its start, a file (a reader
 * that can seek) from its position now; null for a source read once only (a pipe, a
 * generator).
 */
async function rewinder(source: StoreSource): Promise<(() => Promise<void>) | null> {
  if (Array.isArray(source)) return () => Promise.resolve();
  if (isByteReader(source) && "seek" in source && typeof source.seek === "function") {
    const seekable = source as ByteReader & Pick<Deno.FsFile, "seek">;
    try {
      const at = await seekable.seek(0, Deno.SeekMode.Current);
      return async () => {
        await seekable.seek(at, Deno.SeekMode.Start);
      };
    } catch {
      return null; // not seekable after all (e.g. a pipe opened as a file)
    }
  }
  return null;
}

/** One try of a STORE (see {@linkcode storeBlock}). */
async function storeOnce(
  link: NodeConnection,
  request: StoreRequest,
  reader: ByteReader,
  onProgress: ((bytes: number) => void) | undefined,
): Promise<StoreResult> {
  const { block, chunkSize } = request;
  // Errors of the source are the caller's, not the node's: remember them to tell them apart.
  let sourceError: unknown = undefined;
  const guarded: ByteReader = {
    read: async (view) => {
      try {
        return await reader.read(view);
      } catch (e) {
        sourceError = e;
        throw e;
      }
    },
  };
  const conn = await link.acquire();
  try {
    await conn.writeJsonFrame(FRAME_TYPE.REQUEST, request);
    const chunks = counted(
      readChunks(guarded, bufferPoolFor(chunkSize), chunkSize, { headroom: true }),
      onProgress,
    );
    const sent = await sendChunks(conn, chunks, {
      chunkSize,
      watchPeer: true,
      ...(request.length === undefined ? {} : { length: request.length }),
    });
    let reply: Record<string, unknown>;
    try {
      reply = await link.readResponse(conn);
    } catch (e) {
      // The whole stream went out: the node may have stored the block and lost its reply.
      if (isLostReply(e)) throw new LostReply(link.nodeError(e) as CdfsError, sent);
      throw e;
    }
    const response = parseResponse("STORE", reply);
    link.expectBlock(response.block, block, "STORE");
    const digest = formatChecksum(sent.digest);
    if (response.length !== sent.length || response.digest !== digest) {
      throw new CdfsError(
        "CORRUPT",
        `STORE of block '${block}' confirmed ${response.length} bytes with digest ` +
          `${response.digest}, but ${sent.length} bytes with digest ${digest} were sent`,
      );
    }
    link.release(conn);
    const result: StoreResult = { block, length: sent.length, chunks: sent.chunks, digest };
    if (response.existed) result.existed = true;
    return result;
  } catch (e) {
    // The node closes the connection after any STORE error; a local failure left it mid-stream.
    link.drop();
    if (e instanceof LostReply) throw e;
    if (sourceError !== undefined && e === sourceError) throw e;
    throw link.nodeError(e);
  }
}

/** Counts the bytes of the chunks a producer yields, reporting after each one was consumed. */
async function* counted(
  chunks: AsyncIterable<OutgoingChunk>,
  onProgress: ((bytes: number) => void) | undefined,
): AsyncGenerator<OutgoingChunk, void, undefined> {
  let total = 0;
  for await (const chunk of chunks) {
    yield chunk;
    total += chunk.bytes.length;
    onProgress?.(total);
  }
}
